"""A small XBlock runtime for unit tests: shared field storage, users, recorded events, and
the block tests' fixtures: every block test runs on both post stores (the block's field,
the plugin's rows in the test LMS database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from webob import Request
from xblock.fields import ScopeIds
from xblock.reference.user_service import UserService, XBlockUser
from xblock.runtime import DictKeyValueStore, KvsFieldData, NullI18nService
from xblock.test.tools import TestRuntime

from facilitation_rules.contract.events import Event
from facilitation_xblocks.blocks import posts, publishing
from tests.support import lms_django

COURSE_ID = "course-v1:Org+Course+Run"


class UsageKey(str):
    """Stands in for an opaque-keys UsageKey: a string with a ``context_key``."""

    context_key = COURSE_ID


COURSE_USAGE = UsageKey("block-v1:Org+Course+Run+type@facilitation+block@b1")


class RecordingEmitter:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def flush(self, timeout_s: float) -> bool:
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        return None


class _Users(UserService):
    def __init__(self, opt_attrs: dict[str, Any]) -> None:
        user = XBlockUser(is_current_user=True, full_name="Test User")
        user.opt_attrs.update(opt_attrs)
        super().__init__(user=user)

    def get_current_user(self) -> XBlockUser:
        return self._user


class HarnessRuntime(TestRuntime):
    def __init__(self, kvs: DictKeyValueStore, opt_attrs: dict[str, Any]) -> None:
        super().__init__(
            services={
                "field-data": KvsFieldData(kvs),
                "user": _Users(opt_attrs),
                "i18n": NullI18nService(),
                "settings": None,
            }
        )
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, block: Any, event_type: str, event_data: dict[str, Any]) -> None:
        self.published.append((event_type, event_data))


def make_block(
    cls: type,
    kvs: DictKeyValueStore,
    user_id: str,
    *,
    staff: bool = False,
    fields: dict[str, Any] | None = None,
) -> Any:
    attrs = {
        "edx-platform.user_id": user_id,
        "edx-platform.username": f"user{user_id}",
        "edx-platform.user_is_staff": staff,
    }
    runtime = HarnessRuntime(kvs, attrs)
    block_type = cls.__name__.lower()
    ids = ScopeIds(user_id, block_type, "def-1", COURSE_USAGE)
    block = runtime.construct_xblock_from_class(cls, ids)
    for name, value in (fields or {}).items():
        setattr(block, name, value)
    block.save()
    return block


def call(block: Any, handler: str, payload: Any, *, raw: bytes | None = None) -> dict[str, Any]:
    body = raw if raw is not None else json.dumps(payload).encode()
    request = Request.blank("/", method="POST", body=body)
    request.content_type = "application/json"
    response = block.handle(handler, request)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


@pytest.fixture(params=["field", "rows"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "field":
        monkeypatch.setattr(posts, "_factory", posts.FieldPostStore)
        yield "field"
        return
    lms_django.setup()
    from facilitation_xblocks.plugin.post_store import DatabasePostStore

    lms_django.clear("default")
    monkeypatch.setattr(posts, "_factory", DatabasePostStore)
    yield "rows"
    lms_django.clear("default")


@pytest.fixture
def kvs(store: str) -> DictKeyValueStore:
    return DictKeyValueStore()


@pytest.fixture
def emitter(monkeypatch: pytest.MonkeyPatch) -> RecordingEmitter:
    recorder = RecordingEmitter()
    monkeypatch.setattr(publishing, "emitter_for", lambda block: recorder)
    return recorder


def stored(block: Any) -> list[posts.Post]:
    """What the block's store holds, whichever it is."""
    return block._store().posts()
