"""People who sign in: staff (with roles at establishments, TOTP second factor) and contacts (family, friends,
legal advisers: email verified, current terms accepted, identity checked by staff).

A person in custody never has a web account; they use a registered terminal (see establishments.Terminal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kinship.core.models import BaseModel
from kinship.core.prepared import PreparedQuery
from kinship.core.roles import Role
from kinship.establishments.models import Establishment


class UserKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    CONTACT = "contact", _("Contact")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True, kind=UserKind.STAFF)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """Signs in with an email address. ``is_staff`` keeps Django's meaning (may use the back-office admin);
    ``kind`` says whether this is a member of staff or a contact."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    kind = models.CharField(max_length=16, choices=UserKind.choices, default=UserKind.CONTACT)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone = models.CharField(_("mobile phone number"), max_length=32, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment, misc]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_staff_member(self) -> bool:
        return self.kind == UserKind.STAFF

    @property
    def is_contact(self) -> bool:
        return self.kind == UserKind.CONTACT

    def roles_at(self, establishment: Establishment) -> set[Role]:
        return {
            Role(role)
            for role in self.staff_roles.filter(establishment=establishment).values_list("role", flat=True)
        }


class StaffRole(BaseModel):
    """One role held by one member of staff at one establishment."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "establishment", "role"], name="staff_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.establishment.code}"


class TermsVersion(BaseModel):
    """The terms and conditions contacts accept before booking or joining a call (PF 4.15). The newest published
    version is the current one; publishing a new version means everyone accepts again."""

    version = models.CharField(max_length=20, unique=True)
    summary_of_changes = models.TextField(blank=True)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self) -> str:
        return f"Terms {self.version}"

    @classmethod
    def current(cls, now: datetime | None = None) -> TermsVersion | None:
        """The version in force at ``now`` (default: now): the latest published by then (read by every booking
        decision, PF 4.15)."""
        current: TermsVersion | None = TERMS_IN_FORCE.first(now=now or timezone.now())
        return current


#: ``TermsVersion.current()``'s query, compiled once (kinship.core.prepared).
TERMS_IN_FORCE = PreparedQuery(
    lambda now: TermsVersion.objects.filter(published_at__lte=now).order_by("-published_at")[:1],
    now=models.DateTimeField(),
)


class TermsAcceptance(BaseModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terms_acceptances")
    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "terms"], name="terms_accepted_once")]


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a check")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


def _identity_path(instance: IdentityVerification, filename: str, part: str) -> str:
    # The name a person gave their file is never used on disk.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"identity/{instance.user_id}/{instance.id}-{part}.{suffix}"


def photo_id_upload_path(instance: IdentityVerification, filename: str) -> str:
    return _identity_path(instance, filename, "photo-id")


def photo_of_self_upload_path(instance: IdentityVerification, filename: str) -> str:
    return _identity_path(instance, filename, "photo-of-self")


class IdentityVerification(BaseModel):
    """A contact's photo ID and a photo of themselves, reviewed by staff. Files live under MEDIA_ROOT, outside the
    web root, and are streamed only to authorised staff (every viewing audited)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identity_verifications")
    photo_id = models.FileField(upload_to=photo_id_upload_path)
    photo_of_self = models.FileField(upload_to=photo_of_self_upload_path)
    status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
