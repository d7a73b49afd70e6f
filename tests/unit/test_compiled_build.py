"""The mypyc-compiled build (setup.py, `make compiled`) writes what the sources write.

`make test` builds it and passes its folder as FACILITATION_COMPILED_BUILD; `make
test-compiled` also runs the unit and contract tests on it. Compiled code checks the type
annotations at run time, so a replay of real-shaped logs through both builds is compared
byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.tracking_log_gen import ensure

ROOT = Path(__file__).resolve().parents[2]
BUILD = os.environ.get("FACILITATION_COMPILED_BUILD")
pytestmark = pytest.mark.skipif(not BUILD, reason="no compiled build given (make test builds one)")


def _cli(pythonpath: str, *argv: str) -> tuple[bytes, bytes]:
    code = "import sys; from facilitation_stream.cli.main import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": pythonpath}
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout, done.stderr


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("logs")
    generated = folder / "course.log.gz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_tracking_log.py"), str(generated),
         "--lines", "40000", "--seed", "3"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    fixtures = sorted(str(p) for p in (ROOT / "tests" / "fixtures" / "tracking_logs").iterdir())
    # 90 days of 1,200 learners fading out: silence and drop-out alerts too
    return [str(generated), str(ensure(60_000)), *fixtures]


def test_the_build_is_compiled() -> None:
    assert BUILD
    compiled = sorted(p.name.split(".")[0] for p in Path(BUILD, "facilitation_rules").rglob("*.so"))
    assert {"replay", "dispatch", "state", "translate"} <= set(compiled)


@pytest.mark.parametrize(
    "argv",
    [
        ("replay", "--output", "jsonl"),
        ("replay", "--output", "table", "--until", "2024-03-15T00:00:00Z"),
        ("learners", "--at", "2024-03-20T00:00:00Z"),
    ],
    ids=["replay-jsonl", "replay-table-until", "learners"],
)
def test_compiled_and_source_builds_write_the_same_bytes(logs: list[str], argv: tuple[str, ...]):
    assert BUILD
    sources = os.pathsep.join(str(ROOT / d) for d in ("rules", "stream_processors", "xblocks"))
    source_out, source_err = _cli(sources, argv[0], *logs, *argv[1:])
    compiled_out, compiled_err = _cli(BUILD, argv[0], *logs, *argv[1:])
    assert source_out, source_err.decode()
    assert compiled_out == source_out
    assert compiled_err == source_err
