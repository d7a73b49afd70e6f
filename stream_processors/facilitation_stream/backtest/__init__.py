"""Backtests: event files replayed through the pure engine, in event-time order.

Owns reading files aside in a second process (``reader_process``), the ordered input of
the offline commands (``ordered_input``) and the HTML report (``report_html``). May import
``facilitation_rules``, ``ingest`` (reading event files) and the shared modules.
"""
