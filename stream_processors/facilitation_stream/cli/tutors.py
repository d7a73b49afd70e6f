"""`facilitation tutors serve|token|tokens|revoke|check|away|tick`: the tutor team side.

    facilitation tutors check ROSTER.yaml             validate a roster, print the shifts
    facilitation tutors token --tutor ana [--days N]  issue a token (printed once) for a
                                                      roster tutor; it expires after N days
    facilitation tutors tokens [--json]               list tokens: tutor, id, expiry
    facilitation tutors serve [--port 8077]           the tutor API + page (+ timed work)
    facilitation tutors away --tutor ben [--back]     mark a tutor away: nudges move on
    facilitation tutors tick                          wake snoozes, escalate, redistribute

The API reads FACILITATION_TUTOR_SERVICE_TOKEN (the secret the tutor XBlock's LMS shares)
and FACILITATION_TUTOR_TOKENS_FILE (optional YAML of hashed tokens); tokens live
FACILITATION_TUTOR_TOKEN_DAYS (90) and the roster (--roster or FACILITATION_ROSTER_PATH)
says who may have one. Notifications:
FACILITATION_TUTOR_PAGE_URL (the link in pings and digests), FACILITATION_SMTP_HOST,
FACILITATION_SMTP_PORT (25), FACILITATION_SMTP_FROM, FACILITATION_SMTP_USERNAME,
FACILITATION_SMTP_PASSWORD, FACILITATION_SMTP_STARTTLS (1/0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tutors", help="tutor roster, tokens and the tutor API")
    parser.add_argument("--redis-url", help="Redis URL (default: FACILITATION_REDIS_URL)")
    parser.add_argument("--roster", help="roster YAML file or folder (FACILITATION_ROSTER_PATH)")
    actions = parser.add_subparsers(dest="tutors_action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a roster file")
    check.add_argument("path", help="the roster YAML file")
    check.add_argument("--json", action="store_true", help="print the tutors as JSON")
    check.set_defaults(func=_check)

    token = actions.add_parser("token", help="issue an access token for a roster tutor")
    token.add_argument("--tutor", required=True, help="the tutor's id in the roster")
    token.add_argument("--lead", action="store_true", help="the token sees the whole team")
    token.add_argument(
        "--days", type=float, help="lifetime in days (default: FACILITATION_TUTOR_TOKEN_DAYS)"
    )
    token.set_defaults(func=_token)

    tokens = actions.add_parser("tokens", help="list issued tokens (never their secrets)")
    tokens.add_argument("--json", action="store_true", help="print the tokens as JSON")
    tokens.set_defaults(func=_tokens)

    revoke = actions.add_parser("revoke", help="revoke every token of a tutor")
    revoke.add_argument("--tutor", required=True, help="the tutor's id in the roster")
    revoke.set_defaults(func=_revoke)

    away = actions.add_parser("away", help="mark a tutor away (their nudges move on)")
    away.add_argument("--tutor", required=True, help="the tutor's id in the roster")
    away.add_argument("--back", action="store_true", help="the tutor is back")
    away.set_defaults(func=_away)

    tick = actions.add_parser("tick", help="run the timed work once")
    tick.set_defaults(func=_tick)

    serve = actions.add_parser("serve", help="serve the tutor API and page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8077, help="port to listen on (8077)")
    serve.add_argument(
        "--tick-seconds", type=float, default=60.0, help="run the timed work this often (0: never)"
    )
    serve.set_defaults(func=_serve)


def _check(args: argparse.Namespace) -> int:
    from facilitation_rules.routing.roster import RosterError, load_roster

    try:
        roster = load_roster(args.path)
    except RosterError as err:
        print(err, file=sys.stderr)
        return 1
    rows = [
        {
            "id": t.tutor_id,
            "name": t.name,
            "timezone": t.timezone,
            "capacity": t.capacity,
            "lead": t.lead,
            "away": t.away,
            "areas": sorted(t.areas),
        }
        for t in roster.tutors
    ]
    if args.json:
        print(json.dumps({"course_id": roster.course_id, "tutors": rows}, indent=2))
    else:
        print(f"{args.path}: valid roster for {roster.course_id}, {len(rows)} tutors")
        for r in rows:
            print(
                f"  {r['id']:<12} {r['timezone']:<22} capacity {r['capacity']:<3}"
                f"{' lead' if r['lead'] else ''}{' AWAY' if r['away'] else ''}"
            )
    return 0


def _redis(args: argparse.Namespace) -> Any:
    from facilitation_stream.delivery.queues import connect
    from facilitation_stream.settings import get_settings

    return connect(args.redis_url or get_settings().redis_url.get_secret_value())


def _rosters(args: argparse.Namespace) -> Any:
    from facilitation_stream.delivery.router import RosterFiles
    from facilitation_stream.settings import get_settings

    path = args.roster or get_settings().roster_path
    return RosterFiles(path) if path else None


def _all_rosters(args: argparse.Namespace) -> Any:
    """A callable returning the current rosters (reloaded when a file changed)."""
    rosters = _rosters(args)

    def all_rosters() -> list[Any]:
        if rosters is None:
            return []
        rosters.reload()
        return rosters.all()

    return all_rosters


def _token_store(args: argparse.Namespace, client: Any, all_rosters: Any) -> Any:
    from datetime import timedelta

    from facilitation_stream.delivery.queues import DEFAULT_PREFIX
    from facilitation_stream.delivery.tutor_auth import RosterDirectory, TokenStore, hash_token
    from facilitation_stream.settings import get_settings

    service = os.environ.get("FACILITATION_TUTOR_SERVICE_TOKEN")
    return TokenStore(
        client,
        DEFAULT_PREFIX,
        RosterDirectory(all_rosters),
        tokens_file=os.environ.get("FACILITATION_TUTOR_TOKENS_FILE") or None,
        service_token_hash=hash_token(service) if service else None,
        lifetime=timedelta(days=get_settings().tutor_token_days),
    )


def build_api(args: argparse.Namespace) -> Any:
    """The TutorApi wired from settings: Redis queue, tokens, rosters (hot reloaded)."""
    from facilitation_stream.delivery.queues import TutorQueue
    from facilitation_stream.delivery.tutor_api import TutorApi
    from facilitation_stream.settings import get_settings

    client = _redis(args)
    all_rosters = _all_rosters(args)
    tokens = _token_store(args, client, all_rosters)
    return TutorApi(TutorQueue(client), tokens, all_rosters, lms_url=get_settings().lms_url)


def _token(args: argparse.Namespace) -> int:
    from facilitation_stream.delivery.tutor_auth import UnknownTutor

    store = _token_store(args, _redis(args), _all_rosters(args))
    try:
        token = store.issue(args.tutor, lead=args.lead, days=args.days)
    except (UnknownTutor, ValueError) as err:
        print(f"no token issued: {err}", file=sys.stderr)
        return 1
    print(token)
    print(f"(token for {args.tutor}: shown once, stored hashed)", file=sys.stderr)
    return 0


def _tokens(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    rows = _token_store(args, _redis(args), _all_rosters(args)).tokens()
    if args.json:
        print(json.dumps([{**asdict(t), "expired": t.expired(now)} for t in rows], indent=2))
        return 0
    for t in rows:
        state = "EXPIRED" if t.expired(now) else "valid"
        print(
            f"{t.tutor_id:<12} {t.token_id}  issued {t.issued_at or '?':<20} "
            f"expires {t.expires_at or 'never (refused)':<20} {state}"
            f"{' lead' if t.lead else ''}  ({t.source})"
        )
    print(f"{len(rows)} token(s)", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    count = _token_store(args, _redis(args), _all_rosters(args)).revoke(args.tutor)
    print(f"revoked {count} token(s) of {args.tutor}")
    return 0


def _router(args: argparse.Namespace) -> Any:
    from facilitation_stream.delivery.notifications import NotificationSpool, Notifier
    from facilitation_stream.delivery.queues import TutorQueue
    from facilitation_stream.delivery.router import Router
    from facilitation_stream.settings import get_settings

    rosters = _rosters(args)
    provider = rosters if rosters is not None else (lambda _course: None)
    queue = TutorQueue(_redis(args))
    notifier = Notifier(
        queue,
        NotificationSpool(queue.client, queue.prefix),
        page_url=os.environ.get("FACILITATION_TUTOR_PAGE_URL", ""),
    )
    router = Router(queue, provider, default_tutor=get_settings().default_tutor, notifier=notifier)
    return router, rosters


def _dispatcher(router: Any) -> Any:
    from facilitation_stream.delivery.notifications import (
        Dispatcher,
        Sender,
        SmtpSender,
        WebhookSender,
    )

    env = os.environ.get
    senders: dict[str, Sender] = {"webhook": WebhookSender()}
    if env("FACILITATION_SMTP_HOST"):
        senders["email"] = SmtpSender(
            env("FACILITATION_SMTP_HOST", ""),
            int(env("FACILITATION_SMTP_PORT", "25")),
            env("FACILITATION_SMTP_FROM", "facilitation@localhost"),
            starttls=env("FACILITATION_SMTP_STARTTLS") == "1",
            username=env("FACILITATION_SMTP_USERNAME"),
            password=env("FACILITATION_SMTP_PASSWORD"),
        )
    return Dispatcher(router.notifier.spool, senders)


def _away(args: argparse.Namespace) -> int:
    router, rosters = _router(args)
    router.queue.set_away(args.tutor, not args.back)
    report = router.tick(rosters.all() if rosters else [])
    print(
        f"{args.tutor}: {'back' if args.back else 'away'}; "
        f"{len(report.redistributed)} nudge(s) moved"
    )
    return 0


def _tick(args: argparse.Namespace) -> int:
    router, rosters = _router(args)
    report = router.tick(rosters.all() if rosters else [])
    print(
        json.dumps(
            {
                "woken": report.woken,
                "escalated": report.escalated,
                "redistributed": report.redistributed,
            }
        )
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from aiohttp import web

    api = build_api(args)
    router, rosters = _router(args)
    app = api.app()

    async def ticker(_app: web.Application) -> Any:
        dispatcher = _dispatcher(router)

        async def loop() -> None:
            while True:
                await asyncio.sleep(args.tick_seconds)
                if rosters:
                    rosters.reload()
                await asyncio.to_thread(router.tick, rosters.all() if rosters else [])
                await asyncio.to_thread(dispatcher.run_once, router.clock())

        task = asyncio.create_task(loop()) if args.tick_seconds > 0 else None
        yield
        if task:
            task.cancel()

    app.cleanup_ctx.append(ticker)
    print(f"tutor page: http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0
