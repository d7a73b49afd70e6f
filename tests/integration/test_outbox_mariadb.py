"""The database outbox on MariaDB (Debian's mariadbd, started by scripts/devservices.py):
the shared outbox suite, and row claiming with SELECT ... FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from facilitation_xblocks.outbox.rows import OutboxRow, PendingRow
from tests.support import lms_django
from tests.support.outbox_suite import *  # noqa: F403 - the shared suite runs here
from tests.support.outbox_suite import Stores, post

pytestmark = [pytest.mark.integration, pytest.mark.lms]


@pytest.fixture
def mariadb() -> Iterator[None]:
    lms_django.setup()
    if not lms_django.mariadb():
        pytest.fail("FACILITATION_TEST_MARIADB is not set: run with `make test` or "
                    "`scripts/devservices.py run -- ...`")
    lms_django.clear("default")
    yield
    lms_django.clear("default")


@pytest.fixture
def stores(mariadb: None) -> Stores:
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox

    return lambda: DatabaseOutbox(using="default")


def test_a_shard_being_sent_is_skipped_by_other_senders(stores: Stores) -> None:
    first, second = stores(), stores()
    assert first.skip_locked  # type: ignore[attr-defined]
    row = PendingRow.of("events", post(1))
    first.append([row])
    holding, release = threading.Event(), threading.Event()

    def slow(rows: list[OutboxRow]) -> list[int]:
        holding.set()
        release.wait(10)
        return [r.seq for r in rows]

    sender = threading.Thread(target=first.drain, args=(10, slow))
    sender.start()
    assert holding.wait(10)
    try:
        # The only shard with rows is locked: the second sender finds nothing to send.
        assert second.drain(10, lambda rows: [r.seq for r in rows]) == 0
    finally:
        release.set()
        sender.join(10)
    assert second.depth() == 0
