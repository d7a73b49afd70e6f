"""The live worker: a Faust app that applies batches of events to the subjects table.

Owns the app (``app``), the batch consumer (``batch_consumer``), one batch's way through
the engine in a durable order (``batches``), what it needs of an engine
(``engine_protocol``) and the rules engine behind it (``rules_engine``), the per-partition
record batches it produces (``record_batches``), dead letters and health endpoints.
May import ``facilitation_rules`` and the package's shared modules (settings, metrics,
kafka_config, item_codec); never ``delivery``, ``backtest`` or ``cli``.
"""
