"""Fixtures for the booking tests: a fixed ``now``, establishments of each profile and a ready-to-book resident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from kinship.accounts.models import User
from kinship.bookings.models import Slot
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory, IrcFactory, YouthCustodyFactory, staff_with
from kinship.people.models import Contact, Resident

from .factories import SlotFactory, approved_contact, eligible_resident

#: Monday 1 March 2027, 09:00 in London (GMT). Slots in the tests are two days later or more.
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def prison() -> Establishment:
    return EstablishmentFactory()


@pytest.fixture
def irc() -> Establishment:
    return IrcFactory()


@pytest.fixture
def youth() -> Establishment:
    return YouthCustodyFactory()


@pytest.fixture
def clerk(prison: Establishment) -> User:
    return staff_with(Role.BOOKING_CLERK, prison)


@pytest.fixture
def governor(prison: Establishment) -> User:
    return staff_with(Role.GOVERNOR, prison)


@dataclass
class Party:
    """A resident ready to book, with one approved contact, at an establishment with a free slot."""

    establishment: Establishment
    resident: Resident
    contact: Contact
    slot: Slot


def make_party(establishment: Establishment, **slot_fields: object) -> Party:
    resident = eligible_resident(establishment)
    contact = approved_contact(resident)
    slot = SlotFactory(establishment=establishment, **slot_fields)
    return Party(establishment=establishment, resident=resident, contact=contact, slot=slot)


@pytest.fixture
def party(prison: Establishment) -> Party:
    return make_party(prison)


@pytest.fixture
def irc_party(irc: Establishment) -> Party:
    return make_party(irc)
