"""The test LMS's URLs: the forum's create-thread request (tests.lms.forum)."""

from django.urls import path

from tests.lms.forum import create_thread

urlpatterns = [path("courses/<str:course_id>/threads", create_thread)]
