"""`facilitation ingest tracking-log --dry-run`: no broker needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from facilitation_rules.contract import codec as event_codec
from facilitation_stream.cli.main import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"
# Third-party captures next to the checkout (not part of the project): used when present.
REFERENCE = Path("/work/shared/reference/openedx-tracking/processed-shape")


def test_dry_run_json_prints_contract_events_and_reports_bad_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    mixed = FIXTURES / "mixed.log"
    assert main(["ingest", "tracking-log", "--dry-run", "--json", str(mixed)]) == 0
    out, err = capsys.readouterr()
    events = [event_codec.loads(line) for line in out.splitlines()]
    assert len(events) == 19
    assert "29 records read, 19 events translated (dry run)" in err
    assert "1 of unknown types, 7 malformed" in err
    assert "edx.bi.course.upgrade.sidebarupsell.displayed x1" in err
    assert f"{mixed}:10: invalid JSON" in err and f"{mixed}:30: " in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_dry_run_without_json_prints_only_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ingest", "tracking-log", "--dry-run", str(FIXTURES / "pretty.json")]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "1 events translated" in err


def test_missing_files_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "tracking-log", "--dry-run", "/no/such.log"]) == 2
    assert "no such file: /no/such.log" in capsys.readouterr().err


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference captures not present")
def test_every_reference_capture_translates_without_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in REFERENCE.glob("*.json"))
    assert main(["ingest", "tracking-log", "--dry-run", "--json", *files]) == 0
    out, err = capsys.readouterr()
    assert f"{len(files)} records read" in err
    assert "0 of unknown types, 0 malformed" in err
    assert len(out.splitlines()) > len(files) // 2
