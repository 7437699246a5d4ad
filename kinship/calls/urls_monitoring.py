"""The monitoring wall and the viewing log, mounted under ``staff/``; every path starts with the establishment's
code (see kinship.core.permissions.staff_required)."""

from django.urls import path

from . import views_monitoring

app_name = "calls-monitoring"

urlpatterns = [
    path("<str:establishment>/monitoring/", views_monitoring.wall, name="wall"),
    path("<str:establishment>/monitoring/log/", views_monitoring.viewing_log, name="log"),
]
