"""`facilitation tutors token | tokens | revoke` on the real Redis: tokens only for roster
tutors, with an expiry, listed without their secrets."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis

from facilitation_stream.cli.main import main
from facilitation_stream.settings import get_settings

pytestmark = pytest.mark.integration
ROSTER = str(Path(__file__).parents[2] / "rules/facilitation_rules/packs/roster.example.yaml")


def run(capsys: Any, redis_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["tutors", "--redis-url", redis_url, "--roster", ROSTER, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tokens_only_for_roster_tutors_with_expiry(
    capsys: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"{redis_url.rsplit('/', 1)[0]}/5"  # the CLI keeps the default prefix: a db of its own
    client = redis.Redis.from_url(db, decode_responses=True)
    client.delete("facilitation:tokens")
    try:
        code, out, err = run(capsys, db, "token", "--tutor", "ghost")
        assert code == 1 and "in no roster" in err and not out
        code, out, _ = run(capsys, db, "token", "--tutor", "ana", "--days", "7")
        secret = out.strip()
        assert code == 0 and len(secret) > 30
        monkeypatch.setenv("FACILITATION_TUTOR_TOKEN_DAYS", "30")
        get_settings.cache_clear()
        assert run(capsys, db, "token", "--tutor", "ben")[0] == 0
        code, out, _ = run(capsys, db, "tokens", "--json")
        rows = {r["tutor_id"]: r for r in json.loads(out)}
        assert code == 0 and secret not in out and set(rows) == {"ana", "ben"}
        days = {t: (r["issued_at"][:10], r["expires_at"][:10]) for t, r in rows.items()}
        assert all(not r["expired"] for r in rows.values())
        spans = {t: (date.fromisoformat(e) - date.fromisoformat(i)).days
                 for t, (i, e) in days.items()}  # fmt: skip
        assert spans == {"ana": 7, "ben": 30}
        assert run(capsys, db, "revoke", "--tutor", "ana")[1].startswith("revoked 1")
        assert "ana" not in run(capsys, db, "tokens")[1]
    finally:
        client.delete("facilitation:tokens")
        client.close()
        get_settings.cache_clear()
