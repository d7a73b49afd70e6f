"""Benchmarks run by ``make bench`` (``python -m benchmarks``); not timed tests.

Each module in ``benchmarks.__main__.MODULES`` has ``main() -> None`` and prints its figures
next to a baseline measured in the same run.
"""
