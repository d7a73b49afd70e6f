"""Delivery to tutors: alerts into Redis queues, the tutor API and page, notifications.

Owns the router (roster + policy -> one atomic queue write, ``router``), the Redis tutor
queues and their Lua scripts (``queues``, ``queue_scripts``), the tutor HTTP API and its
authentication (``tutor_api``, ``tutor_auth``), webhook and email notifications
(``notifications``) and the worker's alert sink (``alert_sink``). May import
``facilitation_rules`` and the shared modules; never ``worker``, ``backtest`` or ``cli``.
"""
