"""Facts: frozen plain data describing everything a decision needs.

The Django side builds these from its models (one ``facts.py`` per app) and hands them to ``evaluate``. Facts
are records of what is true; they hold no behaviour beyond small derived values (is this ban active at that
moment?).

The fact types that ``evaluate`` accepts form a small hierarchy so that a bigger decision includes the smaller
ones: a booking is also a question about participants, which is also a question about the resident's access.
Rules register against the most general type they need and run for every more specific one::

    AccessFacts ── ParticipantFacts ─┬─ BookingFacts
                                     └─ CallFacts

All dataclasses are keyword-only so that long fact lists read clearly at the call site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from kinship.policy.time import LONDON, age_on, local_date, utc
from kinship.policy.vocabulary import (
    AllowancePattern,
    CallKind,
    EstablishmentType,
    ExtraCallReason,
    Funding,
    HarassmentControl,
    Profile,
    RecordKind,
    Requester,
    RequestModel,
    RestrictionKind,
    RiskOutcome,
    Role,
    Rule34Ground,
    SupportNeed,
    SuspensionReason,
    TerminationReason,
)


def _active(start: datetime, end: datetime | None, moment: datetime) -> bool:
    return utc(start) <= utc(moment) and (end is None or utc(moment) < utc(end))


# --- The establishment
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class EstablishmentSettings:
    """The numbers the policies leave to the establishment. Validate with ``validate_settings``."""

    #: PF 4.6: who may ask for a call.
    who_may_request: RequestModel = RequestModel.BOTH
    #: PF 4.1: the governor's allowance pattern. ``None`` in immigration detention, which has no allowance (DSO 3).
    allowance_pattern: AllowancePattern | None = AllowancePattern.ONE_60
    #: PF 4.13: most people who may join from outside (a large-family exception may raise it per person).
    max_outside_participants: int = 4
    #: PF 4.8: hours of notice the establishment gives when it cancels, and asks for on resident-requested bookings.
    notice_hours: int = 24
    #: PF 4.7: calls one monitoring officer watches at once.
    calls_per_monitoring_officer: int = 4
    #: Slot lengths offered, in minutes (PF 4.1 in prisons; 30 to 60 in immigration detention, DSO Annex A).
    slot_lengths: tuple[int, ...] = (30, 60)
    #: PF 4.19: the safer custody hotline shown to contacts.
    safer_custody_hotline: str = ""
    #: PF 4.20: days each kind of record is kept. A read-only mapping; excluded from the hash.
    retention_days: Mapping[RecordKind, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "retention_days", MappingProxyType(dict(self.retention_days)))


@dataclass(frozen=True, kw_only=True, slots=True)
class Establishment:
    id: str
    name: str
    profile: Profile
    type: EstablishmentType
    settings: EstablishmentSettings
    timezone: ZoneInfo = LONDON
    #: The version of the contact terms and conditions in force (PF 4.15).
    terms_version: str = "1"


@dataclass(frozen=True, kw_only=True, slots=True)
class Staff:
    id: str
    roles: frozenset[Role] = frozenset()

    def has(self, *roles: Role) -> bool:
        """Whether the person holds any of ``roles``."""
        return not self.roles.isdisjoint(roles)


# --- The person in custody
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CompactRecord:
    """The Communications Compact (prison) or centre compact (IRC) as recorded (PF 4.9, DSO 10, DSO 15)."""

    version: str
    language: str
    explained_by: str
    explained_at: datetime
    read: bool
    signed: bool
    interpreter_used: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskAssessment:
    outcome: RiskOutcome
    assessed_by: str
    assessed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Restriction:
    """A governor's decision to withhold or limit access (PF 4.4)."""

    kind: RestrictionKind
    ground: Rule34Ground
    rationale: str
    decided_by: str
    start: datetime
    review_on: date
    end: datetime | None = None
    #: For ``LIMIT``: the most people who may join from outside, the longest call and the most calls in a local
    #: calendar month (the month of the call, as for the allowance), each only if limited.
    max_participants: int | None = None
    max_call_minutes: int | None = None
    max_calls_per_month: int | None = None
    #: The person's calls must each be watched by a monitoring officer watching no other call.
    dedicated_monitor: bool = False

    def active_at(self, moment: datetime) -> bool:
        return _active(self.start, self.end, moment)


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactBan:
    """A temporary ban on calling one named person (PF 4.10)."""

    contact_id: str
    decided_by: str
    start: datetime
    review_on: date
    end: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        return _active(self.start, self.end, moment)


@dataclass(frozen=True, kw_only=True, slots=True)
class Suspension:
    """A suspension of a detainee's access (DSO 17, DSO 18)."""

    reason: SuspensionReason
    decided_by: str
    start: datetime
    #: ``None`` while open-ended.
    end: datetime | None = None
    compliance_authorised_by: str | None = None
    reviews: tuple[datetime, ...] = ()

    def active_at(self, moment: datetime) -> bool:
        return _active(self.start, self.end, moment)


@dataclass(frozen=True, kw_only=True, slots=True)
class Appeal:
    """A detainee's written appeal against a suspension (DSO 18)."""

    submitted_at: datetime
    decided_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Resident:
    """A person in custody: the facts about them that rules read."""

    id: str
    compact: CompactRecord | None = None
    compact_refused: bool = False
    #: Whether the person's English is enough to understand the compact (DSO 15); if not, ``languages`` matter.
    english_sufficient: bool = True
    languages: frozenset[str] = frozenset({"en"})
    eligibility_assessment: RiskAssessment | None = None
    harassment_controls: frozenset[HarassmentControl] = frozenset()
    individual_risk_assessment: RiskAssessment | None = None
    restrictions: tuple[Restriction, ...] = ()
    contact_bans: tuple[ContactBan, ...] = ()
    suspensions: tuple[Suspension, ...] = ()
    support_needs: frozenset[SupportNeed] = frozenset()
    e_list: bool = False
    #: Assessed as a Person Posing a Risk to Children (PF 4.16); then only ``approved_child_contacts`` may join.
    pprc: bool = False
    approved_child_contacts: frozenset[str] = frozenset()
    #: A governor-approved large-family exception to PF 4.13: the raised limit for this person.
    large_family_limit: int | None = None
    imminent_removal_directions: bool = False


# --- People outside
# -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Contact:
    id: str
    name: str
    date_of_birth: date
    on_phone_list: bool = False
    on_visits_list: bool = False
    #: A banned visitor may only be called with the responsible operational manager's recorded authorisation.
    banned_visitor: bool = False
    banned_visitor_authorised_by: str | None = None
    terms_version_accepted: str | None = None

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)


# --- Slots, rooms, staffing, allowance
# ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Room:
    id: str
    accessible: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Slot:
    """A time in a room, with what the establishment has rostered for it."""

    start: datetime
    end: datetime
    room: Room
    #: Support available in this slot for needs other than an accessible room (PF 4.5).
    supports: frozenset[SupportNeed] = frozenset()
    supervising_officers: int = 1
    monitoring_officers: int = 1
    #: Calls already booked at this time, other than E-list calls, and E-list calls (PF 4.7, PF 4.22).
    calls_booked: int = 0
    e_list_calls_booked: int = 0

    def __post_init__(self) -> None:
        if utc(self.end) <= utc(self.start):
            raise ValueError("a slot must end after it starts")

    @property
    def minutes(self) -> int:
        return int((utc(self.end) - utc(self.start)).total_seconds() // 60)


@dataclass(frozen=True, kw_only=True, slots=True)
class Charge:
    """Minutes of a booking charged to the monthly allowance."""

    booking_id: str
    minutes: int


@dataclass(frozen=True, kw_only=True, slots=True)
class AllowanceUsage:
    """The allowance charged in one local calendar month (PF 4.1)."""

    charges: tuple[Charge, ...] = ()

    @property
    def minutes(self) -> int:
        return sum(charge.minutes for charge in self.charges)

    @property
    def calls(self) -> int:
        return len(self.charges)


@dataclass(frozen=True, kw_only=True, slots=True)
class Monitor:
    """The monitoring terminal and officer watching a call (PF 4.21 to PF 4.23)."""

    officer: Staff
    terminal_registered: bool
    active: bool
    #: Other calls this officer is watching at the same time.
    other_calls_watched: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """One opening of the call service in a weekly schedule. ``weekday``: Monday is 0."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.end <= self.start:
            raise ValueError("a session must end after it starts")

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


# --- What evaluate() accepts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """Base of everything ``evaluate`` accepts. Subclasses say which profile they are about."""

    @property
    def profile(self) -> Profile:
        raise NotImplementedError("each kind of facts says which profile it is about")


@dataclass(frozen=True, kw_only=True, slots=True)
class EstablishmentFacts(Facts):
    """Facts about something happening at an establishment."""

    establishment: Establishment

    @property
    def profile(self) -> Profile:
        return self.establishment.profile


@dataclass(frozen=True, kw_only=True, slots=True)
class SettingsFacts(Facts):
    """An establishment's settings, checked before they are saved (``validate_settings``)."""

    profile: Profile
    settings: EstablishmentSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleFacts(Facts):
    """A weekly schedule about to be published (DSO 7, PF 4.2)."""

    profile: Profile
    sessions: tuple[Session, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactAccessFacts(EstablishmentFacts):
    """May this contact use the service at all (book or join)?"""

    contact: Contact


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessFacts(EstablishmentFacts):
    """May this person in custody have a call of this kind now?"""

    resident: Resident
    now: datetime
    call_kind: CallKind = CallKind.SOCIAL


@dataclass(frozen=True, kw_only=True, slots=True)
class ParticipantFacts(AccessFacts):
    """May these people join this person's call in this slot?"""

    slot: Slot
    main_contact: Contact
    additional_contacts: tuple[Contact, ...] = ()

    @property
    def contacts(self) -> tuple[Contact, ...]:
        return (self.main_contact, *self.additional_contacts)

    @property
    def call_date(self) -> date:
        """The local date of the call, on which ages are counted."""
        return local_date(self.slot.start, self.establishment.timezone)


@dataclass(frozen=True, kw_only=True, slots=True)
class BookingFacts(ParticipantFacts):
    """May this call be booked?"""

    requested_by: Requester
    #: Allowance already charged in the local calendar month of the slot (not of ``now``).
    usage: AllowanceUsage = AllowanceUsage()
    funding: Funding = Funding.ALLOWANCE
    extra_grants_available: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class CallFacts(ParticipantFacts):
    """May this call start, or go on? Evaluate again whenever monitoring or the room changes."""

    adult_check_recorded: bool = False
    monitor: Monitor | None = None
    recording_detected: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewingFacts(EstablishmentFacts):
    """May this member of staff open the monitoring view of a call, live or recorded?"""

    viewer: Staff
    terminal_registered: bool
    purpose: str
    now: datetime
    live: bool = True
    call_kind: CallKind = CallKind.SOCIAL
    #: For a recorded viewing: when the recording was made, and whether an investigation holds it.
    recorded_at: datetime | None = None
    held_for_investigation: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtraCallFacts(EstablishmentFacts):
    """May an extra free call be granted this month (PF 4.3)?"""

    approver: Staff
    reason: ExtraCallReason
    notes: str
    #: Slots left to book this month, and people in custody who have not yet had or booked a call this month.
    slots_left_this_month: int
    residents_without_call: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RestrictionFacts(EstablishmentFacts):
    """May this restriction be recorded (PF 4.4)?"""

    restriction: Restriction
    decided_by: Staff


@dataclass(frozen=True, kw_only=True, slots=True)
class SuspensionFacts(EstablishmentFacts):
    """May this suspension be made or kept (DSO 17, DSO 18)?"""

    suspension: Suspension
    decided_by: Staff


@dataclass(frozen=True, kw_only=True, slots=True)
class TerminationFacts(EstablishmentFacts):
    """May this member of staff end the call for this reason (DSO 11, DSO 12, DSO 19)?"""

    actor: Staff
    reason: TerminationReason
    details: str
    body_worn_camera_used: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class WellbeingConcernFacts(EstablishmentFacts):
    """Staff recording that a call seems to have affected a person badly (PF 4.17)."""

    actor: Staff
    observation: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WellbeingClosureFacts(EstablishmentFacts):
    """Closing a wellbeing follow-up (PF 4.18)."""

    actor: Staff
    outcome: str
    #: Whether an ACCT was opened; ``None`` until someone has considered it.
    acct_opened: bool | None


@dataclass(frozen=True, kw_only=True, slots=True)
class DeletionFacts(EstablishmentFacts):
    """May this record be deleted now (PF 4.20)?"""

    kind: RecordKind
    created_at: datetime
    now: datetime
    held_for_investigation: bool = False


__all__ = [
    "AccessFacts",
    "AllowanceUsage",
    "Appeal",
    "BookingFacts",
    "CallFacts",
    "Charge",
    "CompactRecord",
    "Contact",
    "ContactAccessFacts",
    "ContactBan",
    "DeletionFacts",
    "Establishment",
    "EstablishmentFacts",
    "EstablishmentSettings",
    "ExtraCallFacts",
    "Facts",
    "Monitor",
    "ParticipantFacts",
    "Resident",
    "Restriction",
    "RestrictionFacts",
    "RiskAssessment",
    "Room",
    "ScheduleFacts",
    "Session",
    "SettingsFacts",
    "Slot",
    "Staff",
    "Suspension",
    "SuspensionFacts",
    "TerminationFacts",
    "ViewingFacts",
    "WellbeingClosureFacts",
    "WellbeingConcernFacts",
]
