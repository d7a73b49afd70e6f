"""Stand-in for edx-platform's lms.envs.production (see platform_settings.py)."""

from platform_settings import load

load(__name__, "lms")
del load
