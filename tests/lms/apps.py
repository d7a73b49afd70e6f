"""Stand-in for edx-platform's ``openedx.core.djangoapps.plugins`` app, whose ready() connects
every plugin app's ``signals_config`` receivers (edx-django-utils)."""

from django.apps import AppConfig
from edx_django_utils.plugins import connect_plugin_receivers


class PlatformPlugins(AppConfig):
    name = "tests.lms"
    label = "platform_plugins"

    def ready(self) -> None:
        connect_plugin_receivers("lms.djangoapp")
