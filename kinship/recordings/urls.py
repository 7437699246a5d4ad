"""Security staff's recording pages, mounted under ``staff/``; every path starts with the establishment's code
(see kinship.core.permissions.staff_required)."""

from django.urls import path

from . import views

app_name = "recordings"

urlpatterns = [
    path("<str:establishment>/recordings/", views.recording_list, name="list"),
    path("<str:establishment>/recordings/<uuid:recording_id>/", views.recording_play, name="play"),
    path(
        "<str:establishment>/recordings/<uuid:recording_id>/playbacks/<uuid:playback_id>/",
        views.recording_playback,
        name="playback",
    ),
    path(
        "<str:establishment>/recordings/<uuid:recording_id>/playbacks/<uuid:playback_id>/media",
        views.recording_media,
        name="media",
    ),
]
