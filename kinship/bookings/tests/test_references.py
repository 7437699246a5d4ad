"""Booking references: unambiguous characters, unique, forgiving of how people type them."""

from __future__ import annotations

from datetime import datetime
from unittest import mock

import pytest

from kinship.bookings import services
from kinship.bookings.models import Booking, RequestChannel
from kinship.bookings.references import ALPHABET, is_reference, new_reference, normalise_reference
from kinship.bookings.services import booking_request

from .conftest import Party
from .factories import SlotFactory


def test_references_use_no_ambiguous_characters() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    references = {new_reference() for _ in range(2000)}
    assert len(references) == 2000
    assert all(is_reference(reference) for reference in references)
    assert not set("".join(references)) - set(ALPHABET) - {"-"}


def test_typed_references_are_normalised() -> None:
    assert normalise_reference(" kx7p 2mra ") == "KX7P-2MRA"
    assert normalise_reference("kx7p-2mra") == "KX7P-2MRA"


@pytest.mark.django_db
def test_a_clashing_reference_is_drawn_again(party: Party, now: datetime) -> None:
    def book(slot: object) -> Booking:
        return booking_request(
            slot=slot,  # type: ignore[arg-type]
            resident=party.resident,
            lead_contact=party.contact,
            channel=RequestChannel.CONTACT,
            now=now,
        ).booking

    with mock.patch.object(services, "new_reference", return_value="AAAA-AAAA"):
        first = book(party.slot)
    second_slot = SlotFactory(
        establishment=party.establishment, starts_at=datetime(2027, 4, 5, 9, tzinfo=now.tzinfo)
    )
    drawn = iter(["AAAA-AAAA", "AAAA-AAAA", "BBBB-BBBB"])
    with mock.patch.object(services, "new_reference", side_effect=lambda: next(drawn)):
        second = book(second_slot)
    assert (first.reference, second.reference) == ("AAAA-AAAA", "BBBB-BBBB")
