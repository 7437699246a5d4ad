"""How many queries a booking request costs, pinned so a regression (an N+1, a lazy load) shows.

The budget is for the whole HTTP request through the API (session, user, contact, resident, slot, the service
and its audit event and notification) and for the service alone. See docs/adr/0006-booking-concurrency.md for
the figures these numbers came from; raise them only with a reason written there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kinship.api import contact as contact_api
from kinship.audit.services import audit_record
from kinship.bookings import services
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import RequestChannel, Slot
from kinship.bookings.services import booking_request
from kinship.core.prepared import ReadAhead, read_ahead
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
#: On PostgreSQL, where the reads made together are one statement (stop 12; sent together in one exchange at
#: stop 11): the session, the user, the contact with the person and the time, the places used, and the
#: decision's facts.
STATEMENTS_FULL_POSTGRESQL = 5


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


def _one_place() -> tuple[Establishment, Slot]:
    """A prison with a slot of one place, and the audit chain started."""
    prison = EstablishmentFactory()
    slot = _future_slot(prison, capacity=1)
    _chain_started()
    return prison, slot


def _ready_to_request(prison: Establishment, slot: Slot) -> Callable[[], int]:
    """A new person's contact, signed in, about to ask the API for ``slot``: call it to send the request (the
    answer's status comes back)."""
    resident, contact = _person(prison)
    client = sign_in_with_2fa(Client(), contact.user)
    body = {"slot_id": str(slot.pk), "resident_id": str(resident.pk)}
    return lambda: client.post("/api/v1/booking-requests", body, content_type="application/json").status_code


def _request(slot: Slot, resident: Resident, contact: Contact) -> Any:
    return booking_request(
        slot=slot, resident=resident, lead_contact=contact, channel=RequestChannel.CONTACT, actor=contact.user
    )


def test_a_booking_request_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    prison, slot = _one_place()
    resident, contact = _person(prison)
    with django_assert_max_num_queries(SERVICE_BOOKED):
        _request(slot, resident, contact)
    other, other_contact = _person(prison)
    with django_assert_max_num_queries(SERVICE_FULL), pytest.raises(BookingRefused):
        _request(slot, other, other_contact)


def test_the_api_booking_request_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    prison, slot = _one_place()
    answers = []
    for expected in (API_BOOKED, API_FULL):
        send = _ready_to_request(prison, slot)
        with django_assert_max_num_queries(expected):
            answers.append(send())
    assert answers == [201, 409]


@contextmanager
def _reads_ahead(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ReadAhead]]:
    """Every ``read_ahead`` block of the contact API and the booking service, as it ended."""
    blocks: list[ReadAhead] = []

    @contextmanager
    def recording(runs: Any, **options: Any) -> Iterator[ReadAhead]:
        with read_ahead(runs, **options) as ahead:
            yield ahead
        blocks.append(ahead)

    monkeypatch.setattr(contact_api, "read_ahead", recording)
    monkeypatch.setattr(services, "read_ahead", recording)
    yield blocks


def test_a_booking_request_reads_ahead_exactly_what_it_then_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The contact API reads the contact, the person and the time together, and the service reads a decision's
    facts together (``read_ahead``). Each run read ahead must be the very read made later, with the same
    values: one that differs goes back to the database on its own, silently costing a round trip."""
    prison, slot = _one_place()
    with _reads_ahead(monkeypatch) as blocks:
        answers = [_ready_to_request(prison, slot)() for _attempt in range(2)]
    assert answers == [201, 409]
    assert len(blocks) == 4  # the API's and the service's, for each request
    assert [(ahead.unused, ahead.missed) for ahead in blocks] == [(0, [])] * 4


def test_a_request_for_a_full_slot_takes_few_statements_on_postgresql(
    django_assert_max_num_queries: Any,
) -> None:
    """On PostgreSQL the reads made together are one statement: a request for a full time costs
    STATEMENTS_FULL_POSTGRESQL statements, each one exchange with the database."""
    if connection.vendor != "postgresql":
        pytest.skip("reads are made one statement together on PostgreSQL; this runs in the PostgreSQL pass")
    prison, slot = _one_place()
    assert _ready_to_request(prison, slot)() == 201
    send = _ready_to_request(prison, slot)
    with django_assert_max_num_queries(STATEMENTS_FULL_POSTGRESQL):
        assert send() == 409


def test_a_request_for_a_full_slot_takes_no_lock() -> None:
    """A full slot is seen by one unlocked read, so the requests of a rush that cannot succeed never queue for
    the slot's (or their person's) row lock; a request that could succeed still takes both."""
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks (SELECT ... FOR UPDATE); this runs in the PostgreSQL pass")
    prison, slot = _one_place()
    resident, contact = _person(prison)
    with CaptureQueriesContext(connection) as booked:
        _request(slot, resident, contact)
    other, other_contact = _person(prison)
    with CaptureQueriesContext(connection) as refused, pytest.raises(BookingRefused) as refusal:
        _request(slot, other, other_contact)
    assert "slot.full" in refusal.value.codes
    assert sum("FOR UPDATE" in query["sql"] for query in booked.captured_queries) >= 2
    assert not [query["sql"] for query in refused.captured_queries if "FOR UPDATE" in query["sql"]]
