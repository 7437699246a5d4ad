"""Read-only admin for the audit log: it can be searched, never changed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = (
        "occurred_at",
        "action",
        "actor_label",
        "subject_type",
        "subject_id",
        "establishment_code",
    )
    list_filter = ("action", "establishment_code")
    search_fields = ("subject_id", "actor_label", "request_id")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
