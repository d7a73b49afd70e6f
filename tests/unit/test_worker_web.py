"""Readiness: false while tables recover or a rebalance runs, true only after both."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from facilitation_stream.worker.health import is_ready


def app(rebalancing: bool, recovery_done: bool) -> SimpleNamespace:
    completed = asyncio.Event()
    if recovery_done:
        completed.set()
    recovery = SimpleNamespace(completed=completed)
    return SimpleNamespace(rebalancing=rebalancing, tables=SimpleNamespace(recovery=recovery))


def test_not_ready_until_the_table_recovered() -> None:
    assert is_ready(app(False, True), SimpleNamespace(recovered=False)) == (
        False,
        "recovering tables",
    )


def test_not_ready_during_a_rebalance() -> None:
    assert is_ready(app(True, True), SimpleNamespace(recovered=True)) == (
        False,
        "rebalance in progress",
    )


def test_not_ready_while_faust_recovery_runs_again() -> None:
    assert is_ready(app(False, False), SimpleNamespace(recovered=True))[0] is False


def test_ready_after_recovery_without_rebalance() -> None:
    assert is_ready(app(False, True), SimpleNamespace(recovered=True)) == (True, "ready")


def test_a_worker_is_stalled_only_with_unread_messages_and_no_progress() -> None:
    from facilitation_stream.worker.app import WorkerState

    worker = WorkerState(recovered=True, caught_up=False, progress_at=100.0)
    assert worker.stalled_for(400.0) == 300.0
    worker.caught_up = True  # idle, nothing to read: not stuck
    assert worker.stalled_for(400.0) == 0.0
