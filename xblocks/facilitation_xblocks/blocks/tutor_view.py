"""The tutor view in the LMS: a staff-only XBlock showing the signed-in tutor's queue.

The browser never holds an engine credential. The block's JSON handlers run in the LMS
and call the engine's tutor API server-side with the shared service token and the header
``X-Facilitation-LMS-User`` (the signed-in user's username, else id, from the LMS user
service); the API maps that to a tutor through the roster's ``lms_user_id``, and applies
the same rules as for the tutor page: own queue only, leads see the team.

Settings (``XBLOCK_SETTINGS["FACILITATION"]``, else ``FACILITATION_*`` environment)::

    "TUTOR_API_URL": "http://facilitation-tutor-api:8077",
    "TUTOR_SERVICE_TOKEN": "<the API's FACILITATION_TUTOR_SERVICE_TOKEN>",
    "TUTOR_PAGE_URL": "https://tutors.example.org/"   # optional "open the full page" link
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from web_fragments.fragment import Fragment
from xblock.core import XBlock
from xblock.fields import Scope, String

from facilitation_rules.contract.events import Role
from facilitation_xblocks.blocks.common import mark
from facilitation_xblocks.blocks.identity import current_person
from facilitation_xblocks.blocks.identity import usage_id as block_usage_id
from facilitation_xblocks.blocks.rendering import dom_prefix, fragment

ACTIONS = ("claim", "resolve", "snooze", "not-useful")
_TIMEOUT_S = 5.0


def _setting(bucket: dict[str, Any], key: str) -> str:
    return str(bucket.get(key) or os.environ.get(f"FACILITATION_{key}") or "").strip()


@XBlock.needs("user")
@XBlock.wants("settings")
@XBlock.wants("i18n")
class TutorViewXBlock(XBlock):
    """Course staff see their facilitation queue; learners see nothing of it."""

    display_name = String(
        display_name=mark("Display name"), default="My facilitation queue",
        scope=Scope.settings, help=mark("Heading shown above the queue."),
    )
    block_settings_key = "FACILITATION"

    def _gettext(self) -> Any:
        service = self.runtime.service(self, "i18n")
        return service.gettext if service is not None else mark

    def _bucket(self) -> dict[str, Any]:
        service = self.runtime.service(self, "settings")
        bucket = service.get_settings_bucket(self) if service is not None else None
        return dict(bucket or {})

    def _lms_user(self) -> str | None:
        """The signed-in user's LMS identity if they are course staff, else None."""
        person = current_person(self, [])
        if person.actor.role is not Role.STAFF:
            return None
        return person.actor.username or person.actor.user_id

    def student_view(self, context: Any = None) -> Fragment:
        _ = self._gettext()
        if self._lms_user() is None:
            return Fragment(f'<p class="fx-hint">{_("This view is for the course team.")}</p>')
        prefix = dom_prefix(block_usage_id(self))
        labels = {"prefix": prefix, "display_name": self.display_name,
                  "refresh": _("Refresh"), "loading": _("Loading your queue…")}
        strings = {
            "claim": _("Claim"), "resolve": _("Resolve"), "snooze": _("Snooze 4 h"),
            "not-useful": _("Not useful"), "empty": _("Nothing waiting."),
            "learner": _("Learner"), "waiting": _("waiting"), "failed": _("Could not load."),
            "done": _("Done."), "open_page": _("Open the full tutor page"),
        }
        return fragment(
            "tutor_view.html", labels, css="tutor_view.css", js="tutor_view.js",
            init="FacilitationTutorView",
            state={"prefix": prefix, "strings": strings,
                   "page_url": _setting(self._bucket(), "TUTOR_PAGE_URL")},
        )

    @XBlock.json_handler
    def queue(self, data: Any, suffix: str = "") -> dict[str, Any]:
        return self._proxy("GET", "/api/v1/queue", None)

    @XBlock.json_handler
    def act(self, data: Any, suffix: str = "") -> dict[str, Any]:
        if not isinstance(data, dict) or data.get("action") not in ACTIONS:
            return {"ok": False, "status": 400, "error": "unknown action"}
        nudge_id = str(data.get("nudge_id") or "")
        if not nudge_id:
            return {"ok": False, "status": 400, "error": "nudge_id is required"}
        body = {"hours": 4} if data["action"] == "snooze" else {}
        path = f"/api/v1/nudges/{urllib.parse.quote(nudge_id, safe='')}/{data['action']}"
        return self._proxy("POST", path, body)

    def _proxy(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        user = self._lms_user()
        if user is None:
            return {"ok": False, "status": 403, "error": "course staff only"}
        bucket = self._bucket()
        base, token = _setting(bucket, "TUTOR_API_URL"), _setting(bucket, "TUTOR_SERVICE_TOKEN")
        if not base or not token:
            return {"ok": False, "status": 503, "error": "the tutor API is not configured"}
        req = urllib.request.Request(
            base.rstrip("/") + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "X-Facilitation-LMS-User": user,
                     "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as res:
                return {"ok": True, "status": res.status, **json.loads(res.read() or b"{}")}
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read() or b"{}").get("error", "")
            except ValueError:
                detail = ""
            return {"ok": False, "status": err.code, "error": detail or f"HTTP {err.code}"}
        except (OSError, ValueError) as err:
            return {"ok": False, "status": 502, "error": f"tutor API unreachable: {err}"}
