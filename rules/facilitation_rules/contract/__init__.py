"""The event contract (v1): the public promises of the engine.

Owns the typed, frozen event classes (``events``), their JSON encoding and validation
(``codec``), the JSON Schemas generated from them (``json_schemas``, committed in
``facilitation_rules/schemas/``) and the alerts the rules fire (``alerts``). Everything
else stands on it; it imports nothing of the project.
"""
