"""Bringing Open edX data in: event files and tracking logs read as contract events.

Owns reading contract files and tracking logs, plain or gzipped, with progress and
per-reason counts (``event_files``). The bridge (``facilitation ingest``) and the backtests
read through it. May import ``facilitation_rules`` and the shared modules.
"""
