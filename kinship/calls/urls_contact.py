"""The contact's call pages, mounted at ``calls/`` beside the booking pages (kinship/bookings/urls_contact.py): the
pre-call check and the call itself, each under the booking's reference."""

from django.urls import re_path

from kinship.bookings.urls_contact import REFERENCE

from . import views_people as views

app_name = "calls-contact"

urlpatterns = [
    re_path(rf"^{REFERENCE}/check/$", views.contact_check, name="check"),
    re_path(rf"^{REFERENCE}/join/$", views.contact_call, name="join"),
]
