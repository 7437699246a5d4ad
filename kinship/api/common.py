"""Shared by the contact and staff routers: time windows, list limits and the joins booking answers need."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kinship.bookings.models import Booking, BookingParticipant, Slot

from .errors import ApiProblem
from .schemas import ProblemsOut

#: The furthest a list may reach, and the most rows any list returns.
MAX_WINDOW = timedelta(days=62)
MAX_ROWS = 500
#: Every refusal an endpoint may give, for the schema.
REFUSALS = {401: ProblemsOut, 403: ProblemsOut, 404: ProblemsOut, 409: ProblemsOut, 422: ProblemsOut}


def window(start: datetime | None, end: datetime | None, *, default_days: int) -> tuple[datetime, datetime]:
    """[start, end), by default from now; both aware, at most 62 days apart."""
    start = start or timezone.now()
    end = end or start + timedelta(days=default_days)
    for name, moment in (("start", start), ("end", end)):
        if timezone.is_naive(moment):
            raise ApiProblem(422, "invalid.naive_datetime", "Give times with their UTC offset.", field=name)
    if end <= start or end - start > MAX_WINDOW:
        raise ApiProblem(
            422, "invalid.window", "End must be after start, at most 62 days later.", field="end"
        )
    return start, end


def with_people(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """What ``schemas.booking_out`` reads, joined: a list costs the same few queries however long it is."""
    return bookings.select_related(
        "slot__room", "slot__establishment", "resident", "lead_contact"
    ).prefetch_related(
        Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
    )


def alternatives_of(establishment_id: Any, ids: list[UUID]) -> list[Slot]:
    """A request's second and third choices, in the order given, at the person's establishment. The booking
    service judges the rest (repeated, not open to this way of requesting, started)."""
    if not ids:
        return []
    found = {slot.pk: slot for slot in Slot.objects.filter(pk__in=ids, establishment_id=establishment_id)}
    if any(pk not in found for pk in ids):
        raise ApiProblem(
            422,
            "preferences.unknown",
            "Each other time you choose must be a time at this person's establishment.",
            field="alternative_slot_ids",
        )
    return [found[pk] for pk in ids]
