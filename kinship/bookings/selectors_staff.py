"""Reads behind the staff booking pages: the schedule, the daily and weekly board of slots and bookings, the
request and review queues, a request's decision file (with the policy evaluation as it stands now), a resident's
allowance ledger, and the printable daily list for a wing.

List pages cost a fixed number of queries however many rows they show: everything they print is joined or
prefetched here. Days are local days in the establishment's timezone, turned into UTC bounds here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kinship import policy
from kinship.core.prepared import read_ahead
from kinship.establishments.models import Establishment, Room
from kinship.people.models import (
    CompactRecord,
    ContactLink,
    LinkStatus,
    Resident,
    RiskAssessment,
    RiskAssessmentKind,
)

from . import facts as booking_facts
from .errors import Problem, problems_from
from .models import (
    ACTIVE_STATUSES,
    AllowanceEntry,
    Booking,
    BookingParticipant,
    BookingPreference,
    BookingReview,
    BookingStatus,
    ClosedDate,
    ExtraCallGrant,
    RequestChannel,
    SessionTemplate,
    Slot,
    StaffRoster,
)
from .selectors import (
    allowance_entries,
    allowance_left_for,
    booking_requests_pending,
    extra_call_grants,
    slots_available,
    slots_with_use,
)


def day_bounds(establishment: Establishment, first: date, days: int = 1) -> tuple[datetime, datetime]:
    """[local midnight of ``first``, local midnight ``days`` later) as aware datetimes."""
    tz = booking_facts.timezone_of(establishment)
    last = first + timedelta(days=days)
    return (
        datetime(first.year, first.month, first.day, tzinfo=tz),
        datetime(last.year, last.month, last.day, tzinfo=tz),
    )


def local_today(establishment: Establishment, now: datetime) -> date:
    return now.astimezone(booking_facts.timezone_of(establishment)).date()


# --- Schedule ------------------------------------------------------------------------------------------------------


@dataclass
class RoomSchedule:
    room: Room
    sessions: list[SessionTemplate] = field(default_factory=list)


@dataclass
class Schedule:
    rooms: list[RoomSchedule]
    closed_dates: list[ClosedDate]
    roster: list[StaffRoster]
    unpublished: int
    #: What publishing would say now: DSO 7 / DSO Annex A refusals and the PF 4.2 warning.
    problems: list[Problem]
    warnings: list[Problem]


def schedule_for(establishment: Establishment, *, now: datetime) -> Schedule:
    """Every room with its weekly sessions, closed dates and roster entries from today, and what publishing the
    sessions in force would say (the engine's answer, read-only)."""
    today = local_today(establishment, now)
    rooms = list(
        Room.objects.filter(establishment=establishment)
        .prefetch_related(
            Prefetch(
                "session_templates",
                queryset=SessionTemplate.objects.filter(establishment=establishment).order_by(
                    "weekday", "start"
                ),
            )
        )
        .order_by("name")
    )
    in_force = [
        template
        for room in rooms
        for template in room.session_templates.all()
        if template.valid_to is None or template.valid_to >= today
    ]
    decision = policy.schedule_publishable(booking_facts.schedule_facts(establishment, in_force))
    problems = problems_from(decision)
    profile = policy.Profile(establishment.profile)
    settings = establishment.policy_settings()
    for template in in_force:
        for reason in policy.slot_length_allowed(profile, settings, template.slot_minutes).refusals:
            problems.append(
                Problem(rule_id=reason.rule_id, code=reason.code, text=f"{template}: {reason.text}")
            )
    return Schedule(
        rooms=[RoomSchedule(room=room, sessions=list(room.session_templates.all())) for room in rooms],
        closed_dates=list(
            ClosedDate.objects.filter(establishment=establishment, date__gte=today)
            .select_related("room")
            .order_by("date")
        ),
        roster=list(
            StaffRoster.objects.filter(establishment=establishment, date__gte=today)
            .select_related("room")
            .order_by("date", "start", "room__name")
        ),
        unpublished=sum(1 for template in in_force if template.published_at is None),
        problems=problems,
        warnings=[Problem.from_reason(reason) for reason in decision.warnings],
    )


# --- Daily and weekly board ----------------------------------------------------------------------------------------


@dataclass
class SlotRow:
    slot: Slot
    bookings: list[Booking]


@dataclass
class RoomDay:
    room: Room
    rows: list[SlotRow]

    @property
    def capacity(self) -> int:
        return sum(row.slot.capacity for row in self.rows)

    @property
    def places_left(self) -> int:
        return sum(max(0, row.slot.places_left) for row in self.rows)  # type: ignore[attr-defined]


@dataclass
class Day:
    day: date
    rooms: list[RoomDay]


def board(establishment: Establishment, *, first: date, days: int, now: datetime) -> list[Day]:
    """Each local day from ``first``: per room, each slot with its capacity, places left and bookings (every
    status, so a cancelled call still shows). Three queries whatever the number of slots and bookings."""
    start, end = day_bounds(establishment, first, days)
    tz = booking_facts.timezone_of(establishment)
    slots = list(
        slots_with_use(
            Slot.objects.filter(establishment=establishment, starts_at__gte=start, starts_at__lt=end)
            .select_related("room")
            .order_by("starts_at", "room__name"),
            now=now,
        )
    )
    by_slot: dict[Any, list[Booking]] = defaultdict(list)
    bookings = (
        Booking.objects.filter(slot__in=[slot.pk for slot in slots])
        .select_related("resident", "lead_contact")
        .prefetch_related(
            Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
        )
        .order_by("reference")
    )
    for booking in bookings:
        by_slot[booking.slot_id].append(booking)
    grouped: dict[date, dict[Any, RoomDay]] = {first + timedelta(days=n): {} for n in range(days)}
    for slot in slots:
        rooms = grouped.setdefault(slot.starts_at.astimezone(tz).date(), {})
        room_day = rooms.setdefault(slot.room_id, RoomDay(room=slot.room, rows=[]))
        room_day.rows.append(SlotRow(slot=slot, bookings=by_slot.get(slot.pk, [])))
    return [
        Day(day=day, rooms=sorted(rooms.values(), key=lambda item: item.room.name))
        for day, rooms in sorted(grouped.items())
    ]


# --- Request queue and decision file -------------------------------------------------------------------------------


def request_queue(establishment: Establishment) -> QuerySet[Booking]:
    """Pending requests, oldest first, with the resident, people, slot and any flag already joined."""
    return booking_requests_pending(establishment=establishment).select_related("review")


@dataclass
class Participant:
    name: str
    age: int
    lead: bool
    link: ContactLink | None


@dataclass
class RequestFile:
    """Everything staff need to decide a request."""

    booking: Booking
    participants: list[Participant]
    compact: CompactRecord | None
    eligibility: RiskAssessment | None
    individual_assessment: RiskAssessment | None
    allowance_left: policy.AllowanceLeft | None
    month: str
    places_left: int
    #: Every reason approving it now would be refused, each with its citation; empty when it may be approved.
    problems: list[Problem]
    warnings: list[Problem]
    notes: list[Problem]
    review: BookingReview | None


def approval_problems(booking: Booking, *, now: datetime) -> tuple[list[Problem], policy.Decision]:
    """The decision ``services.booking_approve`` would make now, without taking locks or writing: the request's
    own charge, grant and place are its own, and PF 4.8's notice is the notice the request gave."""
    slot, resident = booking.slot, booking.resident
    establishment = slot.establishment
    problems: list[Problem] = []
    if booking.status != BookingStatus.REQUESTED:
        problems.append(Problem.booking("booking.not_requested"))
    if resident.released_at is not None and resident.released_at <= now:
        problems.append(Problem.booking("resident.released"))
    if resident.establishment_id != establishment.pk:
        problems.append(Problem.booking("slot.other_establishment"))
    use = booking_facts.slot_use(slot, now=now)
    counted = booking.status in ACTIVE_STATUSES
    own = booking_facts.SlotUse(
        capacity=use.capacity,
        bookings=use.bookings - (1 if counted else 0),
        e_list_bookings=use.e_list_bookings - (1 if counted and resident.e_list else 0),
        holds=use.holds,
    )
    month = booking_facts.month_key(slot.starts_at, establishment)
    contacts = [booking.lead_contact, *[link.contact for link in booking.participant_links.all()]]
    with read_ahead(booking_facts.decision_reads(resident, contacts, month=month, now=now)):
        decision = booking_facts.booking_decision(
            establishment=establishment,
            resident=resident,
            slot=slot,
            use=own,
            contacts=contacts,
            kind=booking.kind,
            channel=booking.requested_by,
            funding=booking.funding,
            now=now,
            month=month,
            ignore_booking=booking,
        )
    decision = policy.Decision.from_reasons(
        reason for reason in decision.reasons if reason.code != "booking.short_notice"
    )
    return problems + problems_from(decision), decision


def booking_for_staff(establishment: Establishment) -> QuerySet[Booking]:
    """Bookings in this establishment's slots, with what a decision page shows."""
    return (
        Booking.objects.filter(slot__establishment=establishment)
        .select_related("slot__room", "slot__establishment", "resident__establishment", "lead_contact")
        .prefetch_related(
            Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
        )
    )


def preferences_of(booking: Booking) -> QuerySet[BookingPreference]:
    """A request's second and third choices of time, in order, with their rooms."""
    return BookingPreference.objects.filter(booking=booking).select_related("slot__room").order_by("rank")


def request_file(booking: Booking, *, now: datetime) -> RequestFile:
    resident = booking.resident
    establishment = booking.slot.establishment
    day = booking.slot.starts_at.astimezone(booking_facts.timezone_of(establishment)).date()
    contacts = [(booking.lead_contact, True)] + [
        (link.contact, False) for link in booking.participant_links.all()
    ]
    links = {
        link.contact_id: link
        for link in ContactLink.objects.filter(
            resident=resident, contact_id__in=[contact.pk for contact, _lead in contacts]
        )
    }
    assessments = RiskAssessment.objects.filter(resident=resident).order_by("-assessed_at")
    problems, decision = approval_problems(booking, now=now)
    month = booking_facts.month_key(booking.slot.starts_at, establishment)
    use = booking_facts.slot_use(booking.slot, now=now)
    return RequestFile(
        booking=booking,
        participants=[
            Participant(
                name=contact.full_name, age=contact.age_on(day), lead=lead, link=links.get(contact.pk)
            )
            for contact, lead in contacts
        ],
        compact=CompactRecord.objects.filter(resident=resident)
        .select_related("text", "explained_by")
        .order_by("-recorded_at")
        .first(),
        eligibility=assessments.filter(kind=RiskAssessmentKind.ELIGIBILITY).first(),
        individual_assessment=assessments.filter(kind=RiskAssessmentKind.INDIVIDUAL).first(),
        allowance_left=allowance_left_for(resident=resident, month=month),
        month=month,
        places_left=use.left,
        problems=problems,
        warnings=[Problem.from_reason(reason) for reason in decision.warnings],
        notes=[Problem.from_reason(reason) for reason in decision.notes],
        review=BookingReview.objects.filter(booking=booking).first(),
    )


def staff_requestable_slots(establishment: Establishment, *, now: datetime, days: int = 28) -> QuerySet[Slot]:
    """Slots staff may book on a person's behalf (PF 4.6) with a place left, from now for ``days`` days."""
    return slots_available(
        establishment=establishment,
        start=now,
        end=now + timedelta(days=days),
        now=now,
        channel=RequestChannel.STAFF,
    )


def approved_links(resident: Resident) -> QuerySet[ContactLink]:
    return (
        ContactLink.objects.filter(resident=resident, status=LinkStatus.APPROVED)
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name")
    )


def booking_by_reference_for(establishment: Establishment, reference: str) -> Booking | None:
    return booking_for_staff(establishment).filter(reference=reference.strip().upper()).first()


# --- Review queue --------------------------------------------------------------------------------------------------


def review_queue(establishment: Establishment) -> QuerySet[BookingReview]:
    """Open reviews (PF 4.8), oldest first: calls that did not take place and bookings flagged by a change of
    circumstance."""
    return (
        BookingReview.objects.filter(booking__slot__establishment=establishment, closed_at__isnull=True)
        .select_related("booking__slot__room", "booking__resident", "booking__lead_contact")
        .order_by("opened_at")
    )


def review_for(establishment: Establishment) -> QuerySet[BookingReview]:
    return BookingReview.objects.filter(booking__slot__establishment=establishment).select_related(
        "booking__slot__room", "booking__slot__establishment", "booking__resident", "booking__lead_contact"
    )


def rebooking_candidates(review: BookingReview, *, now: datetime) -> QuerySet[Booking]:
    """The same person's upcoming requested or approved calls other than this one: what a rebooking links to."""
    return (
        Booking.objects.filter(
            resident_id=review.booking.resident_id, status__in=ACTIVE_STATUSES, slot__starts_at__gt=now
        )
        .exclude(pk=review.booking_id)
        .select_related("slot__room")
        .order_by("slot__starts_at")
    )


# --- Allowance ledger ----------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    month: str
    entries: list[AllowanceEntry]
    minutes_used: int
    left: policy.AllowanceLeft | None
    grants: list[ExtraCallGrant]


def ledger_for(resident: Resident, *, month: str) -> Ledger:
    """The month's ledger rows with their reasons, and what is left, summed from the rows (PF 4.1)."""
    entries = list(allowance_entries(resident=resident, month=month))
    return Ledger(
        month=month,
        entries=entries,
        minutes_used=-sum(entry.minutes for entry in entries),
        left=allowance_left_for(resident=resident, month=month),
        grants=list(extra_call_grants(resident=resident, month=month).select_related("booking")),
    )


# --- Printable daily list ------------------------------------------------------------------------------------------


@dataclass
class ResidentCalls:
    resident: Resident
    bookings: list[Booking]


def locations(establishment: Establishment) -> list[str]:
    return list(
        Resident.objects.filter(establishment=establishment, released_at__isnull=True)
        .exclude(location="")
        .values_list("location", flat=True)
        .distinct()
        .order_by("location")
    )


def daily_list(establishment: Establishment, *, day: date, location: str = "") -> list[ResidentCalls]:
    """Each person (on ``location``, or everywhere) with their booked calls on ``day``, in time order."""
    start, end = day_bounds(establishment, day)
    bookings = (
        Booking.objects.filter(
            slot__establishment=establishment,
            slot__starts_at__gte=start,
            slot__starts_at__lt=end,
            status=BookingStatus.APPROVED,
        )
        .filter(Q(resident__location=location) if location else Q())
        .select_related("slot__room", "resident", "lead_contact")
        .prefetch_related(
            Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
        )
        .order_by("resident__location", "resident__last_name", "resident__first_name", "slot__starts_at")
    )
    people: dict[Any, ResidentCalls] = {}
    for booking in bookings:
        people.setdefault(booking.resident_id, ResidentCalls(resident=booking.resident, bookings=[]))
        people[booking.resident_id].bookings.append(booking)
    return list(people.values())
