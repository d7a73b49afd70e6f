"""The two retirement signals edx-platform defines at this path (and sends from its
retirement views with ``user=``, plus ``retired_username`` / ``retired_email`` for the
critical one). The plugin connects to them by this dotted path, as edx-platform's plugin
loader does; nothing else of edx-platform is stood in for."""

from django.dispatch import Signal

USER_RETIRE_LMS_CRITICAL = Signal()
USER_RETIRE_LMS_MISC = Signal()
