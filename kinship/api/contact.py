"""The contact's API: who am I, free times at an establishment where someone I call is held, my requests, my
calls and cancelling them. A contact sees only their own bookings; anything else is "not found"."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from kinship.bookings import selectors
from kinship.bookings.errors import Problem
from kinship.bookings.models import Booking, CancelledBy, RequestChannel, Slot, SlotHold
from kinship.bookings.services import booking_cancel, booking_request
from kinship.core.prepared import PreparedQuery, read_ahead
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, LinkStatus, Resident

from .access import ContactSession, contact_of, contact_read, declare
from .common import MAX_ROWS, REFUSALS, alternatives_of, window, with_people
from .errors import ApiProblem
from .schemas import (
    BookingDecidedOut,
    BookingOut,
    CancelIn,
    ContactRequestIn,
    MeOut,
    SlotOut,
    booking_out,
    slot_out,
)

router = Router(auth=ContactSession(csrf=True), tags=["contacts"])


class SlotQuery(Schema):
    establishment: str
    start: datetime | None = None
    end: datetime | None = None


@router.get("/me", response={200: MeOut, **REFUSALS}, url_name="me")
@declare("contact")
def me(request: HttpRequest) -> MeOut:
    """The signed-in contact (also the trivial endpoint the booking benchmark compares against)."""
    user = request.auth  # type: ignore[attr-defined]
    return MeOut(email=user.email, first_name=user.first_name, last_name=user.last_name, kind="contact")


@router.get("/slots", response={200: list[SlotOut], **REFUSALS}, url_name="contact-slots")
@declare("contact")
def slots(request: HttpRequest, query: Query[SlotQuery]) -> list[SlotOut]:
    """Times open to contacts' requests, with places left, at an establishment holding someone the contact is
    approved to call."""
    person = contact_of(request)
    place = Establishment.objects.filter(
        code=query.establishment,
        residents__contact_links__contact=person,
        residents__contact_links__status=LinkStatus.APPROVED,
    ).first()
    if place is None:
        raise ApiProblem(404, "not_found.establishment", "You have nobody to call at this establishment.")
    start, end = window(query.start, query.end, default_days=28)
    found = selectors.slots_available(
        establishment=place, start=start, end=end, now=timezone.now(), channel=RequestChannel.CONTACT
    )
    return [slot_out(slot) for slot in found[:MAX_ROWS]]


def participants_of(resident: Resident, ids: list[UUID]) -> list[Contact]:
    """The contacts joining, each approved to call ``resident`` (PF 4.12 is decided by the engine; this keeps
    one contact from naming arbitrary others)."""
    if not ids:
        return []
    found = {
        contact.pk: contact
        for contact in Contact.objects.filter(
            pk__in=ids, links__resident=resident, links__status=LinkStatus.APPROVED
        ).distinct()
    }
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise ApiProblem(
            422,
            "participants.unknown",
            "Each person joining must be approved to call this person in custody.",
            field="participant_ids",
        )
    return [found[pk] for pk in ids]


# Every booking request reads these two, with the contact, in one round trip (kinship.core.prepared): the person
# named, if linked to the signed-in contact, and the time named, if at that person's establishment.
_LINKED_RESIDENT = PreparedQuery(
    lambda resident, user: Resident.objects.filter(
        pk=resident, contact_links__contact__user_id=user
    ).select_related("establishment")[:1],
    resident=models.UUIDField(),
    user=models.BigIntegerField(),
)
_SLOT_AT = PreparedQuery(
    lambda slot, resident: Slot.objects.filter(pk=slot, establishment__residents__id=resident).select_related(
        "establishment", "room"
    )[:1],
    slot=models.UUIDField(),
    resident=models.UUIDField(),
)


@router.post("/booking-requests", response={201: BookingDecidedOut, **REFUSALS}, url_name="contact-request")
@declare("contact")
def request_call(request: HttpRequest, data: ContactRequestIn) -> Status[BookingOut]:
    """Request a call as its lead contact. Refused with every reason at once (409 when the time is taken)."""
    user = request.auth  # type: ignore[attr-defined]
    linked: dict[str, Any] = {"resident": data.resident_id, "user": user.pk}
    at: dict[str, Any] = {"slot": data.slot_id, "resident": data.resident_id}
    with read_ahead([contact_read(request), (_LINKED_RESIDENT, linked), (_SLOT_AT, at)]):
        person = contact_of(request)
        resident: Resident | None = _LINKED_RESIDENT.first(**linked)
        if resident is None:
            raise ApiProblem(
                404, "not_found.resident", "You are not linked to this person.", field="resident_id"
            )
        slot: Slot | None = _SLOT_AT.first(**at)
    if slot is None:
        raise ApiProblem(404, "not_found.slot", "There is no such time for this person.", field="slot_id")
    hold = None
    if data.hold_id is not None:
        hold = SlotHold.objects.filter(pk=data.hold_id, held_by_id=request.user.pk).first()
        if hold is None:
            raise ApiProblem(404, "not_found.hold", "There is no such hold of yours.", field="hold_id")
    participants = participants_of(resident, data.participant_ids)
    alternatives = alternatives_of(resident.establishment_id, data.alternative_slot_ids)
    result = booking_request(
        slot=slot,
        resident=resident,
        lead_contact=person,
        participants=participants,
        channel=RequestChannel.CONTACT,
        actor=request.user,  # type: ignore[arg-type]
        hold=hold,
        alternatives=alternatives,
    )
    booking = result.booking
    notes = [Problem.from_reason(reason) for reason in result.decision.reasons]
    return Status(
        201,
        booking_out(booking, participants=participants, notes=notes, preference_used=result.preference),
    )


def _mine(person: Contact) -> QuerySet[Booking]:
    return Booking.objects.filter(
        Q(lead_contact=person)
        | Q(pk__in=Booking.objects.filter(participant_links__contact=person).values("pk"))
    )


@router.get("/bookings", response={200: list[BookingOut], **REFUSALS}, url_name="contact-bookings")
@declare("contact")
def my_bookings(request: HttpRequest, upcoming: bool = False) -> list[BookingOut]:
    """The contact's calls and requests (as lead or as participant), soonest first."""
    bookings = _mine(contact_of(request))
    if upcoming:
        bookings = bookings.filter(slot__starts_at__gte=timezone.now())
    rows = with_people(bookings).order_by("slot__starts_at", "reference")[:MAX_ROWS]
    return [booking_out(booking) for booking in rows]


def _my_booking(request: HttpRequest, reference: str) -> tuple[Contact, Booking]:
    person = contact_of(request)
    booking = with_people(_mine(person).filter(reference=reference.upper())).first()
    if booking is None:
        raise ApiProblem(404, "not_found.booking", "You have no call with this reference.")
    return person, booking


@router.get("/bookings/{reference}", response={200: BookingOut, **REFUSALS}, url_name="contact-booking")
@declare("contact")
def my_booking(request: HttpRequest, reference: str) -> BookingOut:
    return booking_out(_my_booking(request, reference)[1])


@router.post(
    "/bookings/{reference}/cancellation",
    response={200: BookingDecidedOut, **REFUSALS},
    url_name="contact-cancel",
)
@declare("contact")
def cancel(request: HttpRequest, reference: str, data: CancelIn) -> BookingOut:
    """Cancel a call or withdraw a request, with the reason (PF 4.8). Only its lead contact may."""
    person, booking = _my_booking(request, reference)
    if booking.lead_contact_id != person.pk:
        raise ApiProblem(403, "access.not_lead", "Only the person who booked the call can cancel it.")
    result = booking_cancel(
        booking=booking,
        cancelled_by=CancelledBy.CONTACT,
        reason=data.reason,
        actor=request.user,  # type: ignore[arg-type]
    )
    current = with_people(Booking.objects.filter(pk=result.booking.pk)).get()
    return booking_out(current, notes=[Problem.from_reason(reason) for reason in result.decision.reasons])
