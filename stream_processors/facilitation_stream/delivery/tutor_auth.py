"""Who is calling the tutor API: per-tutor bearer tokens, or the LMS on a tutor's behalf.

Tokens are random (``secrets.token_urlsafe``), shown once when issued, and stored only as
SHA-256 hashes — in Redis (``<prefix>tokens``: hash -> JSON record) and/or a tokens file
(YAML list of ``{tutor, sha256, lead}``) an operator mounts as a secret. A leaked Redis
dump or file therefore does not let anyone sign in.

The tutor XBlock never holds a tutor token: the LMS server calls the API with one shared
service token plus the header ``X-Facilitation-LMS-User`` (the signed-in LMS user, taken
from the LMS session), and the API maps that user to a tutor through the roster's
``lms_user_id``. The browser in the LMS only ever talks to the XBlock's own handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LMS_USER_HEADER = "X-Facilitation-LMS-User"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    tutor_id: str
    lead: bool
    via: str  # "token" or "lms"


@dataclass(frozen=True, slots=True)
class LmsTutor:
    tutor_id: str
    lead: bool


class TokenStore:
    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        tokens_file: str | Path | None = None,
        service_token_hash: str | None = None,
        lms_users: Callable[[str], LmsTutor | None] = lambda _user: None,
        is_lead: Callable[[str], bool] = lambda _tutor: False,
    ) -> None:
        self.client = client
        self.key = f"{prefix}tokens"
        self.service_token_hash = service_token_hash
        self.lms_users = lms_users
        self.is_lead = is_lead
        self.file_records: dict[str, dict[str, Any]] = (
            _read_tokens_file(Path(tokens_file)) if tokens_file else {}
        )

    def issue(self, tutor_id: str, *, lead: bool = False) -> str:
        """A new token for ``tutor_id`` (older ones keep working until revoked)."""
        token = secrets.token_urlsafe(32)
        record = json.dumps({"tutor": tutor_id, "lead": lead})
        self.client.hset(self.key, hash_token(token), record)
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

    def authenticate(self, authorization: str | None, lms_user: str | None) -> Principal | None:
        """The caller, or None. ``authorization`` is the raw ``Authorization`` header."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        digest = hash_token(authorization.removeprefix("Bearer ").strip())
        if self.service_token_hash and hmac.compare_digest(digest, self.service_token_hash):
            tutor = self.lms_users(lms_user) if lms_user else None
            return Principal(tutor.tutor_id, tutor.lead, "lms") if tutor else None
        raw = self.client.hget(self.key, digest)
        record = json.loads(raw) if raw else self.file_records.get(digest)
        if not record:
            return None
        tutor_id = str(record["tutor"])
        return Principal(tutor_id, bool(record.get("lead")) or self.is_lead(tutor_id), "token")


def _read_tokens_file(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of {{tutor, sha256, lead}}")
    out: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not entry.get("tutor") or not entry.get("sha256"):
            raise ValueError(f"{path}: entry {i} needs tutor and sha256")
        out[str(entry["sha256"]).lower()] = entry
    return out
