"""booking_request, booking_approve, booking_reject: every rule path, and the allowance ledger they move."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from kinship.audit.models import AuditEvent
from kinship.bookings import selectors
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import (
    AllowanceEntry,
    Booking,
    BookingSettings,
    BookingStatus,
    CallKind,
    Funding,
    LedgerReason,
    RejectionReason,
    RequestChannel,
)
from kinship.bookings.services import booking_approve, booking_reject, booking_request
from kinship.factories import ContactFactory, ResidentFactory
from kinship.people.models import CompactOutcome, CompactRecord, Contact

from .conftest import Party, make_party
from .factories import SlotFactory, approved_contact

pytestmark = pytest.mark.django_db


def request(party: Party, now: datetime, **kwargs: object) -> Booking:
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


def test_a_request_waits_for_staff_and_debits_the_allowance(party: Party, now: datetime) -> None:
    result = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        now=now,
    )
    booking = result.booking
    assert booking.status == BookingStatus.REQUESTED
    assert booking.funding == Funding.ALLOWANCE
    assert result.decision.find("allowance.minutes_left") is not None
    entry = AllowanceEntry.objects.get(booking=booking)
    assert (entry.minutes, entry.reason, entry.month) == (-60, LedgerReason.BOOKING, "2027-03")
    assert selectors.allowance_minutes_used(resident=party.resident, month="2027-03") == 60
    event = AuditEvent.objects.get(action="booking_requested", subject_id=str(booking.pk))
    assert "PF 4.1" in event.policy_ids


def test_auto_approval_where_the_establishment_allows_it(party: Party, now: datetime) -> None:
    BookingSettings.objects.create(establishment=party.establishment, auto_approve=True)
    booking = request(party, now)
    assert booking.status == BookingStatus.APPROVED
    assert AuditEvent.objects.filter(action="booking_approved_automatically").exists()


def test_every_reason_is_given_at_once(party: Party, now: datetime) -> None:
    CompactRecord.objects.filter(resident=party.resident).delete()
    stranger = ContactFactory()
    party.slot.legal_reserved = True
    party.slot.save()
    with pytest.raises(BookingRefused) as refused:
        request(party, now, lead_contact=stranger)
    codes = refused.value.codes
    assert {
        "compact.missing",
        "participants.not_approved",
        "terms.not_accepted",
        "slot.legal_reserved",
    } <= codes
    assert {"PF 4.9", "PF 4.12", "PF 4.15", "DSO 9"} <= refused.value.rule_ids
    assert all(message.split(":")[0] for message in refused.value.messages)
    assert not Booking.objects.exists()
    assert not AllowanceEntry.objects.exists()


def test_a_full_slot_is_refused(prison: object, now: datetime) -> None:
    first = make_party(prison, capacity=1)  # type: ignore[arg-type]
    request(first, now)
    second = make_party(prison, room=first.slot.room, starts_at=first.slot.starts_at + timedelta(hours=3))  # type: ignore[arg-type]
    second.slot = first.slot
    with pytest.raises(BookingRefused) as refused:
        request(second, now)
    assert refused.value.codes == {"slot.full"}


def test_a_slot_with_no_capacity_is_refused(party: Party, now: datetime) -> None:
    party.slot.capacity = 0
    party.slot.save()
    with pytest.raises(BookingRefused) as refused:
        request(party, now)
    assert "slot.full" in refused.value.codes


def test_the_allowance_is_never_overspent(party: Party, now: datetime) -> None:
    request(party, now)
    later = SlotFactory(establishment=party.establishment, starts_at=party.slot.starts_at + timedelta(days=1))
    with pytest.raises(BookingRefused) as refused:
        request(party, now, slot=later)
    assert "allowance.no_calls_left" in refused.value.codes
    assert selectors.allowance_minutes_used(resident=party.resident, month="2027-03") == 60


def test_two_calls_of_thirty_minutes(prison: object, now: datetime) -> None:
    prison.allowance_pattern = "two_30"  # type: ignore[attr-defined]
    prison.slot_lengths = [30]  # type: ignore[attr-defined]
    prison.save()  # type: ignore[attr-defined]
    party = make_party(prison, minutes=30)  # type: ignore[arg-type]
    request(party, now)
    second = SlotFactory(establishment=prison, starts_at=party.slot.starts_at + timedelta(days=1), minutes=30)
    request(party, now, slot=second)
    third = SlotFactory(establishment=prison, starts_at=party.slot.starts_at + timedelta(days=2), minutes=30)
    with pytest.raises(BookingRefused) as refused:
        request(party, now, slot=third)
    assert "allowance.no_calls_left" in refused.value.codes
    left = selectors.allowance_left_for(resident=party.resident, month="2027-03")
    assert left is not None
    assert (left.minutes, left.calls) == (0, 0)


def test_the_month_that_pays_is_the_month_of_the_call_in_local_time(party: Party, now: datetime) -> None:
    # 23:30 UTC on 31 March 2027 is 00:30 on 1 April in London (BST).
    party.slot.starts_at = datetime.fromisoformat("2027-03-31T23:30:00+00:00")
    party.slot.ends_at = party.slot.starts_at + timedelta(minutes=60)
    party.slot.save()
    booking = request(party, now)
    assert AllowanceEntry.objects.get(booking=booking).month == "2027-04"


def test_a_resident_cannot_be_in_two_calls_at_once(party: Party, now: datetime) -> None:
    request(party, now)
    other_room = SlotFactory(establishment=party.establishment, starts_at=party.slot.starts_at)
    with pytest.raises(BookingRefused) as refused:
        request(party, now, slot=other_room)
    assert "resident.already_booked" in refused.value.codes


def test_slot_channels_and_pf_4_6(party: Party, now: datetime) -> None:
    party.slot.open_to_contacts = False
    party.slot.save()
    party.establishment.who_may_request = "resident"
    party.establishment.save()
    with pytest.raises(BookingRefused) as refused:
        request(party, now)
    assert {"slot.channel", "booking.requester_resident_only"} <= refused.value.codes


def test_staff_book_on_the_residents_behalf(party: Party, now: datetime, clerk: object) -> None:
    party.establishment.who_may_request = "resident"
    party.establishment.save()
    booking = request(party, now, channel=RequestChannel.STAFF, actor=clerk)
    assert booking.requested_by == RequestChannel.STAFF


def test_participants_are_recorded_and_checked(party: Party, now: datetime) -> None:
    child = approved_contact(party.resident, date_of_birth=date(2020, 1, 1))
    booking = request(party, now, participants=[child])
    assert list(booking.participants.all()) == [child]
    with pytest.raises(BookingRefused) as refused:
        request(
            party,
            now,
            slot=SlotFactory(establishment=party.establishment),
            lead_contact=child,
            participants=[child],
        )
    assert {"participants.child_main_caller", "participants.repeated"} <= refused.value.codes


def test_a_resident_of_another_establishment_cannot_book_here(party: Party, now: datetime) -> None:
    elsewhere = ResidentFactory()
    with pytest.raises(BookingRefused) as refused:
        request(party, now, resident=elsewhere)
    assert "slot.other_establishment" in refused.value.codes


def test_prisons_refuse_legal_calls(party: Party, now: datetime) -> None:
    with pytest.raises(BookingRefused) as refused:
        request(party, now, kind=CallKind.LEGAL)
    assert "PF 5.1" in refused.value.rule_ids


def test_a_refused_compact_refuses_the_booking(party: Party, now: datetime) -> None:
    CompactRecord.objects.filter(resident=party.resident).update(outcome=CompactOutcome.REFUSED)
    with pytest.raises(BookingRefused) as refused:
        request(party, now)
    assert "PF 4.11" in refused.value.rule_ids


def test_staff_approve_after_deciding_again(party: Party, now: datetime, clerk: object) -> None:
    booking = request(party, now)
    result = booking_approve(booking=booking, actor=clerk, now=now + timedelta(hours=1))  # type: ignore[arg-type]
    assert result.booking.status == BookingStatus.APPROVED
    assert result.booking.decided_by == clerk
    # Approving used no more allowance: the request already holds its minutes.
    assert selectors.allowance_minutes_used(resident=party.resident, month="2027-03") == 60
    with pytest.raises(BookingRefused) as refused:
        booking_approve(booking=booking, actor=clerk, now=now)  # type: ignore[arg-type]
    assert refused.value.codes == {"booking.not_requested"}


def test_approval_is_refused_when_circumstances_changed(party: Party, now: datetime, clerk: object) -> None:
    booking = request(party, now)
    CompactRecord.objects.filter(resident=party.resident).update(outcome=CompactOutcome.REFUSED)
    with pytest.raises(BookingRefused) as refused:
        booking_approve(booking=booking, actor=clerk, now=now)  # type: ignore[arg-type]
    assert "PF 4.11" in refused.value.rule_ids
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED


def test_approval_keeps_the_notice_judged_at_request_time(party: Party, now: datetime, clerk: object) -> None:
    # Requested by the resident 30 hours ahead (PF 4.8 asks 24), approved 10 hours later.
    party.slot.starts_at = now + timedelta(hours=30)
    party.slot.ends_at = party.slot.starts_at + timedelta(hours=1)
    party.slot.save()
    booking = request(party, now, channel=RequestChannel.RESIDENT)
    approved = booking_approve(booking=booking, actor=clerk, now=now + timedelta(hours=10))  # type: ignore[arg-type]
    assert approved.booking.status == BookingStatus.APPROVED


def test_rejection_gives_the_minutes_back(party: Party, now: datetime, clerk: object) -> None:
    booking = request(party, now)
    booking_reject(booking=booking, reason=RejectionReason.NO_STAFF, actor=clerk, now=now)  # type: ignore[arg-type]
    booking.refresh_from_db()
    assert (booking.status, booking.rejection_reason) == (BookingStatus.REJECTED, RejectionReason.NO_STAFF)
    assert selectors.allowance_minutes_used(resident=party.resident, month="2027-03") == 0
    reasons = list(AllowanceEntry.objects.filter(booking=booking).values_list("reason", "minutes"))
    assert reasons == [(LedgerReason.BOOKING, -60), (LedgerReason.REQUEST_REJECTED, 60)]
    # The place is free again.
    assert (
        selectors.slots_available(
            establishment=party.establishment, start=now, end=now + timedelta(days=30), now=now
        )
        .filter(pk=party.slot.pk)
        .exists()
    )


def test_rejecting_for_another_reason_needs_an_explanation(
    party: Party, now: datetime, clerk: object
) -> None:
    booking = request(party, now)
    with pytest.raises(BookingRefused) as refused:
        booking_reject(booking=booking, reason=RejectionReason.OTHER, text=" ", actor=clerk, now=now)  # type: ignore[arg-type]
    assert refused.value.codes == {"rejection.explain"}


def test_a_lead_contact_whose_identity_is_unchecked_cannot_book(party: Party, now: datetime) -> None:
    """Contacts send a photo ID and a photo of themselves; staff must accept them before the contact books."""
    Contact.objects.filter(pk=party.contact.pk).update(identity_verified_at=None)
    party.contact.refresh_from_db()
    with pytest.raises(BookingRefused) as refused:
        request(party, now)
    assert "contact.identity_not_checked" in refused.value.codes
    assert not Booking.objects.exists()

    Contact.objects.filter(pk=party.contact.pk).update(identity_verified_at=now)
    party.contact.refresh_from_db()
    assert request(party, now).pk
