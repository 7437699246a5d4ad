"""Reads for the contact pages and the resident terminal: who a contact may book for, the times they may choose
(grouped by local day), the bookings a contact is on, the calls in a terminal's room, and the check that lists
every reason a request would be refused *before* it is made.

``request_problems`` writes nothing and takes no locks: it answers "what would ``services.booking_request`` say
now?" with the same facts and the same policy call, so a page can show all the reasons, with their citations,
while the person can still change their answers. The service decides again, under its locks, on submit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from kinship import policy
from kinship.core.prepared import read_ahead
from kinship.establishments.models import Establishment, Room
from kinship.people.models import Contact, ContactLink, LinkStatus, Resident
from kinship.policy.time import local_date

from . import facts as booking_facts
from .errors import Problem, problems_from
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingParticipant,
    BookingStatus,
    CallKind,
    Funding,
    Slot,
    SlotHold,
)
from .selectors import slots_available
from .services import contact_problems

#: How far ahead the pages offer times.
BOOKING_WINDOW_DAYS = 42


# --- Who may request
# ---------------------------------------------------------------------------------------------


def channel_open(establishment: Establishment, channel: str) -> bool:
    """PF 4.6: whether the establishment lets this requester (contact or resident) ask for calls."""
    model = establishment.policy_settings().who_may_request
    return model is policy.RequestModel.BOTH or model.value == channel


def links_for_contact(*, contact: Contact) -> QuerySet[ContactLink]:
    """The contact's approved, unbanned links to people still in custody: who they may book for."""
    return (
        ContactLink.objects.filter(
            contact=contact, status=LinkStatus.APPROVED, banned=False, resident__released_at__isnull=True
        )
        .select_related("resident__establishment")
        .order_by("resident__last_name", "resident__first_name")
    )


def link_for_contact(*, contact: Contact, resident_id: UUID | str) -> ContactLink | None:
    return links_for_contact(contact=contact).filter(resident_id=resident_id).first()


def other_contacts_of(*, resident: Resident, lead: Contact) -> QuerySet[ContactLink]:
    """Approved, unbanned contacts of ``resident`` other than ``lead``: who may join as extra participants
    (PF 4.12; the engine checks PF 4.13, PF 4.14 and PF 4.16 on the chosen set)."""
    return (
        ContactLink.objects.filter(resident=resident, status=LinkStatus.APPROVED, banned=False)
        .exclude(contact=lead)
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name")
    )


def contacts_for_resident(*, resident: Resident) -> QuerySet[ContactLink]:
    """Approved, unbanned contacts of ``resident`` with an account (a main caller must be able to join)."""
    return (
        ContactLink.objects.filter(
            resident=resident, status=LinkStatus.APPROVED, banned=False, contact__user__isnull=False
        )
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name")
    )


# --- Times
# -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    slots: list[Slot]


def slots_by_day(*, establishment: Establishment, channel: str, now: datetime) -> list[Day]:
    """Times with a place left, open to ``channel`` and not kept for legal calls, in the next
    ``BOOKING_WINDOW_DAYS`` days, grouped by the establishment's local day."""
    tz = booking_facts.timezone_of(establishment)
    slots = slots_available(
        establishment=establishment,
        start=now,
        end=now + timedelta(days=BOOKING_WINDOW_DAYS),
        now=now,
        channel=channel,
    ).filter(legal_reserved=False)
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(local_date(slot.starts_at, tz), []).append(slot)
    return [Day(day=day, slots=items) for day, items in days.items()]


def slot_for(*, establishment: Establishment, slot_id: UUID | str) -> Slot | None:
    return Slot.objects.filter(establishment=establishment, pk=slot_id).select_related("room").first()


def preference_used(*, booking: Booking) -> int:
    """Which of the requester's choices ``booking`` is in: 1 the first, 2 or 3 an alternative it fell back to."""
    rank = booking.preferences.filter(slot_id=booking.slot_id).values_list("rank", flat=True).first()
    return rank or 1


def hold_for(*, hold_id: UUID | str | None) -> SlotHold | None:
    return SlotHold.objects.filter(pk=hold_id).select_related("slot__room").first() if hold_id else None


def hold_is_live(hold: SlotHold | None, now: datetime) -> bool:
    return (
        hold is not None and hold.released_at is None and hold.converted_at is None and hold.expires_at > now
    )


# --- The check before submitting
# ---------------------------------------------------------------------------------


def request_problems(
    *,
    slot: Slot,
    resident: Resident,
    lead_contact: Contact,
    participants: Sequence[Contact] = (),
    channel: str,
    hold: SlotHold | None = None,
    actor_id: object = None,
    now: datetime,
) -> list[Problem]:
    """Every reason ``services.booking_request`` would refuse this social call now, without writing anything.

    Mirrors the service's own checks (establishment, release, channel, legal-only time, links and booking
    bans, a call already at that time, the hold, the place left) and asks the policy engine with the same
    facts. A hold that has lapsed is reported (``hold.expired``) so the person can choose a time again."""
    establishment = resident.establishment
    contacts = [lead_contact, *participants]
    problems: list[Problem] = []
    if slot.establishment_id != establishment.pk:
        problems.append(Problem.booking("slot.other_establishment"))
    if resident.released_at is not None and resident.released_at <= now:
        problems.append(Problem.booking("resident.released"))
    if not slot.open_to(channel):
        problems.append(Problem.booking("slot.channel", rule_id="PF 4.6"))
    if slot.legal_reserved:
        problems.append(Problem.booking("slot.legal_reserved", rule_id="DSO 9"))
    problems += contact_problems(
        establishment=establishment,
        resident=resident,
        contacts=contacts,
        day=local_date(slot.starts_at, booking_facts.timezone_of(establishment)),
    )
    if Booking.objects.filter(
        resident=resident,
        status__in=ACTIVE_STATUSES,
        slot__starts_at__lt=slot.ends_at,
        slot__ends_at__gt=slot.starts_at,
    ).exists():
        problems.append(Problem.booking("resident.already_booked"))
    own_hold: SlotHold | None = None
    if hold is not None:
        if (
            hold.slot_id != slot.pk
            or (hold.held_by_id is not None and hold.held_by_id != actor_id)
            or (hold.resident_id is not None and hold.resident_id != resident.pk)
        ):
            problems.append(Problem.booking("hold.not_yours"))
        elif hold_is_live(hold, now):
            own_hold = hold
        else:
            problems.append(Problem.booking("hold.expired", field="slot"))
    use = booking_facts.slot_use(slot, now=now, exclude_hold=own_hold)
    if use.left < 1:
        problems.append(Problem.booking("slot.full", rule_id="PF 4.2", field="slot"))
    month = booking_facts.month_key(slot.starts_at, establishment)
    with read_ahead(booking_facts.decision_reads(resident, contacts, month=month, now=now)):
        decision = booking_facts.booking_decision(
            establishment=establishment,
            resident=resident,
            slot=slot,
            use=use,
            contacts=contacts,
            kind=CallKind.SOCIAL,
            channel=channel,
            # The service's funding for a social call: the allowance (PF 4.1) where there is one; the engine
            # ignores it where there is none (DSO 3).
            funding=Funding.ALLOWANCE,
            now=now,
            month=month,
        )
    problems += problems_from(decision)
    return problems


def _with_people(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    return bookings.select_related(
        "slot__room", "slot__establishment", "resident", "lead_contact"
    ).prefetch_related(
        Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
    )


def bookings_for_contact(*, contact: Contact) -> QuerySet[Booking]:
    """Every booking the contact is on, as the main caller or as a participant, and no other."""
    on_it = Q(lead_contact=contact) | Q(
        pk__in=BookingParticipant.objects.filter(contact=contact).values("booking_id")
    )
    return _with_people(Booking.objects.filter(on_it)).order_by("slot__starts_at", "reference")


def bookings_upcoming_for_contact(*, contact: Contact, now: datetime) -> QuerySet[Booking]:
    return bookings_for_contact(contact=contact).filter(slot__ends_at__gt=now, status__in=ACTIVE_STATUSES)


def bookings_past_for_contact(*, contact: Contact, now: datetime) -> QuerySet[Booking]:
    """Calls whose time has gone, and calls that will not happen (rejected, cancelled), newest first."""
    return (
        bookings_for_contact(contact=contact)
        .filter(Q(slot__ends_at__lte=now) | ~Q(status__in=ACTIVE_STATUSES))
        .order_by("-slot__starts_at", "reference")
    )


def booking_for_contact(*, contact: Contact, reference: str) -> QuerySet[Booking]:
    """At most the one booking, and only if the contact is on it (anything else gives 404)."""
    return bookings_for_contact(contact=contact).filter(reference=reference)


# --- Resident terminal
# ------------------------------------------------------------------------------------------


def room_calls(*, room: Room | None, now: datetime) -> tuple[Booking | None, list[Booking]]:
    """The approved call in ``room`` now (if any) and the next approved calls there later today (local)."""
    if room is None:
        return None, []
    tz = booking_facts.timezone_of(room.establishment)
    today = local_date(now, tz)
    end_of_day = datetime(today.year, today.month, today.day, tzinfo=tz) + timedelta(days=1)
    bookings = list(
        Booking.objects.filter(
            slot__room=room,
            status=BookingStatus.APPROVED,
            slot__ends_at__gt=now,
            slot__starts_at__lt=end_of_day,
        )
        .select_related("slot", "resident")
        .order_by("slot__starts_at", "reference")
    )
    current = next((booking for booking in bookings if booking.slot.starts_at <= now), None)
    following = [booking for booking in bookings if booking.slot.starts_at > now][:5]
    return current, following


def resident_at(*, establishment: Establishment, identifier: str) -> Resident | None:
    """A person in custody here by their identifier (any case), or None."""
    return (
        Resident.objects.filter(
            establishment=establishment, identifier__iexact=identifier.strip(), released_at__isnull=True
        )
        .select_related("establishment")
        .first()
    )


def resident_for_terminal(*, establishment: Establishment, resident_id: UUID | str) -> Resident | None:
    return (
        Resident.objects.filter(establishment=establishment, pk=resident_id, released_at__isnull=True)
        .select_related("establishment")
        .first()
    )


def upcoming_for_resident(*, resident: Resident, now: datetime) -> QuerySet[Booking]:
    return _with_people(
        Booking.objects.filter(resident=resident, slot__ends_at__gt=now, status__in=ACTIVE_STATUSES)
    ).order_by("slot__starts_at")


def only_full(problems: Sequence[Problem]) -> bool:
    """Whether a first choice is refused only because it is fully booked (its hold lapsed or not), which leaves
    a request's other choices to try."""
    codes = {problem.code for problem in problems}
    return "slot.full" in codes and codes <= {"slot.full", "hold.expired"}
