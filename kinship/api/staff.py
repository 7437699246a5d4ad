"""The staff API, scoped to one establishment (its code in the URL) like the staff pages: free times, booking on
a resident's behalf, the establishment's bookings and requests, approving, rejecting and cancelling."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from kinship.bookings import selectors
from kinship.bookings.errors import Problem
from kinship.bookings.models import Booking, BookingStatus, CancelledBy, RequestChannel, Slot, SlotHold
from kinship.bookings.services import booking_approve, booking_cancel, booking_reject, booking_request
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, Resident

from .access import BOOKING_DECIDERS, BOOKING_READERS, StaffSession, declare, staff_establishment
from .common import MAX_ROWS, REFUSALS, alternatives_of, window, with_people
from .errors import ApiProblem
from .schemas import (
    BookingDecidedOut,
    BookingOut,
    RejectIn,
    SlotOut,
    StaffCancelIn,
    StaffRequestIn,
    booking_out,
    slot_out,
)

router = Router(auth=StaffSession(csrf=True), tags=["staff"])


class SlotQuery(Schema):
    channel: RequestChannel = RequestChannel.STAFF
    start: datetime | None = None
    end: datetime | None = None


class BookingQuery(Schema):
    start: datetime | None = None
    end: datetime | None = None
    status: BookingStatus | None = None


@router.get("/{establishment}/slots", response={200: list[SlotOut], **REFUSALS}, url_name="staff-slots")
@declare("staff", BOOKING_READERS)
def slots(request: HttpRequest, establishment: str, query: Query[SlotQuery]) -> list[SlotOut]:
    place = staff_establishment(request, establishment, BOOKING_READERS)
    start, end = window(query.start, query.end, default_days=14)
    found = selectors.slots_available(
        establishment=place, start=start, end=end, now=timezone.now(), channel=query.channel
    )
    return [slot_out(slot) for slot in found[:MAX_ROWS]]


@router.post(
    "/{establishment}/booking-requests",
    response={201: BookingDecidedOut, **REFUSALS},
    url_name="staff-request",
)
@declare("staff", BOOKING_DECIDERS)
def request_call(request: HttpRequest, establishment: str, data: StaffRequestIn) -> Status[BookingOut]:
    """Book on a resident's behalf (their request, PF 4.6), checked like any other request."""
    place = staff_establishment(request, establishment, BOOKING_DECIDERS)
    resident = Resident.objects.filter(pk=data.resident_id, establishment=place).first()
    if resident is None:
        raise ApiProblem(404, "not_found.resident", "Nobody with this id is held here.", field="resident_id")
    slot = Slot.objects.filter(pk=data.slot_id, establishment=place).first()
    if slot is None:
        raise ApiProblem(404, "not_found.slot", "There is no such time here.", field="slot_id")
    wanted = [data.lead_contact_id, *data.participant_ids]
    contacts = Contact.objects.in_bulk(wanted)
    if len(contacts) != len(set(wanted)):
        raise ApiProblem(404, "not_found.contact", "A contact given does not exist.", field="participant_ids")
    hold = None
    if data.hold_id is not None:
        hold = SlotHold.objects.filter(pk=data.hold_id, slot=slot).first()
        if hold is None:
            raise ApiProblem(404, "not_found.hold", "There is no such hold on this time.", field="hold_id")
    participants = [contacts[pk] for pk in data.participant_ids]
    alternatives = alternatives_of(place.pk, data.alternative_slot_ids)
    result = booking_request(
        slot=slot,
        resident=resident,
        lead_contact=contacts[data.lead_contact_id],
        participants=participants,
        kind=data.kind,
        channel=RequestChannel.STAFF,
        actor=request.auth,  # type: ignore[attr-defined]
        hold=hold,
        use_extra_grant=data.use_extra_grant,
        alternatives=alternatives,
    )
    notes = [Problem.from_reason(reason) for reason in result.decision.reasons]
    return Status(
        201,
        booking_out(
            result.booking, participants=participants, notes=notes, preference_used=result.preference
        ),
    )


@router.get(
    "/{establishment}/bookings", response={200: list[BookingOut], **REFUSALS}, url_name="staff-bookings"
)
@declare("staff", BOOKING_READERS)
def bookings(request: HttpRequest, establishment: str, query: Query[BookingQuery]) -> list[BookingOut]:
    """Bookings in slots starting in [start, end) (default: the next 14 days), optionally of one status."""
    place = staff_establishment(request, establishment, BOOKING_READERS)
    start, end = window(query.start, query.end, default_days=14)
    found = Booking.objects.filter(
        slot__establishment=place, slot__starts_at__gte=start, slot__starts_at__lt=end
    )
    if query.status is not None:
        found = found.filter(status=query.status)
    rows = with_people(found).order_by("slot__starts_at", "reference")[:MAX_ROWS]
    return [booking_out(booking) for booking in rows]


def _booking_here(place: Establishment, reference: str) -> Booking:
    booking = with_people(
        Booking.objects.filter(slot__establishment=place, reference=reference.upper())
    ).first()
    if booking is None:
        raise ApiProblem(404, "not_found.booking", "There is no booking with this reference here.")
    return booking


def _reloaded(booking: Booking) -> Booking:
    return with_people(Booking.objects.filter(pk=booking.pk)).get()


@router.get(
    "/{establishment}/bookings/{reference}", response={200: BookingOut, **REFUSALS}, url_name="staff-booking"
)
@declare("staff", BOOKING_READERS)
def booking(request: HttpRequest, establishment: str, reference: str) -> BookingOut:
    place = staff_establishment(request, establishment, BOOKING_READERS)
    return booking_out(_booking_here(place, reference))


@router.post(
    "/{establishment}/bookings/{reference}/approval",
    response={200: BookingDecidedOut, **REFUSALS},
    url_name="staff-approve",
)
@declare("staff", BOOKING_DECIDERS)
def approve(request: HttpRequest, establishment: str, reference: str) -> BookingOut:
    """Approve a request after the rules are checked again (circumstances may have changed)."""
    place = staff_establishment(request, establishment, BOOKING_DECIDERS)
    result = booking_approve(booking=_booking_here(place, reference), actor=request.auth)  # type: ignore[attr-defined]
    notes = [Problem.from_reason(reason) for reason in result.decision.reasons]
    return booking_out(_reloaded(result.booking), notes=notes)


@router.post(
    "/{establishment}/bookings/{reference}/rejection",
    response={200: BookingOut, **REFUSALS},
    url_name="staff-reject",
)
@declare("staff", BOOKING_DECIDERS)
def reject(request: HttpRequest, establishment: str, reference: str, data: RejectIn) -> BookingOut:
    """Turn a request down with a reason from the fixed list (free text required for "other")."""
    place = staff_establishment(request, establishment, BOOKING_DECIDERS)
    rejected = booking_reject(
        booking=_booking_here(place, reference),
        reason=data.reason,
        text=data.text,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return booking_out(_reloaded(rejected))


@router.post(
    "/{establishment}/bookings/{reference}/cancellation",
    response={200: BookingDecidedOut, **REFUSALS},
    url_name="staff-cancel",
)
@declare("staff", BOOKING_DECIDERS)
def cancel(request: HttpRequest, establishment: str, reference: str, data: StaffCancelIn) -> BookingOut:
    """Cancel for the establishment (minutes given back, PF 4.1) or for the resident, with the reason the
    family is told (PF 4.8). The decision's notes carry PF 4.8's short-notice warning."""
    place = staff_establishment(request, establishment, BOOKING_DECIDERS)
    result = booking_cancel(
        booking=_booking_here(place, reference),
        cancelled_by=CancelledBy(data.cancelled_by),
        reason=data.reason,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    notes = [Problem.from_reason(reason) for reason in result.decision.reasons]
    return booking_out(_reloaded(result.booking), notes=notes)
