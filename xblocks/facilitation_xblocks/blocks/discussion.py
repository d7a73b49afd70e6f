"""Discussion XBlock: a course team's prompt, learners' threads, responses and comments.

The block validates, stores the post and its ``PostCreated`` contract event together (one
row each in the LMS database, see ``posts``), then writes the event to the tracking log.
Staff and tutor posts carry their role, shown as a badge. Storage choice:
docs/decisions/0001-xblock-storage.md.
"""

from __future__ import annotations

from typing import Any

from web_fragments.fragment import Fragment
from xblock.core import XBlock
from xblock.fields import List, Scope, String
from xblock.utils.studio_editable import StudioEditableXBlockMixin

from facilitation_rules.contract.events import PostCreated, PostKind, excerpt, word_count
from facilitation_xblocks.blocks import discussion_store as store
from facilitation_xblocks.blocks.common import FacilitationBlockMixin, mark
from facilitation_xblocks.blocks.identity import course_id, usage_id
from facilitation_xblocks.blocks.posts import Post, PostStore, StoreFull, store_for
from facilitation_xblocks.blocks.publishing import new_id, publish
from facilitation_xblocks.blocks.rendering import dom_prefix, fragment, resource
from facilitation_xblocks.blocks.validation import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    InputError,
    clean_text,
    flag,
    known_id,
)


@XBlock.needs("user")
@XBlock.needs("i18n")
@XBlock.wants("settings")
class DiscussionXBlock(FacilitationBlockMixin, StudioEditableXBlockMixin, XBlock):
    display_name = String(
        display_name=mark("Display name"), default="Discussion", scope=Scope.settings
    )
    prompt = String(
        display_name=mark("Prompt"),
        help=mark("What the course team asks learners to discuss."),
        default="What surprised you most this week? Start a thread, then reply to a peer.",
        multiline_editor=True,
        scope=Scope.settings,
    )
    tutors = List(
        display_name=mark("Tutors"),
        help=mark("User ids or usernames of this course's tutors; their posts show 'Tutor'."),
        default=[],
        scope=Scope.settings,
    )
    #: Posts before the row store (still read, moved into rows on the next write), and
    #: where no row store is installed.
    threads = List(default=[], scope=Scope.user_state_summary)

    editable_fields = ("display_name", "prompt", "tutors")

    def student_view(self, context: Any = None) -> Fragment:
        _ = self.gettext()
        prefix = dom_prefix(usage_id(self))
        labels = {
            "prefix": prefix, "display_name": self.display_name, "prompt": self.prompt,
            "new_thread": _("Start a new thread"), "title_label": _("Title"),
            "body_label": _("Your post"),
            "limit_hint": _("Up to {limit} characters. Text is shown exactly as typed.").format(
                limit=MAX_BODY_CHARS),
            "question_label": _("This is a question (I am looking for an answer)"),
            "post_button": _("Post"), "threads_heading": _("Threads"),
        }
        strings = {
            "reply": _("Reply"), "comment": _("Comment"), "send": _("Send"),
            "cancel": _("Cancel"), "reply_label": _("Your reply"),
            "comment_label": _("Your comment"), "question": _("Question"),
            "posted": _("Your post was published."), "replied": _("Your reply was published."),
            "failed": _("Something went wrong; nothing was saved. Please try again."),
            "empty": _("No threads yet. Be the first to post."),
            "responses": _("Replies"), "by": _("by"),
        }
        return fragment(
            "discussion.html", labels, css="facilitation.css", js="discussion.js",
            init="FacilitationDiscussion",
            state={"prefix": prefix, "strings": strings, "threads": self._view()},
        )

    def _store(self) -> PostStore:
        return store_for(self, store.LEGACY)

    def _view(self, posts: list[Post] | None = None) -> list[dict[str, Any]]:
        posts = self._store().posts() if posts is None else posts
        return store.public_view(posts, self.role_labels(), self.retired_labels())

    @XBlock.json_handler
    def refresh(self, data: Any, suffix: str = "") -> dict[str, Any]:
        return {"ok": True, "threads": self._view()}

    @XBlock.json_handler
    def post_thread(self, data: Any, suffix: str = "") -> dict[str, Any]:
        _ = self.gettext()
        data = data if isinstance(data, dict) else {}
        try:
            person = self.acting_person()
            title = clean_text(data.get("title"), label=_("Title"), max_chars=MAX_TITLE_CHARS,
                               _=_)
            body = clean_text(data.get("body"), label=_("Your post"),
                              max_chars=MAX_BODY_CHARS, _=_)
            question = flag(data.get("question"), label=_("Question"), _=_)
        except InputError as err:
            return self.refused(err)
        now, post_id = self.now(), new_id()
        post = self._new_post(person, post_id, "thread", post_id, "", body, now, title=title,
                              question=question)
        event = PostCreated(
            event_id=post.event_id, occurred_at=now, course_id=course_id(self),
            actor=person.actor, post_id=post_id, thread_id=post_id, post_kind="thread",
            thread_type="question" if question else "discussion", title=excerpt(title),
            body_excerpt=excerpt(body), word_count=word_count(body),
        )
        return self._keep(post, event)

    @XBlock.json_handler
    def post_reply(self, data: Any, suffix: str = "") -> dict[str, Any]:
        """A response to a thread, or (with ``response_id``) a comment on a response."""
        _ = self.gettext()
        data = data if isinstance(data, dict) else {}
        posts = self._store().posts()
        try:
            person = self.acting_person()
            threads = {t.post_id: t for t in store.threads(posts)}
            thread_id = known_id(data.get("thread_id"), threads, label=_("The thread"), _=_)
            response_id = data.get("response_id")
            if response_id is not None:
                known = {r.post_id for r in store.responses(posts, thread_id)}
                response_id = known_id(response_id, known, label=_("The reply"), _=_)
            body = clean_text(data.get("body"), label=_("Your reply"),
                              max_chars=MAX_BODY_CHARS, _=_)
        except InputError as err:
            return self.refused(err)
        now, post_id = self.now(), new_id()
        kind: PostKind = "comment" if response_id else "response"
        post = self._new_post(person, post_id, kind, thread_id, response_id or thread_id, body,
                              now)
        event = PostCreated(
            event_id=post.event_id, occurred_at=now, course_id=course_id(self),
            actor=person.actor, post_id=post_id, thread_id=thread_id,
            parent_post_id=response_id or thread_id, post_kind=kind,
            thread_type="question" if threads[thread_id].question else "discussion",
            body_excerpt=excerpt(body), word_count=word_count(body),
        )
        return self._keep(post, event)

    def _new_post(self, person: Any, post_id: str, kind: Any, thread_id: str, parent_id: str,
                  body: str, now: Any, **extra: Any) -> Post:
        author = {"id": person.actor.user_id, "name": person.display_name,
                  "role": person.actor.role.value}
        # The event id is fixed here, stored with the post, and reused on every redelivery.
        return Post(post_id=post_id, kind=kind, thread_id=thread_id, parent_id=parent_id,
                    author=author, body=body, created=self.stamp(now), event_id=new_id(),
                    **extra)

    def _keep(self, post: Post, event: PostCreated) -> dict[str, Any]:
        """Store the post with its event, then tell the tracking log; or refuse."""
        _ = self.gettext()
        try:
            self._store().add(post, event)
        except StoreFull:
            message = _("This discussion is full ({limit} posts); ask the course team to "
                        "open a new one.").format(limit=store.MAX_POSTS_PER_FIELD)
            return self.refused(InputError(message))
        publish(self, event)
        return {"ok": True, "post_id": post.post_id, "threads": self._view()}

    @staticmethod
    def workbench_scenarios() -> list[tuple[str, str]]:
        return [("Facilitation: discussion", resource("scenarios/discussion.xml"))]
