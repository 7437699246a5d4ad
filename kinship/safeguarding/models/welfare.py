"""Incidents (DSO 11, DSO 12, DSO 19, DSO Annex A), wellbeing follow-ups (PF 4.17, PF 4.18) and the record of
deadline reminders and escalations sent to staff (``DeadlineNotice``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.bookings.models import Booking
from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment
from kinship.people.models import Resident

__all__ = [
    "DeadlineNotice",
    "DeadlineNoticeLevel",
    "Incident",
    "IncidentEvent",
    "IncidentReason",
    "IncidentSource",
    "IncidentStatus",
    "WellbeingFollowUp",
]


class IncidentReason(models.TextChoices):
    """The breaches of the terms in DSO Annex A, and a security risk (DSO 11); values match
    ``kinship.policy.TerminationReason``."""

    DRESS = "dress", _("Inappropriate dress")
    FOUL_OR_ABUSIVE_LANGUAGE = "foul_or_abusive_language", _("Foul or abusive language")
    SEXUALISED_BEHAVIOUR = "sexualised_behaviour", _("Sexualised behaviour")
    RECORDING_THE_CALL = "recording_the_call", _("Recording the call")
    UNLAWFUL_ACTIVITY = "unlawful_activity", _("Unlawful activity")
    SECURITY_RISK = "security_risk", _("Security risk")
    OTHER = "other", _("Other")


class IncidentSource(models.TextChoices):
    MANUAL = "manual", _("Reported by staff")
    TERMINATION = "termination", _("Call ended by staff")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open, awaiting triage")
    UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
    REFERRED_TO_POLICE = "referred_to_police", _("Referred to police")
    CLOSED = "closed", _("Closed")


class Incident(BaseModel):
    """An incident report routed to the security team (DSO 12, DSO 19)."""

    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="incidents")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="incidents")
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    source = models.CharField(max_length=16, choices=IncidentSource.choices, default=IncidentSource.MANUAL)
    reason = models.CharField(_("reason"), max_length=32, choices=IncidentReason.choices)
    details = models.TextField(_("what happened"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField()
    status = models.CharField(
        max_length=24, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    #: DSO Annex A: evidence of a criminal offence or of recording is passed to the police.
    police_referral = models.BooleanField(_("marked for police referral"), default=False)
    #: Set when the policy engine (``termination_outcome``) required the referral; it cannot then be unmarked.
    police_referral_required = models.BooleanField(default=False, editable=False)
    police_reference = models.CharField(_("police reference"), max_length=64, blank=True)
    body_worn_camera_used = models.BooleanField(_("body-worn camera used"), default=False)
    body_worn_camera_reference = models.CharField(_("footage reference"), max_length=100, blank=True)
    #: DSO Annex A: a breach may lead to a ban from booking future calls.
    ban_considered = models.BooleanField(_("booking ban considered"), default=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["establishment", "status"], name="incident_establishment_status")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()})"


class IncidentEvent(BaseModel):
    """One step in an incident's history, until it is closed."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=IncidentStatus.choices)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "created_at"]


class WellbeingFollowUp(BaseModel):
    """PF 4.17, PF 4.18: a call seemed to affect the person badly; the wing follows up until it is closed."""

    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="wellbeing_follow_ups"
    )
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="wellbeing_follow_ups")
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="wellbeing_follow_ups"
    )
    #: The wing or unit when the concern was recorded: the list it shows on.
    location = models.CharField(_("wing or location"), max_length=100, blank=True, db_index=True)
    observation = models.TextField(_("what staff saw"))
    acct_referral_noted = models.BooleanField(_("ACCT referral made or suggested"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    due_at = models.DateTimeField()
    outcome = models.TextField(_("outcome"), blank=True)
    acct_opened = models.BooleanField(_("an ACCT was opened"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["establishment", "closed_at"], name="wellbeing_establishment_open")]

    def __str__(self) -> str:
        return f"Wellbeing follow-up for {self.resident}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DeadlineNoticeLevel(models.TextChoices):
    REMINDER_24H = "reminder_24h", _("Reminder, 24 hours before")
    REMINDER_2H = "reminder_2h", _("Reminder, 2 hours before")
    ESCALATION = "escalation", _("Escalated, overdue")


class DeadlineNotice(BaseModel):
    """A reminder or escalation sent for one deadline, once per item, level and due time."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    item_id = models.CharField(max_length=64)
    level = models.CharField(max_length=16, choices=DeadlineNoticeLevel.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    role = models.CharField(max_length=32)
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "item_id", "level", "due_at"], name="deadline_notice_once_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.source} {self.item_id}"
