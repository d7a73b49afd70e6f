"""Reflection XBlock: a reflective-journal prompt with an optional due date.

A learner writes a private reflection and may share it with peers (a community
reflection); peers, tutors and staff comment on shared reflections. Each action is
validated, stored with its event (``ReflectionSubmitted`` for submit and share,
``ReflectionCommented``), then written to the tracking log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from web_fragments.fragment import Fragment
from xblock.core import XBlock
from xblock.fields import DateTime, Dict, List, Scope, String
from xblock.utils.studio_editable import StudioEditableXBlockMixin

from facilitation_rules.contract.events import (
    ReflectionCommented,
    ReflectionSubmitted,
    excerpt,
    word_count,
)
from facilitation_xblocks.blocks import reflection_store as store
from facilitation_xblocks.blocks.common import FacilitationBlockMixin, mark
from facilitation_xblocks.blocks.identity import Person, course_id, usage_id
from facilitation_xblocks.blocks.posts import Post, PostStore, StoreFull, store_for
from facilitation_xblocks.blocks.publishing import new_id, publish
from facilitation_xblocks.blocks.rendering import dom_prefix, fragment, resource
from facilitation_xblocks.blocks.validation import (
    MAX_BODY_CHARS,
    InputError,
    clean_text,
    flag,
    known_id,
)


@XBlock.needs("user")
@XBlock.needs("i18n")
@XBlock.wants("settings")
class ReflectionXBlock(FacilitationBlockMixin, StudioEditableXBlockMixin, XBlock):
    display_name = String(
        display_name=mark("Display name"), default="Reflection", scope=Scope.settings
    )
    prompt = String(
        display_name=mark("Prompt"),
        help=mark("The reflective question learners answer in their journal."),
        default="Looking back at this week: what did you learn, and what will you try next?",
        multiline_editor=True,
        scope=Scope.settings,
    )
    # Not named ``due``: runtimes treat ``due`` as the inherited subsection date (and the
    # workbench overwrites it on every request); this one is the reflection's own.
    due_date = DateTime(
        display_name=mark("Due date"),
        help=mark("Optional. After it, learners can read and comment but not submit."),
        default=None,
        scope=Scope.settings,
    )
    tutors = List(
        display_name=mark("Tutors"),
        help=mark("User ids or usernames of this course's tutors; their comments show 'Tutor'."),
        default=[],
        scope=Scope.settings,
    )
    reflection = Dict(default={}, scope=Scope.user_state)
    #: Shared reflections before the row store (still read, moved into rows on the next
    #: write), and where no row store is installed.
    shared = Dict(default={}, scope=Scope.user_state_summary)

    editable_fields = ("display_name", "prompt", "due_date", "tutors")

    def student_view(self, context: Any = None) -> Fragment:
        _ = self.gettext()
        prefix = dom_prefix(usage_id(self))
        due = self._due()
        due_text = _("Due: {date}").format(date=self.stamp(due)) if due else ""
        labels = {
            "prefix": prefix, "display_name": self.display_name, "prompt": self.prompt,
            "due": due_text, "text_label": _("Your reflection"),
            "privacy_hint": _("Private: only you and the course team can read it, unless you "
                              "share it with your peers. Up to {limit} characters.").format(
                                  limit=MAX_BODY_CHARS),
            "share_label": _("Share it with my peers"), "submit_button": _("Save reflection"),
            "share_button": _("Share my reflection with peers"),
            "community_heading": _("Community reflections"),
        }
        strings = {
            "saved": _("Your reflection was saved privately."),
            "shared": _("Your reflection is saved and shared with your peers."),
            "state_private": _("Saved privately."),
            "state_shared": _("Shared with your peers."),
            "comment": _("Comment"), "send": _("Send"), "cancel": _("Cancel"),
            "comment_label": _("Your comment"), "commented": _("Your comment was published."),
            "failed": _("Something went wrong; nothing was saved. Please try again."),
            "empty": _("Nobody has shared a reflection yet."), "by": _("by"),
            "yours": _("(yours)"),
        }
        return fragment(
            "reflection.html", labels, css="facilitation.css", js="reflection.js",
            init="FacilitationReflection",
            state={"prefix": prefix, "strings": strings, **self._view()},
        )

    def _store(self) -> PostStore:
        return store_for(self, store.LEGACY)

    def _view(self) -> dict[str, Any]:
        viewer = str(self.scope_ids.user_id)
        mine = self.reflection or {}
        posts = self._store().posts()
        return {
            "mine": {"text": mine.get("text", ""), "submitted_at": mine.get("submitted_at"),
                     "shared": mine.get("id") in store.shared(posts)},
            "community": store.public_view(posts, viewer, self.role_labels(),
                                           self.retired_labels()),
            "closed": self._closed(),
        }

    def _due(self) -> datetime | None:
        due: datetime | None = self.due_date
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=UTC)  # dates the LMS stores without a zone are UTC
        return due

    def _closed(self) -> bool:
        due = self._due()
        return due is not None and self.now() > due

    @XBlock.json_handler
    def refresh(self, data: Any, suffix: str = "") -> dict[str, Any]:
        return {"ok": True, **self._view()}

    @XBlock.json_handler
    def submit(self, data: Any, suffix: str = "") -> dict[str, Any]:
        """Save the reflection; ``share`` also shares it (a shared one stays shared)."""
        _ = self.gettext()
        data = data if isinstance(data, dict) else {}
        try:
            person = self._person_before_due()
            text = clean_text(data.get("text"), label=_("Your reflection"),
                              max_chars=MAX_BODY_CHARS, _=_)
            share = flag(data.get("share"), label=_("Share"), _=_)
        except InputError as err:
            return self.refused(err)
        reflection_id = self.reflection.get("id") or new_id()
        now = self.now()
        mine = store.mine(reflection_id, text, self.stamp(now), new_id())
        return self._submitted(person, mine, now, share=share)

    @XBlock.json_handler
    def share(self, data: Any, suffix: str = "") -> dict[str, Any]:
        """Share the reflection already saved."""
        _ = self.gettext()
        try:
            person = self._person_before_due()
            if not self.reflection.get("text"):
                raise InputError(_("Save your reflection first, then share it."))
        except InputError as err:
            return self.refused(err)
        mine = {**self.reflection, "event_id": new_id()}
        return self._submitted(person, mine, self.now(), share=True)

    def _submitted(self, person: Person, mine: dict[str, str], now: Any,
                   *, share: bool) -> dict[str, Any]:
        _ = self.gettext()
        posts = self._store().posts()
        already = store.shared(posts).get(mine["id"])
        share = share or already is not None
        post = None
        if share:
            post = Post(post_id=mine["id"], kind="reflection", thread_id=mine["id"],
                        parent_id="", author=self._author(person), body=mine["text"],
                        created=already.created if already else self.stamp(now),
                        updated=self.stamp(now), event_id=mine["event_id"])
        event = ReflectionSubmitted(
            event_id=mine["event_id"], occurred_at=now, course_id=course_id(self),
            actor=person.actor, reflection_id=mine["id"], prompt_id=usage_id(self),
            word_count=word_count(mine["text"]), shared=share,
            body_excerpt=excerpt(mine["text"]) if share else "",
        )
        self.reflection = mine
        self.save()  # the learner's own text first: the event below announces it
        try:
            self._store().add(post, event)
        except StoreFull:
            return self.refused(InputError(_("No more reflections can be shared here.")))
        publish(self, event)
        return {"ok": True, "reflection_id": mine["id"], **self._view()}

    @XBlock.json_handler
    def comment(self, data: Any, suffix: str = "") -> dict[str, Any]:
        _ = self.gettext()
        data = data if isinstance(data, dict) else {}
        shared = store.shared(self._store().posts())
        try:
            person = self.acting_person()
            reflection_id = known_id(data.get("reflection_id"), shared,
                                     label=_("The shared reflection"), _=_)
            body = clean_text(data.get("body"), label=_("Your comment"),
                              max_chars=MAX_BODY_CHARS, _=_)
        except InputError as err:
            return self.refused(err)
        now, comment_id, event_id = self.now(), new_id(), new_id()
        comment = Post(post_id=comment_id, kind="reflection_comment", thread_id=reflection_id,
                       parent_id=reflection_id, author=self._author(person), body=body,
                       created=self.stamp(now), event_id=event_id)
        event = ReflectionCommented(
            event_id=event_id, occurred_at=now, course_id=course_id(self), actor=person.actor,
            reflection_id=reflection_id, prompt_id=usage_id(self), comment_id=comment_id,
            reflection_author_id=shared[reflection_id].author.get("id", ""),
            word_count=word_count(body), body_excerpt=excerpt(body),
        )
        try:
            self._store().add(comment, event)
        except StoreFull:
            return self.refused(InputError(_("This reflection cannot take more comments.")))
        publish(self, event)
        return {"ok": True, "post_id": comment_id, **self._view()}

    def _person_before_due(self) -> Person:
        _ = self.gettext()
        person = self.acting_person()
        if self._closed():
            raise InputError(_("This reflection closed on its due date; you can still read "
                               "and comment on shared reflections."))
        return person

    @staticmethod
    def _author(person: Person) -> dict[str, str]:
        return {"id": person.actor.user_id, "name": person.display_name,
                "role": person.actor.role.value}

    @staticmethod
    def workbench_scenarios() -> list[tuple[str, str]]:
        return [("Facilitation: reflection", resource("scenarios/reflection.xml"))]
