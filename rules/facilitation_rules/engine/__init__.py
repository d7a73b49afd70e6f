"""The rules engine: pure functions of (state, event) and (state, now).

Owns routing an event to the subjects it touches (``subjects``), applying updates and
ticking deadlines (``dispatch``), the detectors of each rule (``detectors/``), the drop-out
model (``dropout_model``), the due index (``due_index``) and the in-memory replay that the
backtests drive (``replay``). The live worker drives the same ``dispatch`` functions.
May import ``contract``, ``state`` and ``packs``; never I/O.
"""
