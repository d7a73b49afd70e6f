"""Stand-in for edx-platform's cms.envs.production (see platform_settings.py)."""

from platform_settings import load

load(__name__, "cms")
del load
