"""Tutor plugin of openedx-facilitation (entry point ``tutor.plugin.v1``: ``facilitation``)."""
