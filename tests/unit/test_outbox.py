"""The outbox stores of the LMS side and the sender, with a stand-in producer: the shared
suite (tests/support/outbox_suite.py) on the SQLite file and on the database outbox over
SQLite, then what is particular to each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from facilitation_xblocks.outbox.config import DEFAULT_TOPIC, EmitterSettings
from facilitation_xblocks.outbox.emitter import NullEmitter
from facilitation_xblocks.outbox.rows import SHARDS, PendingRow, shard_of
from facilitation_xblocks.outbox.sqlite_file import SqliteFileOutbox
from tests.support import lms_django
from tests.support.outbox_suite import *  # noqa: F403 - the shared suite runs here
from tests.support.outbox_suite import Stores, post

pytestmark = pytest.mark.lms


@pytest.fixture(params=["sqlite-file", "database-sqlite"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "sqlite-file":
        yield lambda: SqliteFileOutbox(tmp_path / "o.db")
        return
    lms_django.setup()
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox

    lms_django.clear("sqlite")
    yield lambda: DatabaseOutbox(using="sqlite")
    lms_django.clear("sqlite")


def test_the_file_is_fsynced_wal(tmp_path: Path) -> None:
    box = SqliteFileOutbox(tmp_path / "o.db")
    mode = box._conn().execute("PRAGMA journal_mode").fetchone()[0]
    sync = box._conn().execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL: fsync on every commit
    box.close()


def test_only_one_process_delivers_a_file(tmp_path: Path) -> None:
    first, second = SqliteFileOutbox(tmp_path / "o.db"), SqliteFileOutbox(tmp_path / "o.db")
    assert first.try_lead()
    assert not second.try_lead()
    first.close()  # a dead process releases the lock the same way
    assert second.try_lead()
    second.close()


def test_a_dead_senders_lease_expires(monkeypatch) -> None:
    lms_django.setup()
    from facilitation_xblocks.plugin import db_outbox

    lms_django.clear("sqlite")
    box, other = db_outbox.DatabaseOutbox(using="sqlite"), db_outbox.DatabaseOutbox(using="sqlite")
    row = PendingRow.of("events", post(1))
    box.append([row])

    def die(rows: object) -> list[int]:
        raise SystemExit("killed mid-chunk")

    monkeypatch.setattr(db_outbox.DatabaseOutbox, "_release", lambda self, shard: None)
    with pytest.raises(SystemExit):
        box.drain(10, die)
    assert other.drain(10, lambda rows: [r.seq for r in rows]) == 0  # leased to the dead one
    later = time.time() + db_outbox.LEASE_S + 1
    monkeypatch.setattr(db_outbox.time, "time", lambda: later)
    assert other.drain(10, lambda rows: [r.seq for r in rows]) == 1
    assert other.depth() == 0
    lms_django.clear("sqlite")


def test_keys_spread_over_the_shards() -> None:
    shards = {shard_of(f"L|c|learner-{n}".encode()) for n in range(500)}
    assert shards == set(range(SHARDS))


def test_settings_prefer_the_lms_bucket_then_django_then_the_environment() -> None:
    env = {"FACILITATION_KAFKA_BOOTSTRAP": "env:9092", "XDG_STATE_HOME": "/var/state"}
    from_env = EmitterSettings.resolve(None, env)
    assert from_env.kafka_bootstrap == "env:9092"
    assert (from_env.events_topic, from_env.outbox) == (DEFAULT_TOPIC, "sqlite")
    assert from_env.outbox_path == "/var/state/openedx-facilitation/outbox.sqlite3"

    class Django:
        FACILITATION_KAFKA_BOOTSTRAP = "django:9092"
        FACILITATION_OUTBOX = "database"

    from_django = EmitterSettings.resolve({"EVENTS_TOPIC": "t"}, env, Django())
    assert (from_django.kafka_bootstrap, from_django.outbox, from_django.events_topic) == (
        "django:9092", "database", "t")
    bucket = {"KAFKA_BOOTSTRAP": "lms:9092", "EVENTS_TOPIC": "t", "OUTBOX_PATH": "/o.db"}
    from_lms = EmitterSettings.resolve(bucket, env, Django())
    assert (from_lms.kafka_bootstrap, from_lms.events_topic, from_lms.outbox_path) == (
        "lms:9092", "t", "/o.db")
    with pytest.raises(ValueError, match="PRODUCER_CONFIG"):
        EmitterSettings.resolve({"PRODUCER_CONFIG": "sasl"}, env)
    with pytest.raises(ValueError, match="OUTBOX"):
        EmitterSettings.resolve({"OUTBOX": "redis"}, env)


def test_null_emitter_is_a_no_op() -> None:
    emitter = NullEmitter()
    emitter.emit(post(1))
    assert emitter.flush(0)
