"""Back-office admin for establishments, rooms and terminals. Creating or changing an establishment here goes
through the same model validation as the staff pages (DSO 1 and the profile's settings), and is audited.
Terminal secrets and codes are never shown: only whether the terminal is registered."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from kinship.audit.services import audit_record

from .models import Establishment, Room, Terminal


def _snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event with the changed fields in the admin's own transaction."""

    audit_fields: list[str] = []

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.establishment.code)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        before: dict[str, Any] = {}
        if change:
            original = type(obj).objects.get(pk=obj.pk)
            before = _snapshot(original, self.audit_fields)
        super().save_model(request, obj, form, change)
        audit_record(
            action=f"{obj._meta.model_name}_{'changed' if change else 'created'}_in_back_office",
            actor=request.user,
            subject=obj,
            establishment_code=self.establishment_code_of(obj),
            before=before,
            after=_snapshot(obj, self.audit_fields),
        )


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0
    fields = ["name", "accessible", "active"]


@admin.register(Establishment)
class EstablishmentAdmin(AuditedAdmin):
    list_display = ["name", "code", "profile", "type", "active"]
    list_filter = ["profile", "type", "active"]
    search_fields = ["name", "code"]
    inlines = [RoomInline]
    audit_fields = [
        "name",
        "code",
        "profile",
        "type",
        "timezone",
        "safer_custody_hotline",
        "who_may_request",
        "allowance_pattern",
        "max_outside_participants",
        "cancellation_notice_hours",
        "calls_per_monitoring_officer",
        "slot_lengths",
        "active",
    ]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.code)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # The settings are required on the model; the profile's defaults fill any left empty (model clean()).
        return {"timezone": "Europe/London"}

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        for name in (
            "who_may_request",
            "max_outside_participants",
            "cancellation_notice_hours",
            "calls_per_monitoring_officer",
            "slot_lengths",
        ):
            if name in form.base_fields:
                form.base_fields[name].required = False
                form.base_fields[name].help_text = "Leave empty to use the profile's default."
        return form


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["name", "establishment", "accessible", "active"]
    list_filter = ["establishment", "accessible", "active"]
    search_fields = ["name"]
    list_select_related = ["establishment"]
    audit_fields = ["name", "accessible", "active"]


@admin.register(Terminal)
class TerminalAdmin(AuditedAdmin):
    list_display = ["name", "establishment", "kind", "room", "registered", "revoked_at", "active"]
    list_filter = ["establishment", "kind", "active"]
    search_fields = ["name"]
    list_select_related = ["establishment", "room"]
    # Codes and device secrets exist only as hashes, and even those are kept out of sight.
    exclude = ["registration_code_hash", "device_secret_hash"]
    readonly_fields = ["registered", "registration_code_expires_at", "registered_at", "revoked_at"]
    audit_fields = ["name", "kind", "room_id", "active"]

    @admin.display(boolean=True, description="Registered to a device")
    def registered(self, obj: Terminal) -> bool:
        return obj.is_registered
