"""The Tutor plugin: settings, patches, templates, images, init tasks and commands.

Everything an operator changes is a ``FACILITATION_*`` Tutor setting (``tutor config save
--set ...``); the rendered environment is derived from them and nothing is edited by hand.
Patches are the files in ``patches/`` (named after Tutor's patch points); templates under
``templates/facilitation/`` render to ``$(tutor config printroot)/env/plugins/facilitation/``.
"""

from __future__ import annotations

import base64
import uuid
from importlib import resources
from typing import Literal

from tutor import hooks

from .__about__ import __version__
from .commands import facilitation
from .jobs import DO_COMMANDS

PACKAGE = resources.files("tutorfacilitation")

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [
        ("FACILITATION_VERSION", __version__),
        # What pip installs: the LMS side into the openedx image, the engine into its own
        # image. The package may not be on your index yet: point these at a wheel URL or a
        # git URL, e.g. "openedx-facilitation[lms] @ git+https://host/org/repo@v0.1.0".
        (
            "FACILITATION_LMS_PIP_REQUIREMENT",
            "openedx-facilitation[lms]=={{ FACILITATION_VERSION }}",
        ),
        (
            "FACILITATION_ENGINE_PIP_REQUIREMENT",
            "openedx-facilitation[engine,rocksdb]=={{ FACILITATION_VERSION }}",
        ),
        ("FACILITATION_DOCKER_IMAGE", "openedx-facilitation:{{ FACILITATION_VERSION }}"),
        ("FACILITATION_KAFKA_DOCKER_IMAGE", "docker.io/apache/kafka:4.4.0"),
        # Kafka. Empty bootstrap: a single-node KRaft broker "facilitation-kafka" runs beside
        # the platform. Set it to use an existing cluster (then nothing is started).
        ("FACILITATION_KAFKA_BOOTSTRAP", ""),
        # Derived, what every client connects to: set FACILITATION_KAFKA_BOOTSTRAP instead.
        (
            "FACILITATION_KAFKA_BROKERS",
            "{{ FACILITATION_KAFKA_BOOTSTRAP or 'facilitation-kafka:9092' }}",
        ),
        ("FACILITATION_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
        ("FACILITATION_KAFKA_SASL_MECHANISM", ""),
        ("FACILITATION_KAFKA_SASL_USERNAME", ""),
        ("FACILITATION_KAFKA_SASL_PASSWORD", ""),
        ("FACILITATION_KAFKA_HEAP", "512m"),
        ("FACILITATION_KAFKA_VOLUME_SIZE", "10Gi"),
        ("FACILITATION_EVENTS_TOPIC", "facilitation.events.v1"),
        ("FACILITATION_ALERTS_TOPIC", "facilitation.alerts.v1"),
        ("FACILITATION_DEAD_LETTER_TOPIC", "facilitation.events.dlq.v1"),
        # The upper bound of worker replicas; never change it once events flow.
        ("FACILITATION_TOPIC_PARTITIONS", 6),
        ("FACILITATION_TOPIC_REPLICATION", "{{ 3 if FACILITATION_KAFKA_BOOTSTRAP else 1 }}"),
        # Consumer group and changelog prefix: changing it starts from empty state.
        ("FACILITATION_APP_ID", "openedx-facilitation"),
        # Redis for the tutor queues: Tutor's own in a database of its own (Tutor uses 0
        # and 1), unless a URL is given.
        ("FACILITATION_REDIS_DB", 9),
        (
            "FACILITATION_REDIS_URL",
            "redis://{% if REDIS_USERNAME and REDIS_PASSWORD %}{{ REDIS_USERNAME }}:"
            "{{ REDIS_PASSWORD }}@{% endif %}{{ REDIS_HOST }}:{{ REDIS_PORT }}/"
            "{{ FACILITATION_REDIS_DB }}",
        ),
        # The LMS side (Django settings of the same names, see docs/xblocks.md).
        ("FACILITATION_OUTBOX", "database"),
        # Used with FACILITATION_OUTBOX "sqlite": a file on the LMS's data volume.
        ("FACILITATION_OUTBOX_PATH", "/openedx/data/facilitation/outbox.sqlite3"),
        ("FACILITATION_LIVE_TRACKING", True),
        # false: the LMS side only, for an engine deployed otherwise (the Helm chart): no
        # worker, tutor API or page here; point FACILITATION_KAFKA_BOOTSTRAP and
        # FACILITATION_TUTOR_API_URL at that engine.
        ("FACILITATION_RUN_ENGINE", True),
        # The tutor page and API, behind Caddy on a host of its own.
        ("FACILITATION_HOST", "tutors.{{ LMS_HOST }}"),
        # Where the LMS calls the tutor API (server to server).
        ("FACILITATION_TUTOR_API_URL", "http://facilitation-api:8077"),
        (
            "FACILITATION_TUTOR_PAGE_URL",
            "{% if ENABLE_HTTPS %}https{% else %}http{% endif %}://{{ FACILITATION_HOST }}/",
        ),
        ("FACILITATION_API_REPLICAS", 1),
        ("FACILITATION_TICK_SECONDS", 60),
        # Stream workers.
        ("FACILITATION_WORKER_REPLICAS", 1),
        ("FACILITATION_TABLE_STORE", "memory://"),
        ("FACILITATION_DEFAULT_TUTOR", "tutor-1"),
        # The course team's files, held in the config (`tutor facilitation roster|rules
        # load FILE`): empty roster = every alert to the default tutor; empty pack = the
        # pack shipped in the package.
        ("FACILITATION_ROSTER", ""),
        ("FACILITATION_RULE_PACK", ""),
    ]
)


def kafka_cluster_id() -> str:
    """A KRaft cluster id: a UUID in URL-safe base64 without padding (22 characters), never
    starting with "-" (as Kafka's own random ids: the image passes it on a command line)."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()).startswith("-"):
        pass
    return cluster_id.rstrip("=")


# Generated once by the first `tutor config save`, then kept in config.yml; rendered into
# the environment (Secrets in k8s), never into an image.
hooks.Filters.CONFIG_UNIQUE.add_items(
    [
        ("FACILITATION_TUTOR_SERVICE_TOKEN", "{{ 32|random_string }}"),
        ("FACILITATION_KAFKA_CLUSTER_ID", kafka_cluster_id()),
    ]
)

hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(str(PACKAGE / "templates"))
hooks.Filters.ENV_TEMPLATE_TARGETS.add_items(
    [("facilitation/build", "plugins"), ("facilitation/apps", "plugins")]
)

for _patch in sorted((PACKAGE / "patches").iterdir(), key=lambda p: p.name):
    hooks.Filters.ENV_PATCHES.add_item((_patch.name, _patch.read_text(encoding="utf-8")))

hooks.Filters.IMAGES_BUILD.add_item(
    (
        "facilitation",
        ("plugins", "facilitation", "build", "facilitation"),
        "{{ FACILITATION_DOCKER_IMAGE }}",
        (),
    )
)
hooks.Filters.IMAGES_PULL.add_item(("facilitation", "{{ FACILITATION_DOCKER_IMAGE }}"))
hooks.Filters.IMAGES_PUSH.add_item(("facilitation", "{{ FACILITATION_DOCKER_IMAGE }}"))


@hooks.Filters.IMAGES_BUILD_REQUIRED.add()
def _build_on_launch(names: list[str], context_name: Literal["local", "dev"]) -> list[str]:
    # The engine image is not published; the openedx image must hold the LMS side.
    names.append("facilitation")
    if context_name == "local":
        names.append("openedx")
    return names


@hooks.Filters.APP_PUBLIC_HOSTS.add()
def _public_hosts(hosts: list[str], context_name: Literal["local", "dev"]) -> list[str]:
    hosts.append("{{ FACILITATION_HOST }}")
    return hosts


# Init: the topics (engine image), then the plugin's own migrations (after Tutor's lms task).
for _service in ("facilitation", "lms"):
    _task = (PACKAGE / "templates" / "facilitation" / "jobs" / "init" / f"{_service}.sh")
    hooks.Filters.CLI_DO_INIT_TASKS.add_item((_service, _task.read_text(encoding="utf-8")))

for _command in DO_COMMANDS:
    hooks.Filters.CLI_DO_COMMANDS.add_item(_command)
hooks.Filters.CLI_COMMANDS.add_item(facilitation)
