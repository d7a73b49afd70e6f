"""`tutor local|k8s do ...` jobs that run in the engine image (the "facilitation-job").

    do facilitation-sign-in [--tutor ID]... [--lead]   a token per tutor, with the page URL
    do facilitation-backfill [--dry-run] [FILE]...     the LMS tracking log into Kafka

Each job is a script in templates/facilitation/jobs/do/, preceded by shell assignments of
the command's arguments; Tutor renders it as a template and runs it in the job container,
where the engine's FACILITATION_* environment is set.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from importlib import resources

import click

SERVICE = "facilitation"
SCRIPTS = resources.files("tutorfacilitation") / "templates" / "facilitation" / "jobs" / "do"
# Where facilitation-job sees the LMS's data volume (`tutor local`: data/lms, read-only).
LMS_LOGS = "/openedx/lms-data/logs"
# Tutor renders job scripts as templates: arguments are held to characters that can
# neither start template markup nor need shell quoting.
SAFE_ARGUMENT = re.compile(r"^[A-Za-z0-9._@:/+-]+$")


def job_script(name: str, **variables: str) -> str:
    """The script ``name``.sh preceded by ``variable='value'`` lines."""
    assignments = "".join(f"{key}={shlex.quote(value)}\n" for key, value in variables.items())
    return assignments + (SCRIPTS / f"{name}.sh").read_text(encoding="utf-8")


def _words(values: tuple[str, ...], what: str) -> str:
    for value in values:
        if not SAFE_ARGUMENT.match(value):
            raise click.BadParameter(
                f"{value!r}: use letters, digits and ._@:/+- only", param_hint=what
            )
    return " ".join(values)


@click.command(
    "facilitation-sign-in",
    help="Issue a sign-in token per tutor (by default every tutor of the loaded roster) "
    "and print it with the tutor page URL.",
)
@click.option("--tutor", "tutors", multiple=True, help="tutor id (repeat for several)")
@click.option("--lead", is_flag=True, help="the tokens see the whole team's queues")
def sign_in(tutors: tuple[str, ...], lead: bool) -> Iterator[tuple[str, str]]:
    yield SERVICE, job_script(
        "sign-in", tutors=_words(tutors, "--tutor"), lead="--lead" if lead else ""
    )


@click.command(
    "facilitation-backfill",
    help="Send the LMS tracking log to Kafka (facilitation ingest tracking-log). FILEs are "
    f"read in {LMS_LOGS}; by default every tracking.log* there, oldest first. `tutor local` "
    "only: in Kubernetes the log stays inside each LMS pod (see docs/operations.md).",
)
@click.option("--dry-run", is_flag=True, help="translate and report only; send nothing")
@click.argument("files", nargs=-1)
def backfill(dry_run: bool, files: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    yield SERVICE, job_script(
        "backfill",
        logs=LMS_LOGS,
        files=_words(files, "FILE"),
        dry_run="--dry-run" if dry_run else "",
    )


DO_COMMANDS = [sign_in, backfill]
