"""Fixtures for the API tests: a bookable party at a prison with slots a few days ahead of the real clock (the
API decides at the time of the request), and signed-in clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kinship.bookings.models import Slot
from kinship.bookings.tests.conftest import Party
from kinship.bookings.tests.factories import SlotFactory, approved_contact, eligible_resident
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory, staff_with
from kinship.testing import sign_in_with_2fa


def future_slot(establishment: Establishment, days: int = 3, **fields: Any) -> Slot:
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return SlotFactory(
        establishment=establishment, starts_at=start, ends_at=start + timedelta(hours=1), **fields
    )


@pytest.fixture
def prison() -> Establishment:
    return EstablishmentFactory()


@pytest.fixture
def party(prison: Establishment) -> Party:
    resident = eligible_resident(prison)
    return Party(
        establishment=prison, resident=resident, contact=approved_contact(resident), slot=future_slot(prison)
    )


@pytest.fixture
def signed_in() -> Callable[[Any], Client]:
    """``signed_in(user)``: a fresh client as ``user`` (staff with the second factor passed)."""

    def make(user: Any, *, csrf: bool = False) -> Client:
        return sign_in_with_2fa(Client(enforce_csrf_checks=csrf), user)

    return make


@pytest.fixture
def contact_client(party: Party, signed_in: Callable[..., Client]) -> Client:
    return signed_in(party.contact.user)


@pytest.fixture
def clerk_client(prison: Establishment, signed_in: Callable[..., Client]) -> Client:
    return signed_in(staff_with(Role.BOOKING_CLERK, prison))
