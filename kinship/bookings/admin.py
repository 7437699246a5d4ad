"""Back-office views of booking records, for system administrators to inspect.

Bookings, holds, the ledger, grants and reviews change only through ``services`` (they carry policy checks and
audit events), so here they are read-only. Settings, sessions, closed dates and rosters may be edited, audited
like the establishment's own records; a changed session goes back to draft and must be published again (DSO 7).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from kinship.establishments.admin import AuditedAdmin

from .models import (
    AllowanceEntry,
    Booking,
    BookingParticipant,
    BookingReview,
    BookingSettings,
    ClosedDate,
    ExtraCallGrant,
    SessionTemplate,
    Slot,
    SlotHold,
    StaffRoster,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BookingSettings)
class BookingSettingsAdmin(AuditedAdmin):
    list_display = ("establishment", "auto_approve", "hold_minutes")
    audit_fields = ["auto_approve", "hold_minutes"]


_SESSION_FIELDS = [
    "room_id",
    "weekday",
    "start",
    "end",
    "slot_minutes",
    "valid_from",
    "valid_to",
    "open_to_residents",
    "open_to_contacts",
    "open_to_staff",
    "legal_reserved",
    "supports",
]


@admin.register(SessionTemplate)
class SessionTemplateAdmin(AuditedAdmin):
    list_display = (
        "establishment",
        "room",
        "weekday",
        "start",
        "end",
        "slot_minutes",
        "legal_reserved",
        "published_at",
    )
    list_filter = ("establishment", "weekday", "legal_reserved")
    readonly_fields = ("published_at",)
    audit_fields = [*_SESSION_FIELDS, "published_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        # Only schedule_publish may put a session in force, after the DSO 7 and slot-length checks.
        obj.published_at = None
        super().save_model(request, obj, form, change)


@admin.register(ClosedDate)
class ClosedDateAdmin(AuditedAdmin):
    list_display = ("establishment", "room", "date", "reason")
    list_filter = ("establishment",)
    audit_fields = ["room_id", "date", "reason"]


@admin.register(StaffRoster)
class StaffRosterAdmin(AuditedAdmin):
    audit_fields = ["room_id", "date", "start", "end", "supervising_officers", "monitoring_officers"]
    list_display = (
        "establishment",
        "room",
        "date",
        "start",
        "end",
        "supervising_officers",
        "monitoring_officers",
    )
    list_filter = ("establishment",)


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("establishment", "room", "starts_at", "ends_at", "capacity", "legal_reserved")
    list_filter = ("establishment", "legal_reserved")
    list_select_related = ("establishment", "room")


@admin.register(SlotHold)
class SlotHoldAdmin(ReadOnlyAdmin):
    list_display = ("slot", "held_by", "expires_at", "released_at", "converted_at")
    list_select_related = ("slot__room", "held_by")


class BookingParticipantInline(admin.TabularInline):
    model = BookingParticipant
    extra = 0
    can_delete = False
    readonly_fields = ("contact",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("reference", "resident", "lead_contact", "slot", "kind", "status", "funding")
    list_filter = ("status", "kind", "funding", "slot__establishment")
    search_fields = ("reference", "resident__identifier", "resident__last_name", "lead_contact__last_name")
    list_select_related = ("resident", "lead_contact", "slot__room")
    inlines = (BookingParticipantInline,)


@admin.register(AllowanceEntry)
class AllowanceEntryAdmin(ReadOnlyAdmin):
    list_display = ("resident", "month", "minutes", "reason", "booking", "created_at")
    list_filter = ("reason", "month")
    search_fields = ("resident__identifier",)
    list_select_related = ("resident", "booking")


@admin.register(ExtraCallGrant)
class ExtraCallGrantAdmin(ReadOnlyAdmin):
    list_display = ("resident", "month", "reason", "approved_by", "granted_at")
    list_filter = ("reason", "month")
    list_select_related = ("resident", "approved_by")


@admin.register(BookingReview)
class BookingReviewAdmin(ReadOnlyAdmin):
    list_display = ("booking", "cause", "opened_at", "outcome", "closed_at")
    list_filter = ("cause", "outcome")
    list_select_related = ("booking",)
