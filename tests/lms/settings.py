"""A Django project set up like the LMS, for the plugin app's tests.

As edx-platform's ``lms/envs/common.py`` and Tutor's settings do it:

- ``INSTALLED_APPS`` ends with the plugin apps edx-django-utils finds through the
  ``lms.djangoapp`` entry point (``get_plugin_apps``), after event-tracking's app and the
  stand-in of edx-platform's plugin loader (``tests.lms.apps``: connects their signals);
- ``add_plugins`` runs each plugin's ``plugin_settings`` for "common" then "production";
- ``EVENT_TRACKING_BACKENDS`` holds edx-platform's ``tracking_logs`` routing backend: the
  logger writing the tracking log (to ``FACILITATION_TEST_TRACKING_LOG``) after the field
  mapping of ``tests.lms.shim``;
- the database is MariaDB (``FACILITATION_TEST_MARIADB``, started by scripts/devservices.py)
  with ``ATOMIC_REQUESTS`` as Tutor sets it, else a SQLite file; the alias ``sqlite`` is a
  SQLite file in every run (the shared suites run on both).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from edx_django_utils.plugins import add_plugins, get_plugin_apps

HERE = Path(__file__).resolve().parent
# edx-platform's retirement signals module, stood in for at its dotted path.
sys.path.insert(0, str(HERE / "platform"))

STATE = Path(os.environ.get("FACILITATION_TEST_LMS_DIR") or tempfile.mkdtemp(prefix="lms-"))
SECRET_KEY = "tests-only"
DEBUG = False
USE_TZ = True
ROOT_URLCONF = "tests.lms.urls"
ALLOWED_HOSTS = ["*"]
MIDDLEWARE = ["tests.lms.forum.RequestContext"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "eventtracking.django.apps.EventTrackingConfig",
    "tests.lms.apps.PlatformPlugins",
]
# Once each: the compiled build's test run has the package installed twice (build/compiled).
INSTALLED_APPS.extend(dict.fromkeys(get_plugin_apps("lms.djangoapp")))

_mariadb = os.environ.get("FACILITATION_TEST_MARIADB", "")
_sqlite = {"ENGINE": "django.db.backends.sqlite3", "ATOMIC_REQUESTS": True,
           "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"}}
DATABASES = {"sqlite": {**_sqlite, "NAME": str(STATE / "sqlite-alias.db")}}
if _mariadb:
    host, port = _mariadb.rsplit(":", 1)
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.mysql", "HOST": host, "PORT": port,
        "NAME": os.environ.get("FACILITATION_TEST_MARIADB_DB", f"lms_{os.getpid()}"),
        "USER": "facilitation", "PASSWORD": "facilitation", "ATOMIC_REQUESTS": True,
        "OPTIONS": {"charset": "utf8mb4"},
    }
else:
    DATABASES["default"] = {**_sqlite, "NAME": str(STATE / "default.db")}

EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_PROCESSORS: list[dict[str, str]] = []
EVENT_TRACKING_BACKENDS = {
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {
                "logger": {
                    "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                    "OPTIONS": {"name": "tracking", "max_event_size": 50_000},
                },
            },
            "processors": [{"ENGINE": "tests.lms.shim.LegacyFieldMapping"}],
        },
    },
}
TRACKING_LOG = os.environ.get("FACILITATION_TEST_TRACKING_LOG", str(STATE / "tracking.log"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"raw": {"format": "%(message)s"}},
    "handlers": {
        "tracking": {"class": "logging.FileHandler", "filename": TRACKING_LOG,
                     "formatter": "raw"},
    },
    "loggers": {"tracking": {"handlers": ["tracking"], "level": "INFO", "propagate": False}},
}

XBLOCK_SETTINGS: dict[str, dict[str, object]] = {}

add_plugins(__name__, "lms.djangoapp", "common")
add_plugins(__name__, "lms.djangoapp", "production")
