"""Back-office admin for accounts (reached only by ``is_staff`` users, behind staff 2FA).

Role grants and terms versions are audited here too, since the admin writes to them directly. Password hashes
never appear in lists; terms acceptances are read-only evidence (PF 4.15)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from kinship.audit.services import audit_record

from .models import IdentityVerification, StaffRole, TermsAcceptance, TermsVersion, User


def _audit_admin_change(*, request: HttpRequest, obj: Model, action: str, after: dict[str, Any]) -> None:
    # The admin already wraps each change in transaction.atomic, so the event commits with the change.
    audit_record(
        action=action,
        actor=request.user,
        subject=obj,
        establishment_code=getattr(getattr(obj, "establishment", None), "code", ""),
        after=after,
    )


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    fk_name = "user"
    extra = 0
    fields = ["establishment", "role", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    autocomplete_fields = ["establishment"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "kind", "is_active", "is_staff", "email_verified_at"]
    list_filter = ["kind", "is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "email_verified_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("first_name", "last_name", "phone", "kind", "email_verified_at")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "kind", "password1", "password2")}),)
    inlines = [StaffRoleInline]

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name not in {"password", "password1", "password2"}]
        _audit_admin_change(
            request=request,
            obj=obj,
            action="admin_user_changed" if change else "admin_user_created",
            after={name: str(form.cleaned_data.get(name)) for name in changed},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, StaffRole) and instance._state.adding:
                instance.granted_by = request.user  # type: ignore[assignment]
            instance.save()
            _audit_admin_change(
                request=request,
                obj=instance,
                action="staff_role_granted" if isinstance(instance, StaffRole) else "admin_changed",
                after={"user_id": form.instance.pk, "role": getattr(instance, "role", "")},
            )
        for removed in formset.deleted_objects:
            _audit_admin_change(
                request=request,
                obj=removed,
                action="staff_role_removed",
                after={"user_id": form.instance.pk, "role": getattr(removed, "role", "")},
            )
            removed.delete()
        formset.save_m2m()


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "establishment", "granted_by", "created_at"]
    list_filter = ["role", "establishment"]
    search_fields = ["user__email", "user__last_name", "establishment__code", "establishment__name"]
    autocomplete_fields = ["user", "establishment"]
    readonly_fields = ["granted_by"]

    def save_model(self, request: HttpRequest, obj: StaffRole, form: Any, change: bool) -> None:
        if not change:
            obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        _audit_admin_change(
            request=request,
            obj=obj,
            action="staff_role_changed" if change else "staff_role_granted",
            after={"user_id": obj.user_id, "role": obj.role},
        )

    def delete_model(self, request: HttpRequest, obj: StaffRole) -> None:
        _audit_admin_change(
            request=request,
            obj=obj,
            action="staff_role_removed",
            after={"user_id": obj.user_id, "role": obj.role},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class TermsAcceptanceInline(admin.TabularInline):
    model = TermsAcceptance
    extra = 0
    fields = ["user", "accepted_at"]
    readonly_fields = ["user", "accepted_at"]
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at", "acceptance_count"]
    search_fields = ["version"]
    inlines = [TermsAcceptanceInline]

    @admin.display(description="Acceptances")
    def acceptance_count(self, obj: TermsVersion) -> int:
        return obj.acceptances.count()

    def get_readonly_fields(self, request: HttpRequest, obj: TermsVersion | None = None) -> list[str]:
        # Once anyone has accepted a version its wording is evidence and cannot change: publish a new version.
        if obj is not None and obj.acceptances.exists():
            return ["version", "summary_of_changes", "body", "published_at"]
        return []

    def has_delete_permission(self, request: HttpRequest, obj: TermsVersion | None = None) -> bool:
        return obj is None or not obj.acceptances.exists()

    def save_model(self, request: HttpRequest, obj: TermsVersion, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            action="terms_version_changed" if change else "terms_version_published",
            actor=request.user,
            subject=obj,
            after={"version": obj.version, "published_at": obj.published_at.isoformat()},
            policy_ids=["PF 4.15"],
        )


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(admin.ModelAdmin):
    """Status only: the images are seen through the audited staff pages, never through the admin."""

    list_display = ["user", "status", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__last_name"]
    fields = ("user", "status", "created_at", "reviewed_by", "reviewed_at", "rejection_reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
