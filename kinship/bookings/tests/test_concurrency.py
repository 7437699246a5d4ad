"""Under any concurrency no slot is booked beyond its capacity and no allowance is overspent (PostgreSQL).

Every thread opens its own database connection and they all start at once behind a barrier. On SQLite writers
are serialised by the database itself, so these tests run on PostgreSQL only, where the row locks in
``services`` are what keeps the counts right.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum

from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import ACTIVE_STATUSES, AllowanceEntry, Booking, RequestChannel, Slot
from kinship.bookings.services import booking_request
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory
from kinship.people.models import Contact, Resident

from .conftest import NOW
from .factories import SlotFactory, approved_contact, eligible_resident

THREADS = 20

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(attempts: list[Callable[[], object]]) -> tuple[Counter[str], float]:
    """Run every attempt in its own thread, all released together; count outcomes by kind."""
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(attempt: Callable[[], object]) -> None:
        try:
            barrier.wait()
            try:
                attempt()
                outcome = "booked"
            except BookingRefused as refused:
                outcome = "refused:" + ",".join(sorted(refused.codes))
            except Exception as error:
                outcome = f"error:{type(error).__name__}:{error}"
            with lock:
                outcomes[outcome] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(attempt,)) for attempt in attempts]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes, time.perf_counter() - started


def attempt(slot: Slot, resident: Resident, contact: Contact, now: datetime) -> Callable[[], object]:
    return lambda: booking_request(
        slot=slot, resident=resident, lead_contact=contact, channel=RequestChannel.CONTACT, now=now
    )


def test_the_same_few_slots_are_never_overbooked() -> None:
    establishment: Establishment = EstablishmentFactory()
    slots = [SlotFactory(establishment=establishment, capacity=2) for _ in range(3)]
    people = []
    for _ in range(THREADS):
        resident = eligible_resident(establishment)
        people.append((resident, approved_contact(resident)))
    attempts = [
        attempt(slots[index % len(slots)], resident, contact, NOW)
        for index, (resident, contact) in enumerate(people)
    ]

    outcomes, seconds = run_at_once(attempts)
    print(f"\n{THREADS} threads, 3 slots of capacity 2: {dict(outcomes)} in {seconds:.2f}s")

    assert outcomes == {"booked": 6, "refused:slot.full": THREADS - 6}
    for slot in slots:
        assert Booking.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).count() == 2


def test_one_residents_allowance_is_never_overspent() -> None:
    establishment: Establishment = EstablishmentFactory()
    resident = eligible_resident(establishment)
    contact = approved_contact(resident)
    # Twenty free slots on different days of one month: only the allowance can refuse (PF 4.1: one 60-minute call).
    slots = [
        SlotFactory(establishment=establishment, capacity=5, starts_at=NOW + timedelta(days=2 + day))
        for day in range(THREADS)
    ]
    attempts = [attempt(slot, resident, contact, NOW) for slot in slots]

    outcomes, seconds = run_at_once(attempts)
    print(f"\n{THREADS} threads, one resident's allowance: {dict(outcomes)} in {seconds:.2f}s")

    assert outcomes == {"booked": 1, "refused:allowance.no_calls_left": THREADS - 1}
    total = AllowanceEntry.objects.filter(resident=resident).aggregate(total=Sum("minutes"))["total"]
    assert total == -60
    assert Booking.objects.filter(resident=resident).count() == 1


def test_many_residents_and_one_allowance_at_once() -> None:
    """Both at once: ten people for two places, and ten requests from one person for ten other slots."""
    establishment: Establishment = EstablishmentFactory()
    shared = SlotFactory(establishment=establishment, capacity=2, starts_at=NOW + timedelta(days=1, hours=1))
    attempts = []
    for _ in range(THREADS // 2):
        resident = eligible_resident(establishment)
        attempts.append(attempt(shared, resident, approved_contact(resident), NOW))
    busy = eligible_resident(establishment)
    busy_contact = approved_contact(busy)
    attempts += [
        attempt(
            SlotFactory(establishment=establishment, starts_at=NOW + timedelta(days=3 + day)),
            busy,
            busy_contact,
            NOW,
        )
        for day in range(THREADS // 2)
    ]

    outcomes, seconds = run_at_once(attempts)
    print(f"\n{THREADS} threads, mixed: {dict(outcomes)} in {seconds:.2f}s")

    assert outcomes == {
        "booked": 3,
        "refused:slot.full": THREADS // 2 - 2,
        "refused:allowance.no_calls_left": THREADS // 2 - 1,
    }


def test_falling_back_to_other_choices_never_overbooks_them() -> None:
    """Twenty people, each asking for the same first, second and third choice, two places in each: exactly six
    are booked, two in each time, and everyone else is refused with every choice full."""
    establishment: Establishment = EstablishmentFactory()
    choices: list[Slot] = [
        SlotFactory(establishment=establishment, capacity=2, starts_at=NOW + timedelta(days=2 + day))
        for day in range(3)
    ]
    first, second, third = choices
    attempts: list[Callable[[], object]] = []
    for _ in range(THREADS):
        resident = eligible_resident(establishment)
        contact = approved_contact(resident)
        attempts.append(
            lambda resident=resident, contact=contact: booking_request(
                slot=first,
                resident=resident,
                lead_contact=contact,
                channel=RequestChannel.CONTACT,
                alternatives=[second, third],
                now=NOW,
            )
        )

    outcomes, seconds = run_at_once(attempts)
    print(f"\n{THREADS} threads, three choices of capacity 2: {dict(outcomes)} in {seconds:.2f}s")

    assert outcomes == {"booked": 6, "refused:slot.full": THREADS - 6}
    for slot in (first, second, third):
        assert Booking.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).count() == 2
