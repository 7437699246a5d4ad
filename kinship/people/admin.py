"""Back-office admin for the records about people. Changes made here are audited like those made through the
staff pages; protected characteristics are not copied into the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from kinship.audit.services import audit_record

from .models import (
    CompactRecord,
    CompactText,
    Contact,
    ContactLink,
    LinkRequest,
    Resident,
    RiskAssessment,
)

_PROTECTED = {"sex", "ethnicity", "religion", "disability"}


def _snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = ("recorded" if value else "") if name in _PROTECTED else value
    return values


class AuditedAdmin(admin.ModelAdmin):
    audit_fields: list[str] = []

    def establishment_code_of(self, obj: Any) -> str:
        return ""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        before = _snapshot(type(obj).objects.get(pk=obj.pk), self.audit_fields) if change else {}
        super().save_model(request, obj, form, change)
        audit_record(
            action=f"{obj._meta.model_name}_{'changed' if change else 'created'}_in_back_office",
            actor=request.user,
            subject=obj,
            establishment_code=self.establishment_code_of(obj),
            before=before,
            after=_snapshot(obj, self.audit_fields),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            action=f"{obj._meta.model_name}_deleted_in_back_office",
            actor=request.user,
            subject=obj,
            establishment_code=self.establishment_code_of(obj),
            before=_snapshot(obj, self.audit_fields),
        )
        super().delete_model(request, obj)


class ContactLinkInline(admin.TabularInline):
    model = ContactLink
    extra = 0
    fields = ["contact", "relationship", "source", "status", "child_contact_approved", "banned"]
    raw_id_fields = ["contact"]
    readonly_fields = ["status"]


@admin.register(Resident)
class ResidentAdmin(AuditedAdmin):
    list_display = ["identifier", "last_name", "first_name", "establishment", "e_list", "pprc", "released_at"]
    list_filter = ["establishment", "e_list", "pprc", "harassment_measures"]
    search_fields = ["identifier", "first_name", "last_name"]
    list_select_related = ["establishment"]
    inlines = [ContactLinkInline]
    audit_fields = [
        "identifier",
        "first_name",
        "last_name",
        "date_of_birth",
        "location",
        "language",
        "support_needs",
        "e_list",
        "pprc",
        "harassment_measures",
        "imminent_removal_directions",
        "large_family_exception",
        "sex",
        "ethnicity",
        "religion",
        "disability",
        "released_at",
    ]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.establishment.code)


@admin.register(Contact)
class ContactAdmin(AuditedAdmin):
    list_display = ["last_name", "first_name", "email", "is_legal_adviser", "booking_banned_until"]
    list_filter = ["is_legal_adviser"]
    search_fields = ["first_name", "last_name", "email"]
    raw_id_fields = ["user"]
    audit_fields = [
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        "is_legal_adviser",
        "booking_banned_until",
    ]


@admin.register(ContactLink)
class ContactLinkAdmin(AuditedAdmin):
    list_display = ["contact", "resident", "relationship", "source", "status", "banned"]
    list_filter = ["status", "source", "banned", "child_contact_approved"]
    search_fields = ["contact__last_name", "resident__last_name", "resident__identifier"]
    list_select_related = ["contact", "resident"]
    raw_id_fields = ["contact", "resident"]
    readonly_fields = ["status_changed_by", "status_changed_at"]
    audit_fields = ["relationship", "source", "status", "status_reason", "child_contact_approved", "banned"]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.resident.establishment.code)


@admin.register(LinkRequest)
class LinkRequestAdmin(AuditedAdmin):
    list_display = [
        "contact",
        "resident_first_name",
        "resident_last_name",
        "establishment",
        "status",
        "created_at",
    ]
    list_filter = ["status", "establishment"]
    search_fields = ["resident_last_name", "contact__last_name"]
    list_select_related = ["contact", "establishment"]
    raw_id_fields = ["contact", "link"]
    readonly_fields = ["decided_by", "decided_at"]
    audit_fields = ["status", "decision_reason"]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.establishment.code)


@admin.register(CompactText)
class CompactTextAdmin(AuditedAdmin):
    list_display = ["kind", "version", "language", "published_at"]
    list_filter = ["kind", "language"]
    audit_fields = ["kind", "version", "language", "published_at"]


@admin.register(CompactRecord)
class CompactRecordAdmin(AuditedAdmin):
    list_display = ["resident", "text", "outcome", "language", "interpreter_used", "recorded_at"]
    list_filter = ["outcome", "interpreter_used"]
    list_select_related = ["resident", "text"]
    raw_id_fields = ["resident", "explained_by"]
    audit_fields = ["text_id", "outcome", "language", "interpreter_used", "explained_by_id", "recorded_at"]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.resident.establishment.code)


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(AuditedAdmin):
    list_display = ["resident", "kind", "outcome", "assessed_at", "review_date"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["resident"]
    raw_id_fields = ["resident", "assessed_by"]
    audit_fields = ["kind", "outcome", "rationale", "assessed_by_id", "review_date"]

    def establishment_code_of(self, obj: Any) -> str:
        return str(obj.resident.establishment.code)
