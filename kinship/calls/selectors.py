"""Reads for the supervising officer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from kinship.bookings.models import Booking, BookingStatus
from kinship.establishments.models import Establishment

#: The bookings a day's call list shows: booked, and those whose call has happened or failed.
LISTED_STATUSES = (
    BookingStatus.APPROVED,
    BookingStatus.COMPLETED,
    BookingStatus.FAILED,
    BookingStatus.NO_SHOW,
)


@dataclass(frozen=True)
class RoomCalls:
    room: Any
    bookings: list[Booking]


def day_bounds(day: date, establishment: Establishment) -> tuple[datetime, datetime]:
    tz = ZoneInfo(establishment.timezone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def calls_of_day(establishment: Establishment, day: date) -> list[RoomCalls]:
    """The day's calls per room, each booking with its slot, room, person, lead contact and call: one query."""
    start, end = day_bounds(day, establishment)
    bookings = (
        Booking.objects.filter(
            slot__establishment=establishment,
            slot__starts_at__gte=start,
            slot__starts_at__lt=end,
            status__in=LISTED_STATUSES,
        )
        .select_related("slot__room", "resident", "lead_contact", "call")
        .order_by("slot__room__name", "slot__room_id", "slot__starts_at")
    )
    return [
        RoomCalls(room=room, bookings=list(items))
        for room, items in groupby(bookings, key=lambda booking: booking.slot.room)
    ]


def booking_for_call_page(establishment: Establishment) -> QuerySet[Booking]:
    return Booking.objects.filter(slot__establishment=establishment).select_related(
        "slot__room", "resident", "lead_contact"
    )
