"""Set up the test LMS (tests/lms/settings.py) once per test process: Django, its
databases (a fresh MariaDB database when MariaDB runs, SQLite files otherwise), migrated."""

from __future__ import annotations

import atexit
import os
from typing import Any

_ready = False


def setup() -> None:
    global _ready
    if _ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.lms.settings")
    import django
    from django.conf import settings

    _create_mariadb_database(settings.DATABASES["default"])
    django.setup()
    from django.core.management import call_command

    for alias in settings.DATABASES:
        call_command("migrate", database=alias, verbosity=0)
    _ready = True


def mariadb() -> bool:
    from django.db import connections

    return connections["default"].vendor == "mysql"


def clear(using: str) -> None:
    """Empty the plugin's tables of ``using`` between tests (the shards: reset)."""
    from facilitation_xblocks.plugin import models

    for model in (models.OutboxEvent, models.Post, models.ForumThread, models.RetiredLearner):
        model.objects.using(using).all().delete()
    models.OutboxShard.objects.using(using).update(owner="", lease_until=0.0, delivered_at=0.0,
                                                   delivered_total=0)


def _create_mariadb_database(default: dict[str, Any]) -> None:
    if default["ENGINE"] != "django.db.backends.mysql":
        return
    import MySQLdb

    conn = MySQLdb.connect(host=default["HOST"], port=int(default["PORT"]),
                           user=default["USER"], passwd=default["PASSWORD"])
    name = default["NAME"]
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    conn.close()
    if os.environ.get("FACILITATION_TEST_MARIADB_DB"):
        return  # a database shared by several processes: its creator drops it

    def drop() -> None:
        again = MySQLdb.connect(host=default["HOST"], port=int(default["PORT"]),
                                user=default["USER"], passwd=default["PASSWORD"])
        again.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        again.close()

    atexit.register(drop)
