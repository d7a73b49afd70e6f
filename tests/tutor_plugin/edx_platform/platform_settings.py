"""What edx-platform's ``lms.envs.production`` / ``cms.envs.production`` give the settings
module Tutor renders, reduced to the names that module uses.

Like edx-platform, it reads the YAML file named by LMS_CFG / CMS_CFG and sets every key as
a setting before the plugins load (edx-django-utils' ``add_plugins``, when installed, with
the ``lms.djangoapp`` / ``cms.djangoapp`` entry points), so plugin settings see the
values Tutor put into lms.env.yml, as they do in the LMS.
"""

import os
import sys

import yaml

MERGED_KEYS = ("FEATURES", "TRACKING_BACKENDS", "EVENT_TRACKING_BACKENDS", "JWT_AUTH")


def load(module_name, variant):
    settings = sys.modules[module_name]
    names = vars(settings)
    names.update(
        FEATURES={},
        INSTALLED_APPS=["lms.djangoapps.coursewarehistoryextended", "django.contrib.auth"],
        DATABASE_ROUTERS=[
            "openedx.core.lib.django_courseware_routers.StudentModuleHistoryExtendedRouter"
        ],
        XBLOCK_SETTINGS={},
        CORS_ORIGIN_WHITELIST=[],
        IDA_LOGOUT_URI_LIST=[],
        LOGIN_REDIRECT_WHITELIST=[],
        REGISTRATION_EXTRA_FIELDS={},
        PROFILE_IMAGE_BACKEND={"options": {}},
        MODULESTORE={"default": {"OPTIONS": {"stores": [{"OPTIONS": {}}]}}},
        VIDEO_IMAGE_SETTINGS={"STORAGE_KWARGS": {}},
        VIDEO_TRANSCRIPTS_SETTINGS={"STORAGE_KWARGS": {}},
        LOGGING={"handlers": {}, "loggers": {"tracking": {}}},
        JWT_AUTH={},
        EVENT_TRACKING_BACKENDS={"tracking_logs": {"OPTIONS": {"backends": {}}}},
        STATIC_ROOT="/openedx/staticfiles",
        LMS_ROOT_URL="http://lms",
        CMS_ROOT_URL="http://cms",
    )
    path = os.environ["LMS_CFG" if variant == "lms" else "CMS_CFG"]
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    names.update({k: v for k, v in config.items() if k not in MERGED_KEYS})
    names["FEATURES"].update(config.get("FEATURES", {}))
    names["ENV_TOKENS"] = names["AUTH_TOKENS"] = config
    try:
        from edx_django_utils.plugins import add_plugins, get_plugin_apps
    except ImportError:
        names["PLUGINS_LOADED"] = False
        return
    project = f"{variant}.djangoapp"
    names["INSTALLED_APPS"].extend(get_plugin_apps(project))
    add_plugins(module_name, project, "common")
    add_plugins(module_name, project, "production")
    names["PLUGINS_LOADED"] = True
