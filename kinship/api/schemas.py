"""What the API reads and writes. Output is built from rows already loaded (``booking_out``), so an answer
costs no queries beyond the ones that loaded them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from kinship.bookings.errors import Problem
from kinship.bookings.models import Booking, CallKind, RejectionReason, Slot
from kinship.people.models import Contact


class ProblemOut(Schema):
    rule_id: str
    code: str
    message: str
    field: str | None = None


class ProblemsOut(Schema):
    problems: list[ProblemOut]


class MeOut(Schema):
    email: str
    first_name: str
    last_name: str
    kind: str


class EstablishmentOut(Schema):
    code: str
    name: str
    #: PF 4.19: shown with every answer about a call.
    safer_custody_hotline: str


class SlotOut(Schema):
    id: UUID
    starts_at: datetime
    ends_at: datetime
    room: str
    places_left: int
    legal_reserved: bool


class SlotSummary(Schema):
    id: UUID
    starts_at: datetime
    ends_at: datetime
    room: str


class PersonOut(Schema):
    id: UUID
    name: str


class BookingOut(Schema):
    reference: str
    status: str
    kind: str
    funding: str
    requested_by: str
    requested_at: datetime
    decided_at: datetime | None
    establishment: EstablishmentOut
    slot: SlotSummary
    resident: PersonOut
    lead_contact: PersonOut
    participants: list[PersonOut]
    rejection_reason: str
    cancelled_by: str
    status_reason: str
    #: The rule-cited reasons behind the last decision (notes such as minutes left, warnings).
    policy_reasons: list[ProblemOut]


class BookingDecidedOut(BookingOut):
    #: Warnings and notes of the decision just made (minutes left this month, short notice).
    notes: list[ProblemOut]
    #: Which of the requester's choices was booked (1 the first, 2 or 3 an alternative), for a new request.
    preference_used: int | None = None


class ContactRequestIn(Schema):
    slot_id: UUID
    resident_id: UUID
    participant_ids: list[UUID] = Field(default_factory=list, max_length=10)
    hold_id: UUID | None = None
    #: Second and third choices, in order; tried only when the first choice (``slot_id``) is full.
    alternative_slot_ids: list[UUID] = Field(default_factory=list, max_length=2)


class StaffRequestIn(Schema):
    slot_id: UUID
    resident_id: UUID
    lead_contact_id: UUID
    participant_ids: list[UUID] = Field(default_factory=list, max_length=10)
    kind: CallKind = CallKind.SOCIAL
    use_extra_grant: bool = False
    hold_id: UUID | None = None
    #: Second and third choices, in order; tried only when the first choice (``slot_id``) is full.
    alternative_slot_ids: list[UUID] = Field(default_factory=list, max_length=2)


class RejectIn(Schema):
    reason: RejectionReason
    text: str = Field("", max_length=2000)


class CancelIn(Schema):
    reason: str = Field(..., max_length=2000)


class StaffCancelIn(CancelIn):
    cancelled_by: Literal["establishment", "resident"] = "establishment"


def _person(pk: UUID, first: str, last: str) -> PersonOut:
    return PersonOut(id=pk, name=f"{first} {last}")


def slot_out(slot: Slot) -> SlotOut:
    return SlotOut(
        id=slot.pk,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        room=slot.room.name,
        places_left=slot.places_left,  # type: ignore[attr-defined]
        legal_reserved=slot.legal_reserved,
    )


def booking_out(
    booking: Booking,
    *,
    participants: Iterable[Contact] | None = None,
    notes: Iterable[Problem] | None = None,
    preference_used: int | None = None,
) -> BookingOut:
    """``booking`` with its slot, room, establishment, resident and lead contact loaded; its participants are
    given, or prefetched (``participant_links__contact``)."""
    slot = booking.slot
    establishment = slot.establishment
    joined = (
        participants
        if participants is not None
        else [link.contact for link in booking.participant_links.all()]
    )
    fields: dict[str, Any] = {
        "reference": booking.reference,
        "status": booking.status,
        "kind": booking.kind,
        "funding": booking.funding,
        "requested_by": booking.requested_by,
        "requested_at": booking.requested_at,
        "decided_at": booking.decided_at,
        "establishment": EstablishmentOut(
            code=establishment.code,
            name=establishment.name,
            safer_custody_hotline=establishment.safer_custody_hotline,
        ),
        "slot": SlotSummary(id=slot.pk, starts_at=slot.starts_at, ends_at=slot.ends_at, room=slot.room.name),
        "resident": _person(booking.resident.pk, booking.resident.first_name, booking.resident.last_name),
        "lead_contact": _person(
            booking.lead_contact.pk, booking.lead_contact.first_name, booking.lead_contact.last_name
        ),
        "participants": [_person(contact.pk, contact.first_name, contact.last_name) for contact in joined],
        "rejection_reason": booking.rejection_reason,
        "cancelled_by": booking.cancelled_by,
        "status_reason": booking.status_reason,
        "policy_reasons": [ProblemOut.model_validate(reason) for reason in booking.policy_reasons or []],
    }
    if notes is None:
        return BookingOut(**fields)
    return BookingDecidedOut(
        **fields,
        notes=[ProblemOut.model_validate(note.as_json()) for note in notes],
        preference_used=preference_used,
    )
