"""Read-only views of calls for the back office: every change goes through ``services`` (audited), so nothing
here can change a call; the room's encrypted secret and pin are not shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Call, MonitorViewing


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnly):
    list_display = ("booking", "establishment", "state", "opened_at", "live_at", "ended_at", "end_reason")
    list_filter = ("state", "establishment")
    exclude = ("room_secret_encrypted", "room_pin_encrypted")


@admin.register(MonitorViewing)
class MonitorViewingAdmin(ReadOnly):
    list_display = ("call", "officer", "terminal", "started_at", "ended_at")
