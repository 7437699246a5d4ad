"""Immigration detention: no allowance (DSO 3), legal calls first and in reserved slots (DSO 9)."""

from __future__ import annotations

from datetime import datetime

import pytest

from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import AllowanceEntry, CallKind, Funding, RequestChannel
from kinship.bookings.services import booking_request, slot_hold
from kinship.factories import ContactFactory, UserFactory
from kinship.people.models import Contact

from .conftest import Party
from .factories import approved_contact

pytestmark = pytest.mark.django_db


def test_social_calls_use_no_allowance(irc_party: Party, now: datetime) -> None:
    booking = booking_request(
        slot=irc_party.slot,
        resident=irc_party.resident,
        lead_contact=irc_party.contact,
        channel=RequestChannel.CONTACT,
        now=now,
    ).booking
    assert booking.funding == Funding.NONE
    assert not AllowanceEntry.objects.exists()


def test_a_legal_reserved_slot_takes_legal_calls_only(irc_party: Party, now: datetime) -> None:
    irc_party.slot.legal_reserved = True
    irc_party.slot.save()
    with pytest.raises(BookingRefused) as refused:
        booking_request(
            slot=irc_party.slot,
            resident=irc_party.resident,
            lead_contact=irc_party.contact,
            channel=RequestChannel.STAFF,
            now=now,
        )
    assert refused.value.rule_ids == {"DSO 9"}
    adviser = approved_contact(irc_party.resident, is_legal_adviser=True)
    result = booking_request(
        slot=irc_party.slot,
        resident=irc_party.resident,
        lead_contact=adviser,
        kind=CallKind.LEGAL,
        channel=RequestChannel.STAFF,
        now=now,
    )
    assert result.decision.find("legal.priority") is not None


def test_a_legal_call_goes_ahead_of_other_peoples_holds(irc_party: Party, now: datetime) -> None:
    irc_party.slot.capacity = 1
    irc_party.slot.save()
    slot_hold(slot=irc_party.slot, held_by=UserFactory(), now=now)
    with pytest.raises(BookingRefused):
        booking_request(
            slot=irc_party.slot,
            resident=irc_party.resident,
            lead_contact=irc_party.contact,
            channel=RequestChannel.CONTACT,
            now=now,
        )
    adviser = approved_contact(irc_party.resident, is_legal_adviser=True)
    booking_request(
        slot=irc_party.slot,
        resident=irc_party.resident,
        lead_contact=adviser,
        kind=CallKind.LEGAL,
        channel=RequestChannel.STAFF,
        now=now,
    )


def test_contacts_must_be_linked_and_not_banned(irc_party: Party, now: datetime) -> None:
    stranger: Contact = ContactFactory()
    irc_party.contact.booking_banned_until = now.date().replace(year=2028)
    irc_party.contact.save()
    with pytest.raises(BookingRefused) as refused:
        booking_request(
            slot=irc_party.slot,
            resident=irc_party.resident,
            lead_contact=irc_party.contact,
            participants=[stranger],
            channel=RequestChannel.CONTACT,
            now=now,
        )
    assert {"contact.not_linked", "contact.booking_banned", "terms.not_accepted"} <= refused.value.codes
