"""`facilitation simulate`: the seed course, with and without the engine.

Generates a course calibrated to the reference MOOC (402 enrolled, 86 active to the end,
about 1,073 posts over 13 weeks, 8 tutors on shifts across time zones), replays it through
the rules engine with a tutor model in the loop, and prints the outcome. ``--engine off``:
tutors find posts only by browsing the forum. ``--compare``: both runs side by side.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from typing import Any

ROWS = (
    ("learner_first_posts", "learners' first posts"),
    ("replied_within_sla_share", "replied within the 24 h SLA"),
    ("median_hours_to_first_reply", "median hours to first reply"),
    ("never_replied", "never replied"),
    ("posts", "forum posts (learners + tutors)"),
    ("tutor_replies", "tutor replies"),
    ("nudges", "nudges"),
    ("tutor_load_spread", "tutor load spread (max/min)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("simulate", help="run the seed course through the engine")
    parser.add_argument(
        "--engine",
        choices=("on", "off"),
        default="on",
        help="on: tutors get nudges; off: they find posts only by browsing (default on)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the course (1)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--compare", action="store_true", help="engine on and off side by side")
    parser.add_argument("--roster", help="roster YAML (default: the 8-tutor example)")
    parser.add_argument("--rules", help="rule pack YAML (default: the shipped pack)")
    parser.set_defaults(func=_simulate)


def _inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    import dataclasses

    from facilitation_rules.packs.loader import load_pack
    from facilitation_rules.routing.roster import load_roster
    from facilitation_rules.simulation.course import START

    path = args.roster or str(
        resources.files("facilitation_rules").joinpath("packs/roster.example.yaml")
    )
    roster = load_roster(path)
    if not args.roster:
        # The seed course has no cohorts or specialists: every tutor covers every area.
        tutors = tuple(dataclasses.replace(t, areas=frozenset()) for t in roster.tutors)
        roster = dataclasses.replace(roster, tutors=tutors)
    rules = load_pack(args.rules).rules
    if rules.course_start is None:
        rules = dataclasses.replace(rules, course_start=START.timestamp())
    return roster, rules


def _simulate(args: argparse.Namespace) -> int:
    from facilitation_rules.simulation.term import simulate

    roster, rules = _inputs(args)
    main = simulate(roster, rules, engine=args.engine == "on", seed=args.seed)
    other = (
        simulate(roster, rules, engine=args.engine != "on", seed=args.seed)
        if args.compare
        else None
    )
    if args.json:
        print(json.dumps({**main, **({"compare": other} if other else {})}, indent=2))
        return 0
    runs = [main] + ([other] if other else [])
    print(
        f"Seed course (seed {args.seed}): {main['enrolled']} enrolled, "
        f"{main['active_to_end']} active to the end, {main['weeks']} weeks, "
        f"{len(main['nudges_per_tutor'])} tutors"
    )
    header = f"{'':<34}" + "".join(f"{'engine ' + r['engine']:>14}" for r in runs)
    print(header)
    for key, label in ROWS:
        print(f"{label:<34}" + "".join(f"{_fmt(r.get(key)):>14}" for r in runs))
    if main["nudges"]:
        per = ", ".join(f"{t} {n}" for t, n in main["nudges_per_tutor"].items())
        print(f"nudges per tutor (engine on): {per}")
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:.2f}"
    return str(value)
