"""Stand-in for the edx-platform module of this name (see platform_settings.py)."""
