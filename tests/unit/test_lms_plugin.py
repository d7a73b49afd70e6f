"""The plugin app as Open edX finds and configures it (edx-django-utils plugin helpers)."""

from __future__ import annotations

from typing import Any

import pytest
from edx_django_utils.plugins import get_plugin_apps

from facilitation_xblocks.plugin.settings import BACKEND_ENGINE, DEFAULTS, plugin_settings
from facilitation_xblocks.plugin.wiring import mirror_xblock_settings
from tests.support import lms_django

pytestmark = pytest.mark.lms

APP = "facilitation_xblocks.plugin.apps.FacilitationPluginConfig"


class Settings:
    """A settings module as edx-platform hands it to plugin_settings."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def test_found_through_the_lms_and_cms_entry_points() -> None:
    assert APP in get_plugin_apps("lms.djangoapp")
    assert APP in get_plugin_apps("cms.djangoapp")


def test_installed_with_its_tracking_backend_beside_the_tracking_log() -> None:
    lms_django.setup()
    from django.apps import apps
    from eventtracking import tracker

    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    assert apps.get_app_config("facilitation").name == "facilitation_xblocks.plugin"
    logs = tracker.get_tracker().backends["tracking_logs"]
    assert isinstance(logs.backends["facilitation"], FacilitationTrackingBackend)
    assert "logger" in logs.backends


def test_plugin_settings_set_defaults_and_keep_what_operators_set() -> None:
    logs = {"ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {"backends": {"logger": {}}, "processors": []}}
    conf = Settings(FACILITATION_EVENTS_TOPIC="mine",
                    EVENT_TRACKING_BACKENDS={"tracking_logs": logs})
    plugin_settings(conf)
    plugin_settings(conf)  # common, then production: the same result
    assert conf.FACILITATION_EVENTS_TOPIC == "mine"
    assert conf.FACILITATION_OUTBOX == "database" and conf.FACILITATION_LIVE_TRACKING is True
    assert logs["OPTIONS"]["backends"]["facilitation"]["ENGINE"] == BACKEND_ENGINE
    assert set(conf.EVENT_TRACKING_BACKENDS) == {"tracking_logs"}


def test_without_a_tracking_log_the_backend_is_top_level() -> None:
    conf = Settings()
    plugin_settings(conf)
    assert conf.EVENT_TRACKING_BACKENDS["facilitation"]["ENGINE"] == BACKEND_ENGINE


def test_the_xblocks_bucket_gets_what_it_lacks() -> None:
    conf = Settings(**DEFAULTS, XBLOCK_SETTINGS={"FACILITATION": {"EVENTS_TOPIC": "blocks"}})
    conf.FACILITATION_KAFKA_BOOTSTRAP = "kafka:9092"
    bucket = mirror_xblock_settings(conf)
    assert bucket["EVENTS_TOPIC"] == "blocks"
    assert (bucket["KAFKA_BOOTSTRAP"], bucket["OUTBOX"]) == ("kafka:9092", "database")
