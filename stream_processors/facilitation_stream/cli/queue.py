"""`facilitation queue list|claim|resolve|snooze|reassign|history`: tutor queues from a shell.

The CLI acts as the tutor named by ``--tutor`` (operators run it with Redis access, so it
trusts that name; tutors use the page or the XBlock, which authenticate every call).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facilitation_rules.routing.nudges import Nudge
    from facilitation_stream.delivery.queues import Outcome, TutorQueue

EXIT_REFUSED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("queue", help="list and act on tutor queues in Redis")
    parser.add_argument("--redis-url", help="Redis URL (default: FACILITATION_REDIS_URL)")
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION", required=True)

    show = actions.add_parser("list", help="a tutor's open nudges, most urgent first")
    who = show.add_mutually_exclusive_group(required=True)
    who.add_argument("--tutor", help="tutor id")
    who.add_argument("--all", action="store_true", help="every tutor's queue")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(func=_list)

    for name, help_text in (
        ("claim", "take a nudge: it is yours now"),
        ("resolve", "done: close the nudge"),
        ("not-useful", "close the nudge and count it as noise for its rule(s)"),
        ("snooze", "hide a nudge until a time, then it comes back"),
        ("reassign", "give a nudge to another tutor"),
        ("history", "every transition of a nudge, who and when"),
    ):
        act = actions.add_parser(name, help=help_text)
        act.add_argument("nudge_id", help="the nudge's id (from `facilitation queue list`)")
        act.add_argument("--tutor", required=name != "history", help="who acts")
        act.add_argument("--json", action="store_true", help="print the outcome as JSON")
        if name != "history":
            act.add_argument(
                "--lead",
                action="store_true",
                help="act as a lead on a nudge in another tutor's queue",
            )
        if name == "snooze":
            when = act.add_mutually_exclusive_group(required=True)
            when.add_argument("--until", help="ISO 8601 time with zone")
            when.add_argument("--hours", type=float, help="snooze for this many hours")
        if name == "reassign":
            act.add_argument("--to", required=True, help="tutor id receiving the nudge")
        act.set_defaults(func=_act)


def _queue(args: argparse.Namespace) -> TutorQueue:
    from facilitation_stream.delivery.queues import TutorQueue, connect
    from facilitation_stream.settings import get_settings

    url = args.redis_url or get_settings().redis_url.get_secret_value()
    return TutorQueue(connect(url))


def _list(args: argparse.Namespace) -> int:
    queue = _queue(args)
    queues = queue.list_all() if args.all else {args.tutor: queue.list_queue(args.tutor)}
    if args.json:
        payload = {t: [n.to_dict() for n in nudges] for t, nudges in queues.items()}
        print(json.dumps({"queues": payload}, indent=2))
        return 0
    now = datetime.now(UTC)
    for tutor, nudges in queues.items():
        print(f"{tutor}: {len(nudges)} open")
        for nudge in nudges:
            print("  " + _line(nudge, now))
    return 0


def _line(nudge: Nudge, now: datetime) -> str:
    from facilitation_rules.contract.codec import parse_time

    age_h = (now - parse_time(nudge.due_at)).total_seconds() / 3600 if nudge.due_at else 0.0
    first = nudge.items[0] if nudge.items else None
    link = first.url if first else ""
    return (
        f"{nudge.nudge_id}  [{nudge.severity}] {nudge.state:<9} learner {nudge.learner_id} "
        f"age {age_h:.1f}h  {'; '.join(nudge.reasons)}" + (f"  {link}" if link else "")
    )


def _act(args: argparse.Namespace) -> int:
    from facilitation_rules.contract.codec import EventDecodeError, parse_time

    queue = _queue(args)
    action = args.queue_action
    if action == "history":
        entries = queue.history(args.nudge_id)
        if args.json:
            print(json.dumps({"nudge_id": args.nudge_id, "history": entries}, indent=2))
        else:
            for e in entries:
                print(
                    f"{e['at']}  {e['by']:<12} {e['action']:<12} {e['from']}->{e['to']} {e['note']}"
                )
        return 0 if entries else EXIT_REFUSED
    own_only = not args.lead
    outcome: Outcome
    if action == "claim":
        outcome = queue.claim(args.nudge_id, args.tutor, own_only=own_only)
    elif action == "resolve":
        outcome = queue.resolve(args.nudge_id, args.tutor, own_only=own_only)
    elif action == "not-useful":
        outcome = queue.not_useful(args.nudge_id, args.tutor, own_only=own_only)
    elif action == "snooze":
        try:
            until = (
                parse_time(args.until)
                if args.until
                else datetime.now(UTC) + timedelta(hours=args.hours)
            )
            outcome = queue.snooze(args.nudge_id, args.tutor, until, own_only=own_only)
        except (EventDecodeError, ValueError) as err:
            print(f"facilitation queue snooze: {err}", file=sys.stderr)
            return EXIT_REFUSED
    else:
        outcome = queue.reassign(args.nudge_id, args.tutor, args.to, own_only=own_only)
    if args.json:
        print(json.dumps(outcome.to_dict()))
    else:
        print(
            f"{action} {outcome.nudge_id or args.nudge_id}: {outcome.status}"
            + (f" (state {outcome.state}, tutor {outcome.tutor_id})" if outcome.state else "")
        )
    return 0 if outcome.status in ("ok", "noop") else EXIT_REFUSED
