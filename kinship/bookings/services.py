"""Writes for bookings: publishing schedules, generating slots, holds, requests, approvals, rejections,
cancellations, call outcomes, the allowance ledger, extra-call grants and reviews.

Each service is keyword-only and runs in one ``transaction.atomic``: build facts (``facts``), ask the policy
engine, refuse with every failed reason (``BookingRefused``), write, and record one audit event in the same
transaction. Messages to the family (request received, approved, rejected, cancelled, changed) are written
in the same transaction and sent by the worker once it commits (``notifications.booking_notify``).

Concurrency: nothing may book a slot beyond its capacity or spend a resident's allowance twice, however many
requests arrive at once. Every service that changes what a slot or an allowance holds takes row locks in one
order — the Slot, then the Resident, then the Booking — before it counts or sums anything, so two requests for
the same slot or the same person run one after the other and never deadlock. (SQLite has no row locks; there
every write transaction starts IMMEDIATE, which serialises writers.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.audit.services import audit_record
from kinship.core.prepared import PreparedQuery, read_ahead
from kinship.establishments.models import Establishment, Terminal, TerminalKind
from kinship.notifications.models import Event as NotificationEvent
from kinship.notifications.services import booking_notify
from kinship.people.models import Contact, ContactLink, LinkStatus, Resident
from kinship.policy.time import local_date, require_aware

from . import facts as booking_facts
from .errors import BookingRefused, Problem, problems_from
from .models import (
    ACTIVE_STATUSES,
    AllowanceEntry,
    Booking,
    BookingParticipant,
    BookingPreference,
    BookingReview,
    BookingStatus,
    CallKind,
    CallOutcome,
    CancelledBy,
    ClosedDate,
    ExtraCallGrant,
    ExtraCallReason,
    Funding,
    LedgerReason,
    NonAttendanceCause,
    RejectionReason,
    ReviewOutcome,
    SessionTemplate,
    Slot,
    SlotHold,
    StaffRoster,
)
from .references import new_reference
from .selectors import booking_settings_for, month_bounds, places_left_in_month, residents_without_call

#: How long a chosen slot is kept while a request is completed, unless the establishment sets otherwise.
DEFAULT_HOLD_MINUTES = 10


@dataclass(frozen=True, slots=True)
class BookingResult:
    """A booking and the decision behind it: its warnings and notes (minutes left, short notice) are for the
    person who acted."""

    booking: Booking
    decision: policy.Decision
    #: Which of the requester's choices was booked: 1 the first (``slot``), 2 or 3 an alternative.
    preference: int = 1


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    require_aware(moment)
    return moment


# --- Schedules
# -------------------------------------------------------------------------------------------------


def _templates_in_force(establishment: Establishment, today: date) -> Any:
    return SessionTemplate.objects.filter(establishment=establishment).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )


def schedule_publish(
    *, establishment: Establishment, actor: User | None, now: datetime | None = None
) -> policy.Decision:
    """Publish the establishment's weekly schedule (every session in force today or later).

    Refuses an immigration detention schedule with a day under seven hours (DSO 7) and any session whose slots
    are not a length the profile allows (DSO Annex A: 30 to 60 minutes; PF 4.1 in prisons). Returns the
    decision, whose warnings (PF 4.2: no evening or weekend sessions) the schedule page shows.

    Interpretation: sessions with different validity windows are judged together as one week, the strictest
    reading of DSO 7 when an old and a new schedule overlap.
    """
    now = _now(now)
    today = local_date(now, booking_facts.timezone_of(establishment))
    with transaction.atomic():
        templates = list(
            _templates_in_force(establishment, today)
            .select_for_update()
            .select_related("room")
            .order_by("pk")
        )
        problems: list[Problem] = []
        if not templates:
            problems.append(Problem.booking("schedule.empty"))
        decision = policy.schedule_publishable(booking_facts.schedule_facts(establishment, templates))
        problems += problems_from(decision)
        profile = policy.Profile(establishment.profile)
        settings = establishment.policy_settings()
        rule_ids = set(decision.rule_ids)
        for template in templates:
            length = policy.slot_length_allowed(profile, settings, template.slot_minutes)
            rule_ids |= length.rule_ids
            for reason in length.refusals:
                problems.append(
                    Problem(
                        rule_id=reason.rule_id,
                        code=reason.code,
                        text=f"{template}: {reason.text}",
                        field="slot_minutes",
                    )
                )
        if problems:
            raise BookingRefused(problems)
        unpublished = [template for template in templates if template.published_at is None]
        SessionTemplate.objects.filter(pk__in=[template.pk for template in unpublished]).update(
            published_at=now
        )
        audit_record(
            action="schedule_published",
            actor=actor,
            subject=establishment,
            establishment_code=establishment.code,
            after={
                "sessions": [str(template) for template in templates],
                "newly_published": len(unpublished),
                "warnings": [reason.message for reason in decision.warnings],
            },
            policy_ids=rule_ids | {"DSO 7" if profile in policy.IMMIGRATION_PROFILES else "PF 4.2"},
            occurred_at=now,
        )
    return decision


# --- Slots
# -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotsGenerated:
    created: int
    updated: int


def slot_capacity(
    *, establishment: Establishment, terminals: int, supervising_officers: int, monitoring_officers: int
) -> int:
    """Calls a slot can hold: one per resident terminal in the room, none without a supervising officer
    (PF 4.7), and in prison profiles no more than the monitoring officers can watch (PF 4.7).

    Interpretation: PF 4.7 sets a ratio only for monitoring officers; a supervising officer opens the room and
    supervises its terminals. E-list calls need an officer alone (PF 4.22), which the booking decision checks.
    """
    if supervising_officers < 1:
        return 0
    if policy.Profile(establishment.profile) in policy.PRISON_PROFILES:
        return min(terminals, monitoring_officers * establishment.calls_per_monitoring_officer)
    return terminals


def _local_instant(day: date, wall: time, tz: Any) -> datetime | None:
    """``wall`` on ``day`` in ``tz`` as a UTC instant; ``None`` when the clocks skip it (spring forward).

    When the clocks go back the earlier of the two instants is taken (``fold=0``)."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=tz)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return instant


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


def _wall(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def slots_generate(
    *, establishment: Establishment, start: date, days: int, actor: User | None = None
) -> SlotsGenerated:
    """Create (or bring up to date) the slots of published sessions for ``days`` local days from ``start``.

    Idempotent: a slot is its room and start time, so running it again changes nothing unless the schedule,
    the terminals or the roster changed, in which case capacity and staffing are brought up to date. Closed
    dates get no slots. Slot times are wall-clock times on each day, so they keep their local time across the
    clock change.
    """
    tz = booking_facts.timezone_of(establishment)
    end = start + timedelta(days=days)
    with transaction.atomic():
        # One generation at a time per establishment; bookings never take this lock, so no lock cycle.
        Establishment.objects.select_for_update().filter(pk=establishment.pk).first()
        templates = list(
            SessionTemplate.objects.filter(
                establishment=establishment, published_at__isnull=False, room__active=True, valid_from__lt=end
            )
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
            .select_related("room")
        )
        closed: set[tuple[date, Any]] = set(
            ClosedDate.objects.filter(establishment=establishment, date__gte=start, date__lt=end).values_list(
                "date", "room_id"
            )
        )
        rosters: dict[tuple[Any, date], list[StaffRoster]] = {}
        for roster in StaffRoster.objects.filter(establishment=establishment, date__gte=start, date__lt=end):
            rosters.setdefault((roster.room_id, roster.date), []).append(roster)
        terminals: dict[Any, int] = {}
        for room_id in Terminal.objects.filter(
            establishment=establishment, kind=TerminalKind.RESIDENT, active=True, revoked_at__isnull=True
        ).values_list("room_id", flat=True):
            terminals[room_id] = terminals.get(room_id, 0) + 1
        # A day either side: generous bounds in UTC, whatever the offset; slots are matched by room and start.
        existing = {
            (slot.room_id, slot.starts_at): slot
            for slot in Slot.objects.select_for_update().filter(
                establishment=establishment,
                starts_at__gte=datetime.combine(start - timedelta(days=1), time(0), tzinfo=UTC),
                starts_at__lt=datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC),
            )
        }
        to_create: list[Slot] = []
        to_update: list[Slot] = []
        fields = [
            "ends_at",
            "template",
            "capacity",
            "supervising_officers",
            "monitoring_officers",
            "legal_reserved",
            "open_to_residents",
            "open_to_contacts",
            "open_to_staff",
            "supports",
        ]
        for offset in range(days):
            day = start + timedelta(days=offset)
            for template in templates:
                if (
                    template.weekday != day.weekday()
                    or day < template.valid_from
                    or (template.valid_to is not None and day > template.valid_to)
                    or (day, None) in closed
                    or (day, template.room_id) in closed
                ):
                    continue
                first, last = _minutes(template.start), _minutes(template.end)
                for slot_start in range(first, last - template.slot_minutes + 1, template.slot_minutes):
                    slot_end = slot_start + template.slot_minutes
                    starts_at = _local_instant(day, _wall(slot_start), tz)
                    if starts_at is None:
                        continue
                    covering = [
                        roster
                        for roster in rosters.get((template.room_id, day), [])
                        if _minutes(roster.start) <= slot_start and slot_end <= _minutes(roster.end)
                    ]
                    supervising = sum(roster.supervising_officers for roster in covering)
                    monitoring = sum(roster.monitoring_officers for roster in covering)
                    values = {
                        "ends_at": starts_at + timedelta(minutes=template.slot_minutes),
                        "template": template,
                        "capacity": slot_capacity(
                            establishment=establishment,
                            terminals=terminals.get(template.room_id, 0),
                            supervising_officers=supervising,
                            monitoring_officers=monitoring,
                        ),
                        "supervising_officers": supervising,
                        "monitoring_officers": monitoring,
                        "legal_reserved": template.legal_reserved,
                        "open_to_residents": template.open_to_residents,
                        "open_to_contacts": template.open_to_contacts,
                        "open_to_staff": template.open_to_staff,
                        "supports": sorted(template.supports or []),
                    }
                    slot = existing.get((template.room_id, starts_at))
                    if slot is None:
                        slot = Slot(
                            establishment=establishment, room=template.room, starts_at=starts_at, **values
                        )
                        existing[(template.room_id, starts_at)] = slot
                        to_create.append(slot)
                    elif any(getattr(slot, name) != value for name, value in values.items()):
                        for name, value in values.items():
                            setattr(slot, name, value)
                        if slot not in to_update and slot not in to_create:
                            to_update.append(slot)
        Slot.objects.bulk_create(to_create)
        if to_update:
            Slot.objects.bulk_update(to_update, fields)
        if to_create or to_update:
            audit_record(
                action="slots_generated",
                actor=actor,
                subject=establishment,
                establishment_code=establishment.code,
                after={"from": start, "days": days, "created": len(to_create), "updated": len(to_update)},
                policy_ids=["PF 4.2", "PF 4.7"],
            )
    return SlotsGenerated(created=len(to_create), updated=len(to_update))


# --- Holds
# -----------------------------------------------------------------------------------------------------


def slot_hold(
    *,
    slot: Slot,
    held_by: User | None,
    resident: Resident | None = None,
    now: datetime | None = None,
    minutes: int | None = None,
) -> SlotHold:
    """Keep a place in ``slot`` while a request is completed; refuses when no place is left.

    Not audited: a hold decides nothing about anyone and lapses by itself; the request it leads to is."""
    now = _now(now)
    with transaction.atomic():
        locked = Slot.objects.select_for_update().get(pk=slot.pk)
        problems: list[Problem] = []
        if locked.starts_at <= now:
            problems.append(Problem.booking("slot.started"))
        elif booking_facts.slot_use(locked, now=now).left < 1:
            problems.append(Problem.booking("slot.full", rule_id="PF 4.2"))
        if problems:
            raise BookingRefused(problems)
        if minutes is None:
            minutes = booking_settings_for(locked.establishment).hold_minutes or DEFAULT_HOLD_MINUTES
        return SlotHold.objects.create(
            slot=locked, held_by=held_by, resident=resident, expires_at=now + timedelta(minutes=minutes)
        )


def slot_hold_release(*, hold: SlotHold, now: datetime | None = None) -> None:
    """Give a held place back at once (the person chose another time or left)."""
    now = _now(now)
    SlotHold.objects.filter(pk=hold.pk, released_at__isnull=True, converted_at__isnull=True).update(
        released_at=now
    )


# --- Booking requests
# ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Locked:
    slot: Slot
    resident: Resident
    establishment: Establishment


def _lock_slot(slot_id: Any) -> Slot:
    """The Slot row locked (only that row: ``of=("self",)``), with its establishment and room read in the same
    query, as every booking decision needs them."""
    return (
        Slot.objects.select_for_update(of=("self",)).select_related("establishment", "room").get(pk=slot_id)
    )


def _locked(slot: Slot, resident: Resident) -> _Locked:
    establishment = slot.establishment
    if resident.establishment_id == establishment.pk:
        resident.establishment = establishment  # the facts read its timezone; no second query for it
    return _Locked(slot=slot, resident=resident, establishment=establishment)


def _lock(slot_id: Any, resident_id: Any) -> _Locked:
    """The lock order every booking service follows: the Slot, then the Resident."""
    slot = _lock_slot(slot_id)
    return _locked(slot, Resident.objects.select_for_update().get(pk=resident_id))


def _funding(establishment: Establishment, kind: str, use_extra_grant: bool) -> str:
    """What pays: the allowance for social calls in prison profiles (PF 4.1) or a grant (PF 4.3); nothing in
    immigration detention, which has no allowance (DSO 3), nor for legal calls there (DSO 9)."""
    if policy.Profile(establishment.profile) not in policy.PRISON_PROFILES or kind != CallKind.SOCIAL:
        return Funding.NONE
    return Funding.EXTRA_GRANT if use_extra_grant else Funding.ALLOWANCE


def contact_problems(
    *,
    establishment: Establishment,
    resident: Resident,
    contacts: Sequence[Contact],
    day: date,
) -> list[Problem]:
    """What is wrong with the people on a request, besides what the policy engine checks: the same contact twice,
    a contact not linked (outside prisons), a booking ban, and a lead contact whose identity staff have not
    checked (the lead is who books and whose device the others join through)."""
    problems: list[Problem] = []
    if contacts and contacts[0].user_id is not None and contacts[0].identity_verified_at is None:
        problems.append(Problem.booking("contact.identity_not_checked", name=contacts[0].full_name))
    if len({contact.pk for contact in contacts}) != len(contacts):
        problems.append(Problem.booking("participants.repeated", field="participants"))
    prison = policy.Profile(establishment.profile) in policy.PRISON_PROFILES
    if not prison:
        # In prisons PF 4.12 (approved lists) says this, with its citation; elsewhere the link is the only
        # record that the contact knows this person.
        linked = set(
            ContactLink.objects.filter(
                resident=resident, contact__in=contacts, status=LinkStatus.APPROVED
            ).values_list("contact_id", flat=True)
        )
        problems += [
            Problem.booking("contact.not_linked", name=contact.full_name)
            for contact in contacts
            if contact.pk not in linked
        ]
    for contact in contacts:
        if contact.booking_banned_until is not None and contact.booking_banned_until >= day:
            problems.append(
                Problem.booking(
                    "contact.booking_banned",
                    rule_id="" if prison else "DSO Annex A",
                    name=contact.full_name,
                    until=f"{contact.booking_banned_until:%d %B %Y}",
                )
            )
    return problems


def _reasons_json(decision: policy.Decision) -> list[dict[str, str | None]]:
    return [Problem.from_reason(reason).as_json() for reason in decision.reasons]


def _snapshot(booking: Booking) -> dict[str, Any]:
    return {
        "reference": booking.reference,
        "status": booking.status,
        "slot": str(booking.slot_id),
        "starts_at": booking.slot.starts_at,
        "resident": str(booking.resident_id),
        "lead_contact": str(booking.lead_contact_id),
        "kind": booking.kind,
        "funding": booking.funding,
        "requested_by": booking.requested_by,
        "rejection_reason": booking.rejection_reason,
        "cancelled_by": booking.cancelled_by,
        "status_reason": booking.status_reason,
    }


def _evaluate(
    *,
    locked: _Locked,
    contacts: Sequence[Contact],
    kind: str,
    channel: str,
    funding: str,
    now: datetime,
    use: booking_facts.SlotUse,
    month: str,
    ignore_booking: Booking | None = None,
    usage: policy.AllowanceUsage | None = None,
) -> policy.Decision:
    return booking_facts.booking_decision(
        establishment=locked.establishment,
        resident=locked.resident,
        slot=locked.slot,
        use=use,
        contacts=contacts,
        kind=kind,
        channel=channel,
        funding=funding,
        now=now,
        month=month,
        usage=usage,
        ignore_booking=ignore_booking,
    )


def _create_with_reference(**fields: Any) -> Booking:
    # The reference is random; on the rare clash draw again, inside a savepoint so the transaction survives.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Booking.objects.create(reference=new_reference(), **fields)
        except IntegrityError:
            if Booking.objects.filter(pk=fields["id"]).exists():
                raise
    raise RuntimeError("could not draw an unused booking reference")


@dataclass(frozen=True, slots=True)
class _Request:
    """What a booking request asks for, as ``_request_problems`` judges it."""

    contacts: Sequence[Contact]
    kind: str
    channel: str
    funding: str
    month: str


class _SlotFull(Exception):
    """Raised when the slot has no place left: seen by the unlocked read before the transaction (the usual
    case in a rush), or inside ``booking_request``'s transaction with the slot locked.

    Such a request is refused whatever else is true, so there is nothing to decide: only to explain. Raising
    rolls the transaction back (or, inside an outer one, back to its savepoint), which releases the slot's row
    lock at once (PostgreSQL releases locks taken after a savepoint when it is rolled back) without taking the
    Resident's. The reasons are then read without holding either, and are the same list as before: every
    reason that applies, with ``slot.full`` judged under the lock. Before this, each request for a full slot
    held the slot (and its person's) lock while it built every fact and asked the engine, so everyone after
    it for that slot, or for that person, waited in line."""

    def __init__(self, use: booking_facts.SlotUse) -> None:
        super().__init__("slot full")
        self.use = use


def _own_hold(
    hold: SlotHold | None, *, slot: Slot, resident: Resident, actor: User | None, now: datetime
) -> tuple[SlotHold | None, bool]:
    """The caller's live hold on ``slot`` (which the count of places leaves out), and whether the hold named
    is someone else's (``hold.not_yours``). A lapsed hold is no refusal in itself: the place is judged like any
    other."""
    if hold is None:
        return None, False
    current = SlotHold.objects.get(pk=hold.pk)
    if (
        current.slot_id != slot.pk
        or (current.held_by_id is not None and current.held_by_id != getattr(actor, "pk", None))
        or (current.resident_id is not None and current.resident_id != resident.pk)
    ):
        return None, True
    if current.released_at is None and current.converted_at is None and current.expires_at > now:
        return current, False
    return None, False


#: Any active booking of a person overlapping a time (compiled once, kinship.core.prepared).
_OVERLAPPING_BOOKING = PreparedQuery(
    lambda resident, starts, ends: (
        Booking.objects.filter(
            resident_id=resident,
            status__in=ACTIVE_STATUSES,
            slot__starts_at__lt=ends,
            slot__ends_at__gt=starts,
        )
        .order_by()
        .values_list("pk")[:1]
    ),
    resident=models.UUIDField(),
    starts=models.DateTimeField(),
    ends=models.DateTimeField(),
)
#: A slot with its establishment and room, as a booking decision reads it (compiled once).
_SLOT_WITH_PLACE = PreparedQuery(
    lambda slot: Slot.objects.filter(pk=slot).select_related("establishment", "room").order_by(),
    slot=models.UUIDField(),
)


def _read_with_place(slot: Slot) -> bool:
    """Whether ``slot`` was read with its establishment and room (as the contact API reads it, moments before):
    then it serves as the unlocked look at the slot below, and is not read a second time."""
    return Slot.establishment.is_cached(slot) and Slot.room.is_cached(slot)


def _request_problems(
    locked: _Locked,
    request: _Request,
    *,
    now: datetime,
    use: booking_facts.SlotUse,
    hold_refused: bool,
) -> tuple[list[Problem], policy.Decision, policy.AllowanceUsage]:
    """Every reason to refuse a request, booking's own first, then the engine's; with the engine's decision
    and the allowance usage it was made on. What it reads is read in one round trip (``read_ahead``)."""
    reads = booking_facts.decision_reads(locked.resident, request.contacts, month=request.month, now=now)
    overlap = {"resident": locked.resident.pk, "starts": locked.slot.starts_at, "ends": locked.slot.ends_at}
    with read_ahead([*reads, (_OVERLAPPING_BOOKING, overlap)]):
        return _judged(locked, request, now=now, use=use, hold_refused=hold_refused, overlap=overlap)


def _judged(
    locked: _Locked,
    request: _Request,
    *,
    now: datetime,
    use: booking_facts.SlotUse,
    hold_refused: bool,
    overlap: dict[str, Any],
) -> tuple[list[Problem], policy.Decision, policy.AllowanceUsage]:
    """``_request_problems``' judgement, reading each fact where it is needed (from what was read ahead)."""
    establishment, slot, resident = locked.establishment, locked.slot, locked.resident
    problems: list[Problem] = []
    if resident.establishment_id != establishment.pk:
        problems.append(Problem.booking("slot.other_establishment"))
    if resident.released_at is not None and resident.released_at <= now:
        problems.append(Problem.booking("resident.released"))
    if not slot.open_to(request.channel):
        problems.append(Problem.booking("slot.channel", rule_id="PF 4.6"))
    if slot.legal_reserved and request.kind != CallKind.LEGAL:
        problems.append(Problem.booking("slot.legal_reserved", rule_id="DSO 9"))
    problems += contact_problems(
        establishment=establishment,
        resident=resident,
        contacts=request.contacts,
        day=local_date(slot.starts_at, booking_facts.timezone_of(establishment)),
    )
    if _OVERLAPPING_BOOKING.first(**overlap):
        problems.append(Problem.booking("resident.already_booked"))
    if hold_refused:
        problems.append(Problem.booking("hold.not_yours"))
    if use.left < 1:
        problems.append(Problem.booking("slot.full", rule_id="PF 4.2"))
    usage = booking_facts.allowance_usage(resident, request.month)
    decision = _evaluate(
        locked=locked,
        contacts=request.contacts,
        kind=request.kind,
        channel=request.channel,
        funding=request.funding,
        now=now,
        use=use,
        month=request.month,
        usage=usage,
    )
    problems += problems_from(decision)
    return problems, decision, usage


#: The most alternatives a request may name besides its first choice (issue 4: up to three preferences).
MAX_ALTERNATIVES = 2

_ORDINALS = {1: "first", 2: "second", 3: "third"}


def alternative_problems(
    *, slot: Slot, alternatives: Sequence[Slot], channel: str, now: datetime
) -> list[Problem]:
    """What is wrong with a request's second and third choices themselves: too many, repeated (or the first
    choice again), at another establishment, not open to this way of requesting, or already started. Whether
    one has a place, and the policy, are judged only if it is used."""
    problems: list[Problem] = []
    if len(alternatives) > MAX_ALTERNATIVES:
        problems.append(Problem.booking("preferences.too_many", field="alternatives", most=MAX_ALTERNATIVES))
    seen = {slot.pk}
    for rank, alternative in enumerate(alternatives[:MAX_ALTERNATIVES], start=2):
        which = _ORDINALS[rank]
        if alternative.pk in seen:
            problems.append(Problem.booking("preferences.repeated", field="alternatives", which=which))
            continue
        seen.add(alternative.pk)
        if alternative.establishment_id != slot.establishment_id:
            problems.append(
                Problem.booking("preferences.other_establishment", field="alternatives", which=which)
            )
        if not alternative.open_to(channel):
            problems.append(
                Problem.booking("preferences.channel", rule_id="PF 4.6", field="alternatives", which=which)
            )
        if alternative.starts_at <= now:
            problems.append(Problem.booking("preferences.started", field="alternatives", which=which))
    return problems


def _ranked(problems: Sequence[Problem], rank: int) -> list[Problem]:
    """``problems`` of the ``rank``-th choice, saying which choice each is about."""
    which = _ORDINALS[rank].capitalize()
    return [
        Problem(
            rule_id=problem.rule_id,
            code=problem.code,
            text=f"{which} choice: {problem.text}",
            field=problem.field,
        )
        for problem in problems
    ]


def _request_attempt(
    *,
    slot: Slot,
    resident: Resident,
    lead_contact: Contact,
    participants: Sequence[Contact],
    kind: str,
    channel: str,
    actor: User | None,
    hold: SlotHold | None,
    use_extra_grant: bool,
    now: datetime,
    alternatives: Sequence[Slot],
    first_choice: Slot,
) -> BookingResult:
    """One try at booking ``slot``: the locking and deciding ``booking_request`` describes. Raises
    ``BookingRefused`` with every reason when ``slot`` cannot be booked."""
    contacts = [lead_contact, *participants]
    own_hold, hold_refused = _own_hold(hold, slot=slot, resident=resident, actor=actor, now=now)
    # Most requests in a rush are for a time already taken: counted without a lock, they go straight to their
    # reasons instead of queueing for the slot's lock. The count is one statement, a consistent snapshot, so
    # "full" was true at that moment (a place freed later is for a later request); "not full" is counted again
    # under the lock below before anything is written.
    seen = slot if _read_with_place(slot) else _SLOT_WITH_PLACE.first(slot=slot.pk)
    if seen is None:
        raise Slot.DoesNotExist("Slot matching query does not exist.")
    # A legal call in immigration detention books ahead of other people's holds (DSO 9).
    priority = policy.booking_priority(policy.Profile(seen.establishment.profile), policy.CallKind(kind))
    seen_use = booking_facts.slot_use(seen, now=now, exclude_hold=own_hold, count_holds=priority == 0)
    try:
        if seen_use.left < 1:
            slot = seen
            raise _SlotFull(seen_use)
        with transaction.atomic():
            slot = _lock_slot(slot.pk)
            establishment = slot.establishment
            own_hold, hold_refused = _own_hold(hold, slot=slot, resident=resident, actor=actor, now=now)
            use = booking_facts.slot_use(slot, now=now, exclude_hold=own_hold, count_holds=priority == 0)
            if use.left < 1:
                raise _SlotFull(use)
            locked = _locked(slot, Resident.objects.select_for_update().get(pk=resident.pk))
            funding = _funding(establishment, kind, use_extra_grant)
            month = booking_facts.month_key(slot.starts_at, establishment)
            request = _Request(contacts=contacts, kind=kind, channel=channel, funding=funding, month=month)
            problems, decision, usage = _request_problems(
                locked, request, now=now, use=use, hold_refused=hold_refused
            )
            if problems:
                raise BookingRefused(problems)
            booking = _request_write(
                locked,
                request,
                lead_contact=lead_contact,
                participants=participants,
                actor=actor,
                own_hold=own_hold,
                decision=decision,
                usage=usage,
                now=now,
                alternatives=alternatives,
                first_choice=first_choice,
            )
    except _SlotFull as full:
        locked = _locked(slot, resident)
        establishment = locked.establishment
        request = _Request(
            contacts=contacts,
            kind=kind,
            channel=channel,
            funding=_funding(establishment, kind, use_extra_grant),
            month=booking_facts.month_key(slot.starts_at, establishment),
        )
        problems, _decision, _usage = _request_problems(
            locked, request, now=now, use=full.use, hold_refused=hold_refused
        )
        raise BookingRefused(problems) from None
    return BookingResult(booking=booking, decision=decision)


#: Refusals that say only that a time is taken (or held): a state of the timetable, not a judgement about the
#: people, and most of a rush; they are answered but not written to the audit chain (ADR 0006).
CAPACITY_CODES = frozenset({"slot.full", "hold.not_yours"})


def _audit_refusal(
    refused: BookingRefused,
    *,
    slot: Slot,
    resident: Resident,
    lead_contact: Contact,
    channel: str,
    actor: Any,
) -> None:
    """Every refusal that rests on a rule about the people (a ban, a restriction, the allowance, the terms...)
    is a decision: it is audited, with its reasons and citations, outside the request's rolled-back
    transaction (or inside the caller's, so a dry run that rolls back leaves nothing)."""
    codes = {problem.code for problem in refused.problems}
    if codes <= CAPACITY_CODES:
        return
    audit_record(
        action="booking_request_refused",
        actor=actor,
        subject=resident,
        establishment_code=slot.establishment.code,
        after={
            "slot": str(slot.pk),
            "starts_at": slot.starts_at,
            "lead_contact": str(lead_contact.pk),
            "channel": channel,
            "reasons": [problem.as_json() for problem in refused.problems],
        },
        policy_ids=refused.rule_ids,
    )


def booking_request(
    *,
    slot: Slot,
    resident: Resident,
    lead_contact: Contact,
    participants: Sequence[Contact] = (),
    kind: str = CallKind.SOCIAL,
    channel: str,
    actor: User | None = None,
    hold: SlotHold | None = None,
    use_extra_grant: bool = False,
    alternatives: Sequence[Slot] = (),
    now: datetime | None = None,
) -> BookingResult:
    """Request a call; see ``_booking_request``. A refusal that rests on more than the time being taken is
    audited (``_audit_refusal``) before it is raised."""
    try:
        return _booking_request(
            slot=slot,
            resident=resident,
            lead_contact=lead_contact,
            participants=participants,
            kind=kind,
            channel=channel,
            actor=actor,
            hold=hold,
            use_extra_grant=use_extra_grant,
            alternatives=alternatives,
            now=now,
        )
    except BookingRefused as refused:
        _audit_refusal(
            refused, slot=slot, resident=resident, lead_contact=lead_contact, channel=channel, actor=actor
        )
        raise


def _booking_request(
    *,
    slot: Slot,
    resident: Resident,
    lead_contact: Contact,
    participants: Sequence[Contact] = (),
    kind: str = CallKind.SOCIAL,
    channel: str,
    actor: User | None = None,
    hold: SlotHold | None = None,
    use_extra_grant: bool = False,
    alternatives: Sequence[Slot] = (),
    now: datetime | None = None,
) -> BookingResult:
    """Request a call in ``slot`` for ``resident`` with ``lead_contact`` (the main caller) and ``participants``.

    Refuses with every reason at once (``BookingRefused``): the policy engine's (access, participants,
    allowance, requester, staffing, notice, room, support, slot length) and booking's own (slot full, hold
    someone else's, slot not open to this channel or kept for legal calls). Otherwise the booking is made,
    the allowance debited (PF 4.1) or a grant used (PF 4.3), the hold converted, and the booking approved at
    once when the establishment auto-approves.

    ``alternatives`` are up to two more times, in order of preference (``alternative_problems`` judges them
    first). They are recorded with the booking (``BookingPreference``), not held. When the first choice is
    full and that is the only reason it is refused, each alternative is tried in turn, under the same locks
    in the same order, and the first that can be booked is; when none can, the refusal lists every choice's
    reasons, each saying which choice it is about. ``BookingResult.preference`` says which was booked.

    A legal call in immigration detention (DSO 9) books ahead of other people's holds, uses no allowance and
    is allowed while the detainee is suspended (DSO 18, the engine's decision).

    The places left are counted first, under the slot lock alone: a full slot is refused whatever else is true,
    so its reasons are gathered after letting go of the lock (``_SlotFull``) and only a request that could
    succeed locks the person and is decided under both locks.
    """
    now = _now(now)
    alternatives = list(alternatives)
    if alternatives:
        problems = alternative_problems(slot=slot, alternatives=alternatives, channel=channel, now=now)
        if problems:
            raise BookingRefused(problems)
    common: dict[str, Any] = {
        "resident": resident,
        "lead_contact": lead_contact,
        "participants": participants,
        "kind": kind,
        "channel": channel,
        "actor": actor,
        "use_extra_grant": use_extra_grant,
        "now": now,
        "alternatives": alternatives,
        "first_choice": slot,
    }
    try:
        return _request_attempt(slot=slot, hold=hold, **common)
    except BookingRefused as refused:
        if not alternatives or refused.codes != {"slot.full"}:
            raise
        reasons = _ranked(refused.problems, 1)
    for rank, alternative in enumerate(alternatives, start=2):
        try:
            result = _request_attempt(slot=alternative, hold=None, **common)
        except BookingRefused as refused:
            reasons += _ranked(refused.problems, rank)
        else:
            return BookingResult(booking=result.booking, decision=result.decision, preference=rank)
    raise BookingRefused(reasons)


def _request_write(
    locked: _Locked,
    request: _Request,
    *,
    lead_contact: Contact,
    participants: Sequence[Contact],
    actor: User | None,
    own_hold: SlotHold | None,
    decision: policy.Decision,
    usage: policy.AllowanceUsage,
    now: datetime,
    alternatives: Sequence[Slot] = (),
    first_choice: Slot | None = None,
) -> Booking:
    """Make the booking ``booking_request`` decided on, with both locks held, recording the requester's
    alternatives (ranks 2 and 3) in their order."""
    establishment, slot, funding, month = locked.establishment, locked.slot, request.funding, request.month
    booking_id = uuid.uuid4()
    if funding == Funding.ALLOWANCE:
        pattern = establishment.policy_settings().allowance_pattern
        assert pattern is not None  # the engine refuses an allowance booking without a pattern (PF 4.1)
        # The engine's own ledger step, a second guard on what the decision above allowed. ``usage`` was
        # summed from the ledger under the Resident lock, which every writer of this ledger takes: it is current.
        try:
            policy.charge(pattern, usage, str(booking_id), slot.minutes)
        except policy.PolicyRefusal as refusal:
            raise BookingRefused(problems_from(refusal.decision)) from refusal
    auto = booking_settings_for(establishment).auto_approve
    booking = _create_with_reference(
        id=booking_id,
        slot=slot,
        resident=locked.resident,
        lead_contact=lead_contact,
        kind=request.kind,
        funding=funding,
        requested_by=request.channel,
        requested_by_user=actor,
        status=BookingStatus.APPROVED if auto else BookingStatus.REQUESTED,
        requested_at=now,
        decided_at=now if auto else None,
        policy_reasons=_reasons_json(decision),
    )
    BookingParticipant.objects.bulk_create(
        BookingParticipant(booking=booking, contact=contact) for contact in participants
    )
    BookingPreference.objects.bulk_create(
        BookingPreference(booking=booking, slot=alternative, rank=rank)
        for rank, alternative in enumerate(alternatives, start=2)
    )
    preference = next(
        (rank for rank, alternative in enumerate(alternatives, start=2) if alternative.pk == slot.pk), 1
    )
    if funding == Funding.ALLOWANCE:
        AllowanceEntry.objects.create(
            resident=locked.resident,
            month=month,
            minutes=-slot.minutes,
            reason=LedgerReason.BOOKING,
            booking=booking,
            created_by=actor,
        )
    elif funding == Funding.EXTRA_GRANT:
        grant = (
            ExtraCallGrant.objects.filter(resident=locked.resident, month=month, booking__isnull=True)
            .order_by("granted_at")
            .first()
        )
        assert grant is not None  # the engine refuses when none is available (PF 4.3)
        booking.extra_grant = grant
        booking.save(update_fields=["extra_grant", "updated_at"])
    if own_hold is not None:
        SlotHold.objects.filter(pk=own_hold.pk).update(converted_at=now)
    audit_record(
        action="booking_approved_automatically" if auto else "booking_requested",
        actor=actor,
        subject=booking,
        establishment_code=establishment.code,
        after={
            **_snapshot(booking),
            **(
                {
                    "preference_used": preference,
                    "first_choice": str(first_choice.pk if first_choice is not None else slot.pk),
                    "alternatives": [str(alternative.pk) for alternative in alternatives],
                }
                if alternatives
                else {}
            ),
        },
        policy_ids=decision.rule_ids,
        occurred_at=now,
    )
    booking_notify(
        booking=booking,
        event=NotificationEvent.APPROVED if auto else NotificationEvent.REQUEST_RECEIVED,
    )
    return booking


def _lock_booking(booking: Booking) -> tuple[_Locked, Booking]:
    locked = _lock(booking.slot_id, booking.resident_id)
    current = Booking.objects.select_for_update().get(pk=booking.pk)
    current.slot = locked.slot
    current.resident = locked.resident
    return locked, current


def booking_approve(*, booking: Booking, actor: User, now: datetime | None = None) -> BookingResult:
    """Staff approve a request after deciding it again: circumstances may have changed since it was made.

    PF 4.8's notice is the notice the request gave when it was made, so it is not asked again."""
    now = _now(now)
    with transaction.atomic():
        locked, current = _lock_booking(booking)
        locked.slot.room  # noqa: B018 - loaded once for the facts
        problems: list[Problem] = []
        if current.status != BookingStatus.REQUESTED:
            raise BookingRefused([Problem.booking("booking.not_requested")])
        use = booking_facts.slot_use(locked.slot, now=now)
        own = booking_facts.SlotUse(
            capacity=use.capacity,
            bookings=use.bookings - 1,
            e_list_bookings=use.e_list_bookings - (1 if locked.resident.e_list else 0),
            holds=use.holds,
        )
        contacts = [
            current.lead_contact,
            *[link.contact for link in current.participant_links.select_related("contact")],
        ]
        decision = _evaluate(
            locked=locked,
            contacts=contacts,
            kind=current.kind,
            channel=current.requested_by,
            funding=current.funding,
            now=now,
            use=own,
            month=booking_facts.month_key(locked.slot.starts_at, locked.establishment),
            ignore_booking=current,
        )
        decision = policy.Decision.from_reasons(
            reason for reason in decision.reasons if reason.code != "booking.short_notice"
        )
        problems += problems_from(decision)
        if problems:
            raise BookingRefused(problems)
        before = _snapshot(current)
        current.status = BookingStatus.APPROVED
        current.decided_at = now
        current.decided_by = actor
        current.policy_reasons = _reasons_json(decision)
        current.save(update_fields=["status", "decided_at", "decided_by", "policy_reasons", "updated_at"])
        audit_record(
            action="booking_approved",
            actor=actor,
            subject=current,
            establishment_code=locked.establishment.code,
            before=before,
            after=_snapshot(current),
            policy_ids=decision.rule_ids,
            occurred_at=now,
        )
        booking_notify(booking=current, event=NotificationEvent.APPROVED)
    return BookingResult(booking=current, decision=decision)


def booking_move_to_preference(
    *, booking: Booking, slot: Slot, actor: User, now: datetime | None = None
) -> BookingResult:
    """Staff approve a request into one of its alternatives (``slot``, rank 2 or 3) instead of its first choice,
    which may now be full or closed.

    Locks the new slot, then the person, then the booking (ADR 0006's order; the old slot is not locked:
    leaving it only frees a place), and decides the request again for the new time, as ``booking_approve``
    does (its notice was given when it was made, so short notice is not asked again). The allowance debit
    moves with it as ledger entries, never an edit (PF 4.1): when the month or the minutes differ, what it
    held is credited back and the new slot's minutes debited in the new slot's month. Audited and notified
    as an approval."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(slot.pk, booking.resident_id)
        current = Booking.objects.select_for_update().select_related("lead_contact").get(pk=booking.pk)
        current.resident = locked.resident
        new_slot, establishment, resident = locked.slot, locked.establishment, locked.resident
        old_slot = Slot.objects.get(pk=current.slot_id)
        if current.status != BookingStatus.REQUESTED:
            raise BookingRefused([Problem.booking("booking.not_requested")])
        preference = BookingPreference.objects.filter(booking=current, slot=new_slot).first()
        if preference is None or new_slot.pk == current.slot_id:
            raise BookingRefused([Problem.booking("preferences.not_an_alternative")])
        problems: list[Problem] = []
        if new_slot.starts_at <= now:
            problems.append(Problem.booking("slot.started"))
        if not new_slot.open_to(current.requested_by):
            problems.append(Problem.booking("slot.channel", rule_id="PF 4.6"))
        if new_slot.legal_reserved and current.kind != CallKind.LEGAL:
            problems.append(Problem.booking("slot.legal_reserved", rule_id="DSO 9"))
        if resident.released_at is not None and resident.released_at <= now:
            problems.append(Problem.booking("resident.released"))
        if (
            Booking.objects.filter(
                resident=resident,
                status__in=ACTIVE_STATUSES,
                slot__starts_at__lt=new_slot.ends_at,
                slot__ends_at__gt=new_slot.starts_at,
            )
            .exclude(pk=current.pk)
            .exists()
        ):
            problems.append(Problem.booking("resident.already_booked"))
        use = booking_facts.slot_use(new_slot, now=now)
        if use.left < 1:
            problems.append(Problem.booking("slot.full", rule_id="PF 4.2"))
        old_month = booking_facts.month_key(old_slot.starts_at, establishment)
        month = booking_facts.month_key(new_slot.starts_at, establishment)
        if current.funding == Funding.EXTRA_GRANT and month != old_month:
            problems.append(Problem.booking("preferences.grant_month", rule_id="PF 4.3"))
        contacts = [
            current.lead_contact,
            *[link.contact for link in current.participant_links.select_related("contact")],
        ]
        decision = _evaluate(
            locked=locked,
            contacts=contacts,
            kind=current.kind,
            channel=current.requested_by,
            funding=current.funding,
            now=now,
            use=use,
            month=month,
            ignore_booking=current,
        )
        decision = policy.Decision.from_reasons(
            reason for reason in decision.reasons if reason.code != "booking.short_notice"
        )
        problems += problems_from(decision)
        if problems:
            raise BookingRefused(problems)
        before = _snapshot(current)
        moved_minutes = 0
        if current.funding == Funding.ALLOWANCE:
            held = AllowanceEntry.objects.filter(booking=current).aggregate(net=Sum("minutes"))["net"] or 0
            if month != old_month or -held != new_slot.minutes:
                pattern = establishment.policy_settings().allowance_pattern
                assert pattern is not None  # the engine refuses an allowance booking without a pattern
                usage = booking_facts.allowance_usage(resident, month)
                usage = policy.AllowanceUsage(
                    charges=tuple(item for item in usage.charges if item.booking_id != str(current.pk))
                )
                try:
                    policy.charge(pattern, usage, str(current.pk), new_slot.minutes)
                except policy.PolicyRefusal as refusal:
                    raise BookingRefused(problems_from(refusal.decision)) from refusal
                if held < 0:
                    AllowanceEntry.objects.create(
                        resident=resident,
                        month=old_month,
                        minutes=-held,
                        reason=LedgerReason.MOVED_TO_PREFERENCE,
                        booking=current,
                        created_by=actor,
                    )
                AllowanceEntry.objects.create(
                    resident=resident,
                    month=month,
                    minutes=-new_slot.minutes,
                    reason=LedgerReason.BOOKING,
                    booking=current,
                    created_by=actor,
                )
                moved_minutes = new_slot.minutes
        current.slot = new_slot
        current.status = BookingStatus.APPROVED
        current.decided_at = now
        current.decided_by = actor
        current.policy_reasons = _reasons_json(decision)
        current.save(
            update_fields=["slot", "status", "decided_at", "decided_by", "policy_reasons", "updated_at"]
        )
        audit_record(
            action="booking_approved_into_preference",
            actor=actor,
            subject=current,
            establishment_code=establishment.code,
            before=before,
            after={
                **_snapshot(current),
                "preference_used": preference.rank,
                "moved_from_slot": str(old_slot.pk),
                "allowance_moved": {"from": old_month, "to": month, "minutes": moved_minutes}
                if moved_minutes
                else None,
            },
            policy_ids=decision.rule_ids | ({"PF 4.1"} if moved_minutes else set()),
            occurred_at=now,
        )
        booking_notify(booking=current, event=NotificationEvent.APPROVED)
    return BookingResult(booking=current, decision=decision, preference=preference.rank)


def _credit(*, booking: Booking, reason: LedgerReason, actor: User | None) -> int:
    """Give back whatever the booking still holds of the allowance (PF 4.1), as a new ledger row; release its
    grant (PF 4.3). Returns the minutes given back."""
    if booking.extra_grant_id is not None:
        booking.extra_grant = None
        booking.save(update_fields=["extra_grant", "updated_at"])
    net = AllowanceEntry.objects.filter(booking=booking).aggregate(net=Sum("minutes"))["net"] or 0
    if net >= 0:
        return 0
    month = AllowanceEntry.objects.filter(booking=booking).values_list("month", flat=True).first()
    assert month is not None
    AllowanceEntry.objects.create(
        resident_id=booking.resident_id,
        month=month,
        minutes=-net,
        reason=reason,
        booking=booking,
        created_by=actor,
    )
    return -net


def booking_reject(
    *,
    booking: Booking,
    reason: RejectionReason,
    text: str = "",
    actor: User,
    now: datetime | None = None,
) -> Booking:
    """Turn a request down with a reason from the fixed list (and free text; required for OTHER). The minutes
    it reserved come back: a request that never became a call has spent nothing."""
    now = _now(now)
    with transaction.atomic():
        locked, current = _lock_booking(booking)
        problems: list[Problem] = []
        if current.status != BookingStatus.REQUESTED:
            problems.append(Problem.booking("booking.not_requested"))
        if reason == RejectionReason.OTHER and not text.strip():
            problems.append(Problem.booking("rejection.explain", field="text"))
        if problems:
            raise BookingRefused(problems)
        before = _snapshot(current)
        current.status = BookingStatus.REJECTED
        current.rejection_reason = reason
        current.status_reason = text.strip()
        current.decided_at = now
        current.decided_by = actor
        current.save(
            update_fields=[
                "status",
                "rejection_reason",
                "status_reason",
                "decided_at",
                "decided_by",
                "updated_at",
            ]
        )
        credited = _credit(booking=current, reason=LedgerReason.REQUEST_REJECTED, actor=actor)
        audit_record(
            action="booking_rejected",
            actor=actor,
            subject=current,
            establishment_code=locked.establishment.code,
            before=before,
            after={**_snapshot(current), "minutes_given_back": credited},
            policy_ids=["PF 4.1"] if credited else [],
            occurred_at=now,
        )
        booking_notify(booking=current, event=NotificationEvent.REJECTED)
    return current


_CANCELLATION_CAUSE: dict[str, policy.NonAttendanceCause] = {
    CancelledBy.RESIDENT: policy.NonAttendanceCause.CANCELLED_BY_RESIDENT,
    CancelledBy.CONTACT: policy.NonAttendanceCause.CANCELLED_BY_CONTACT,
    CancelledBy.ESTABLISHMENT: policy.NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT,
}

_REFUND_REASON: dict[policy.NonAttendanceCause, LedgerReason] = {
    policy.NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT: LedgerReason.CANCELLED_BY_ESTABLISHMENT,
    policy.NonAttendanceCause.TECHNICAL_FAILURE: LedgerReason.TECHNICAL_FAILURE,
}


def _open_review(booking: Booking, cause: policy.NonAttendanceCause, now: datetime) -> BookingReview:
    """PF 4.8: the call did not take place, so it is reviewed. A booking has one review: one already opened by a
    change of circumstance becomes (or, if closed, reopens as) the review of the missed call, keeping what it
    said before; nothing is dropped."""
    review = BookingReview.objects.select_for_update().filter(booking=booking).first()
    if review is None:
        return BookingReview.objects.create(
            booking=booking, cause=NonAttendanceCause(cause.value), opened_at=now
        )
    earlier = f"Earlier: {review.get_cause_display()}" + (f" ({review.reason})" if review.reason else "")
    review.cause = NonAttendanceCause(cause.value)
    review.reason = earlier
    if review.closed_at is not None:
        review.opened_at, review.outcome, review.new_booking, review.closed_at, review.closed_by = (
            now,
            "",
            None,
            None,
            None,
        )
    review.save()
    return review


def booking_cancel(
    *,
    booking: Booking,
    cancelled_by: CancelledBy,
    reason: str,
    actor: User | None,
    now: datetime | None = None,
) -> BookingResult:
    """Cancel a requested or approved call, with the reason the family is told (PF 4.8).

    An approved call that is cancelled opens a review (PF 4.8); its minutes come back only when the engine says
    so (PF 4.1: the establishment cancelled). Withdrawing a request that was never approved gives its
    minutes back and opens no review: no call was booked. The decision carries PF 4.8's warning when the
    establishment cancels at short notice."""
    now = _now(now)
    with transaction.atomic():
        locked, current = _lock_booking(booking)
        problems: list[Problem] = []
        if current.status not in ACTIVE_STATUSES:
            problems.append(Problem.booking("booking.not_active"))
        if not reason.strip():
            problems.append(Problem.booking("cancellation.explain", field="reason"))
        if problems:
            raise BookingRefused(problems)
        cause = _CANCELLATION_CAUSE[cancelled_by]
        decision = (
            policy.cancellation_notice(locked.slot.starts_at, now, locked.establishment.policy_settings())
            if cancelled_by == CancelledBy.ESTABLISHMENT
            else policy.ALLOWED
        )
        was_approved = current.status == BookingStatus.APPROVED
        before = _snapshot(current)
        current.status = BookingStatus.CANCELLED
        current.cancelled_by = cancelled_by
        current.status_reason = reason.strip()
        current.save(update_fields=["status", "cancelled_by", "status_reason", "updated_at"])
        credited = 0
        policy_ids = {"PF 4.8"} | decision.rule_ids
        if not was_approved:
            credited = _credit(booking=current, reason=LedgerReason.REQUEST_WITHDRAWN, actor=actor)
        else:
            if policy.gives_minutes_back(cause):
                credited = _credit(booking=current, reason=_REFUND_REASON[cause], actor=actor)
            _open_review(current, cause, now)
        if credited:
            policy_ids.add("PF 4.1")
        audit_record(
            action="booking_cancelled",
            actor=actor,
            subject=current,
            establishment_code=locked.establishment.code,
            before=before,
            after={**_snapshot(current), "minutes_given_back": credited, "review_opened": was_approved},
            policy_ids=policy_ids,
            occurred_at=now,
        )
        # PF 4.8: the family is told at once, with the reason.
        booking_notify(booking=current, event=NotificationEvent.CANCELLED)
    return BookingResult(booking=current, decision=decision)


def booking_outcome_record(
    *,
    booking: Booking,
    outcome: CallOutcome,
    note: str = "",
    actor: User,
    now: datetime | None = None,
) -> Booking:
    """Record what happened to an approved call at its time.

    A technical failure gives the minutes back (PF 4.1); so does a call staff ended early through nobody's
    fault, which the establishment in effect cut short (read as the establishment's cancellation of the rest).
    A failure to attend keeps them. A technical failure or failure to attend opens a review (PF 4.8)."""
    now = _now(now)
    with transaction.atomic():
        locked, current = _lock_booking(booking)
        problems: list[Problem] = []
        if current.status != BookingStatus.APPROVED:
            problems.append(Problem.booking("booking.not_approved"))
        if now < locked.slot.starts_at:
            problems.append(Problem.booking("booking.too_early"))
        if problems:
            raise BookingRefused(problems)
        before = _snapshot(current)
        cause: policy.NonAttendanceCause | None = None
        refund_cause: policy.NonAttendanceCause | None = None
        if outcome == CallOutcome.COMPLETED:
            current.status = BookingStatus.COMPLETED
        elif outcome == CallOutcome.ENDED_EARLY_NO_FAULT:
            current.status = BookingStatus.COMPLETED
            refund_cause = policy.NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT
        elif outcome == CallOutcome.TECHNICAL_FAILURE:
            current.status = BookingStatus.FAILED
            cause = refund_cause = policy.NonAttendanceCause.TECHNICAL_FAILURE
        else:
            current.status = BookingStatus.NO_SHOW
            cause = refund_cause = policy.NonAttendanceCause.FAILED_TO_ATTEND
        current.status_reason = note.strip()
        current.save(update_fields=["status", "status_reason", "updated_at"])
        credited = 0
        if refund_cause is not None and policy.gives_minutes_back(refund_cause):
            ledger_reason = (
                LedgerReason.ENDED_EARLY_NO_FAULT
                if outcome == CallOutcome.ENDED_EARLY_NO_FAULT
                else _REFUND_REASON[refund_cause]
            )
            credited = _credit(booking=current, reason=ledger_reason, actor=actor)
        if cause is not None:
            _open_review(current, cause, now)
        audit_record(
            action="booking_outcome_recorded",
            actor=actor,
            subject=current,
            establishment_code=locked.establishment.code,
            before=before,
            after={**_snapshot(current), "outcome": outcome, "minutes_given_back": credited},
            policy_ids=({"PF 4.1"} if credited else set()) | ({"PF 4.8"} if cause else set()),
            occurred_at=now,
        )
    return current


# --- Reviews
# ---------------------------------------------------------------------------------------------------


def booking_review_close(
    *,
    review: BookingReview,
    new_booking: Booking | None,
    reason: str = "",
    actor: User,
    now: datetime | None = None,
) -> BookingReview:
    """Close a review as rebooked (linked to the new booking) or not rebooked (with the reason) (PF 4.8)."""
    now = _now(now)
    with transaction.atomic():
        current = BookingReview.objects.select_for_update().select_related("booking").get(pk=review.pk)
        problems: list[Problem] = []
        if current.closed_at is not None:
            problems.append(Problem.booking("review.closed"))
        decision = policy.review_closure(
            rebooked=new_booking is not None,
            new_booking_id=str(new_booking.pk) if new_booking is not None else None,
            reason=reason,
        )
        problems += problems_from(decision)
        if new_booking is not None:
            if new_booking.pk == current.booking_id:
                problems.append(Problem.booking("review.same_booking", field="new_booking"))
            elif new_booking.resident_id != current.booking.resident_id:
                problems.append(Problem.booking("review.other_resident", field="new_booking"))
        if problems:
            raise BookingRefused(problems)
        current.outcome = ReviewOutcome.REBOOKED if new_booking is not None else ReviewOutcome.NOT_REBOOKED
        current.new_booking = new_booking
        current.reason = reason.strip()
        current.closed_at = now
        current.closed_by = actor
        current.save(
            update_fields=["outcome", "new_booking", "reason", "closed_at", "closed_by", "updated_at"]
        )
        audit_record(
            action="booking_review_closed",
            actor=actor,
            subject=current,
            establishment_code=current.booking.resident.establishment.code,
            after={
                "booking": current.booking.reference,
                "outcome": current.outcome,
                "new_booking": new_booking.reference if new_booking is not None else None,
                "reason": current.reason,
            },
            policy_ids=["PF 4.8"],
            occurred_at=now,
        )
        if new_booking is not None:
            # The family hears that the call that did not happen has a new time.
            old = current.booking
            booking_notify(
                booking=Booking.objects.select_related("slot__establishment", "resident").get(
                    pk=new_booking.pk
                ),
                event=NotificationEvent.CHANGED,
                reason=f"It replaces the call with reference {old.reference}, which did not take place.",
            )
    return current


# --- Extra calls
# -----------------------------------------------------------------------------------------------


def extra_call_grant(
    *,
    resident: Resident,
    reason: ExtraCallReason,
    notes: str = "",
    approver: User,
    month: str | None = None,
    now: datetime | None = None,
) -> ExtraCallGrant:
    """Grant one extra free call for ``month`` (default: this local month) (PF 4.3).

    Refused unless the engine allows it: a governor in prisons (any member of staff "as needed" in youth
    custody), a reason, and enough places left this month for everyone still without a call. The capacity
    count is read without locking every slot: it guards fairness, not a hard limit, and the grant's own call
    is still booked against capacity like any other."""
    now = _now(now)
    with transaction.atomic():
        locked = Resident.objects.select_for_update().select_related("establishment").get(pk=resident.pk)
        establishment = locked.establishment
        month = month or booking_facts.month_key(now, establishment)
        start, end = month_bounds(establishment, month)
        problems: list[Problem] = []
        profile = policy.Profile(establishment.profile)
        if profile not in policy.PRISON_PROFILES:
            problems.append(Problem.booking("grant.no_allowance", rule_id="DSO 3"))
        decision = policy.can_grant_extra_call(
            policy.ExtraCallFacts(
                establishment=booking_facts.establishment_facts(establishment, terms_version=""),
                approver=booking_facts.staff_facts(approver, establishment),
                reason=policy.ExtraCallReason(reason),
                notes=notes,
                slots_left_this_month=places_left_in_month(
                    establishment=establishment, month_start=start, month_end=end, now=now
                ),
                residents_without_call=residents_without_call(
                    establishment=establishment, month_start=start, month_end=end
                ),
            )
        )
        problems += problems_from(decision)
        if problems:
            raise BookingRefused(problems)
        grant = ExtraCallGrant.objects.create(
            resident=locked,
            month=month,
            reason=reason,
            notes=notes.strip(),
            approved_by=approver,
            granted_at=now,
        )
        audit_record(
            action="extra_call_granted",
            actor=approver,
            subject=grant,
            establishment_code=establishment.code,
            after={"resident": str(locked.pk), "month": month, "reason": reason, "notes": grant.notes},
            policy_ids=decision.rule_ids | {"PF 4.3"},
            occurred_at=now,
        )
    return grant
