"""`tutor facilitation ...`: the course team's files, kept in the Tutor config.

    tutor facilitation roster load FILE     validate the tutor roster, keep it, re-render
    tutor facilitation roster show|clear
    tutor facilitation rules load FILE      the same for the rule pack
    tutor facilitation rules show|clear

The file's text goes into config.yml (FACILITATION_ROSTER / FACILITATION_RULE_PACK) and from
there into the environment: a file mounted into the worker and the tutor API with
`tutor local`, a ConfigMap with `tutor k8s`. The workers reload a changed file by themselves.
When openedx-facilitation is installed beside Tutor the file is checked with the engine's
own validation before it is kept; otherwise only its shape is checked here (the workers
reject an invalid file on reload and keep the previous one).

What runs inside the containers are `do` jobs: `tutor local|k8s do facilitation-sign-in`
and `tutor local do facilitation-backfill` (tutorfacilitation.jobs).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml
from tutor import config as tutor_config
from tutor import env as tutor_env
from tutor import fmt
from tutor.commands.context import Context

# Tutor renders every config value as a Jinja template: a file using its markers would be
# changed on the way, so it is refused with a clear error instead.
JINJA_MARKERS = ("{{", "{%", "{#")
MAX_BYTES = 1_000_000

NEXT_STEPS = (
    "`tutor local` workers and tutor API reload it within a minute; "
    "with `tutor k8s`, run `tutor k8s start` to roll it out."
)


def _core_installed() -> bool:
    # Only an absent package means "shape only": a moved module must fail loudly.
    return importlib.util.find_spec("facilitation_rules") is not None


def check_roster(data: Any) -> str:
    """The roster's summary line; ``click.ClickException`` naming each problem."""
    if not _core_installed():
        return _shape(data, "roster", ("course_id", "tutors")) + " (shape only)"
    from facilitation_rules.routing.roster import RosterError, parse_roster

    try:
        roster = parse_roster(data)
    except RosterError as err:
        raise click.ClickException(str(err)) from None
    return f"roster of {roster.course_id}, {len(roster.tutors)} tutors"


def check_pack(text: str) -> str:
    """The rule pack's summary line; ``click.ClickException`` with FILE:LINE:COL problems."""
    if not _core_installed():
        return _shape(yaml.safe_load(text), "rule pack", ("name", "rules")) + " (shape only)"
    from facilitation_rules.packs.loader import PackError, parse_pack

    try:
        pack = parse_pack(text)
    except PackError as err:
        raise click.ClickException(
            "\n".join(problem.format("rule pack") for problem in err.problems)
        ) from None
    return f"rule pack {pack.name!r}"


def _shape(data: Any, kind: str, keys: tuple[str, ...]) -> str:
    if not isinstance(data, dict) or any(key not in data for key in keys):
        raise click.ClickException(f"not a {kind}: expected a mapping with {', '.join(keys)}")
    return kind


def _read(path: str) -> str:
    file = Path(path)
    if file.stat().st_size > MAX_BYTES:
        raise click.ClickException(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise click.ClickException(f"{path}: not UTF-8 text: {err}") from None
    for marker in JINJA_MARKERS:
        if marker in text:
            raise click.ClickException(
                f"{path}: contains {marker!r}, which Tutor would read as a template"
            )
    return text


def store(root: str, key: str, value: str) -> None:
    """Save one value in config.yml and render the environment again (`tutor config save`)."""
    config = tutor_config.load_minimal(root)
    config[key] = value
    tutor_config.save_config_file(root, config)
    tutor_env.save(root, tutor_config.load_full(root))


def _file_group(name: str, key: str, check: Callable[[str], str], help_text: str) -> click.Group:
    @click.group(name=name, help=help_text)
    def group() -> None:
        pass

    @group.command(help=f"Validate FILE and keep it as the {name} ({key}).")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.pass_obj
    def load(context: Context, path: str) -> None:
        text = _read(path)
        try:
            summary = check(text)
        except yaml.YAMLError as err:
            raise click.ClickException(f"{path}: not valid YAML: {err}") from None
        store(context.root, key, text)
        fmt.echo_info(f"{path}: {summary} saved. {NEXT_STEPS}")

    @group.command(help=f"Print the {name} in use.")
    @click.pass_obj
    def show(context: Context) -> None:
        click.echo(tutor_config.load(context.root)[key], nl=False)

    @group.command(help=f"Forget the loaded {name}.")
    @click.pass_obj
    def clear(context: Context) -> None:
        store(context.root, key, "")
        fmt.echo_info(f"{key} cleared. {NEXT_STEPS}")

    return group


@click.group(
    help="openedx-facilitation: the roster and rule pack. Jobs in the containers: "
    "`tutor local|k8s do facilitation-sign-in`, `tutor local do facilitation-backfill`."
)
def facilitation() -> None:
    pass


facilitation.add_command(
    _file_group(
        "roster",
        "FACILITATION_ROSTER",
        lambda text: check_roster(yaml.safe_load(text)),
        "The tutor roster: who facilitates, when, on what.",
    )
)
facilitation.add_command(
    _file_group(
        "rules",
        "FACILITATION_RULE_PACK",
        check_pack,
        "The rule pack (empty: the pack shipped with the package).",
    )
)
