"""The plugin app, found by Open edX through the ``lms.djangoapp`` / ``cms.djangoapp`` entry
points (edx-django-utils ``get_plugin_apps``): no change to edx-platform, no INSTALLED_APPS
edit. ``plugin_app`` tells edx-platform where the settings and signal receivers live."""

from __future__ import annotations

from django.apps import AppConfig
from edx_django_utils.plugins import PluginSettings, PluginSignals

_SETTINGS = {
    name: {PluginSettings.RELATIVE_PATH: "settings"}
    for name in ("common", "production", "devstack")
}
#: edx-platform's retirement pipeline sends these (openedx/core/djangoapps/user_api/accounts).
_RETIREMENT_SIGNALS = "openedx.core.djangoapps.user_api.accounts.signals"
_SIGNALS = {
    PluginSignals.RELATIVE_PATH: "retirement",
    PluginSignals.RECEIVERS: [
        {
            PluginSignals.RECEIVER_FUNC_NAME: "learner_retired",
            PluginSignals.SIGNAL_PATH: f"{_RETIREMENT_SIGNALS}.{signal}",
            PluginSignals.DISPATCH_UID: f"facilitation.retirement.{signal}",
        }
        for signal in ("USER_RETIRE_LMS_MISC", "USER_RETIRE_LMS_CRITICAL")
    ],
}


class FacilitationPluginConfig(AppConfig):
    name = "facilitation_xblocks.plugin"
    label = "facilitation"
    verbose_name = "Facilitation"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_app = {
        PluginSettings.CONFIG: {project: _SETTINGS for project in ("lms.djangoapp",
                                                                   "cms.djangoapp")},
        PluginSignals.CONFIG: {"lms.djangoapp": _SIGNALS},
    }

    def ready(self) -> None:
        from facilitation_xblocks.plugin import wiring

        wiring.connect()
