"""Bookings URLs (contact pages), mounted at ``calls/``."""

from django.urls import path, re_path

from . import views_contact as views

app_name = "bookings-contact"

#: A booking reference as stored (``references.PATTERN``); anything else is not a page.
REFERENCE = r"(?P<reference>[A-Z0-9]{4}-[A-Z0-9]{4})"

urlpatterns = [
    path("", views.calls, name="calls"),
    path("request/", views.request_person, name="request-person"),
    path("request/time/", views.request_time, name="request-time"),
    path("request/participants/", views.request_participants, name="request-participants"),
    path("request/check/", views.request_check, name="request-check"),
    re_path(rf"^request/sent/{REFERENCE}/$", views.request_sent, name="request-sent"),
    re_path(rf"^{REFERENCE}/$", views.call_detail, name="detail"),
    re_path(rf"^{REFERENCE}/cancel/$", views.call_cancel, name="cancel"),
    re_path(rf"^{REFERENCE}/calendar\.ics$", views.call_calendar, name="calendar"),
]
