"""Bookings: weekly schedules and the slots made from them, holds, booking requests and bookings, the
monthly allowance ledger, extra-call grants and the reviews of calls that did not take place.

Times are stored in UTC (``starts_at``/``ends_at``); schedule times (``SessionTemplate.start``) are wall-clock
times in the establishment's timezone and are turned into instants only when slots are generated
(``services.slots_generate``), so a 10:00 session stays at 10:00 local time across the clock change.

Every write goes through ``services``; the models hold no business rules beyond their own shape.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment, Room
from kinship.people.models import Contact, Resident

# --- Vocabulary
# ------------------------------------------------------------------------------------------------


class RequestChannel(models.TextChoices):
    """Who put a request in (PF 4.6). Staff booking on a resident's behalf count as the resident's request."""

    RESIDENT = "resident", _("The person in custody")
    CONTACT = "contact", _("A contact")
    STAFF = "staff", _("Staff, on the person's behalf")


class CallKind(models.TextChoices):
    # Values match kinship.policy.CallKind.
    SOCIAL = "social", _("Social")
    LEGAL = "legal", _("Legal")
    OFFICIAL = "official", _("Official")


class Funding(models.TextChoices):
    # Values match kinship.policy.Funding, plus NONE where no allowance applies (DSO 3, DSO 9, PF 5.1).
    ALLOWANCE = "allowance", _("Monthly allowance (PF 4.1)")
    EXTRA_GRANT = "extra_grant", _("Extra call grant (PF 4.3)")
    NONE = "none", _("No allowance used")


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed (technical problem)")
    NO_SHOW = "no_show", _("Did not take place (failed to attend)")


#: Statuses that take a place in a slot and keep the allowance charged.
ACTIVE_STATUSES: tuple[str, ...] = (BookingStatus.REQUESTED, BookingStatus.APPROVED)


class RejectionReason(models.TextChoices):
    """Why staff turned a request down (the fixed list; free text adds detail)."""

    SLOT_UNAVAILABLE = "slot_unavailable", _("The time is no longer available")
    NO_STAFF = "no_staff", _("Not enough staff to run the call")
    CONTACT_NOT_APPROVED = "contact_not_approved", _("A participant is not on the approved list")
    RESTRICTION = "restriction", _("A restriction or ban applies")
    ALLOWANCE = "allowance", _("No allowance left this month")
    DUPLICATE = "duplicate", _("The same call was already requested")
    PARTICIPANT_DETAILS = "participant_details", _("The participants' details could not be checked")
    OTHER = "other", _("Another reason (explained below)")


class CancelledBy(models.TextChoices):
    """Who cancelled; this decides whether the minutes come back (PF 4.1) and is told to the family (PF 4.8)."""

    RESIDENT = "resident", _("The person in custody")
    CONTACT = "contact", _("A contact")
    ESTABLISHMENT = "establishment", _("The establishment")


class CallOutcome(models.TextChoices):
    """What happened to an approved call at its time."""

    COMPLETED = "completed", _("The call took place")
    ENDED_EARLY_NO_FAULT = "ended_early_no_fault", _("Staff ended it early, nobody's fault")
    TECHNICAL_FAILURE = "technical_failure", _("It failed for a technical reason")
    FAILED_TO_ATTEND = "failed_to_attend", _("Someone failed to attend")


class LedgerReason(models.TextChoices):
    """Why the allowance ledger moved (PF 4.1). Debits are negative minutes, credits positive."""

    BOOKING = "booking", _("Call booked")
    REQUEST_REJECTED = "request_rejected", _("Request rejected: minutes given back")
    REQUEST_WITHDRAWN = "request_withdrawn", _("Request withdrawn before approval: minutes given back")
    CANCELLED_BY_ESTABLISHMENT = "cancelled_by_establishment", _("Cancelled by the establishment")
    TECHNICAL_FAILURE = "technical_failure", _("Technical failure")
    ENDED_EARLY_NO_FAULT = "ended_early_no_fault", _("Ended early by staff, nobody's fault")
    MOVED_TO_PREFERENCE = "moved_to_preference", _("Request moved to another of its chosen times")


class ExtraCallReason(models.TextChoices):
    # Values match kinship.policy.ExtraCallReason (PF 4.3).
    RESIDENT_WELLBEING = "resident_wellbeing", _("Wellbeing of the person in custody")
    FAMILY_WELLBEING = "family_wellbeing", _("Wellbeing of their family")
    FAMILY_CANNOT_VISIT_FOR_HEALTH = (
        "family_cannot_visit_for_health",
        _("A family member cannot visit for health reasons"),
    )
    OTHER_EXCEPTIONAL = "other_exceptional", _("Other exceptional reason")
    AS_NEEDED = "as_needed", _("As needed (youth custody)")


class NonAttendanceCause(models.TextChoices):
    # Values match kinship.policy.NonAttendanceCause (PF 4.8).
    CANCELLED_BY_RESIDENT = "cancelled_by_resident", _("Cancelled by the person in custody")
    CANCELLED_BY_CONTACT = "cancelled_by_contact", _("Cancelled by a contact")
    CANCELLED_BY_ESTABLISHMENT = "cancelled_by_establishment", _("Cancelled by the establishment")
    FAILED_TO_ATTEND = "failed_to_attend", _("Failed to attend")
    TECHNICAL_FAILURE = "technical_failure", _("Technical failure")


class CircumstanceChange(models.TextChoices):
    """Changes of circumstance that flag future bookings for review (PF 4.8)."""

    RELEASED = "released", _("The person in custody was released")
    TRANSFERRED = "transferred", _("The person in custody was transferred")
    CONTACT_REMOVED = "contact_removed", _("A contact was removed from the approved list")
    CONTACT_REJECTED = "contact_rejected", _("A contact was rejected for the approved list")
    CONTACT_BANNED = "contact_banned", _("A ban on contacting someone by video (PF 4.10)")
    CONTACT_BOOKING_BAN = "contact_booking_ban", _("A contact was banned from booking (DSO Annex A)")
    RESTRICTION = "restriction", _("A new restriction (PF 4.4)")
    SUSPENSION = "suspension", _("A suspension (DSO 17)")
    DATE_CLOSED = "date_closed", _("The date was closed for calls")
    SESSION_CHANGED = "session_changed", _("The session was changed or removed")


# Why a booking is under review: a call that did not take place, or a change of circumstance (PF 4.8).
REVIEW_CAUSES = [*NonAttendanceCause.choices, *CircumstanceChange.choices]


class ReviewOutcome(models.TextChoices):
    REBOOKED = "rebooked", _("Rebooked")
    NOT_REBOOKED = "not_rebooked", _("Not rebooked")


# --- Settings
# --------------------------------------------------------------------------------------------------


class BookingSettings(BaseModel):
    """How an establishment handles requests. Kept here, not on the establishment, because only bookings read
    it; an establishment without a row uses the defaults (staff review every request)."""

    establishment = models.OneToOneField(
        Establishment, on_delete=models.CASCADE, related_name="booking_settings"
    )
    auto_approve = models.BooleanField(
        _("approve requests automatically when the rules allow them"),
        default=False,
        help_text=_("Otherwise booking staff review each request."),
    )
    hold_minutes = models.PositiveSmallIntegerField(_("minutes a chosen slot is held"), default=10)

    def __str__(self) -> str:
        return f"Booking settings for {self.establishment}"


# --- Schedules
# -------------------------------------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SessionTemplate(BaseModel):
    """One weekly opening of a room: every ``weekday`` from ``start`` to ``end`` (local), cut into slots."""

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="session_templates"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="session_templates")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start = models.TimeField(_("starts (local time)"))
    end = models.TimeField(_("ends (local time)"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length, minutes"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # Which request channels may use this session; PF 4.6 (the establishment's setting) decides within them.
    open_to_residents = models.BooleanField(_("the person in custody may request"), default=True)
    open_to_contacts = models.BooleanField(_("contacts may request"), default=True)
    open_to_staff = models.BooleanField(_("staff may book on the person's behalf"), default=True)
    legal_reserved = models.BooleanField(_("reserved for legal calls (DSO 9)"), default=False)
    #: PF 4.5 support needs (SupportNeed values) staff in this session can meet.
    supports = models.JSONField(_("support available"), default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="session_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="session_weekday_valid"),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gt=0), name="session_slot_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M} ({self.room})"


class ClosedDate(BaseModel):
    """A day with no calls (bank holiday, lockdown). ``room`` empty: the whole establishment."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="closed_dates")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.CASCADE, related_name="closed_dates"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} closed: {self.reason}"


class StaffRoster(BaseModel):
    """Staff rostered to a room for a window of a local day (PF 4.7). Entries covering a slot add up."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="staff_rosters")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="staff_rosters")
    date = models.DateField(_("date"))
    start = models.TimeField(_("from (local time)"))
    end = models.TimeField(_("to (local time)"))
    supervising_officers = models.PositiveSmallIntegerField(_("supervising officers"), default=0)
    monitoring_officers = models.PositiveSmallIntegerField(_("monitoring officers"), default=0)

    class Meta:
        ordering = ["date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="roster_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.date:%Y-%m-%d} {self.start:%H:%M}-{self.end:%H:%M}"


class Slot(BaseModel):
    """A bookable time in a room. ``capacity`` is how many calls may run in it at once (PF 4.2, PF 4.7)."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="slots")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="slots")
    template = models.ForeignKey(
        SessionTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=0)
    supervising_officers = models.PositiveSmallIntegerField(default=0)
    monitoring_officers = models.PositiveSmallIntegerField(default=0)
    legal_reserved = models.BooleanField(default=False)
    open_to_residents = models.BooleanField(default=True)
    open_to_contacts = models.BooleanField(default=True)
    open_to_staff = models.BooleanField(default=True)
    supports = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["starts_at", "room__name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "starts_at"], name="slot_unique_room_start"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["establishment", "starts_at"], name="slot_establishment_start")]

    def __str__(self) -> str:
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def open_to(self, channel: str) -> bool:
        return bool(getattr(self, CHANNEL_FIELDS[RequestChannel(channel)]))


#: The slot and session field saying whether each request channel may use it.
CHANNEL_FIELDS: dict[RequestChannel, str] = {
    RequestChannel.RESIDENT: "open_to_residents",
    RequestChannel.CONTACT: "open_to_contacts",
    RequestChannel.STAFF: "open_to_staff",
}


class SlotHold(BaseModel):
    """A slot kept for someone while they complete a request; it counts against capacity until it expires, is
    released, or becomes a booking."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="holds")
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="slot_holds"
    )
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.CASCADE, related_name="slot_holds"
    )
    expires_at = models.DateTimeField(db_index=True)
    released_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at"]

    def __str__(self) -> str:
        return f"Hold on {self.slot} until {self.expires_at:%H:%M}"


# --- Allowance and grants
# --------------------------------------------------------------------------------------


class ExtraCallGrant(BaseModel):
    """An extra free call for one local month (PF 4.3), used by at most one booking at a time."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="extra_call_grants")
    month = models.CharField(_("month (YYYY-MM)"), max_length=7, db_index=True)
    reason = models.CharField(_("reason"), max_length=40, choices=ExtraCallReason.choices)
    notes = models.TextField(_("details"), blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]

    def __str__(self) -> str:
        return f"Extra call for {self.resident} in {self.month}"


# --- Bookings
# --------------------------------------------------------------------------------------------------


class Booking(BaseModel):
    reference = models.CharField(_("reference"), max_length=9, unique=True)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="bookings")
    lead_contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="bookings_led")
    participants = models.ManyToManyField(
        Contact, through="BookingParticipant", related_name="bookings_joined", blank=True
    )
    kind = models.CharField(max_length=16, choices=CallKind.choices, default=CallKind.SOCIAL)
    funding = models.CharField(max_length=16, choices=Funding.choices, default=Funding.ALLOWANCE)
    extra_grant = models.OneToOneField(
        ExtraCallGrant, null=True, blank=True, on_delete=models.PROTECT, related_name="booking"
    )
    requested_by = models.CharField(max_length=16, choices=RequestChannel.choices)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.REQUESTED)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.CharField(max_length=32, choices=RejectionReason.choices, blank=True)
    cancelled_by = models.CharField(max_length=16, choices=CancelledBy.choices, blank=True)
    #: Free text explaining a rejection, cancellation or outcome, told to the family (PF 4.8).
    status_reason = models.TextField(blank=True)
    #: The policy reasons (rule id, code, message) behind the last decision, for staff and the family to read.
    policy_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["slot__starts_at", "reference"]
        indexes = [models.Index(fields=["resident", "status"], name="booking_resident_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingParticipant(BaseModel):
    """Someone joining from outside besides the lead contact (PF 4.13 to PF 4.16)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="participant_links")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="booking_participations")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "contact"], name="booking_participant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.booking}"


class AllowanceEntry(BaseModel):
    """One movement of a resident's monthly allowance (PF 4.1). Rows are only ever added: a balance is the sum
    of a month's rows, and a correction is another row."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="allowance_entries")
    month = models.CharField(_("month (YYYY-MM)"), max_length=7)
    minutes = models.IntegerField(help_text=_("Negative: minutes used. Positive: minutes given back."))
    reason = models.CharField(max_length=32, choices=LedgerReason.choices)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="allowance_entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "allowance entries"
        indexes = [models.Index(fields=["resident", "month"], name="allowance_resident_month")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(minutes=0), name="allowance_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.month}: {self.minutes:+d} ({self.get_reason_display()})"


class BookingReview(BaseModel):
    """PF 4.8: a call that did not take place, for staff to rebook or close with a reason."""

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="review")
    cause = models.CharField(max_length=32, choices=REVIEW_CAUSES)
    opened_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices, blank=True)
    new_booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="rebooked_from"
    )
    reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["opened_at"]

    def __str__(self) -> str:
        return f"Review of {self.booking}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class BookingPreference(BaseModel):
    """A requester's second or third choice of time (``rank`` 2 or 3); the first choice is the booking's slot.

    Alternatives are not held and take no place: ``booking_request`` books one only when the first choice is
    full, and staff may approve a request into one. When one was used, the booking's slot is its slot."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="preferences")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="preferences")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["booking", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "rank"], name="booking_preference_unique_rank"),
            models.UniqueConstraint(fields=["booking", "slot"], name="booking_preference_unique_slot"),
            models.CheckConstraint(
                condition=models.Q(rank__gte=2, rank__lte=3), name="booking_preference_rank_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Choice {self.rank} of {self.booking}: {self.slot}"
