"""`facilitation worker`: run one stream-processing worker (Faust) of the engine."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

DEFAULT_ENGINE = "facilitation_stream.worker.rules_engine:RulesEngine"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run a stream-processing worker",
        description="Consume contract events, run the facilitation rules, route alerts to "
        "tutor queues. Settings come from FACILITATION_* environment variables.",
    )
    parser.add_argument("--rules", help="rule pack file (hot reloaded); FACILITATION_RULES_PATH")
    parser.add_argument("--web-port", type=int, help="health/metrics port; FACILITATION_WEB_PORT")
    parser.add_argument(
        "--engine", default=DEFAULT_ENGINE, help="engine factory module:callable (advanced)"
    )
    parser.add_argument(
        "--loglevel",
        default="info",
        choices=["debug", "info", "warning"],
        help="how much the worker logs (default info)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facilitation_stream.delivery.alert_sink import build_sink
    from facilitation_stream.kafka_config import engine_topics, ensure_topics
    from facilitation_stream.settings import Settings
    from facilitation_stream.worker.app import build_app
    from facilitation_stream.worker.engine_protocol import load_engine

    overrides: dict[str, Any] = {}
    if args.rules:
        overrides["rules_path"] = args.rules
    if args.web_port:
        overrides["web_port"] = args.web_port
    settings = Settings(**overrides)
    logging.basicConfig(level=args.loglevel.upper(), stream=sys.stderr)
    # Faust does not create source topics; a worker started before them would idle.
    ensure_topics(settings, engine_topics(settings))
    engine = load_engine(args.engine, settings.rules_path)
    app = build_app(settings, engine, sink=build_sink(settings))
    app.finalize()
    from faust.worker import Worker

    worker = Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
