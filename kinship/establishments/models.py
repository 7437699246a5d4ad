"""Establishments (prisons, YOIs, immigration removal centres...), their video-calling rooms and terminals.

An establishment's profile decides which rules apply (POLICY.md, Profiles); its settings are the numbers the
policies leave to the establishment, validated by the policy engine against what the policies allow.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.core.models import BaseModel

if TYPE_CHECKING:
    from kinship import policy


class Profile(models.TextChoices):
    PRISON = "prison", _("Prison or young offender institution")
    YOUTH_CUSTODY = "youth_custody", _("Youth custody (under 18)")
    IMMIGRATION_DETENTION = "immigration_detention", _("Immigration detention")


class EstablishmentType(models.TextChoices):
    PRISON = "prison", _("Adult prison")
    YOI = "yoi", _("Young offender institution")
    UNDER_18_YOI = "under_18_yoi", _("Under-18 YOI or youth custody site")
    SECURE_TRAINING_CENTRE = "secure_training_centre", _("Secure training centre")
    IRC = "irc", _("Immigration removal centre")
    RSTHF = "rsthf", _("Residential short-term holding facility")
    PDA = "pda", _("Pre-departure accommodation")
    NON_RESIDENTIAL_STHF = (
        "non_residential_sthf",
        _("Non-residential short-term holding facility (holding room)"),
    )


class WhoMayRequest(models.TextChoices):
    RESIDENT = "resident", _("The person in custody")
    CONTACT = "contact", _("Their contacts")
    BOTH = "both", _("Both")


class AllowancePattern(models.TextChoices):
    ONE_60 = "one_60", _("One call of up to 60 minutes a month")
    TWO_30 = "two_30", _("Two calls of up to 30 minutes a month")


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones()) if name.startswith(("Europe/", "UTC"))]


class Establishment(BaseModel):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("The establishment's short code, for example BXI.")
    )
    profile = models.CharField(_("profile"), max_length=32, choices=Profile.choices)
    type = models.CharField(_("type"), max_length=32, choices=EstablishmentType.choices)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    safer_custody_hotline = models.CharField(
        _("safer custody hotline"),
        max_length=100,
        blank=True,
        help_text=_("Shown to families on every page and message about calls (PF 4.19)."),
    )
    # Settings the policies leave to the establishment (POLICY.md); defaults come from the profile.
    who_may_request = models.CharField(
        _("who may request calls (PF 4.6)"), max_length=16, choices=WhoMayRequest.choices
    )
    allowance_pattern = models.CharField(
        _("monthly allowance (PF 4.1)"), max_length=16, choices=AllowancePattern.choices, blank=True
    )
    max_outside_participants = models.PositiveSmallIntegerField(
        _("people who may join from outside (PF 4.13)")
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(_("notice of cancellation, hours (PF 4.8)"))
    calls_per_monitoring_officer = models.PositiveSmallIntegerField(
        _("calls each monitoring officer may watch (PF 4.7)")
    )
    slot_lengths = models.JSONField(_("slot lengths in minutes"), default=list)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def policy_profile(self) -> policy.Profile:
        from kinship import policy

        return policy.Profile(self.profile)

    def policy_settings(self) -> policy.EstablishmentSettings:
        from kinship import policy

        # Retention periods (PF 4.20) are not kept on the establishment yet: the profile's defaults apply.
        defaults = policy.profile_defaults(policy.Profile(self.profile))
        return policy.EstablishmentSettings(
            who_may_request=policy.RequestModel(self.who_may_request),
            allowance_pattern=policy.AllowancePattern(self.allowance_pattern)
            if self.allowance_pattern
            else None,
            max_outside_participants=self.max_outside_participants,
            notice_hours=self.cancellation_notice_hours,
            calls_per_monitoring_officer=self.calls_per_monitoring_officer,
            slot_lengths=tuple(int(length) for length in self.slot_lengths),
            safer_custody_hotline=self.safer_custody_hotline,
            retention_days=defaults.retention_days,
        )

    def apply_profile_defaults(self) -> None:
        """Fill unset settings from the profile's defaults (POLICY.md)."""
        from kinship import policy

        defaults = policy.profile_defaults(policy.Profile(self.profile))
        if not self.who_may_request:
            self.who_may_request = defaults.who_may_request.value
        if not self.allowance_pattern and defaults.allowance_pattern is not None:
            self.allowance_pattern = defaults.allowance_pattern.value
        if self.max_outside_participants is None:
            self.max_outside_participants = defaults.max_outside_participants
        if self.cancellation_notice_hours is None:
            self.cancellation_notice_hours = defaults.notice_hours
        if self.calls_per_monitoring_officer is None:
            self.calls_per_monitoring_officer = defaults.calls_per_monitoring_officer
        if not self.slot_lengths:
            self.slot_lengths = list(defaults.slot_lengths)

    def clean(self) -> None:
        from kinship import policy

        errors: dict[str, list[str]] = {}
        if self.type:
            for reason in policy.establishment_type_allowed(policy.EstablishmentType(self.type)).refusals:
                errors.setdefault("type", []).append(reason.message)
        if self.timezone not in available_timezones():
            errors.setdefault("timezone", []).append(str(_("Choose a valid time zone.")))
        if self.profile and self.type and not errors:
            fitting = policy.profiles_for_type(policy.EstablishmentType(self.type))
            if policy.Profile(self.profile) not in fitting:
                labels = " or ".join(str(Profile(profile).label).lower() for profile in sorted(fitting))
                errors.setdefault("profile", []).append(
                    str(_("A %(type)s must have the %(profiles)s profile."))
                    % {"type": str(self.get_type_display()).lower(), "profiles": labels}
                )
        if self.profile and not errors:
            self.apply_profile_defaults()
            if not isinstance(self.slot_lengths, list) or not all(
                isinstance(length, int) and not isinstance(length, bool) for length in self.slot_lengths
            ):
                errors.setdefault("slot_lengths", []).append(str(_("Enter the call lengths in minutes.")))
            else:
                for reason in policy.validate_settings(policy.Profile(self.profile), self.policy_settings()):
                    field = _POLICY_FIELDS.get(reason.field_name or "", reason.field_name or "")
                    errors.setdefault(field if field in _MODEL_FIELDS else "__all__", []).append(
                        reason.message
                    )
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        from kinship import policy

        # DSO 1 is enforced on every write path, not only in forms.
        decision = policy.establishment_type_allowed(policy.EstablishmentType(self.type))
        if not decision.allowed:
            raise ValidationError({"type": [reason.message for reason in decision.refusals]})
        if self.profile:
            self.apply_profile_defaults()
        super().save(*args, **kwargs)


#: Policy settings names that differ from the model's field names.
_POLICY_FIELDS = {"notice_hours": "cancellation_notice_hours"}
_MODEL_FIELDS = {
    "who_may_request",
    "allowance_pattern",
    "max_outside_participants",
    "cancellation_notice_hours",
    "calls_per_monitoring_officer",
    "slot_lengths",
    "safer_custody_hotline",
    "type",
    "profile",
}


class Room(BaseModel):
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=100)
    accessible = models.BooleanField(
        _("accessible"),
        default=False,
        help_text=_("Step-free and usable by someone with a physical need (PF 4.24)."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["establishment", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return self.name


class TerminalKind(models.TextChoices):
    RESIDENT = "resident", _("Resident terminal")
    MONITORING = "monitoring", _("Monitoring terminal")


def hash_device_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Terminal(BaseModel):
    """A device in a calling room or a monitoring station. It is registered to one physical device (PF 4.23):
    a one-time code is entered on the device, which then holds a secret in a cookie; only its hash is kept."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="terminals")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="terminals")
    kind = models.CharField(_("kind"), max_length=16, choices=TerminalKind.choices)
    name = models.CharField(_("name"), max_length=100)
    registration_code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    registration_code_expires_at = models.DateTimeField(null=True, blank=True)
    device_secret_hash = models.CharField(max_length=64, blank=True, db_index=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["establishment", "name"], name="terminal_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_registered(self) -> bool:
        return bool(self.device_secret_hash) and self.revoked_at is None

    def matches_device_secret(self, secret: str) -> bool:
        return self.is_registered and secrets.compare_digest(
            self.device_secret_hash, hash_device_secret(secret)
        )
