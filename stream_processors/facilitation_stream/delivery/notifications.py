"""Telling tutors: webhook pings (Slack-compatible JSON) and email digests, via a spool.

Nothing is sent inline. ``Notifier`` (called by the router) decides per nudge, with the
pure fatigue rules (``routing.notify_mode``), whether to ping now or hold it for the
tutor's digest, and writes what to send into a Redis spool. ``Dispatcher`` delivers due
spooled messages; a message is leased (not removed) while it is being sent, so a crash
mid-send means a retry, not a loss; a failure is retried with exponential backoff; after
``max_attempts`` it moves to a dead list an operator can inspect and replay. The nudge
itself is in the tutor's queue whatever happens to its notification.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from facilitation_rules.contract.codec import format_time
from facilitation_rules.routing.assignment import in_quiet_hours, notify_mode
from facilitation_rules.routing.nudges import Nudge, safe_url
from facilitation_rules.routing.roster import Roster, Tutor
from facilitation_stream.metrics import Metrics, get_metrics

log = logging.getLogger(__name__)

# Take up to ``limit`` due messages and push their next visibility ``lease`` seconds out.
_LEASE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[1] + ARGV[2], id) end
return ids
"""


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    channel: str  # "webhook" or "email"
    target: str  # URL or address
    payload: dict[str, Any]
    attempts: int


class Sender(Protocol):
    def send(self, target: str, payload: dict[str, Any]) -> None: ...


class NotificationSpool:
    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
    ) -> None:
        self.client, self.prefix = client, prefix
        # The keys keep the name they had before the class was renamed: deployed spools.
        self.due_key, self.dead_key = f"{prefix}outbox", f"{prefix}outbox:dead"
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self._lease = client.register_script(_LEASE)

    def _msg_key(self, message_id: str) -> str:
        return f"{self.prefix}outbox:msg:{message_id}"

    def add(self, channel: str, target: str, payload: dict[str, Any], now: datetime) -> str:
        message_id = uuid.uuid4().hex
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self._msg_key(message_id),
            mapping={
                "channel": channel,
                "target": target,
                "payload": json.dumps(payload),
                "attempts": 0,
                "created_at": format_time(now),
                "last_error": "",
            },
        )
        pipe.zadd(self.due_key, {message_id: now.timestamp()})
        pipe.execute()
        return message_id

    def lease_due(self, now: datetime, lease: timedelta, limit: int = 50) -> list[Message]:
        ids = self._lease(keys=[self.due_key], args=[now.timestamp(), lease.total_seconds(), limit])
        out = []
        for message_id in ids:
            raw = self.client.hgetall(self._msg_key(message_id))
            if not raw:  # delivered by another dispatcher meanwhile
                self.client.zrem(self.due_key, message_id)
                continue
            out.append(
                Message(
                    message_id,
                    raw["channel"],
                    raw["target"],
                    json.loads(raw["payload"]),
                    int(raw["attempts"]),
                )
            )
        return out

    def done(self, message_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self.due_key, message_id)
        pipe.delete(self._msg_key(message_id))
        pipe.execute()

    def failed(self, message: Message, now: datetime, error: str) -> bool:
        """Schedule a retry with backoff; True when it gave up (moved to the dead list)."""
        attempts = message.attempts + 1
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self._msg_key(message.message_id),
            mapping={"attempts": attempts, "last_error": error[:500]},
        )
        dead = attempts >= self.max_attempts
        if dead:
            pipe.zrem(self.due_key, message.message_id)
            pipe.rpush(self.dead_key, message.message_id)
        else:
            wait = min(self.backoff * 2 ** (attempts - 1), self.max_backoff)
            pipe.zadd(self.due_key, {message.message_id: (now + wait).timestamp()})
        pipe.execute()
        return dead

    def pending(self) -> int:
        return int(self.client.zcard(self.due_key))

    def dead(self) -> list[str]:
        return list(self.client.lrange(self.dead_key, 0, -1))


class WebhookSender:
    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def send(self, target: str, payload: dict[str, Any]) -> None:
        req = urllib.request.Request(
            target,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        # Targets come from the roster, whose schema allows only http(s) URLs.
        with urllib.request.urlopen(req, timeout=self.timeout) as res:
            if not 200 <= res.status < 300:
                raise OSError(f"webhook answered {res.status}")


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        from_addr: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.from_addr = host, port, from_addr
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def send(self, target: str, payload: dict[str, Any]) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.from_addr, target, payload["subject"]
        msg.set_content(payload["text"])
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)


class Dispatcher:
    def __init__(
        self,
        spool: NotificationSpool,
        senders: Mapping[str, Sender],
        metrics: Metrics | None = None,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.spool, self.senders, self.lease = spool, senders, lease
        self.metrics = metrics or get_metrics()

    def run_once(self, now: datetime) -> tuple[int, int]:
        """Deliver what is due; (sent, failed attempts)."""
        sent = failed = 0
        for message in self.spool.lease_due(now, self.lease):
            sender = self.senders.get(message.channel)
            try:
                if sender is None:
                    raise LookupError(f"no sender configured for {message.channel}")
                sender.send(message.target, message.payload)
            except Exception as err:  # any delivery failure is retried, never raised
                failed += 1
                if self.spool.failed(message, now, f"{type(err).__name__}: {err}"):
                    self.metrics.notifications_failed.labels(channel=message.channel).inc()
                    log.error("notification %s gave up: %s", message.message_id, err)
                continue
            self.spool.done(message.message_id)
            self.metrics.notifications_sent.labels(channel=message.channel).inc()
            sent += 1
        return sent, failed


# --- what to send ------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nudge_line(nudge: Nudge) -> str:
    first = nudge.items[0] if nudge.items else None
    title = f" — {first.title}" if first and first.title else ""
    who = nudge.learner_name or nudge.learner_username or nudge.learner_id
    return f"[{nudge.severity}] learner {who}: {'; '.join(nudge.reasons)}{title}"


# Links leave here only as the tutor page shows them: absolute http(s) URLs, nothing that
# can end a Slack link or start a script (``safe_url``); any other is left out.


def webhook_payload(nudges: list[Nudge], page_url: str, heading: str) -> dict[str, Any]:
    """Slack-compatible: ``text`` for any receiver, ``blocks`` for Slack."""
    lines = [_slack_escape(nudge_line(n)) for n in nudges]
    text = f"{heading}\n" + "\n".join(f"• {line}" for line in lines)
    if safe_url(page_url):
        text += f"\n<{safe_url(page_url)}|Open your queue>"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def digest_email(tutor: Tutor, nudges: list[Nudge], page_url: str) -> dict[str, Any]:
    lines = [f"Hello {tutor.name},", "", f"{len(nudges)} nudge(s) are waiting for you:", ""]
    for n in nudges:
        lines.append(f"- {nudge_line(n)}")
        links = [safe_url(item.url) for item in n.items if item.open]
        lines += [f"    {link}" for link in links if link]
    if safe_url(page_url):
        lines += ["", f"Your queue: {safe_url(page_url)}"]
    return {
        "subject": f"Facilitation digest: {len(nudges)} nudge(s) waiting",
        "text": "\n".join(lines),
    }


class Notifier:
    """Per-nudge pings within fatigue limits; everything else goes to the tutor's digest."""

    def __init__(
        self,
        queue: Any,
        spool: NotificationSpool,
        *,
        page_url: str = "",
        digest_every: timedelta = timedelta(hours=4),
    ) -> None:
        self.queue, self.spool = queue, spool
        self.client, self.prefix = queue.client, queue.prefix
        self.page_url, self.digest_every = page_url, digest_every

    def _pings(self, tutor_id: str, now: datetime) -> list[datetime]:
        key = f"{self.prefix}pings:{tutor_id}"
        self.client.zremrangebyscore(key, "-inf", (now - timedelta(hours=1)).timestamp())
        return [
            datetime.fromtimestamp(float(s), UTC)
            for _, s in self.client.zrange(key, 0, -1, withscores=True)
        ]

    def nudge_assigned(self, nudge: Nudge, tutor: Tutor, roster: Roster, now: datetime) -> None:
        mode, _why = notify_mode(
            tutor, nudge.severity, now, self._pings(tutor.tutor_id, now), roster.fatigue
        )
        if mode == "now" and tutor.webhook_url:
            self.spool.add(
                "webhook",
                tutor.webhook_url,
                webhook_payload([nudge], self.page_url, "New nudge"),
                now,
            )
            self.client.zadd(
                f"{self.prefix}pings:{tutor.tutor_id}", {nudge.nudge_id: now.timestamp()}
            )
        elif tutor.email_digest or tutor.webhook_url:
            self.client.rpush(f"{self.prefix}digest:{tutor.tutor_id}", nudge.nudge_id)

    def tick(self, rosters: list[Roster], now: datetime) -> None:
        for roster in rosters:
            for tutor in roster.tutors:
                if (
                    not tutor.away
                    and tutor.on_shift(now)
                    and not in_quiet_hours(tutor, now, roster.fatigue)
                ):
                    self.send_digest(tutor, now)

    def send_digest(self, tutor: Tutor, now: datetime) -> bool:
        """One digest of the tutor's held nudges that are still open; at most every
        ``digest_every``. The held list is taken atomically, after the spool write."""
        last = self.client.get(f"{self.prefix}digest_at:{tutor.tutor_id}")
        if last and now.timestamp() - float(last) < self.digest_every.total_seconds():
            return False
        key = f"{self.prefix}digest:{tutor.tutor_id}"
        ids = self.client.lrange(key, 0, -1)
        if not ids:
            return False
        nudges = [n for n in (self.queue.get(i) for i in dict.fromkeys(ids)) if n and n.is_open]
        if nudges and tutor.email_digest and tutor.email:
            self.spool.add("email", tutor.email, digest_email(tutor, nudges, self.page_url), now)
        if nudges and tutor.webhook_url:
            heading = f"Digest: {len(nudges)} nudge(s) waiting"
            self.spool.add(
                "webhook", tutor.webhook_url, webhook_payload(nudges, self.page_url, heading), now
            )
        pipe = self.client.pipeline(transaction=True)
        pipe.ltrim(key, len(ids), -1)  # keeps what arrived since LRANGE
        pipe.set(f"{self.prefix}digest_at:{tutor.tutor_id}", now.timestamp())
        pipe.execute()
        return bool(nudges)
