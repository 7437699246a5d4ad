"""People: residents (people in custody), their contacts, the approved-contact links between them, compacts and
eligibility risk assessments. These records are the facts the policy engine decides on."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment


class SupportNeed(models.TextChoices):
    """PF 4.5: needs recorded so the call can be set up to meet them (PF 4.24: physical needs, accessible room)."""

    # Values match kinship.policy.SupportNeed so facts can be built without a translation table.
    LEARNING = "learning_or_cognitive", _("Learning or cognitive disability")
    PHYSICAL = "physical", _("Physical disability or mobility need")
    HEARING = "hearing", _("Hearing impairment")
    VISUAL = "visual", _("Visual impairment")
    TECHNICAL = "technical", _("Needs help using the technology")


class Resident(BaseModel):
    """A person in custody: prisoner, young person or detainee."""

    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="residents")
    identifier = models.CharField(
        _("prison number or Home Office reference"),
        max_length=32,
        unique=True,
        help_text=_("For example A1234BC."),
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    location = models.CharField(_("location"), max_length=100, blank=True, help_text=_("Wing, unit or cell."))
    language = models.CharField(_("preferred language"), max_length=50, default="English")
    support_needs = models.JSONField(_("support needs (PF 4.5)"), default=list, blank=True)
    support_notes = models.TextField(_("support notes"), blank=True)
    # Flags the policy engine reads.
    e_list = models.BooleanField(_("on the escape list (PF 4.22)"), default=False)
    pprc = models.BooleanField(_("person posing a risk to children (PF 4.16)"), default=False)
    harassment_measures = models.BooleanField(
        _("subject to MAPPA, a restraining order or a harassment measure (DSO 14)"), default=False
    )
    imminent_removal_directions = models.BooleanField(
        _("imminent removal directions (DSO 18)"), default=False
    )
    large_family_exception = models.BooleanField(
        _("governor-approved large family exception (PF 4.13)"), default=False
    )
    # Protected characteristics, optional, used only for fairness reports (PF 4.3).
    sex = models.CharField(_("sex"), max_length=30, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=60, blank=True)
    religion = models.CharField(_("religion or belief"), max_length=60, blank=True)
    disability = models.CharField(_("disability"), max_length=60, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # The PIN the person enters with their identifier on a resident terminal (PF 4.23), set by staff. Only a
    # hash made by Django's password hashers is kept; empty means no PIN is set and the terminal refuses.
    pin_hash = models.CharField(_("terminal PIN (hashed)"), max_length=256, blank=True, editable=False)
    pin_set_at = models.DateTimeField(_("terminal PIN set"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.identifier})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Contact(BaseModel):
    """Someone outside: family, friend or legal adviser. Adults who book have an account (``user``); children and
    others who only join through the lead contact's device may have none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact"
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("mobile phone number"), max_length=32, blank=True)
    identity_verified_at = models.DateTimeField(
        _("identity checked by staff"),
        null=True,
        blank=True,
        help_text=_("Set when staff accept the photo ID and photo the contact sent; needed to book calls."),
    )
    is_legal_adviser = models.BooleanField(_("legal adviser"), default=False)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    booking_banned_until = models.DateField(
        _("banned from booking until"), null=True, blank=True, help_text=_("After a breach (DSO Annex A).")
    )

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)


class ContactSource(models.TextChoices):
    """PF 4.12: contacts come from one of the two approved lists."""

    PHONE_LIST = "phone_list", _("Approved phone-contact list")
    VISITS_LIST = "visits_list", _("Approved social-visits list")


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REMOVED = "removed", _("Removed")


class ContactLink(BaseModel):
    """A contact on a resident's approved list. Made only by staff, after matching the details the contact gave
    with the resident's record; never automatically."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    relationship = models.CharField(_("relationship"), max_length=60)
    source = models.CharField(
        _("approved list (PF 4.12)"), max_length=16, choices=ContactSource.choices, blank=True
    )
    status = models.CharField(max_length=16, choices=LinkStatus.choices, default=LinkStatus.PENDING)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    child_contact_approved = models.BooleanField(
        _("on the approved child-contact list (PF 4.16)"), default=False
    )
    banned = models.BooleanField(_("banned (PF 4.10)"), default=False)
    # What the contact told us when asking to be linked, kept to show the matching staff did.
    requested_resident_name = models.CharField(max_length=200, blank=True)
    requested_resident_dob = models.DateField(null=True, blank=True)
    requested_resident_identifier = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["resident", "contact"], name="contact_link_unique")]

    def __str__(self) -> str:
        return f"{self.contact} → {self.resident} ({self.get_status_display()})"


class LinkRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for staff to check")
    MATCHED = "matched", _("Matched and linked")
    NOT_MATCHED = "not_matched", _("Could not be matched")


class LinkRequest(BaseModel):
    """A contact's request to be linked to a person in custody, with the details they know. Staff match it to a
    resident by name and date of birth, and only then create the ContactLink."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="link_requests")
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="link_requests")
    resident_first_name = models.CharField(_("their first name"), max_length=100)
    resident_last_name = models.CharField(_("their last name"), max_length=100)
    resident_date_of_birth = models.DateField(_("their date of birth"))
    resident_identifier = models.CharField(
        _("their prison number or reference, if you know it"), max_length=32, blank=True
    )
    relationship = models.CharField(_("your relationship to them"), max_length=60)
    status = models.CharField(
        max_length=16, choices=LinkRequestStatus.choices, default=LinkRequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    link = models.OneToOneField(
        ContactLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )

    class Meta:
        ordering = ["created_at"]


class CompactKind(models.TextChoices):
    PRISON = "prison", _("Communications compact (prisons, PF 4.9)")
    IRC = "irc", _("Centre compact (immigration detention, DSO 10)")


class CompactText(BaseModel):
    """A version of the compact's wording in one language."""

    kind = models.CharField(max_length=16, choices=CompactKind.choices)
    version = models.CharField(max_length=20)
    language = models.CharField(max_length=50)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "-published_at", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version", "language"], name="compact_text_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.language})"


class CompactOutcome(models.TextChoices):
    SIGNED = "signed", _("Explained, read and signed")
    REFUSED = "refused", _("Refused to sign (PF 4.11)")


class CompactRecord(BaseModel):
    """PF 4.9, DSO 10, DSO 15: the compact was explained, read and signed (or refused), in which language, with
    or without an interpreter, explained by whom, when."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="compacts")
    text = models.ForeignKey(CompactText, on_delete=models.PROTECT, related_name="records")
    outcome = models.CharField(max_length=16, choices=CompactOutcome.choices)
    language = models.CharField(_("language it was explained in"), max_length=50)
    interpreter_used = models.BooleanField(_("an interpreter was used"), default=False)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        get_latest_by = "recorded_at"


class RiskAssessmentKind(models.TextChoices):
    ELIGIBILITY = "eligibility", _("Eligibility risk assessment (PF 4.9)")
    INDIVIDUAL = "individual", _("Individual risk assessment (DSO 14)")


class RiskAssessmentOutcome(models.TextChoices):
    ALLOW = "allow", _("Access allowed")
    REFUSE = "refuse", _("Access refused")


class RiskAssessment(BaseModel):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="risk_assessments")
    kind = models.CharField(max_length=16, choices=RiskAssessmentKind.choices)
    outcome = models.CharField(max_length=16, choices=RiskAssessmentOutcome.choices)
    rationale = models.TextField(_("rationale"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(default=timezone.now)
    review_date = models.DateField(_("review date"), null=True, blank=True)

    class Meta:
        ordering = ["-assessed_at"]
        get_latest_by = "assessed_at"
