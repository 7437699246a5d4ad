"""Our wording: every event, the reason where there is one (PF 4.8), the hotline always (PF 4.19)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kinship.bookings.models import BookingStatus, CancelledBy, RejectionReason
from kinship.bookings.services import booking_request
from kinship.bookings.tests.conftest import Party
from kinship.notifications import messages
from kinship.notifications.models import Event

pytestmark = pytest.mark.django_db


def test_local_time_in_govuk_style() -> None:
    summer = datetime(2027, 7, 7, 13, 30, tzinfo=UTC)
    winter = datetime(2027, 1, 6, 9, 0, tzinfo=UTC)
    assert messages.local_when(summer, "Europe/London") == "Wednesday 7 July 2027 at 2:30pm"
    assert messages.local_when(winter, "Europe/London") == "Wednesday 6 January 2027 at 9am"


# Every message about a booking (staff notices are written by the services that send them).
@pytest.mark.parametrize("event", list(messages.WORDING))
@pytest.mark.parametrize("sms", [True, False])
def test_every_message_names_the_call_and_the_hotline(
    party: Party, now: datetime, event: Event, sms: bool
) -> None:
    booking = booking_request(
        slot=party.slot, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
    ).booking
    message = messages.render(booking=booking, event=event, sms=sms, name="Sam")
    assert booking.reference in message.body + message.subject
    assert party.establishment.safer_custody_hotline in message.body
    assert party.resident.first_name in message.body
    if sms:
        assert len(message.body) <= 480  # three text message fragments at most


def test_the_reason_is_told(party: Party, now: datetime) -> None:
    booking = booking_request(
        slot=party.slot, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
    ).booking
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_by = CancelledBy.ESTABLISHMENT
    booking.status_reason = "The wing is locked down"
    cancelled = messages.render(booking=booking, event=Event.CANCELLED, sms=False, name="Sam")
    assert "The wing is locked down (cancelled by the establishment)." in cancelled.body
    booking.rejection_reason = RejectionReason.NO_STAFF
    booking.status_reason = "Short of officers"
    rejected = messages.render(booking=booking, event=Event.REJECTED, sms=True, name="Sam")
    assert "Not enough staff to run the call. Short of officers." in rejected.body


def test_without_a_hotline_the_message_still_says_where_to_turn(party: Party, now: datetime) -> None:
    party.establishment.safer_custody_hotline = ""
    party.establishment.save()
    booking = booking_request(
        slot=party.slot, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
    ).booking
    message = messages.render(booking=booking, event=Event.APPROVED, sms=False, name="Sam")
    assert "ask for the safer custody team" in message.body
