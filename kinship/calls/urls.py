"""The supervising officer's call pages, mounted under ``staff/``; every path starts with the establishment's
code (see kinship.core.permissions.staff_required)."""

from django.urls import path

from . import views

app_name = "calls"

urlpatterns = [
    path("<str:establishment>/calls/today/", views.day, name="day"),
    path("<str:establishment>/calls/<uuid:booking_id>/", views.call_page, name="call"),
    path("<str:establishment>/calls/<uuid:booking_id>/terminate/", views.terminate, name="terminate"),
]
