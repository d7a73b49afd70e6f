"""Who is calling the tutor API: per-tutor bearer tokens, or the LMS on a tutor's behalf.

Tokens are random (``secrets.token_urlsafe``), shown once when issued, and stored only as
SHA-256 hashes — in Redis (``<prefix>tokens``: hash -> JSON record) and/or a tokens file
(YAML list of ``{tutor, sha256, expires_at, lead}``) an operator mounts as a secret. A
leaked Redis dump or file therefore does not let anyone sign in.

Every token has an expiry (``FACILITATION_TUTOR_TOKEN_DAYS``, 90 days by default) and
belongs to a tutor of a roster: a token is issued only for a roster tutor, and stops
working when it expires or when its tutor leaves the roster. A record without an expiry
(written before expiries existed) is refused: issue a new token.

The tutor XBlock never holds a tutor token: the LMS server calls the API with one shared
service token plus the header ``X-Facilitation-LMS-User`` (the signed-in LMS user, taken
from the LMS session), and the API maps that user to a tutor only through the roster's
explicit ``lms_user_id`` — never by a tutor id that happens to equal an LMS username.
The browser in the LMS only ever talks to the XBlock's own handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from facilitation_rules.contract.codec import EventDecodeError, format_time, parse_time
from facilitation_rules.routing.roster import Roster

LMS_USER_HEADER = "X-Facilitation-LMS-User"
DEFAULT_TOKEN_DAYS = 90
#: The longest a token may live: a bound on the configured and the requested lifetime.
MAX_TOKEN_DAYS = 3650
Clock = Callable[[], datetime]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Principal:
    tutor_id: str
    lead: bool
    via: str  # "token" or "lms"


@dataclass(frozen=True, slots=True)
class LmsTutor:
    """A roster tutor as the API knows them."""

    tutor_id: str
    lead: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One issued token, without the secret (``tutors tokens`` lists these)."""

    token_id: str  # the first 12 hex digits of its hash: enough to tell tokens apart
    tutor_id: str
    lead: bool
    issued_at: str
    expires_at: str
    source: str  # "redis" or the tokens file

    def expired(self, now: datetime) -> bool:
        return not _unexpired({"expires_at": self.expires_at}, now)


class UnknownTutor(LookupError):
    """A token was asked for an id that is in no roster."""


class RosterDirectory:
    """The tutors of the current rosters, by tutor id and by explicit LMS identity.

    ``rosters`` is called on each look-up (the API's rosters reload when a file changes).
    An LMS identity that two different tutors claim maps to nobody."""

    def __init__(self, rosters: Callable[[], Iterable[Roster]]) -> None:
        self.rosters = rosters

    def tutor(self, tutor_id: str) -> LmsTutor | None:
        found = [t for r in self.rosters() for t in r.tutors if t.tutor_id == tutor_id]
        return LmsTutor(tutor_id, any(t.lead for t in found)) if found else None

    def lms_user(self, user: str) -> LmsTutor | None:
        if not user:
            return None
        ids = {t.tutor_id for r in self.rosters() for t in r.tutors if t.lms_user_id == user}
        return self.tutor(ids.pop()) if len(ids) == 1 else None


class TokenStore:
    def __init__(
        self,
        client: Any,
        prefix: str,
        directory: RosterDirectory,
        *,
        tokens_file: str | Path | None = None,
        service_token_hash: str | None = None,
        lifetime: timedelta = timedelta(days=DEFAULT_TOKEN_DAYS),
        clock: Clock = _now,
    ) -> None:
        if not timedelta(0) < lifetime <= timedelta(days=MAX_TOKEN_DAYS):
            raise ValueError(f"token lifetime must be 1 to {MAX_TOKEN_DAYS} days")
        self.client = client
        self.key = f"{prefix}tokens"
        self.directory = directory
        self.service_token_hash = service_token_hash
        self.lifetime = lifetime
        self.clock = clock
        self.tokens_file = str(tokens_file) if tokens_file else ""
        self.file_records: dict[str, dict[str, Any]] = (
            _read_tokens_file(Path(tokens_file)) if tokens_file else {}
        )

    def issue(self, tutor_id: str, *, lead: bool = False, days: float | None = None) -> str:
        """A new token for the roster tutor ``tutor_id`` (older ones keep working until
        they expire or are revoked). ``days``: its lifetime (default: the store's)."""
        if self.directory.tutor(tutor_id) is None:
            raise UnknownTutor(f"{tutor_id!r} is in no roster: tokens are for roster tutors")
        lifetime = self.lifetime if days is None else timedelta(days=days)
        if not timedelta(0) < lifetime <= timedelta(days=MAX_TOKEN_DAYS):
            raise ValueError(f"a token lives 1 to {MAX_TOKEN_DAYS} days")
        now = self.clock()
        token = secrets.token_urlsafe(32)
        record = {
            "tutor": tutor_id,
            "lead": lead,
            "issued_at": format_time(now),
            "expires_at": format_time(now + lifetime),
        }
        self.client.hset(self.key, hash_token(token), json.dumps(record))
        return token

    def revoke(self, tutor_id: str) -> int:
        gone = [
            h
            for h, raw in self.client.hgetall(self.key).items()
            if json.loads(raw).get("tutor") == tutor_id
        ]
        if gone:
            self.client.hdel(self.key, *gone)
        return len(gone)

    def tokens(self) -> list[TokenInfo]:
        """Every token in Redis and in the tokens file, expired ones included."""
        stored = {h: json.loads(raw) for h, raw in self.client.hgetall(self.key).items()}
        rows = [_info(h, r, "redis") for h, r in stored.items()]
        rows += [_info(h, r, self.tokens_file) for h, r in self.file_records.items()]
        return sorted(rows, key=lambda t: (t.tutor_id, t.expires_at, t.token_id))

    def authenticate(self, authorization: str | None, lms_user: str | None) -> Principal | None:
        """The caller, or None. ``authorization`` is the raw ``Authorization`` header."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        digest = hash_token(authorization.removeprefix("Bearer ").strip())
        if self.service_token_hash and hmac.compare_digest(digest, self.service_token_hash):
            tutor = self.directory.lms_user(lms_user) if lms_user else None
            return Principal(tutor.tutor_id, tutor.lead, "lms") if tutor else None
        raw = self.client.hget(self.key, digest)
        record = json.loads(raw) if raw else self.file_records.get(digest)
        if not record or not _unexpired(record, self.clock()):
            return None
        tutor = self.directory.tutor(str(record.get("tutor", "")))
        if tutor is None:  # the tutor left the roster: their tokens stop with them
            return None
        return Principal(tutor.tutor_id, bool(record.get("lead")) or tutor.lead, "token")


def _unexpired(record: dict[str, Any], now: datetime) -> bool:
    try:
        return parse_time(record.get("expires_at")) > now
    except EventDecodeError:  # none (an old record) or unreadable: refused
        return False


def _info(digest: str, record: dict[str, Any], source: str) -> TokenInfo:
    return TokenInfo(
        token_id=digest[:12],
        tutor_id=str(record.get("tutor", "")),
        lead=bool(record.get("lead")),
        issued_at=str(record.get("issued_at") or ""),
        expires_at=str(record.get("expires_at") or ""),
        source=source,
    )


def _read_tokens_file(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of {{tutor, sha256, expires_at, lead}}")
    out: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not entry.get("tutor") or not entry.get("sha256"):
            raise ValueError(f"{path}: entry {i} needs tutor and sha256")
        expires = entry.get("expires_at")
        try:
            parse_time(expires.isoformat() if isinstance(expires, datetime) else expires)
        except (EventDecodeError, AttributeError):
            raise ValueError(f"{path}: entry {i} needs expires_at (ISO 8601, UTC)") from None
        if isinstance(expires, datetime):  # YAML reads an unquoted timestamp as a datetime
            entry = {**entry, "expires_at": format_time(expires.astimezone(UTC))}
        out[str(entry["sha256"]).lower()] = entry
    return out
