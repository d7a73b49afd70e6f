"""``./manage.py lms facilitation_status`` in the test LMS: what it prints, and exit 1 when
delivery is stuck. (Against the real broker: tests/integration/test_lms_live_forum.py.)"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from facilitation_xblocks.outbox.rows import PendingRow
from tests.support import lms_django
from tests.support.outbox_suite import post

pytestmark = pytest.mark.lms


@pytest.fixture
def lms() -> Iterator[dict[str, Any]]:
    lms_django.setup()
    from django.conf import settings

    lms_django.clear("default")
    bucket = settings.XBLOCK_SETTINGS["FACILITATION"]
    saved = dict(bucket)
    bucket["KAFKA_BOOTSTRAP"] = "127.0.0.1:1"  # nothing listens there
    yield bucket
    bucket.clear()
    bucket.update(saved)
    lms_django.clear("default")


def run(*args: str) -> tuple[int, str]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    try:
        call_command("facilitation_status", *args, "--kafka-timeout", "0.3", stdout=out)
    except CommandError as err:
        return err.returncode, out.getvalue() + str(err)
    return 0, out.getvalue()


def test_an_empty_outbox_is_fine_even_with_kafka_away(lms) -> None:
    code, text = run()
    assert code == 0
    assert "rows in the LMS database: 0" in text and "UNREACHABLE" in text
    assert "tracking backend:  active" in text


def test_rows_waiting_too_long_are_stuck(lms) -> None:
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.models import OutboxEvent

    DatabaseOutbox().append([PendingRow.of("events", post(n)) for n in range(3)])
    assert run("--stuck-after", "60")[0] == 0  # just queued
    OutboxEvent.objects.update(enqueued_at=time.time() - 600)
    code, text = run("--json", "--stuck-after", "60")
    report = json.loads(text.splitlines()[0])
    assert code == 1 and "delivery stuck: 3 rows wait" in text
    assert (report["depth"], report["stuck"], report["kafka_reachable"]) == (3, True, False)
    assert report["oldest_age_s"] >= 600 and report["last_delivery_age_s"] is None
