"""Stand-in for the edx-platform package of this name (see tests/lms/platform)."""
