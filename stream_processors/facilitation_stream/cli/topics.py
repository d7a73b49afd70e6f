"""`facilitation topics create [--wait SECONDS]`: create the engine's Kafka topics.

For install jobs (the Tutor plugin's init task, a deploy pipeline): creates the events,
worker-updates, alerts and dead-letter topics with FACILITATION_TOPIC_PARTITIONS and
FACILITATION_TOPIC_REPLICATION, after waiting up to --wait seconds for the brokers to answer
(a broker container started a moment ago is not ready yet; one try itself may take the
client's 30 s bootstrap timeout). Topics that exist are left as they are, so a second run
is safe. Prints "created NAME" or "exists NAME" per topic.

Exit status 1 when the brokers did not answer within --wait seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

EXIT_UNREACHABLE = 1
RETRY_S = 2.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("topics", help="create the engine's Kafka topics")
    actions = parser.add_subparsers(dest="topics_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="create the missing topics (events, updates, alerts, dead letters)",
        description="Settings come from FACILITATION_* environment variables.",
    )
    create.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="keep trying this long while the brokers do not answer (default: one try)",
    )
    create.set_defaults(func=_create)


def _create(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from facilitation_stream.kafka_config import engine_topics, ensure_topics
    from facilitation_stream.settings import Settings

    settings = Settings()
    names = engine_topics(settings)
    deadline = time.monotonic() + max(args.wait, 0.0)
    while True:
        try:
            created = set(ensure_topics(settings, names))
            break
        except KafkaError as err:
            if time.monotonic() + RETRY_S > deadline:
                print(f"Kafka at {settings.kafka_bootstrap} did not answer: {err}", file=sys.stderr)
                return EXIT_UNREACHABLE
            print(f"waiting for Kafka at {settings.kafka_bootstrap} ({err})", file=sys.stderr)
            time.sleep(RETRY_S)
    for name in names:
        print(f"{'created' if name in created else 'exists'} {name}")
    return 0
