# openedx-facilitation: the LMS plugin app's tables (the outbox, one row per XBlock post).
./manage.py lms migrate facilitation
