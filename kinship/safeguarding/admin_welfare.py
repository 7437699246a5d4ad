"""Back-office views of incidents, wellbeing follow-ups and deadline notices: read-only, because every change goes
through a service that audits it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import DeadlineNotice, Incident, IncidentEvent, WellbeingFollowUp

__all__ = ["DeadlineNoticeAdmin", "IncidentAdmin", "WellbeingFollowUpAdmin"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("status", "note", "actor", "occurred_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(_ReadOnly):
    list_display = ("reported_at", "establishment", "resident", "reason", "status", "police_referral")
    list_filter = ("status", "reason", "police_referral", "establishment")
    inlines = (IncidentEventInline,)


@admin.register(WellbeingFollowUp)
class WellbeingFollowUpAdmin(_ReadOnly):
    list_display = ("recorded_at", "establishment", "resident", "location", "due_at", "closed_at")
    list_filter = ("establishment",)


@admin.register(DeadlineNotice)
class DeadlineNoticeAdmin(_ReadOnly):
    list_display = ("sent_at", "establishment", "source", "level", "due_at", "role")
    list_filter = ("level", "source", "establishment")
