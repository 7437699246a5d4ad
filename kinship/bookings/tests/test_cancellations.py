"""Cancellations, call outcomes and reviews (PF 4.8), with the minutes they give back or keep (PF 4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kinship.accounts.models import User
from kinship.bookings import selectors
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import (
    AllowanceEntry,
    Booking,
    BookingReview,
    BookingStatus,
    CallOutcome,
    CancelledBy,
    LedgerReason,
    NonAttendanceCause,
    RequestChannel,
    ReviewOutcome,
)
from kinship.bookings.services import (
    booking_approve,
    booking_cancel,
    booking_outcome_record,
    booking_request,
    booking_review_close,
)

from .conftest import Party, make_party
from .factories import SlotFactory

pytestmark = pytest.mark.django_db


def approved(party: Party, now: datetime, clerk: User, slot: object = None) -> Booking:
    booking = booking_request(
        slot=slot or party.slot,  # type: ignore[arg-type]
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        now=now,
    ).booking
    return booking_approve(booking=booking, actor=clerk, now=now).booking


def used(party: Party) -> int:
    return selectors.allowance_minutes_used(resident=party.resident, month="2027-03")


def test_a_contact_cancelling_keeps_the_minutes_and_opens_a_review(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approved(party, now, clerk)
    result = booking_cancel(
        booking=booking,
        cancelled_by=CancelledBy.CONTACT,
        reason="Car broke down",
        actor=party.contact.user,
        now=now,
    )
    assert result.booking.status == BookingStatus.CANCELLED
    assert used(party) == 60
    assert BookingReview.objects.get(booking=booking).cause == NonAttendanceCause.CANCELLED_BY_CONTACT


def test_the_establishment_cancelling_gives_the_minutes_back(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approved(party, now, clerk)
    result = booking_cancel(
        booking=booking, cancelled_by=CancelledBy.ESTABLISHMENT, reason="Staff shortage", actor=clerk, now=now
    )
    assert used(party) == 0
    assert AllowanceEntry.objects.filter(reason=LedgerReason.CANCELLED_BY_ESTABLISHMENT, minutes=60).exists()
    assert BookingReview.objects.get(booking=booking).cause == NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT
    # Cancelled two days ahead: more than PF 4.8's 24 hours, so no warning.
    assert result.decision.warnings == ()


def test_short_notice_from_the_establishment_is_warned(party: Party, now: datetime, clerk: User) -> None:
    booking = approved(party, now, clerk)
    late = party.slot.starts_at - timedelta(hours=2)
    result = booking_cancel(
        booking=booking, cancelled_by=CancelledBy.ESTABLISHMENT, reason="Lockdown", actor=clerk, now=late
    )
    assert [reason.rule_id for reason in result.decision.warnings] == ["PF 4.8"]


def test_withdrawing_a_request_gives_the_minutes_back_without_a_review(party: Party, now: datetime) -> None:
    booking = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        now=now,
    ).booking
    booking_cancel(booking=booking, cancelled_by=CancelledBy.CONTACT, reason="Wrong day", actor=None, now=now)
    assert used(party) == 0
    assert not BookingReview.objects.exists()


def test_a_cancellation_needs_a_reason_and_an_active_booking(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approved(party, now, clerk)
    with pytest.raises(BookingRefused) as refused:
        booking_cancel(booking=booking, cancelled_by=CancelledBy.CONTACT, reason="", actor=None, now=now)
    assert refused.value.codes == {"cancellation.explain"}
    booking_cancel(booking=booking, cancelled_by=CancelledBy.CONTACT, reason="Ill", actor=None, now=now)
    with pytest.raises(BookingRefused) as refused:
        booking_cancel(booking=booking, cancelled_by=CancelledBy.CONTACT, reason="Ill", actor=None, now=now)
    assert refused.value.codes == {"booking.not_active"}


@pytest.mark.parametrize(
    ("outcome", "status", "minutes_used", "review_cause"),
    [
        (CallOutcome.COMPLETED, BookingStatus.COMPLETED, 60, None),
        (CallOutcome.ENDED_EARLY_NO_FAULT, BookingStatus.COMPLETED, 0, None),
        (CallOutcome.TECHNICAL_FAILURE, BookingStatus.FAILED, 0, NonAttendanceCause.TECHNICAL_FAILURE),
        (CallOutcome.FAILED_TO_ATTEND, BookingStatus.NO_SHOW, 60, NonAttendanceCause.FAILED_TO_ATTEND),
    ],
)
def test_call_outcomes(
    party: Party,
    now: datetime,
    clerk: User,
    outcome: CallOutcome,
    status: str,
    minutes_used: int,
    review_cause: str | None,
) -> None:
    booking = approved(party, now, clerk)
    with pytest.raises(BookingRefused) as refused:
        booking_outcome_record(booking=booking, outcome=outcome, actor=clerk, now=now)
    assert refused.value.codes == {"booking.too_early"}
    booking = booking_outcome_record(booking=booking, outcome=outcome, actor=clerk, now=party.slot.ends_at)
    assert booking.status == status
    assert used(party) == minutes_used
    review = BookingReview.objects.filter(booking=booking).first()
    assert (review.cause if review else None) == review_cause


def test_a_review_closes_as_rebooked_or_not(prison: object, now: datetime, clerk: User) -> None:
    party = make_party(prison)  # type: ignore[arg-type]
    booking = approved(party, now, clerk)
    booking_outcome_record(
        booking=booking, outcome=CallOutcome.TECHNICAL_FAILURE, actor=clerk, now=party.slot.ends_at
    )
    review = BookingReview.objects.get(booking=booking)
    assert list(selectors.reviews_open(establishment=party.establishment)) == [review]

    with pytest.raises(BookingRefused) as refused:
        booking_review_close(review=review, new_booking=None, reason="", actor=clerk, now=now)
    assert "PF 4.8" in refused.value.rule_ids
    with pytest.raises(BookingRefused) as refused:
        booking_review_close(review=review, new_booking=booking, actor=clerk, now=now)
    assert refused.value.codes == {"review.same_booking"}
    other = make_party(prison)  # type: ignore[arg-type]
    someone_else = approved(other, now, clerk)
    with pytest.raises(BookingRefused) as refused:
        booking_review_close(review=review, new_booking=someone_else, actor=clerk, now=now)
    assert refused.value.codes == {"review.other_resident"}

    # The technical failure gave the minutes back, so the call can be booked again the same month.
    rebooked = approved(party, now, clerk, slot=SlotFactory(establishment=party.establishment))
    closed = booking_review_close(review=review, new_booking=rebooked, actor=clerk, now=now)
    assert (closed.outcome, closed.new_booking) == (ReviewOutcome.REBOOKED, rebooked)
    assert not selectors.reviews_open(establishment=party.establishment).exists()
    with pytest.raises(BookingRefused) as refused:
        booking_review_close(review=review, new_booking=None, reason="Family declined", actor=clerk, now=now)
    assert refused.value.codes == {"review.closed"}


def test_a_review_closed_without_rebooking_keeps_its_reason(party: Party, now: datetime, clerk: User) -> None:
    booking = approved(party, now, clerk)
    booking_cancel(
        booking=booking, cancelled_by=CancelledBy.RESIDENT, reason="Changed mind", actor=clerk, now=now
    )
    review = booking_review_close(
        review=BookingReview.objects.get(booking=booking),
        new_booking=None,
        reason="Did not want another",
        actor=clerk,
        now=now,
    )
    assert (review.outcome, review.reason) == (ReviewOutcome.NOT_REBOOKED, "Did not want another")
