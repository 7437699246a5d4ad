"""Writes behind the staff booking pages: the schedule editor (sessions, closed dates, the staff roster,
publishing with a rolling window of slots), changes of circumstance that flag bookings for review (PF 4.8),
recording a release or transfer, and staff cancellations of a flagged booking.

Every service is keyword-only, runs in one ``transaction.atomic`` and records its audit events in it. The core
booking writes (request, approve, reject, cancel, review close, grants) stay in ``services``; these call them.
Lock order is the one ``services`` follows: Slot rows before Booking rows, never the other way round.

Interpretation (PF 4.8, "changes in circumstances ... flag every future booking they touch for review"): a flag
is a ``BookingReview`` on the booking, with the change as its cause, opened while the booking is still requested
or approved. Staff close it like any review: rebooked (linked to the new booking) or not rebooked with the reason
(the call goes ahead as booked, or it was cancelled). A booking has one review, so a second change adds to the
open review, and a change after a closed flag reopens it: nothing is ever silently kept or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kinship import policy
from kinship.accounts.models import User
from kinship.audit.services import audit_record
from kinship.establishments.models import Establishment, Room
from kinship.people.models import Contact, Resident
from kinship.policy.time import local_date, require_aware

from . import facts as booking_facts
from .errors import BookingRefused, Problem
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingReview,
    BookingStatus,
    CancelledBy,
    CircumstanceChange,
    ClosedDate,
    SessionTemplate,
    Slot,
    StaffRoster,
)
from .services import (
    BookingResult,
    SlotsGenerated,
    booking_cancel,
    booking_request,
    booking_review_close,
    schedule_publish,
    slots_generate,
)

#: How many local days of slots publishing makes bookable (the rolling window, PF 4.2).
ROLLING_WINDOW_DAYS = 28


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    require_aware(moment)
    return moment


# --- Change of circumstances ---------------------------------------------------------------------------------------


def _flag_bookings(
    *, bookings: QuerySet[Booking], cause: CircumstanceChange, note: str, actor: User | None, now: datetime
) -> list[BookingReview]:
    """Open (or add to, or reopen) a review on each booking; one audit event per booking. The bookings' rows are
    locked first, so a flag and a cancellation of the same booking run one after the other."""
    ids = list(bookings.values_list("pk", flat=True))
    if not ids:
        return []
    locked = list(
        Booking.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status__in=ACTIVE_STATUSES)
        .select_related("slot__establishment")
        .order_by("pk")
    )
    existing = {
        review.booking_id: review
        for review in BookingReview.objects.select_for_update().filter(booking_id__in=[b.pk for b in locked])
    }
    description = f"{cause.label}: {note.strip()}" if note.strip() else str(cause.label)
    reviews: list[BookingReview] = []
    for booking in locked:
        review = existing.get(booking.pk)
        before: dict[str, Any] = {}
        if review is None:
            review = BookingReview.objects.create(
                booking=booking, cause=cause, opened_at=now, reason=description
            )
        elif review.closed_at is None:
            before = {"cause": review.cause, "reason": review.reason}
            review.reason = f"{review.reason}\n{description}".strip()
            review.save(update_fields=["reason", "updated_at"])
        else:
            before = {"cause": review.cause, "outcome": review.outcome, "closed_at": review.closed_at}
            review.cause = cause
            review.opened_at = now
            review.outcome = ""
            review.new_booking = None
            review.reason = description
            review.closed_at = None
            review.closed_by = None
            review.save()
        audit_record(
            action="booking_flagged_for_review",
            actor=actor,
            subject=booking,
            establishment_code=booking.slot.establishment.code,
            before=before,
            after={"reference": booking.reference, "review": str(review.pk), "cause": cause, "note": note},
            policy_ids=["PF 4.8"],
            occurred_at=now,
        )
        reviews.append(review)
    return reviews


def bookings_flag_for_review(
    *,
    resident: Resident | None = None,
    contact: Contact | None = None,
    cause: CircumstanceChange | str,
    note: str,
    actor: User | None,
    starting_from: datetime | None = None,
    now: datetime | None = None,
) -> list[BookingReview]:
    """Flag every future requested or approved booking a change of circumstance touches (PF 4.8).

    ``resident`` alone: all their bookings (release, transfer, suspension, restriction). ``contact`` alone:
    every booking the contact leads or joins (a booking ban). Both: that resident's bookings with that contact
    (removed from the list, a PF 4.10 ban). ``starting_from`` limits it to calls from that moment (a release
    recorded ahead of time leaves earlier calls alone). Call it inside the transaction that makes the change.

    Restrictions (PF 4.4) and suspensions (DSO 17) call this with ``CircumstanceChange.RESTRICTION`` or
    ``SUSPENSION`` once the safeguarding app records them."""
    if resident is None and contact is None:
        raise ValueError("Say whose circumstances changed: a resident, a contact or both.")
    now = _now(now)
    cause = CircumstanceChange(cause)
    start = max(now, starting_from) if starting_from is not None else now
    bookings = Booking.objects.filter(status__in=ACTIVE_STATUSES, slot__starts_at__gt=start)
    if starting_from is not None:
        bookings = bookings.filter(slot__starts_at__gte=starting_from)
    if resident is not None:
        bookings = bookings.filter(resident=resident)
    if contact is not None:
        bookings = bookings.filter(Q(lead_contact=contact) | Q(participant_links__contact=contact))
    with transaction.atomic():
        return _flag_bookings(bookings=bookings, cause=cause, note=note, actor=actor, now=now)


def _retire_slots(
    *, slots: QuerySet[Slot], cause: CircumstanceChange, note: str, actor: User | None, now: datetime
) -> tuple[int, list[BookingReview]]:
    """Take future slots out of use: delete those nobody ever booked, close the rest (capacity 0) and flag their
    bookings. Returns how many slots were deleted and the reviews opened."""
    future = list(slots.filter(starts_at__gt=now).select_for_update().order_by("pk"))
    if not future:
        return 0, []
    booked = set(
        Booking.objects.filter(slot__in=future).values_list("slot_id", flat=True).distinct().order_by()
    )
    unused = [slot.pk for slot in future if slot.pk not in booked]
    Slot.objects.filter(pk__in=unused).delete()
    Slot.objects.filter(pk__in=booked).update(capacity=0)
    reviews = _flag_bookings(
        bookings=Booking.objects.filter(slot_id__in=booked, status__in=ACTIVE_STATUSES),
        cause=cause,
        note=note,
        actor=actor,
        now=now,
    )
    return len(unused), reviews


class MoveKind(models.TextChoices):
    RELEASE = "release", _("Released")
    TRANSFER = "transfer", _("Transferred to another establishment")


def resident_release_or_transfer(
    *,
    resident: Resident,
    kind: MoveKind | str,
    note: str,
    actor: User,
    to_establishment: Establishment | None = None,
    released_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Resident, list[BookingReview]]:
    """Record that a person was released (from ``released_at``, default now) or transferred (at once), and flag
    their future bookings for review (PF 4.8)."""
    now = _now(now)
    kind = MoveKind(kind)
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = "Enter what happened, for the review of their calls"
    if kind == MoveKind.TRANSFER and to_establishment is None:
        errors["to_establishment"] = "Select the establishment they were transferred to"
    with transaction.atomic():
        current = Resident.objects.select_for_update().select_related("establishment").get(pk=resident.pk)
        if current.released_at is not None:
            errors["kind"] = "This person's release has already been recorded"
        if to_establishment is not None and to_establishment.pk == current.establishment_id:
            errors["to_establishment"] = "Select a different establishment from the one they are in"
        if errors:
            raise ValidationError(errors)
        before = {"establishment": current.establishment.code, "released_at": current.released_at}
        origin = current.establishment.code
        if kind == MoveKind.RELEASE:
            current.released_at = released_at or now
            current.save(update_fields=["released_at", "updated_at"])
            cause, starting_from = CircumstanceChange.RELEASED, current.released_at
        else:
            assert to_establishment is not None
            current.establishment = to_establishment
            current.location = ""
            current.save(update_fields=["establishment", "location", "updated_at"])
            cause, starting_from = CircumstanceChange.TRANSFERRED, now
        audit_record(
            action="resident_released" if kind == MoveKind.RELEASE else "resident_transferred",
            actor=actor,
            subject=current,
            establishment_code=origin,
            before=before,
            after={
                "establishment": current.establishment.code,
                "released_at": current.released_at,
                "note": note.strip(),
            },
            policy_ids=["PF 4.8"],
            occurred_at=now,
        )
        reviews = bookings_flag_for_review(
            resident=current, cause=cause, note=note, actor=actor, starting_from=starting_from, now=now
        )
    return current, reviews


# --- Requests on a person's behalf ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestCheck:
    """What ``booking_request`` would answer now: every refusal, or the warnings and notes of an allowed one."""

    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    notes: tuple[Problem, ...]
    #: Which choice would be booked (1, or 2 or 3 when the first is fully booked).
    preference: int = 1

    @property
    def allowed(self) -> bool:
        return not self.problems


class _RolledBack(Exception):
    def __init__(self, decision: policy.Decision, preference: int) -> None:
        super().__init__("dry run")
        self.decision = decision
        self.preference = preference


def booking_request_check(**arguments: Any) -> RequestCheck:
    """Every reason ``services.booking_request`` would refuse these arguments with, before anything is sent.

    It runs the request itself in a transaction that is always rolled back, so the answer is the service's own
    (its locks, counts and policy decision), not a second copy of its checks that could drift; nothing it
    wrote, audited or queued on commit survives."""
    try:
        with transaction.atomic():
            result = booking_request(**arguments)
            raise _RolledBack(result.decision, result.preference)
    except _RolledBack as dry_run:
        decision = dry_run.decision
        return RequestCheck(
            problems=(),
            warnings=tuple(Problem.from_reason(reason) for reason in decision.warnings),
            notes=tuple(Problem.from_reason(reason) for reason in decision.notes),
            preference=dry_run.preference,
        )
    except BookingRefused as refusal:
        return RequestCheck(problems=refusal.problems, warnings=(), notes=())


# --- Staff cancellations -------------------------------------------------------------------------------------------


def booking_cancel_by_establishment(
    *, booking: Booking, reason: str, actor: User, now: datetime | None = None
) -> BookingResult:
    """Staff cancel a call for the establishment (PF 4.8; the minutes come back, PF 4.1).

    A booking flagged by a change of circumstance already has its review: cancelling an approved call turns it
    into the review of the cancelled call (``booking_cancel`` keeps what the flag said); withdrawing a request,
    which opens no review, closes the flag's review with the reason. The decision carries PF 4.8's short-notice
    warning."""
    now = _now(now)
    with transaction.atomic():
        flag = (
            BookingReview.objects.select_for_update()
            .filter(booking=booking, cause__in=CircumstanceChange.values)
            .first()
        )
        status = Booking.objects.filter(pk=booking.pk).values_list("status", flat=True).first()
        if flag is not None and status != BookingStatus.APPROVED:
            # A request opens no review when it is withdrawn: the flag's review is closed with the reason.
            result = booking_cancel(
                booking=booking, cancelled_by=CancelledBy.ESTABLISHMENT, reason=reason, actor=actor, now=now
            )
            if flag.closed_at is None:
                booking_review_close(
                    review=flag,
                    new_booking=None,
                    reason=f"Request cancelled: {reason.strip()}",
                    actor=actor,
                    now=now,
                )
            return result
        return booking_cancel(
            booking=booking, cancelled_by=CancelledBy.ESTABLISHMENT, reason=reason, actor=actor, now=now
        )


# --- Schedule editor ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionValues:
    room: Room
    weekday: int
    start: time
    end: time
    slot_minutes: int
    valid_from: date
    valid_to: date | None
    open_to_residents: bool
    open_to_contacts: bool
    open_to_staff: bool
    legal_reserved: bool


def _session_errors(establishment: Establishment, values: SessionValues) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values.room.establishment_id != establishment.pk:
        errors["room"] = "Select a room at this establishment"
    if values.end <= values.start:
        errors["end"] = "The session must end after it starts"
    elif values.slot_minutes > 0:
        length = (values.end.hour * 60 + values.end.minute) - (values.start.hour * 60 + values.start.minute)
        if length < values.slot_minutes:
            errors["slot_minutes"] = "The session must be long enough for at least one slot"
    if values.slot_minutes < 1:
        errors["slot_minutes"] = "Slot length must be a number of minutes, like 30"
    if values.valid_to is not None and values.valid_to < values.valid_from:
        errors["valid_to"] = "The end of the session's validity must be on or after its start"
    if not (values.open_to_residents or values.open_to_contacts or values.open_to_staff):
        errors["channels"] = "Select who may request calls in this session"
    return errors


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


def _slot_fits(slot: Slot, template: SessionTemplate, tz: Any) -> bool:
    """Whether ``slot`` is one ``template`` would still make (same room, day, grid and validity)."""
    start = slot.starts_at.astimezone(tz)
    day, offset = start.date(), _minutes(start.time()) - _minutes(template.start)
    return (
        slot.room_id == template.room_id
        and day.weekday() == template.weekday
        and template.valid_from <= day
        and (template.valid_to is None or day <= template.valid_to)
        and slot.minutes == template.slot_minutes
        and offset >= 0
        and offset % template.slot_minutes == 0
        and _minutes(start.time()) + template.slot_minutes <= _minutes(template.end)
    )


def session_template_save(
    *,
    establishment: Establishment,
    values: SessionValues,
    actor: User,
    template: SessionTemplate | None = None,
    now: datetime | None = None,
) -> tuple[SessionTemplate, list[BookingReview]]:
    """Add a weekly session, or change one. A change takes the session out of the published schedule until it
    is published again (DSO 7, DSO Annex A are checked then), and takes its future slots that no longer fit out
    of use, flagging their bookings for review (PF 4.8)."""
    now = _now(now)
    errors = _session_errors(establishment, values)
    if errors:
        raise ValidationError(errors)
    fields = {name: getattr(values, name) for name in SessionValues.__dataclass_fields__}
    with transaction.atomic():
        reviews: list[BookingReview] = []
        if template is None:
            current = SessionTemplate.objects.create(establishment=establishment, **fields)
            before: dict[str, Any] = {}
        else:
            current = SessionTemplate.objects.select_for_update().get(
                pk=template.pk, establishment=establishment
            )
            before = {"session": str(current), "published": current.published_at is not None}
            for name, value in fields.items():
                setattr(current, name, value)
            current.published_at = None
            current.save()
            tz = booking_facts.timezone_of(establishment)
            misfits = [
                slot.pk
                for slot in Slot.objects.filter(template=current, starts_at__gt=now)
                if not _slot_fits(slot, current, tz)
            ]
            _deleted, reviews = _retire_slots(
                slots=Slot.objects.filter(pk__in=misfits),
                cause=CircumstanceChange.SESSION_CHANGED,
                note=f"The session is now {current}",
                actor=actor,
                now=now,
            )
        audit_record(
            action="session_template_saved",
            actor=actor,
            subject=current,
            establishment_code=establishment.code,
            before=before,
            after={
                "session": str(current),
                "legal_reserved": current.legal_reserved,
                "flagged": len(reviews),
            },
            policy_ids=["PF 4.2", "PF 4.6"] + (["DSO 9"] if current.legal_reserved else []),
            occurred_at=now,
        )
    return current, reviews


def session_template_delete(
    *, template: SessionTemplate, actor: User, now: datetime | None = None
) -> list[BookingReview]:
    """Remove a weekly session: its future slots go (booked ones are closed and their bookings flagged)."""
    now = _now(now)
    with transaction.atomic():
        current = (
            SessionTemplate.objects.select_for_update().select_related("establishment").get(pk=template.pk)
        )
        _deleted, reviews = _retire_slots(
            slots=Slot.objects.filter(template=current),
            cause=CircumstanceChange.SESSION_CHANGED,
            note=f"The session {current} was removed",
            actor=actor,
            now=now,
        )
        audit_record(
            action="session_template_deleted",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before={"session": str(current)},
            after={"flagged": len(reviews)},
            policy_ids=["PF 4.2", "PF 4.8"],
            occurred_at=now,
        )
        current.delete()
    return reviews


def closed_date_add(
    *,
    establishment: Establishment,
    day: date,
    reason: str,
    actor: User,
    room: Room | None = None,
    now: datetime | None = None,
) -> tuple[ClosedDate, list[BookingReview]]:
    """Close a day for calls (the whole establishment, or one room). Its slots go; bookings already made that
    day are flagged for review (PF 4.8), never dropped."""
    now = _now(now)
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "Enter why the date is closed"
    if room is not None and room.establishment_id != establishment.pk:
        errors["room"] = "Select a room at this establishment"
    tz = booking_facts.timezone_of(establishment)
    if day < local_date(now, tz):
        errors["day"] = "The date must be today or in the future"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        closed = ClosedDate.objects.create(
            establishment=establishment, room=room, date=day, reason=reason.strip()
        )
        start = datetime.combine(day, time(0), tzinfo=tz)
        slots = Slot.objects.filter(
            establishment=establishment,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1, hours=1),
        )
        day_ids = [slot.pk for slot in slots if slot.starts_at.astimezone(tz).date() == day]
        slots = Slot.objects.filter(pk__in=day_ids)
        if room is not None:
            slots = slots.filter(room=room)
        deleted, reviews = _retire_slots(
            slots=slots, cause=CircumstanceChange.DATE_CLOSED, note=closed.reason, actor=actor, now=now
        )
        audit_record(
            action="closed_date_added",
            actor=actor,
            subject=closed,
            establishment_code=establishment.code,
            after={
                "date": day,
                "room": str(room) if room else "",
                "reason": closed.reason,
                "slots_removed": deleted,
                "bookings_flagged": len(reviews),
            },
            policy_ids=["PF 4.2", "PF 4.8"],
            occurred_at=now,
        )
    return closed, reviews


@dataclass(frozen=True, slots=True)
class RosterValues:
    room: Room
    day: date
    start: time
    end: time
    supervising_officers: int
    monitoring_officers: int


def roster_entry_add(
    *, establishment: Establishment, values: RosterValues, actor: User, now: datetime | None = None
) -> StaffRoster:
    """Roster supervising and monitoring officers to a room for part of a day (PF 4.7); that day's slots are
    brought up to date at once, so their capacity follows the staff on duty."""
    now = _now(now)
    errors: dict[str, str] = {}
    if values.room.establishment_id != establishment.pk:
        errors["room"] = "Select a room at this establishment"
    if values.end <= values.start:
        errors["end"] = "The time on duty must end after it starts"
    if values.supervising_officers < 0:
        errors["supervising_officers"] = "Supervising officers must be 0 or more"
    if values.monitoring_officers < 0:
        errors["monitoring_officers"] = "Monitoring officers must be 0 or more"
    if values.supervising_officers + values.monitoring_officers == 0:
        errors["supervising_officers"] = "Enter at least one officer"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry = StaffRoster.objects.create(
            establishment=establishment,
            room=values.room,
            date=values.day,
            start=values.start,
            end=values.end,
            supervising_officers=values.supervising_officers,
            monitoring_officers=values.monitoring_officers,
        )
        audit_record(
            action="staff_rostered",
            actor=actor,
            subject=entry,
            establishment_code=establishment.code,
            after={
                "room": str(values.room),
                "date": values.day,
                "from": values.start,
                "to": values.end,
                "supervising_officers": values.supervising_officers,
                "monitoring_officers": values.monitoring_officers,
            },
            policy_ids=["PF 4.7"],
            occurred_at=now,
        )
        slots_generate(establishment=establishment, start=values.day, days=1, actor=actor)
    return entry


@dataclass(frozen=True, slots=True)
class Published:
    decision: policy.Decision
    generated: SlotsGenerated
    first_day: date
    days: int


def schedule_publish_and_generate(
    *, establishment: Establishment, actor: User, days: int = ROLLING_WINDOW_DAYS, now: datetime | None = None
) -> Published:
    """Publish the schedule (refused with every DSO 7 / DSO Annex A reason, ``BookingRefused``) and make the
    slots of the next ``days`` local days, from today. The decision's warnings (PF 4.2) are for the page."""
    now = _now(now)
    today = local_date(now, booking_facts.timezone_of(establishment))
    with transaction.atomic():
        decision = schedule_publish(establishment=establishment, actor=actor, now=now)
        generated = slots_generate(establishment=establishment, start=today, days=days, actor=actor)
    return Published(decision=decision, generated=generated, first_day=today, days=days)
