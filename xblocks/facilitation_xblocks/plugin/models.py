"""The plugin's tables in the LMS database (``./manage.py lms migrate`` creates them).

- ``OutboxEvent``: contract events waiting for Kafka, one row each, in insertion order;
  ``OutboxShard``: one row per shard (``outbox.rows.SHARDS``), locked or leased by the one
  sender draining it, with its delivery record.
- ``Post``: one row per XBlock post (a thread, response or comment of a Discussion block, a
  shared reflection or a comment on it), written in the transaction of its outbox row.
- ``ForumThread``: which thread each forum post belongs to (votes and deletions of responses
  and comments are logged without their thread; the tracking-log bridge's ``ThreadIndex``).
- ``RetiredLearner``: learners retired by the LMS; their posts are scrubbed.
"""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    shard = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=249)  # Kafka's longest topic name
    key = models.TextField()
    value = models.TextField()  # the event as contract JSON
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=128)
    enqueued_at = models.FloatField()  # epoch seconds

    class Meta:
        db_table = "facilitation_outbox_event"
        indexes = [models.Index(fields=["shard", "id"], name="facilitation_outbox_order")]


class OutboxShard(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True)
    #: the lease (databases without SELECT ... SKIP LOCKED): who drains it, until when
    owner = models.CharField(max_length=64, default="", blank=True)
    lease_until = models.FloatField(default=0.0)
    delivered_at = models.FloatField(default=0.0)
    delivered_total = models.BigIntegerField(default=0)

    class Meta:
        db_table = "facilitation_outbox_shard"


class Post(models.Model):
    KINDS = ("thread", "response", "comment", "reflection", "reflection_comment")

    id = models.BigAutoField(primary_key=True)
    post_id = models.CharField(max_length=64, unique=True)
    usage_id = models.CharField(max_length=255)
    course_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=24, choices=[(k, k) for k in KINDS])
    #: the thread of a discussion post (its own id for a thread); the shared reflection
    #: a reflection comment is on (its own id for a shared reflection)
    thread_id = models.CharField(max_length=64)
    parent_id = models.CharField(max_length=64, blank=True, default="")
    author_id = models.CharField(max_length=255)
    author_name = models.CharField(max_length=255)
    author_role = models.CharField(max_length=16, default="learner")
    title = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField()
    question = models.BooleanField(default=False)
    created = models.CharField(max_length=40)  # ISO 8601, as the block shows it
    updated = models.CharField(max_length=40, blank=True, default="")
    event_id = models.CharField(max_length=64)
    retired = models.BooleanField(default=False)

    class Meta:
        db_table = "facilitation_post"
        indexes = [
            models.Index(fields=["usage_id", "id"], name="facilitation_post_block"),
            models.Index(fields=["author_id"], name="facilitation_post_author"),
        ]


class ForumThread(models.Model):
    post_id = models.CharField(max_length=64, primary_key=True)
    thread_id = models.CharField(max_length=64)

    class Meta:
        db_table = "facilitation_forum_thread"


class RetiredLearner(models.Model):
    user_id = models.CharField(max_length=255, primary_key=True)
    retired_at = models.FloatField()

    class Meta:
        db_table = "facilitation_retired_learner"
