"""`facilitation`: the one command-line tool.

Each command group lives in ``facilitation_stream.commands.<name>`` and exposes
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
)

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facilitation",
        description="openedx-facilitation: facilitation engine for Open edX.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"facilitation_stream.commands.{name}")
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
