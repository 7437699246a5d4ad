"""Changes of circumstance (issue 4 item 5, PF 4.8): every future booking they touch is flagged for review, never
silently kept or dropped; and the schedule changes that take booked times out of use do the same."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from kinship.accounts.models import User
from kinship.audit.models import AuditEvent
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
    Slot,
)
from kinship.bookings.services import (
    booking_approve,
    booking_cancel,
    booking_outcome_record,
    booking_request,
    booking_review_close,
)
from kinship.bookings.services_staff import (
    CircumstanceChange,
    MoveKind,
    SessionValues,
    booking_cancel_by_establishment,
    booking_request_check,
    bookings_flag_for_review,
    closed_date_add,
    resident_release_or_transfer,
    session_template_save,
)
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory, RoomFactory, staff_with
from kinship.people.models import ContactLink
from kinship.people.services import contact_link_decide, contact_link_update

from .conftest import Party, make_party
from .factories import SessionTemplateFactory, SlotFactory, approved_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(irc: Establishment) -> Party:
    """Immigration detention: no monthly allowance (DSO 3), so one person can have several calls booked."""
    return make_party(irc)


@pytest.fixture
def clerk(irc: Establishment) -> User:
    return staff_with(Role.BOOKING_CLERK, irc)


def request(party: Party, now: datetime, slot: Slot | None = None, participants=()) -> Booking:
    return booking_request(
        slot=slot or party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        participants=list(participants),
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        now=now,
    ).booking


def approve(booking: Booking, clerk: User, now: datetime) -> Booking:
    return booking_approve(booking=booking, actor=clerk, now=now).booking


def later_slot(party: Party, hours: int) -> Slot:
    return SlotFactory(
        establishment=party.establishment,
        room=party.slot.room,
        starts_at=party.slot.starts_at + timedelta(hours=hours),
    )


def test_every_future_requested_or_approved_booking_of_the_resident_is_flagged(
    party: Party, now: datetime, clerk: User
) -> None:
    approved = approve(request(party, now), clerk, now)
    requested = request(party, now, later_slot(party, 3))
    withdrawn = request(party, now, later_slot(party, 6))
    booking_cancel(
        booking=withdrawn, cancelled_by=CancelledBy.CONTACT, reason="Cannot make it", actor=None, now=now
    )

    reviews = bookings_flag_for_review(
        resident=party.resident, cause=CircumstanceChange.SUSPENSION, note="Security", actor=clerk, now=now
    )

    assert {review.booking_id for review in reviews} == {approved.pk, requested.pk}
    review = BookingReview.objects.get(booking=approved)
    assert review.cause == CircumstanceChange.SUSPENSION
    assert review.is_open
    assert "Security" in review.reason
    assert not BookingReview.objects.filter(booking=withdrawn).exists()
    # Nothing is dropped: the bookings keep their status until staff decide.
    assert Booking.objects.get(pk=approved.pk).status == BookingStatus.APPROVED
    assert AuditEvent.objects.filter(action="booking_flagged_for_review").count() == 2


def test_calls_already_started_are_not_flagged(party: Party, now: datetime, clerk: User) -> None:
    booking = approve(request(party, now), clerk, now)
    after_start = booking.slot.starts_at + timedelta(minutes=5)
    assert (
        bookings_flag_for_review(
            resident=party.resident, cause="suspension", note="", actor=None, now=after_start
        )
        == []
    )


def test_a_flag_needs_someone_whose_circumstances_changed() -> None:
    with pytest.raises(ValueError, match="resident, a contact or both"):
        bookings_flag_for_review(cause=CircumstanceChange.RESTRICTION, note="", actor=None)


def test_removing_a_contact_from_the_list_flags_that_residents_calls_with_them(
    party: Party, now: datetime, clerk: User
) -> None:
    other = approved_contact(party.resident)

    def led_by(lead, slot, participants=()):
        return booking_request(
            slot=slot,
            resident=party.resident,
            lead_contact=lead,
            participants=list(participants),
            channel=RequestChannel.CONTACT,
            actor=lead.user,
            now=now,
        ).booking

    led = approve(led_by(party.contact, party.slot), clerk, now)
    joined = led_by(other, later_slot(party, 2), participants=[party.contact])
    without = led_by(other, later_slot(party, 4))

    link = ContactLink.objects.get(resident=party.resident, contact=party.contact)
    contact_link_decide(link=link, actor=clerk, decision="remove", reason="Asked to be removed")

    flagged = set(BookingReview.objects.values_list("booking_id", flat=True))
    assert flagged == {led.pk, joined.pk}
    assert without.pk not in flagged
    review = BookingReview.objects.get(booking=led)
    assert review.cause == CircumstanceChange.CONTACT_REMOVED
    assert "Asked to be removed" in review.reason


def test_a_ban_on_a_contact_flags_the_calls_with_them(party: Party, now: datetime, clerk: User) -> None:
    booking = approve(request(party, now), clerk, now)
    link = ContactLink.objects.get(resident=party.resident, contact=party.contact)
    contact_link_update(
        link=link,
        actor=clerk,
        relationship=link.relationship,
        source=link.source,
        child_contact_approved=False,
        banned=True,
    )
    assert BookingReview.objects.get(booking=booking).cause == CircumstanceChange.CONTACT_BANNED
    # Saving the link again with the ban already in place changes nothing more.
    contact_link_update(
        link=link,
        actor=clerk,
        relationship="Brother",
        source=link.source,
        child_contact_approved=False,
        banned=True,
    )
    assert AuditEvent.objects.filter(action="booking_flagged_for_review").count() == 1


def test_a_second_change_adds_to_the_open_review_and_a_change_after_closing_reopens_it(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approve(request(party, now), clerk, now)
    bookings_flag_for_review(resident=party.resident, cause="restriction", note="First", actor=clerk, now=now)
    bookings_flag_for_review(resident=party.resident, cause="suspension", note="Second", actor=clerk, now=now)
    review = BookingReview.objects.get(booking=booking)
    assert "First" in review.reason
    assert "Second" in review.reason

    booking_review_close(review=review, new_booking=None, reason="Goes ahead as booked", actor=clerk, now=now)
    bookings_flag_for_review(resident=party.resident, cause="restriction", note="Third", actor=clerk, now=now)
    review.refresh_from_db()
    assert review.is_open
    assert review.outcome == ""
    assert review.cause == CircumstanceChange.RESTRICTION
    assert "Third" in review.reason


def test_a_release_flags_only_the_calls_from_the_release(party: Party, now: datetime, clerk: User) -> None:
    first = approve(request(party, now), clerk, now)
    second = approve(request(party, now, later_slot(party, 48)), clerk, now)
    released_at = first.slot.ends_at + timedelta(hours=1)

    resident, reviews = resident_release_or_transfer(
        resident=party.resident,
        kind=MoveKind.RELEASE,
        note="Released on licence",
        actor=clerk,
        released_at=released_at,
        now=now,
    )

    assert resident.released_at == released_at
    assert [review.booking_id for review in reviews] == [second.pk]
    assert BookingReview.objects.get(booking=second).cause == CircumstanceChange.RELEASED
    assert AuditEvent.objects.filter(action="resident_released").count() == 1


def test_a_transfer_moves_the_person_and_flags_every_future_call(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approve(request(party, now), clerk, now)
    elsewhere = EstablishmentFactory()
    resident, reviews = resident_release_or_transfer(
        resident=party.resident,
        kind="transfer",
        note="To HMP Elsewhere",
        to_establishment=elsewhere,
        actor=clerk,
    )
    assert resident.establishment == elsewhere
    assert [review.booking_id for review in reviews] == [booking.pk]


def test_a_release_or_transfer_is_refused_with_every_reason(party: Party, clerk: User) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        resident_release_or_transfer(
            resident=party.resident,
            kind="transfer",
            note=" ",
            to_establishment=party.establishment,
            actor=clerk,
        )
    assert set(error.value.message_dict) == {"note", "to_establishment"}


def test_cancelling_a_flagged_call_replaces_the_flag_with_the_cancellation_review(
    prison: Establishment, now: datetime
) -> None:
    party = make_party(prison)
    clerk = staff_with(Role.BOOKING_CLERK, prison)
    booking = approve(request(party, now), clerk, now)
    bookings_flag_for_review(resident=party.resident, cause="released", note="", actor=clerk, now=now)

    result = booking_cancel_by_establishment(booking=booking, reason="Released", actor=clerk, now=now)

    assert result.booking.status == BookingStatus.CANCELLED
    review = BookingReview.objects.get(booking=booking)
    assert review.cause == NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT
    assert AllowanceEntry.objects.filter(
        booking=booking, reason=LedgerReason.CANCELLED_BY_ESTABLISHMENT
    ).exists()
    # The flag is not lost: the review of the cancelled call says what it was opened for first.
    assert "The person in custody was released" in review.reason
    assert AuditEvent.objects.filter(action="booking_flagged_for_review", subject_id=str(booking.pk)).exists()


@pytest.mark.parametrize(
    "outcome", [CallOutcome.TECHNICAL_FAILURE, CallOutcome.FAILED_TO_ATTEND], ids=lambda o: str(o)
)
def test_a_flagged_call_that_fails_or_is_missed_reuses_its_review(
    prison: Establishment, now: datetime, outcome: str
) -> None:
    """A booking has one review: the missed call's review takes over the flag's, and reopens it if it was closed."""
    party = make_party(prison)
    clerk = staff_with(Role.BOOKING_CLERK, prison)
    booking = approve(request(party, now), clerk, now)
    (flag,) = bookings_flag_for_review(
        resident=party.resident, cause="restriction", note="", actor=clerk, now=now
    )
    booking_review_close(review=flag, new_booking=None, reason="The call can go ahead", actor=clerk, now=now)

    booking_outcome_record(booking=booking, outcome=outcome, actor=clerk, now=party.slot.ends_at)

    review = BookingReview.objects.get(booking=booking)
    assert review.is_open
    assert review.cause != "restriction"
    assert "A new restriction (PF 4.4)" in review.reason


def test_cancelling_a_flagged_request_closes_its_flag_with_the_reason(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = request(party, now)
    bookings_flag_for_review(resident=party.resident, cause="restriction", note="", actor=clerk, now=now)

    booking_cancel_by_establishment(booking=booking, reason="Restricted", actor=clerk, now=now)

    review = BookingReview.objects.get(booking=booking)
    assert not review.is_open
    assert review.reason == "Request cancelled: Restricted"


def test_closing_a_date_flags_its_bookings_and_removes_its_empty_times(
    party: Party, now: datetime, clerk: User
) -> None:
    booking = approve(request(party, now), clerk, now)
    empty_same_day = later_slot(party, 2)
    next_day = later_slot(party, 24)
    day = booking.slot.starts_at.date()  # 09:00 UTC is 09:00 in London in March

    closed, reviews = closed_date_add(
        establishment=party.establishment, day=day, reason="Lockdown", actor=clerk, now=now
    )

    assert [review.booking_id for review in reviews] == [booking.pk]
    assert BookingReview.objects.get(booking=booking).cause == CircumstanceChange.DATE_CLOSED
    assert not Slot.objects.filter(pk=empty_same_day.pk).exists()
    assert Slot.objects.get(pk=booking.slot_id).capacity == 0
    assert Slot.objects.filter(pk=next_day.pk).exists()
    assert closed.reason == "Lockdown"


def test_changing_a_session_takes_out_of_use_only_the_times_that_no_longer_fit(
    party: Party, now: datetime, clerk: User
) -> None:
    room = RoomFactory(establishment=party.establishment)
    template = SessionTemplateFactory(
        establishment=party.establishment, room=room, weekday=2, start=time(9), end=time(12)
    )
    # Wednesday 3 March 2027, 09:00 and 11:00 London time (GMT).
    fits = SlotFactory(
        establishment=party.establishment,
        room=room,
        template=template,
        starts_at=datetime(2027, 3, 3, 9, tzinfo=UTC),
    )
    misfit = SlotFactory(
        establishment=party.establishment,
        room=room,
        template=template,
        starts_at=datetime(2027, 3, 3, 11, tzinfo=UTC),
    )
    booking = approve(request(party, now, misfit), clerk, now)

    values = SessionValues(
        room=room,
        weekday=2,
        start=time(9),
        end=time(10),
        slot_minutes=60,
        valid_from=date(2020, 1, 1),
        valid_to=None,
        open_to_residents=True,
        open_to_contacts=True,
        open_to_staff=True,
        legal_reserved=False,
    )
    saved, reviews = session_template_save(
        establishment=party.establishment, values=values, actor=clerk, template=template, now=now
    )

    assert saved.published_at is None
    assert [review.booking_id for review in reviews] == [booking.pk]
    assert Slot.objects.filter(pk=fits.pk).exists()
    assert Slot.objects.get(pk=misfit.pk).capacity == 0


def test_checking_a_request_gives_every_reason_and_writes_nothing(
    party: Party, now: datetime, clerk: User
) -> None:
    stranger = approved_contact(party.resident)
    ContactLink.objects.filter(contact=stranger).delete()
    events = AuditEvent.objects.count()

    refused = booking_request_check(
        slot=party.slot,
        resident=party.resident,
        lead_contact=stranger,
        channel=RequestChannel.STAFF,
        actor=clerk,
        now=now,
    )
    allowed = booking_request_check(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.STAFF,
        actor=clerk,
        now=now,
    )

    assert not refused.allowed
    assert "contact.not_linked" in {problem.code for problem in refused.problems}
    assert allowed.allowed
    assert Booking.objects.count() == 0
    assert AllowanceEntry.objects.count() == 0
    assert AuditEvent.objects.count() == events
