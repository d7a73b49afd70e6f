"""Rule packs: what course teams write and tune.

Owns the YAML packs (the default pack ships here as data), loading and validating them
with a location for every problem (``loader``), the typed settings they give the engine
(``config``), ``when:`` conditions (``conditions``) and business-hours calendars
(``business_hours``). May import ``contract`` and ``state``.
"""
