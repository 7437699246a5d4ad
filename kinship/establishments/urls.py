"""Staff pages for establishments, mounted under ``staff/``. The establishment's code is the ``establishment``
argument every scoped view is reached through (see kinship.core.permissions.staff_required)."""

from django.urls import path

from . import views

app_name = "establishments"

urlpatterns = [
    path("", views.mine, name="mine"),
    # Before "<establishment>/": "establishments" is not an establishment code.
    path("establishments/new/", views.create, name="create"),
    path("<str:establishment>/", views.overview, name="overview"),
    path("<str:establishment>/settings/", views.edit_settings, name="settings"),
    path("<str:establishment>/rooms/", views.rooms, name="rooms"),
    path("<str:establishment>/rooms/add/", views.room_add, name="room-add"),
    path("<str:establishment>/rooms/<uuid:room_id>/", views.room_edit, name="room-edit"),
    path("<str:establishment>/terminals/", views.terminals, name="terminals"),
    path("<str:establishment>/terminals/add/", views.terminal_add, name="terminal-add"),
    path("<str:establishment>/terminals/register/", views.terminal_register, name="terminal-register"),
    path("<str:establishment>/terminals/this-device/", views.terminal_registered, name="terminal-registered"),
    path("<str:establishment>/terminals/<uuid:terminal_id>/", views.terminal_edit, name="terminal-edit"),
    path(
        "<str:establishment>/terminals/<uuid:terminal_id>/revoke/",
        views.terminal_revoke,
        name="terminal-revoke",
    ),
    path(
        "<str:establishment>/terminals/<uuid:terminal_id>/code/",
        views.terminal_issue_code,
        name="terminal-code",
    ),
]
