"""Restrictions (PF 4.4), contact bans (PF 4.10), visitor and booking bans (PF 4.12, DSO Annex A), suspensions
(DSO 17, 18) and appeals (DSO 18).

Records are never deleted or rewritten when a decision changes: a lift or a review is its own row (or a
``lifted_at`` stamp), so the history of each decision stays readable. Services in ``services_restrictions``
write them; ``kinship.bookings.facts`` turns them into policy facts.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, Resident

__all__ = [
    "Appeal",
    "AppealDecision",
    "BannedVisitorAuthorisation",
    "ComplianceNotice",
    "ContactBan",
    "DecisionReview",
    "Restriction",
    "RestrictionKind",
    "ReviewOutcome",
    "Rule34Ground",
    "Suspension",
    "SuspensionReason",
    "VisitorBan",
    "VisitorBanKind",
]


class Rule34Ground(models.TextChoices):
    """Prison Rule 34(3)(b) / YOI Rule 9 grounds (the engine's ``Rule34Ground``)."""

    NATIONAL_SECURITY = "national_security", _("Interests of national security")
    CRIME = (
        "prevention_detection_investigation_prosecution_of_crime",
        _("Prevention, detection, investigation or prosecution of crime"),
    )
    PUBLIC_SAFETY = "public_safety", _("Interests of public safety")
    PRISON_SECURITY_GOOD_ORDER = (
        "prison_security_good_order_discipline",
        _("Securing or maintaining prison security or good order and discipline"),
    )
    HEALTH_OR_MORALS = "protection_of_health_or_morals", _("Protection of health or morals")
    REPUTATION_OF_OTHERS = "protection_of_reputation_of_others", _("Protection of the reputation of others")
    JUDICIARY = (
        "authority_and_impartiality_of_judiciary",
        _("Maintaining the authority and impartiality of the judiciary"),
    )
    RIGHTS_OF_OTHERS = (
        "protection_of_rights_and_freedoms_of_others",
        _("Protection of the rights and freedoms of any person"),
    )


class RestrictionKind(models.TextChoices):
    WITHHOLD = "withhold", _("Withhold video calls entirely")
    LIMIT = "limit", _("Limit video calls")


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", _("Continue unchanged")
    VARY = "vary", _("Continue with changes")
    LIFT = "lift", _("Lift now")


class SuspensionReason(models.TextChoices):
    """DSO 17. ``WIDER_NON_COMPLIANCE`` is offered so the engine can refuse it with its citation."""

    SECURITY = "security", _("Security of the video call service")
    SAFETY = "safety", _("Safety of people on or around the call")
    ACCEPTABLE_USE_BREACH = "acceptable_use_breach", _("Breach of the acceptable use policy")
    WIDER_NON_COMPLIANCE = "wider_non_compliance", _("Other non-compliance in the centre")


class AppealDecision(models.TextChoices):
    UPHELD = "upheld", _("Suspension upheld")
    OVERTURNED = "overturned", _("Suspension overturned")
    VARIED = "varied", _("Suspension varied")


class VisitorBanKind(models.TextChoices):
    #: PF 4.12: banned from social visits; a call with them needs the operational manager's authorisation.
    BANNED_VISITOR = "banned_visitor", _("Banned visitor (PF 4.12)")
    #: DSO Annex A: banned from booking future calls after a breach.
    BOOKING = "booking", _("Banned from booking calls (DSO Annex A)")


def _user_fk(related: str, *, null: bool = False) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name=related,
        null=null,
        blank=null,
    )


class Restriction(BaseModel):
    """PF 4.4: the governor withholds or limits a person's access on a Rule 34 / YOI Rule 9 ground."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="restrictions")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="restrictions")
    kind = models.CharField(max_length=16, choices=RestrictionKind.choices)
    ground = models.CharField(max_length=64, choices=Rule34Ground.choices)
    rationale = models.TextField(_("why the restriction is needed"))
    necessity_and_proportionality = models.TextField(_("why it is necessary and proportionate"))
    max_participants = models.PositiveSmallIntegerField(null=True, blank=True)
    max_call_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    max_calls_per_month = models.PositiveSmallIntegerField(null=True, blank=True)
    dedicated_monitor = models.BooleanField(_("calls need a dedicated monitoring officer"), default=False)
    decided_by = _user_fk("+")
    starts_at = models.DateTimeField()
    review_on = models.DateField(_("next review date"))
    ends_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = _user_fk("+", null=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.resident_id})"

    @property
    def effective_end(self) -> datetime | None:
        ends = [moment for moment in (self.ends_at, self.lifted_at) if moment is not None]
        return min(ends) if ends else None


class ContactBan(BaseModel):
    """PF 4.10: a temporary ban of one person in custody from calling one named contact."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="contact_bans")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="contact_bans")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="contact_bans")
    reason = models.TextField()
    decided_by = _user_fk("+")
    starts_at = models.DateTimeField()
    review_on = models.DateField(_("next review date"))
    ends_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = _user_fk("+", null=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"Ban {self.resident_id} -> {self.contact_id}"

    @property
    def effective_end(self) -> datetime | None:
        ends = [moment for moment in (self.ends_at, self.lifted_at) if moment is not None]
        return min(ends) if ends else None


class VisitorBan(BaseModel):
    """A contact banned at an establishment: as a visitor (PF 4.12) or from booking after a breach (DSO Annex
    A, which also sets ``Contact.booking_banned_until``)."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="visitor_bans")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="visitor_bans")
    kind = models.CharField(max_length=16, choices=VisitorBanKind.choices)
    reason = models.TextField()
    decided_by = _user_fk("+")
    starts_at = models.DateTimeField()
    until = models.DateField(_("banned until (inclusive)"))
    review_on = models.DateField(_("next review date"))
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = _user_fk("+", null=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contact_id}"


class BannedVisitorAuthorisation(BaseModel):
    """PF 4.12: the responsible operational manager's recorded authorisation to call a banned visitor."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="banned_visitor_authorisations"
    )
    ban = models.ForeignKey(VisitorBan, on_delete=models.PROTECT, related_name="authorisations")
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    authorised_by = _user_fk("+")
    authorised_at = models.DateTimeField()

    class Meta:
        ordering = ["-authorised_at"]

    def __str__(self) -> str:
        return f"Authorisation {self.resident_id} -> {self.contact_id}"


class Suspension(BaseModel):
    """DSO 17, 18: a detainee's social video calls suspended by the centre or deputy centre manager."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="suspensions")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="suspensions")
    reason = models.CharField(max_length=32, choices=SuspensionReason.choices)
    details = models.TextField(_("what happened"))
    decided_by = _user_fk("+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    #: DSO 18: needed before a suspension over 7 days takes effect beyond day 7.
    authorised_by = _user_fk("+", null=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    authorisation_note = models.TextField(blank=True)
    #: The compact's language when the notice was made (DSO 17: notice in their language where the compact was).
    notice_language = models.CharField(max_length=50, default="English")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = _user_fk("+", null=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"Suspension {self.resident_id} from {self.starts_at:%Y-%m-%d}"


class DecisionReview(BaseModel):
    """A review of a restriction, contact ban, visitor ban or suspension; exactly one of them is set."""

    restriction = models.ForeignKey(
        Restriction, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    contact_ban = models.ForeignKey(
        ContactBan, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    visitor_ban = models.ForeignKey(
        VisitorBan, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    suspension = models.ForeignKey(
        Suspension, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices)
    notes = models.TextField()
    next_review_on = models.DateField(null=True, blank=True)
    reviewed_by = _user_fk("+")
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        restriction__isnull=False,
                        contact_ban__isnull=True,
                        visitor_ban__isnull=True,
                        suspension__isnull=True,
                    )
                    | models.Q(
                        restriction__isnull=True,
                        contact_ban__isnull=False,
                        visitor_ban__isnull=True,
                        suspension__isnull=True,
                    )
                    | models.Q(
                        restriction__isnull=True,
                        contact_ban__isnull=True,
                        visitor_ban__isnull=False,
                        suspension__isnull=True,
                    )
                    | models.Q(
                        restriction__isnull=True,
                        contact_ban__isnull=True,
                        visitor_ban__isnull=True,
                        suspension__isnull=False,
                    )
                ),
                name="safeguarding_review_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.reviewed_at:%Y-%m-%d}"


class ComplianceNotice(BaseModel):
    """DSO 18: the in-app notice telling a compliance manager of a suspension and its reasons."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_notices"
    )
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="+")
    suspension = models.ForeignKey(Suspension, on_delete=models.CASCADE, related_name="notices")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


def appeal_scan_path(instance: Appeal, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"safeguarding/appeals/{instance.pk}/scan.{extension}"


class Appeal(BaseModel):
    """DSO 18: the detainee's written appeal against a suspension, and its decision."""

    suspension = models.ForeignKey(Suspension, on_delete=models.PROTECT, related_name="appeals")
    submitted_at = models.DateTimeField(_("when the appeal was received"))
    text = models.TextField(_("the appeal as written"), blank=True)
    scan = models.FileField(upload_to=appeal_scan_path, blank=True)
    scan_content_type = models.CharField(max_length=32, blank=True)
    recorded_by = _user_fk("+")
    #: Whether the detainee had imminent removal directions when the appeal came in (12-hour deadline).
    imminent_removal_directions = models.BooleanField(default=False)
    decision = models.CharField(max_length=16, choices=AppealDecision.choices, blank=True)
    decision_reasons = models.TextField(blank=True)
    varied_ends_at = models.DateTimeField(null=True, blank=True)
    decided_by = _user_fk("+", null=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"Appeal {self.suspension_id} ({self.submitted_at:%Y-%m-%d %H:%M})"
