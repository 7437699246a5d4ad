"""Factories for booking tests, on top of the shared ones in ``kinship.factories``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import factory

from kinship.accounts.models import TermsVersion
from kinship.bookings.models import SessionTemplate, Slot, StaffRoster
from kinship.establishments.models import Establishment, Room, TerminalKind
from kinship.factories import (
    CompactRecordFactory,
    ContactFactory,
    ContactLinkFactory,
    ResidentFactory,
    RiskAssessmentFactory,
    RoomFactory,
    TerminalFactory,
    TermsVersionFactory,
    accept_current_terms,
)
from kinship.people.models import Contact, Resident


class SessionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionTemplate

    establishment = factory.SubFactory("kinship.factories.EstablishmentFactory")
    room = factory.SubFactory(RoomFactory, establishment=factory.SelfAttribute("..establishment"))
    weekday = 0
    start = time(9, 0)
    end = time(12, 0)
    slot_minutes = 60
    valid_from = date(2020, 1, 1)


class StaffRosterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRoster

    establishment = factory.SubFactory("kinship.factories.EstablishmentFactory")
    room = factory.SubFactory(RoomFactory, establishment=factory.SelfAttribute("..establishment"))
    date = date(2027, 3, 1)
    start = time(0, 0)
    end = time(23, 59)
    supervising_officers = 1
    monitoring_officers = 1


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    class Params:
        minutes = 60

    establishment = factory.SubFactory("kinship.factories.EstablishmentFactory")
    room = factory.SubFactory(RoomFactory, establishment=factory.SelfAttribute("..establishment"))
    starts_at = factory.Sequence(lambda n: datetime(2027, 3, 3, 9, 0, tzinfo=UTC) + timedelta(hours=n % 300))
    ends_at = factory.LazyAttribute(lambda slot: slot.starts_at + timedelta(minutes=slot.minutes))
    capacity = 2
    supervising_officers = 1
    monitoring_officers = 1


def terminals_in(room: Room, count: int) -> None:
    for _ in range(count):
        TerminalFactory(establishment=room.establishment, room=room, kind=TerminalKind.RESIDENT)


def current_terms() -> TermsVersion:
    return TermsVersion.current() or TermsVersionFactory()


def eligible_resident(establishment: Establishment, **kwargs: Any) -> Resident:
    """A resident whose compact is signed and eligibility assessed (PF 4.9, DSO 10)."""
    resident = ResidentFactory(establishment=establishment, **kwargs)
    CompactRecordFactory(resident=resident)
    RiskAssessmentFactory(resident=resident)
    return resident


def approved_contact(resident: Resident, **kwargs: Any) -> Contact:
    """A contact on the resident's approved phone list who has accepted the current terms (PF 4.12, PF 4.15)."""
    current_terms()
    contact = ContactFactory(**kwargs)
    ContactLinkFactory(resident=resident, contact=contact)
    accept_current_terms(contact.user)
    return contact
