"""Fixtures for the call lifecycle tests: the in-memory media server, booked calls in a prison and an IRC, and
the staff who run them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from kinship.bookings.models import Booking, BookingStatus, RequestChannel
from kinship.bookings.references import new_reference
from kinship.bookings.tests.factories import SlotFactory, approved_contact, eligible_resident
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.provider import media_server, media_server_reset
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, Terminal, TerminalKind, hash_device_secret
from kinship.factories import EstablishmentFactory, IrcFactory, TerminalFactory, staff_with

#: For tests whose database work happens inside the private network namespace (an app server or the services
#: running in a thread that entered it). A SQLite file and a PostgreSQL Unix socket (a ``DATABASE_URL`` host such
#: as ``%2Fvar%2Frun%2Fpostgresql``, which CI's PostgreSQL pass uses) are reachable from there; PostgreSQL over TCP
#: on the host's loopback is not, so such a run skips these tests (the SQLite pass runs them).
NAMESPACE_SAFE_DATABASE = pytest.mark.skipif(
    not (
        "sqlite" in settings.DATABASES["default"]["ENGINE"]
        or str(settings.DATABASES["default"].get("HOST", "")).startswith("/")
    ),
    reason="the database is reached from inside the network namespace, which cannot reach the host's loopback: "
    "use SQLite or PostgreSQL over its Unix socket",
)


def off_the_loop[T](body: Callable[[], T]) -> T:
    """Run ``body`` in a thread of its own: a browser test (Playwright's sync API) may leave an event loop running
    on this one, and ``async_to_sync`` (the services' pushes, a scenario's coroutine) refuses to run beside it.
    The thread's own database connections are closed when it is done: PostgreSQL cannot drop a test database
    still in use."""

    def in_thread() -> T:
        try:
            return body()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(in_thread).result()


#: The slot of the calls in these tests: Wednesday 3 March 2027, 10:00 to 11:00 UTC (London is on GMT).
START = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


@pytest.fixture(autouse=True)
def fake_media(settings: Any) -> Iterator[FakeMediaServer]:
    settings.KINSHIP_MEDIA_SERVER = "kinship.calls.media.fake.FakeMediaServer"
    media_server_reset()
    server = media_server()
    assert isinstance(server, FakeMediaServer)
    yield server
    media_server_reset()


def book(
    establishment: Establishment, *, kind: str = "social", e_list: bool = False, start: datetime = START
) -> Booking:
    """An approved booking for an eligible person in custody with one approved contact (no services: the booking
    pages and rules are tested in kinship/bookings)."""
    resident = eligible_resident(establishment, e_list=e_list)
    contact = approved_contact(resident)
    slot = SlotFactory(establishment=establishment, starts_at=start, minutes=60)
    return Booking.objects.create(
        reference=new_reference(),
        slot=slot,
        resident=resident,
        lead_contact=contact,
        kind=kind,
        requested_by=RequestChannel.CONTACT,
        requested_at=timezone.now(),
        status=BookingStatus.APPROVED,
    )


def monitoring_terminal(establishment: Establishment, *, registered: bool = True) -> Terminal:
    return TerminalFactory(
        establishment=establishment,
        kind=TerminalKind.MONITORING,
        device_secret_hash=hash_device_secret("device-secret") if registered else "",
        registered_at=timezone.now() if registered else None,
    )


@dataclass
class Place:
    establishment: Establishment
    officer: Any
    monitor: Any
    terminal: Terminal


def place(establishment: Establishment) -> Place:
    """An establishment with its supervising officer, its monitoring officer and a registered monitoring
    terminal."""
    return Place(
        establishment=establishment,
        officer=staff_with(Role.SUPERVISING_OFFICER, establishment),
        monitor=staff_with(Role.MONITORING_OFFICER, establishment),
        terminal=monitoring_terminal(establishment),
    )


@pytest.fixture
def prison() -> Place:
    return place(EstablishmentFactory())


@pytest.fixture
def irc() -> Place:
    return place(IrcFactory())
