"""`facilitation`: the one command-line tool.

Each command group lives in ``facilitation_stream.cli.<name>`` and exposes
``register(subparsers)``; heavy imports (Faust, Kafka, Redis) happen inside the command, so
offline commands such as ``replay`` start fast and work without the engine extra.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "queue",
    "tutors",
    "simulate",
    "worker",
    "ingest",
    "rules",
    "replay",
    "learners",
    "topics",
)

EXIT_USAGE = 2


class _Version(argparse.Action):
    """``--version``: the package version and whether its rules run compiled (the import
    of the rules happens only when asked)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and the build")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from facilitation_rules.build_info import compiled

        try:
            number = version("openedx-facilitation")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "(not installed)"
        build = "rules compiled with mypyc" if compiled() else "pure Python"
        parser.exit(message=f"facilitation {number} ({build})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facilitation",
        description="openedx-facilitation: facilitation engine for Open edX.",
    )
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"facilitation_stream.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `facilitation replay ... | head` is normal use, not an error.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
