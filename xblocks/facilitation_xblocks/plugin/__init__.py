"""The LMS/CMS plugin app: the outbox and posts in the LMS database, the live forum path
(an event-tracking backend), retirement, and ``facilitation_status``. docs/lms-plugin.md."""
