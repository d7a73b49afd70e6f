"""`tutor facilitation roster|rules load|show|clear` through the real Tutor CLI, and the
`do` jobs' scripts as Tutor renders them, run with the real `facilitation` CLI against the
real Redis and Kafka of `make test` (the job container is replaced by this machine's shell:
no Docker engine here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .tutor_env import REPO, env_file, helper, new_root, read, tutor, tutor_fails, user_config

PACKS = REPO / "rules" / "facilitation_rules" / "packs"
LOGS = REPO / "tests" / "fixtures" / "tracking_logs"
ROSTER_IDS = ["ana", "ben", "carla", "dev", "emma", "felipe", "haruto", "isla"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return new_root(tmp_path / "root")


def test_roster_load_validates_keeps_and_renders_the_file(root: Path) -> None:
    roster = PACKS / "roster.example.yaml"
    out = tutor(root, "facilitation", "roster", "load", str(roster))
    assert "roster of course-v1:OpenEdX+Facilitation+2025, 8 tutors saved" in out
    text = roster.read_text(encoding="utf-8")
    assert user_config(root)["FACILITATION_ROSTER"] == text
    # Tutor renders values and templates without their final newline.
    assert read(root, "plugins/facilitation/apps/config/roster.yaml") == text.rstrip("\n")
    engine = env_file(root, "plugins/facilitation/apps/env/engine.env")
    assert engine["FACILITATION_ROSTER_PATH"] == "/etc/facilitation/roster.yaml"
    assert tutor(root, "facilitation", "roster", "show") == text.rstrip("\n")

    tutor(root, "facilitation", "roster", "clear")
    assert user_config(root)["FACILITATION_ROSTER"] == ""
    assert "FACILITATION_ROSTER_PATH" not in env_file(
        root, "plugins/facilitation/apps/env/engine.env"
    )


def test_an_invalid_roster_is_refused_with_the_problem_and_nothing_kept(
    root: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "roster.yaml"
    bad.write_text(
        (PACKS / "roster.example.yaml").read_text().replace("Europe/Madrid", "Mars/Olympus")
    )
    result = tutor_fails(root, "facilitation", "roster", "load", str(bad))
    assert "tutors[0]" in result.stderr and "Mars/Olympus" in result.stderr
    assert user_config(root).get("FACILITATION_ROSTER", "") == ""


def test_template_markup_in_a_file_is_refused(root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "pack.yaml"
    bad.write_text("name: x\nrules: {}\n# {{ SECRET_KEY }}\n")
    result = tutor_fails(root, "facilitation", "rules", "load", str(bad))
    assert "which Tutor would read as a template" in result.stderr


def test_rules_load_keeps_a_valid_pack_and_names_the_line_of_a_bad_one(
    root: Path, tmp_path: Path
) -> None:
    pack = PACKS / "default.yaml"
    assert "saved" in tutor(root, "facilitation", "rules", "load", str(pack))
    assert read(root, "plugins/facilitation/apps/config/rules.yaml") == pack.read_text().rstrip()
    engine = env_file(root, "plugins/facilitation/apps/env/engine.env")
    assert engine["FACILITATION_RULES_PATH"] == "/etc/facilitation/rules.yaml"

    bad = tmp_path / "bad.yaml"
    bad.write_text(pack.read_text().replace("unanswered_post:", "unanswerd_post:", 1))
    result = tutor_fails(root, "facilitation", "rules", "load", str(bad))
    assert "rule pack:" in result.stderr and "unanswerd_post" in result.stderr
    assert user_config(root)["FACILITATION_RULE_PACK"] == pack.read_text()


def _job_env(root: Path, **overrides: str) -> dict[str, str]:
    """The job container's environment: the rendered env files, this machine's CLI."""
    env = {
        **env_file(root, "plugins/facilitation/apps/env/engine.env"),
        **env_file(root, "plugins/facilitation/apps/env/engine-secrets.env"),
        **overrides,
    }
    return {"PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}", "HOME": str(root), **env}


def _run_job(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As Tutor runs a job: `sh -e -c SCRIPT` in the job container.
    return subprocess.run(
        ["sh", "-e", "-c", script], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.integration
def test_init_creates_the_topics_and_migrates_the_plugin_app(
    root: Path, kafka_bootstrap: str, unique: str
) -> None:
    tasks = json.loads(helper("settings"))["init"]
    assert [service for service, _ in tasks] == ["facilitation", "lms"]
    assert "./manage.py lms migrate facilitation" in tasks[1][1]  # no LMS here to run it
    env = _job_env(root, FACILITATION_KAFKA_BOOTSTRAP=kafka_bootstrap,
                   FACILITATION_APP_ID=f"init-{unique}")
    for _ in range(2):  # `tutor local do init` may run again at every launch
        result = _run_job(tasks[0][1], env)
        assert result.returncode == 0, result.stderr
        assert f"init-{unique}-subject-updates" in result.stdout


@pytest.mark.integration
def test_sign_in_job_issues_a_working_token_per_roster_tutor(root: Path, redis_url: str) -> None:
    from facilitation_stream.delivery.queues import DEFAULT_PREFIX, connect
    from facilitation_stream.delivery.tutor_auth import TokenStore

    tutor(root, "facilitation", "roster", "load", str(PACKS / "roster.example.yaml"))
    roster = root / "env" / "plugins" / "facilitation" / "apps" / "config" / "roster.yaml"
    script = helper("job", str(root), "facilitation-sign-in")
    result = _run_job(
        script, _job_env(root, FACILITATION_REDIS_URL=redis_url,
                         FACILITATION_ROSTER_PATH=str(roster))
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Tutor page: http://tutors.local.openedx.io/ ")
    tokens = dict(line.split() for line in lines[1:])
    assert list(tokens) == ROSTER_IDS
    store = TokenStore(connect(redis_url), DEFAULT_PREFIX)
    for tutor_id, token in tokens.items():
        principal = store.authenticate(f"Bearer {token}", None)
        assert principal is not None and principal.tutor_id == tutor_id

    named = helper("job", str(root), "facilitation-sign-in", "--tutor", "zoe", "--lead")
    result = _run_job(named, _job_env(root, FACILITATION_REDIS_URL=redis_url))
    assert result.returncode == 0, result.stderr
    (zoe,) = result.stdout.splitlines()[1:]
    principal = store.authenticate(f"Bearer {zoe.split()[1]}", None)
    assert principal is not None and (principal.tutor_id, principal.lead) == ("zoe", True)


def test_job_arguments_that_could_be_template_markup_are_refused(root: Path) -> None:
    with pytest.raises(AssertionError, match="use letters, digits"):
        helper("job", str(root), "facilitation-sign-in", "--tutor", "{{ SECRET_KEY }}")


@pytest.mark.integration
def test_backfill_job_sends_the_lms_tracking_log_oldest_first(
    root: Path, tmp_path: Path, kafka_bootstrap: str, unique: str
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(LOGS / "mixed.log.gz", logs / "tracking.log-20250301.gz")
    shutil.copy(LOGS / "mixed.log", logs / "tracking.log")
    os.utime(logs / "tracking.log-20250301.gz", (1_700_000_000, 1_700_000_000))
    env = _job_env(root, FACILITATION_KAFKA_BOOTSTRAP=kafka_bootstrap,
                   FACILITATION_EVENTS_TOPIC=f"backfill-{unique}")

    for extra, word in ((["--dry-run"], "translated (dry run)"), ([], "sent")):
        script = helper("job", str(root), "facilitation-backfill", *extra)
        assert "logs=/openedx/lms-data/logs\n" in script
        result = _run_job(script.replace("logs=/openedx/lms-data/logs\n", f"logs={logs}\n"), env)
        assert result.returncode == 0, result.stderr
        assert f"38 events {word}" in result.stderr, result.stderr
        # Each file's malformed lines are reported in reading order: the rotated one first.
        reported = [line.split(":")[0] for line in result.stderr.splitlines()
                    if line.startswith("tracking.log")]
        assert reported == ["tracking.log-20250301.gz"] * 7 + ["tracking.log"] * 7

    empty = helper("job", str(root), "facilitation-backfill").replace(
        "logs=/openedx/lms-data/logs\n", f"logs={tmp_path / 'none'}\n"
    )
    result = _run_job(empty, env)
    assert result.returncode == 1 and "No LMS log folder" in result.stderr
