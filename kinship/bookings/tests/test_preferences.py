"""Up to three preferences (issue 4, item 2): a first choice, held and booked as ever, and up to two
alternatives, recorded in order and booked only when the first choice is full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kinship.audit.models import AuditEvent
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import (
    AllowanceEntry,
    Booking,
    BookingPreference,
    BookingStatus,
    LedgerReason,
    RequestChannel,
    Slot,
)
from kinship.bookings.services import booking_approve, booking_move_to_preference, booking_request
from kinship.factories import EstablishmentFactory

from .conftest import Party
from .factories import SlotFactory

pytestmark = pytest.mark.django_db


def fill(slot: Slot) -> None:
    slot.capacity = 0
    slot.save(update_fields=["capacity"])


def alternatives_for(party: Party, count: int = 2) -> list[Slot]:
    return [
        SlotFactory(
            establishment=party.establishment,
            room=party.slot.room,
            starts_at=party.slot.starts_at + timedelta(days=offset + 1),
        )
        for offset in range(count)
    ]


def ask(party: Party, now: datetime, alternatives: list[Slot], **kwargs: object) -> object:
    return booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        alternatives=alternatives,
        now=now,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_first_choice_is_booked_and_the_alternatives_recorded(party: Party, now: datetime) -> None:
    second, third = alternatives_for(party)
    result = ask(party, now, [second, third])
    booking = result.booking  # type: ignore[attr-defined]
    assert result.preference == 1  # type: ignore[attr-defined]
    assert booking.slot == party.slot
    assert list(booking.preferences.values_list("rank", "slot")) == [(2, second.pk), (3, third.pk)]
    assert AllowanceEntry.objects.get(booking=booking).minutes == -60
    event = AuditEvent.objects.get(action="booking_requested", subject_id=str(booking.pk))
    assert event.after["preference_used"] == 1
    assert event.after["alternatives"] == [str(second.pk), str(third.pk)]


def test_a_full_first_choice_falls_back_to_the_second(party: Party, now: datetime) -> None:
    second, third = alternatives_for(party)
    fill(party.slot)
    result = ask(party, now, [second, third])
    booking = result.booking  # type: ignore[attr-defined]
    assert result.preference == 2  # type: ignore[attr-defined]
    assert booking.slot == second
    assert booking.status == BookingStatus.REQUESTED
    assert BookingPreference.objects.filter(booking=booking).count() == 2
    assert AllowanceEntry.objects.get(booking=booking).minutes == -60
    event = AuditEvent.objects.get(action="booking_requested", subject_id=str(booking.pk))
    assert event.after["preference_used"] == 2
    assert event.after["first_choice"] == str(party.slot.pk)


def test_falls_back_to_the_third_when_the_first_two_are_full(party: Party, now: datetime) -> None:
    second, third = alternatives_for(party)
    fill(party.slot)
    fill(second)
    result = ask(party, now, [second, third])
    assert result.preference == 3  # type: ignore[attr-defined]
    assert result.booking.slot == third  # type: ignore[attr-defined]
    assert Booking.objects.count() == 1
    assert AllowanceEntry.objects.count() == 1


def test_none_free_is_refused_with_every_choices_reasons(party: Party, now: datetime) -> None:
    second, third = alternatives_for(party)
    fill(party.slot)
    fill(second)
    third.legal_reserved = True
    third.save()
    with pytest.raises(BookingRefused) as refused:
        ask(party, now, [second, third])
    messages = refused.value.messages
    assert any(message.startswith("PF 4.2: First choice:") for message in messages)
    assert any(message.startswith("PF 4.2: Second choice:") for message in messages)
    assert any(message.startswith("DSO 9: Third choice:") for message in messages)
    assert not Booking.objects.exists()
    assert not AllowanceEntry.objects.exists()


def test_alternatives_are_not_tried_when_the_first_choice_is_refused_for_another_reason(
    party: Party, now: datetime
) -> None:
    (second,) = alternatives_for(party, 1)
    fill(party.slot)
    party.slot.legal_reserved = True
    party.slot.save()
    with pytest.raises(BookingRefused) as refused:
        ask(party, now, [second])
    assert refused.value.codes == {"slot.full", "slot.legal_reserved"}
    assert not Booking.objects.exists()


def test_alternatives_are_validated(party: Party, now: datetime) -> None:
    second, third = alternatives_for(party)
    elsewhere = SlotFactory(establishment=EstablishmentFactory())
    closed = SlotFactory(establishment=party.establishment, open_to_contacts=False)
    past = SlotFactory(establishment=party.establishment, starts_at=now - timedelta(hours=2))
    cases = {
        "preferences.too_many": [second, third, closed],
        "preferences.repeated": [party.slot],
        "preferences.other_establishment": [elsewhere],
        "preferences.channel": [closed],
        "preferences.started": [past],
    }
    for code, alternatives in cases.items():
        with pytest.raises(BookingRefused) as refused:
            ask(party, now, alternatives)
        assert code in refused.value.codes, code
    with pytest.raises(BookingRefused) as refused:
        ask(party, now, [second, second])
    assert refused.value.codes == {"preferences.repeated"}
    assert refused.value.messages == (
        "Your third choice is the same time as an earlier choice. Choose a different time.",
    )
    assert not Booking.objects.exists()


# --- Staff approve a request into an alternative
# ------------------------------------------------------------------------


def requested_with(party: Party, now: datetime, alternatives: list[Slot]) -> Booking:
    return ask(party, now, alternatives).booking  # type: ignore[attr-defined,no-any-return]


def test_staff_move_a_request_whose_first_choice_filled_into_an_alternative(
    party: Party, now: datetime, clerk: object
) -> None:
    second: Slot = SlotFactory(
        establishment=party.establishment,
        room=party.slot.room,
        starts_at=datetime(2027, 4, 6, 10, tzinfo=UTC),
        minutes=30,
    )
    booking = requested_with(party, now, [second])
    fill(party.slot)

    result = booking_move_to_preference(booking=booking, slot=second, actor=clerk, now=now)  # type: ignore[arg-type]

    booking.refresh_from_db()
    assert result.preference == 2
    assert (booking.slot_id, booking.status, booking.decided_by) == (second.pk, BookingStatus.APPROVED, clerk)
    ledger = list(AllowanceEntry.objects.filter(booking=booking).values_list("month", "minutes", "reason"))
    assert ledger == [
        ("2027-03", -60, LedgerReason.BOOKING),
        ("2027-03", 60, LedgerReason.MOVED_TO_PREFERENCE),
        ("2027-04", -30, LedgerReason.BOOKING),
    ]
    event = AuditEvent.objects.get(action="booking_approved_into_preference", subject_id=str(booking.pk))
    assert event.after["moved_from_slot"] == str(party.slot.pk)
    assert event.after["preference_used"] == 2
    assert event.after["allowance_moved"] == {"from": "2027-03", "to": "2027-04", "minutes": 30}
    assert "PF 4.1" in event.policy_ids
    assert BookingPreference.objects.filter(booking=booking).count() == 1


def test_a_move_within_the_month_and_length_leaves_the_ledger_alone(
    party: Party, now: datetime, clerk: object
) -> None:
    (second,) = alternatives_for(party, 1)
    booking = requested_with(party, now, [second])
    booking_move_to_preference(booking=booking, slot=second, actor=clerk, now=now)  # type: ignore[arg-type]
    assert AllowanceEntry.objects.filter(booking=booking).count() == 1


def test_staff_move_is_refused_with_every_reason(party: Party, now: datetime, clerk: object) -> None:
    second, third = alternatives_for(party)
    stray = SlotFactory(establishment=party.establishment, room=party.slot.room)
    booking = requested_with(party, now, [second, third])
    with pytest.raises(BookingRefused) as refused:
        booking_move_to_preference(booking=booking, slot=stray, actor=clerk, now=now)  # type: ignore[arg-type]
    assert refused.value.codes == {"preferences.not_an_alternative"}
    fill(second)
    Slot.objects.filter(pk=second.pk).update(legal_reserved=True)
    second.refresh_from_db()
    with pytest.raises(BookingRefused) as refused:
        booking_move_to_preference(booking=booking, slot=second, actor=clerk, now=now)  # type: ignore[arg-type]
    assert refused.value.codes == {"slot.full", "slot.legal_reserved"}
    booking.refresh_from_db()
    assert (booking.slot_id, booking.status) == (party.slot.pk, BookingStatus.REQUESTED)
    assert AllowanceEntry.objects.filter(booking=booking).count() == 1
    booking_approve(booking=booking, actor=clerk, now=now)  # type: ignore[arg-type]
    with pytest.raises(BookingRefused) as refused:
        booking_move_to_preference(booking=booking, slot=third, actor=clerk, now=now)  # type: ignore[arg-type]
    assert refused.value.codes == {"booking.not_requested"}
