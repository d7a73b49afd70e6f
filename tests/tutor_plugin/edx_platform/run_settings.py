"""Import Tutor's rendered ``<variant>.envs.tutor.production`` over the stand-ins and print
what the facilitation plugin cares about as JSON.

    python run_settings.py lms|cms     (LMS_CFG / CMS_CFG name the rendered YAML)
"""

import importlib
import json
import os
import sys

# Tutor's settings create /openedx/... folders; nothing is created here.
os.makedirs = lambda *args, **kwargs: None
variant = sys.argv[1]
settings = importlib.import_module(f"{variant}.envs.tutor.production")
print(
    json.dumps(
        {
            "settings": {k: v for k, v in vars(settings).items() if k.startswith("FACILITATION_")},
            "xblock_settings": settings.XBLOCK_SETTINGS.get("FACILITATION"),
            "installed_apps": settings.INSTALLED_APPS,
            "plugins_loaded": settings.PLUGINS_LOADED,
        },
        default=str,
    )
)
