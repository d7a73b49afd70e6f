"""The LMS request path of a forum post, for the test LMS: what edx-platform runs when a
learner starts a thread, down to the tracking event.

``RequestContext`` enters the request context as edx-platform's ``TrackMiddleware`` does
(``edx.request``: user id, username, session, ip, agent, host, path). ``create_thread``
emits ``edx.forum.thread.created`` as the discussion app's ``track_thread_created_event``
-> ``track_created_event`` -> ``track_forum_event`` do: the event data (body cut at 2,000
characters, title at 1,000, ``truncated`` flags, the author's forum and course roles, the
referer as ``url``) inside the course context (``course_id``, ``org_id``,
``enterprise_uuid``). The forum's own storage (MongoDB or MySQL) is not part of this.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from eventtracking import tracker

MAX_BODY, MAX_TITLE = 2000, 1000


class RequestContext:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        context = {
            "session": "", "user_id": int(meta.get("HTTP_X_TEST_USER_ID", "0")) or "",
            "username": meta.get("HTTP_X_TEST_USERNAME", ""), "ip": meta.get("REMOTE_ADDR", ""),
            "host": meta.get("SERVER_NAME", ""), "agent": meta.get("HTTP_USER_AGENT", ""),
            "path": meta.get("PATH_INFO", ""), "referer": meta.get("HTTP_REFERER", ""),
            "accept_language": "", "client_id": None,
            "course_id": "", "org_id": "", "enterprise_uuid": "",
        }
        tracker.get_tracker().enter_context("edx.request", context)
        try:
            return self.get_response(request)
        finally:
            tracker.get_tracker().exit_context("edx.request")


def create_thread(request: HttpRequest, course_id: str) -> HttpResponse:
    """POST {"id", "title", "body", "thread_type", "forum_roles", "course_roles"}."""
    post: dict[str, Any] = json.loads(request.body)
    name = "edx.forum.thread.created"
    data: dict[str, Any] = {
        "commentable_id": "course", "group_id": None, "thread_type": post["thread_type"],
        "anonymous": False, "anonymous_to_peers": False,
        "options": {"followed": True, "notify_all_learners": False}, "from_mfe_sidebar": False,
        "title_truncated": len(post["title"]) > MAX_TITLE, "title": post["title"][:MAX_TITLE],
        "truncated": len(post["body"]) > MAX_BODY, "body": post["body"][:MAX_BODY],
        "id": post["id"], "url": request.META.get("HTTP_REFERER", ""),
        "user_forums_roles": post["forum_roles"], "user_course_roles": post["course_roles"],
    }
    course = {"course_id": course_id, "org_id": course_id.split(":", 1)[-1].split("+")[0],
              "enterprise_uuid": ""}
    with tracker.get_tracker().context(name, course):
        tracker.emit(name, data)
    return JsonResponse({"id": post["id"]})
