"""The tutor view in the LMS: a staff-only XBlock showing the signed-in tutor's queue.

The browser never holds an engine credential. The block's ``api`` JSON handler runs in the
LMS and calls the engine's tutor API server-side with the shared service token and the
header ``X-Facilitation-LMS-User`` (the signed-in user's username, else id, from the LMS
user service); the API maps that to a tutor only through the roster's explicit
``lms_user_id``, and applies the same rules as for the tutor page: own queue only, leads
see the team. The handler passes on only the calls the triage view makes (``_ALLOWED``).
The view itself (``tutor_view_triage.js``, ``tutor_view_cards.js``) is the tutor page's.

Settings (``XBLOCK_SETTINGS["FACILITATION"]``, else ``FACILITATION_*`` environment)::

    "TUTOR_API_URL": "http://facilitation-tutor-api:8077",
    "TUTOR_SERVICE_TOKEN": "<the API's FACILITATION_TUTOR_SERVICE_TOKEN>",
    "TUTOR_PAGE_URL": "https://tutors.example.org/"   # optional "open the full page" link
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any

from web_fragments.fragment import Fragment
from xblock.core import XBlock
from xblock.fields import Scope, String

from facilitation_rules.contract.events import Role
from facilitation_xblocks.blocks.common import mark
from facilitation_xblocks.blocks.identity import current_person
from facilitation_xblocks.blocks.identity import usage_id as block_usage_id
from facilitation_xblocks.blocks.rendering import dom_prefix, fragment, resource

_NUDGE = r"/api/v1/nudges/[A-Za-z0-9_-]{1,128}"
#: The calls the triage view makes, and nothing else: (method, path pattern).
_ALLOWED = (
    ("GET", re.compile(r"/api/v1/(me|team)")),
    ("GET", re.compile(r"/api/v1/queue(\?[A-Za-z0-9_.~%+=&,:-]{0,1000})?")),
    ("GET", re.compile(_NUDGE + "/candidates")),
    ("POST", re.compile(_NUDGE + "/(claim|resolve|not-useful|snooze|reassign|undo)")),
    ("POST", re.compile(r"/api/v1/team/reassign")),
)
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
            "failed": _("Could not load."), "refreshed": _("Queue refreshed."),
            "open_page": _("Open the full tutor page"),
        }
        frag = fragment(
            "tutor_view.html", labels, css="tutor_view.css", js="tutor_view.js",
            init="FacilitationTutorView",
            state={"prefix": prefix, "strings": strings,
                   "page_url": _setting(self._bucket(), "TUTOR_PAGE_URL")},
        )
        frag.add_css(resource("static/css/tutor_view_triage.css"))
        frag.add_javascript(resource("static/js/tutor_view_cards.js"))
        frag.add_javascript(resource("static/js/tutor_view_triage.js"))
        return frag

    @XBlock.json_handler
    def api(self, data: Any, suffix: str = "") -> dict[str, Any]:
        """One call of the triage view: ``{"method", "path", "body"}``, if it is allowed."""
        if not isinstance(data, dict):
            return {"ok": False, "status": 400, "error": "expected {method, path, body}"}
        method, path, body = data.get("method"), data.get("path"), data.get("body")
        allowed = any(
            method == m and isinstance(path, str) and pattern.fullmatch(path)
            for m, pattern in _ALLOWED
        )
        if not allowed or not (body is None or isinstance(body, dict)):
            return {"ok": False, "status": 400, "error": "not a call the tutor view makes"}
        return self._proxy(str(method), str(path), body if method == "POST" else None)

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
                answer = json.loads(err.read() or b"{}")
            except ValueError:
                answer = {}
            answer = answer if isinstance(answer, dict) else {}
            answer["error"] = str(answer.get("error") or f"HTTP {err.code}")
            return {**answer, "ok": False, "status": err.code}
        except (OSError, ValueError) as err:
            return {"ok": False, "status": 502, "error": f"tutor API unreachable: {err}"}
