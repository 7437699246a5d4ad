"""Read-only admin for restrictions, bans, suspensions and appeals: changes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import Appeal, ContactBan, DecisionReview, Restriction, Suspension, VisitorBan

__all__: list[str] = []


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


for model in (Restriction, ContactBan, VisitorBan, Suspension, DecisionReview, Appeal):
    admin.site.register(model, ReadOnly)
