"""Selectors cost the same number of queries however many rows they return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from kinship.bookings import selectors
from kinship.bookings.models import CallOutcome, RequestChannel
from kinship.bookings.services import booking_approve, booking_outcome_record, booking_request, slot_hold
from kinship.establishments.models import Establishment

from .conftest import make_party
from .factories import approved_contact

pytestmark = pytest.mark.django_db


def add_bookings(establishment: Establishment, now: datetime, count: int, clerk: Any = None) -> None:
    for _ in range(count):
        party = make_party(establishment, capacity=3)
        extra = approved_contact(party.resident)
        booking = booking_request(
            slot=party.slot,
            resident=party.resident,
            lead_contact=party.contact,
            participants=[extra],
            channel=RequestChannel.CONTACT,
            now=now,
        ).booking
        slot_hold(slot=party.slot, held_by=None, now=now)
        if clerk is not None:
            booking_approve(booking=booking, actor=clerk, now=now)
            booking_outcome_record(
                booking=booking, outcome=CallOutcome.FAILED_TO_ATTEND, actor=clerk, now=party.slot.ends_at
            )


def read_all(queryset: Any) -> None:
    for row in queryset:
        # Touch what a list page shows, so lazy loads would show up as queries.
        booking = getattr(row, "booking", row)
        if hasattr(booking, "reference"):
            _ = (booking.slot.room.name, booking.resident.full_name, booking.lead_contact.full_name)
            if not hasattr(row, "booking"):
                _ = [link.contact.full_name for link in booking.participant_links.all()]
        else:
            _ = (row.room.name, row.places_left)


@pytest.mark.parametrize(
    ("selector", "queries", "staff"),
    [
        (
            lambda e, now: selectors.bookings_for_establishment(
                establishment=e, start=now, end=now + timedelta(days=60)
            ),
            2,
            False,
        ),
        (lambda e, now: selectors.booking_requests_pending(establishment=e), 2, False),
        (
            lambda e, now: selectors.slots_available(
                establishment=e, start=now, end=now + timedelta(days=60), now=now
            ),
            1,
            False,
        ),
        (lambda e, now: selectors.reviews_open(establishment=e), 1, True),
    ],
)
def test_list_selectors_use_a_constant_number_of_queries(
    prison: Establishment,
    now: datetime,
    clerk: Any,
    django_assert_num_queries: Callable[..., Any],
    selector: Callable[[Establishment, datetime], Any],
    queries: int,
    staff: bool,
) -> None:
    add_bookings(prison, now, 2, clerk if staff else None)
    with django_assert_num_queries(queries):
        read_all(selector(prison, now))
    add_bookings(prison, now, 5, clerk if staff else None)
    with django_assert_num_queries(queries):
        rows = list(selector(prison, now))
        read_all(rows)
    assert len(rows) == 7
