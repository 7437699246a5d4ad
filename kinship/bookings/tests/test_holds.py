"""Holds: a chosen slot is kept while the request is completed, and counts against capacity until it lapses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kinship.bookings import selectors
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import BookingSettings, RequestChannel, SlotHold
from kinship.bookings.services import booking_request, slot_hold, slot_hold_release
from kinship.factories import UserFactory

from .conftest import Party, make_party

pytestmark = pytest.mark.django_db


def book(party: Party, now: datetime, **kwargs: object) -> object:
    fields: dict[str, object] = {
        "slot": party.slot,
        "resident": party.resident,
        "lead_contact": party.contact,
        "channel": RequestChannel.CONTACT,
        "actor": party.contact.user,
        "now": now,
    }
    fields.update(kwargs)
    return booking_request(**fields).booking  # type: ignore[arg-type]


def test_a_hold_takes_a_place_for_ten_minutes(prison: object, now: datetime) -> None:
    first = make_party(prison, capacity=1)  # type: ignore[arg-type]
    hold = slot_hold(slot=first.slot, held_by=first.contact.user, now=now)
    assert hold.expires_at == now + timedelta(minutes=10)
    second = make_party(prison)  # type: ignore[arg-type]
    second.slot = first.slot
    with pytest.raises(BookingRefused) as refused:
        book(second, now)
    assert refused.value.codes == {"slot.full"}
    with pytest.raises(BookingRefused):
        slot_hold(slot=first.slot, held_by=second.contact.user, now=now)
    # The holder completes the request in the held place.
    booking = book(first, now + timedelta(minutes=5), hold=hold)
    hold.refresh_from_db()
    assert hold.converted_at == now + timedelta(minutes=5)
    assert booking is not None


def test_an_expired_hold_frees_the_place(prison: object, now: datetime) -> None:
    first = make_party(prison, capacity=1)  # type: ignore[arg-type]
    slot_hold(slot=first.slot, held_by=first.contact.user, now=now)
    second = make_party(prison)  # type: ignore[arg-type]
    second.slot = first.slot
    available = selectors.slots_available(
        establishment=first.establishment, start=now, end=now + timedelta(days=30), now=now
    )
    assert not available.filter(pk=first.slot.pk).exists()
    later = now + timedelta(minutes=10)
    assert (
        selectors.slots_available(
            establishment=first.establishment, start=now, end=now + timedelta(days=30), now=later
        )
        .filter(pk=first.slot.pk)
        .exists()
    )
    book(second, later)


def test_a_released_hold_frees_the_place(prison: object, now: datetime) -> None:
    first = make_party(prison, capacity=1)  # type: ignore[arg-type]
    hold = slot_hold(slot=first.slot, held_by=first.contact.user, now=now)
    slot_hold_release(hold=hold, now=now)
    second = make_party(prison)  # type: ignore[arg-type]
    second.slot = first.slot
    book(second, now)


def test_a_lapsed_hold_still_books_when_a_place_is_left(party: Party, now: datetime) -> None:
    hold = slot_hold(slot=party.slot, held_by=party.contact.user, now=now)
    book(party, now + timedelta(minutes=30), hold=hold)
    hold.refresh_from_db()
    assert hold.converted_at is None


def test_someone_elses_hold_cannot_be_used(party: Party, now: datetime) -> None:
    hold = slot_hold(slot=party.slot, held_by=UserFactory(), now=now)
    with pytest.raises(BookingRefused) as refused:
        book(party, now, hold=hold)
    assert "hold.not_yours" in refused.value.codes


def test_the_establishment_sets_how_long_a_hold_lasts(party: Party, now: datetime) -> None:
    BookingSettings.objects.create(establishment=party.establishment, hold_minutes=3)
    hold = slot_hold(slot=party.slot, held_by=None, resident=party.resident, now=now)
    assert hold.expires_at == now + timedelta(minutes=3)


def test_a_started_slot_cannot_be_held(party: Party) -> None:
    with pytest.raises(BookingRefused) as refused:
        slot_hold(slot=party.slot, held_by=None, now=party.slot.starts_at)
    assert refused.value.codes == {"slot.started"}
    assert not SlotHold.objects.exists()
