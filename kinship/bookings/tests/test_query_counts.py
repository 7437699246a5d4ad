"""How many queries a booking request costs, pinned so a regression (an N+1, a lazy load) shows.

The budget is for the whole HTTP request through the API (session, user, contact, resident, slot, the service
and its audit event and notification) and for the service alone. See docs/adr/0006-booking-concurrency.md for
the figures these numbers came from; raise them only with a reason written there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kinship.audit.services import audit_record
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import RequestChannel, Slot
from kinship.bookings.services import booking_request
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory
from kinship.people.models import Contact, Resident
from kinship.testing import sign_in_with_2fa

from .factories import SlotFactory, approved_contact, eligible_resident

pytestmark = pytest.mark.django_db

#: The service alone: a booking made (the audit chain head already there), and a request refused because the
#: slot is full. Before the work in ADR 0006's "Performance" section: 36 and 24; then 32 and 21. The places
#: used are counted in a statement of their own (cheaper than the ORM's subqueries; ADR 0006); then 31 and 14. A
#: slot read with its establishment and room (as the contact API reads it) is not read again (stop 10).
SERVICE_BOOKED = 30
SERVICE_FULL = 13
#: Through the API (POST /api/v1/booking-requests), session, user, contact, resident and slot included.
#: Before: 41 and 29; then 37 and 26; then 36 and 19.
API_BOOKED = 35
API_FULL = 18


def _future_slot(establishment: Establishment, **fields: Any) -> Slot:
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return SlotFactory(
        establishment=establishment, starts_at=start, ends_at=start + timedelta(hours=1), **fields
    )


def _person(prison: Establishment) -> tuple[Resident, Contact]:
    resident = eligible_resident(prison)
    return resident, approved_contact(resident)


def _chain_started() -> None:
    """The audit chain's head row exists (its first event creates it, three queries more, once ever)."""
    audit_record(action="test_started")


def _request(slot: Slot, resident: Resident, contact: Contact) -> Any:
    return booking_request(
        slot=slot, resident=resident, lead_contact=contact, channel=RequestChannel.CONTACT, actor=contact.user
    )


def test_a_booking_request_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    prison = EstablishmentFactory()
    slot = _future_slot(prison, capacity=1)
    resident, contact = _person(prison)
    _chain_started()
    with django_assert_max_num_queries(SERVICE_BOOKED):
        _request(slot, resident, contact)
    other, other_contact = _person(prison)
    with django_assert_max_num_queries(SERVICE_FULL), pytest.raises(BookingRefused):
        _request(slot, other, other_contact)


def test_the_api_booking_request_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    prison = EstablishmentFactory()
    slot = _future_slot(prison, capacity=1)
    _chain_started()
    answers = []
    for expected in (API_BOOKED, API_FULL):
        resident, contact = _person(prison)
        client = sign_in_with_2fa(Client(), contact.user)
        body = {"slot_id": str(slot.pk), "resident_id": str(resident.pk)}
        with django_assert_max_num_queries(expected):
            answers.append(
                client.post("/api/v1/booking-requests", body, content_type="application/json").status_code
            )
    assert answers == [201, 409]


def test_a_request_for_a_full_slot_takes_no_lock() -> None:
    """A full slot is seen by one unlocked read, so the requests of a rush that cannot succeed never queue for
    the slot's (or their person's) row lock; a request that could succeed still takes both."""
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks (SELECT ... FOR UPDATE); this runs in the PostgreSQL pass")
    prison = EstablishmentFactory()
    slot = _future_slot(prison, capacity=1)
    _chain_started()
    resident, contact = _person(prison)
    with CaptureQueriesContext(connection) as booked:
        _request(slot, resident, contact)
    other, other_contact = _person(prison)
    with CaptureQueriesContext(connection) as refused, pytest.raises(BookingRefused) as refusal:
        _request(slot, other, other_contact)
    assert "slot.full" in refusal.value.codes
    assert sum("FOR UPDATE" in query["sql"] for query in booked.captured_queries) >= 2
    assert not [query["sql"] for query in refused.captured_queries if "FOR UPDATE" in query["sql"]]
