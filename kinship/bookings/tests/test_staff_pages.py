"""Staff booking pages: who may open each (the access table), what they show and do, and that their lists cost
a fixed number of queries however much data there is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kinship.bookings.models import (
    Booking,
    BookingReview,
    BookingStatus,
    ClosedDate,
    ExtraCallGrant,
    NonAttendanceCause,
    RequestChannel,
    ReviewOutcome,
    SessionTemplate,
    Slot,
)
from kinship.bookings.references import new_reference
from kinship.bookings.services import booking_request
from kinship.bookings.views_staff import BOARD_READERS, BOOKING_DECIDERS, RESIDENT_BOOKERS
from kinship.core.roles import ESTABLISHMENT_ADMINS, RECORD_EDITORS, Role
from kinship.establishments.models import Establishment, Room
from kinship.establishments.tests.access import (
    Page,
    World,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.factories import (
    ContactFactory,
    IrcFactory,
    ResidentFactory,
    RoomFactory,
    staff_with,
)
from kinship.people.models import ContactLink, Resident

from .conftest import Party
from .factories import SessionTemplateFactory, SlotFactory, StaffRosterFactory, terminals_in

pytestmark = pytest.mark.django_db


# --- The access table ----------------------------------------------------------------------------------------------


def _booking_in(world: World, status: str = BookingStatus.REQUESTED) -> Booking:
    return Booking.objects.create(
        reference=new_reference(),
        slot=SlotFactory(establishment=world.establishment, room=world.room),
        resident=world.resident,
        lead_contact=world.contact,
        requested_by=RequestChannel.CONTACT,
        requested_at=timezone.now(),
        status=status,
    )


def _session(world: World) -> dict[str, Any]:
    return {"session_id": SessionTemplateFactory(establishment=world.establishment, room=world.room).pk}


def _booking(world: World) -> dict[str, Any]:
    return {"booking_id": _booking_in(world).pk}


def _review(world: World) -> dict[str, Any]:
    booking = _booking_in(world, BookingStatus.CANCELLED)
    review = BookingReview.objects.create(
        booking=booking, cause=NonAttendanceCause.CANCELLED_BY_CONTACT, opened_at=timezone.now()
    )
    return {"review_id": review.pk}


def _resident(world: World) -> dict[str, Any]:
    return {"resident_id": world.resident.pk}


PAGES = [
    Page("bookings-staff:schedule", ESTABLISHMENT_ADMINS),
    Page("bookings-staff:session-add", ESTABLISHMENT_ADMINS),
    Page("bookings-staff:session-edit", ESTABLISHMENT_ADMINS, _session),
    Page("bookings-staff:session-delete", ESTABLISHMENT_ADMINS, _session),
    Page("bookings-staff:closed-date-add", ESTABLISHMENT_ADMINS),
    Page("bookings-staff:roster-add", ESTABLISHMENT_ADMINS),
    Page("bookings-staff:publish", ESTABLISHMENT_ADMINS),
    Page("bookings-staff:day", BOARD_READERS),
    Page("bookings-staff:week", BOARD_READERS),
    Page("bookings-staff:daily-list", BOARD_READERS),
    Page("bookings-staff:requests", BOOKING_DECIDERS),
    Page("bookings-staff:request", BOOKING_DECIDERS, _booking),
    Page("bookings-staff:reviews", BOOKING_DECIDERS),
    Page("bookings-staff:review", BOOKING_DECIDERS, _review),
    Page("bookings-staff:cancel", BOOKING_DECIDERS, _booking),
    Page("bookings-staff:residents", RESIDENT_BOOKERS),
    Page("bookings-staff:request-new", BOOKING_DECIDERS, _resident),
    Page("bookings-staff:allowance", BOOKING_DECIDERS, _resident),
    Page("bookings-staff:grant-add", BOOKING_DECIDERS, _resident),
    Page("bookings-staff:resident-move", RECORD_EDITORS, _resident),
]


def test_the_roles_are_the_ones_the_issue_names() -> None:
    assert {Role.BOOKING_CLERK, Role.SUPERVISING_OFFICER, Role.GOVERNOR, Role.SECURITY} == BOARD_READERS
    assert {Role.BOOKING_CLERK, Role.GOVERNOR} == BOOKING_DECIDERS


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PAGES)), ids=case_id)
def test_each_role_is_let_in_or_refused(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_a_role_at_another_establishment_is_refused(client, page):
    check_role_elsewhere(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_contacts_are_refused(client, page):
    check_contact(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    check_anonymous(client, page)


# --- Helpers -------------------------------------------------------------------------------------------------------

DAY = date(2027, 3, 3)


def _url(name: str, establishment: Establishment, **kwargs: Any) -> str:
    return reverse(f"bookings-staff:{name}", kwargs={"establishment": establishment.code, **kwargs})


def _bookings(
    establishment: Establishment, count: int, *, status: str, room: Room | None = None
) -> list[Booking]:
    """``count`` bookings on 3 March 2027, each its own person, contact and half-hour slot (no services: this
    is data for the list pages)."""
    room = room or RoomFactory(establishment=establishment)
    made = []
    for index in range(count):
        starts_at = datetime(2027, 3, 3, 8, tzinfo=UTC) + timedelta(minutes=30 * index)
        slot = SlotFactory(establishment=establishment, room=room, starts_at=starts_at, minutes=30)
        booking = Booking.objects.create(
            reference=new_reference(),
            slot=slot,
            resident=ResidentFactory(establishment=establishment, location="A wing"),
            lead_contact=ContactFactory(),
            requested_by=RequestChannel.CONTACT,
            requested_at=timezone.now(),
            status=status,
        )
        booking.participant_links.create(contact=ContactFactory())
        made.append(booking)
    return made


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


LISTS: list[tuple[str, str, Callable[[], dict[str, str]]]] = [
    ("day", BookingStatus.APPROVED, lambda: {"date": "2027-03-03"}),
    ("week", BookingStatus.APPROVED, lambda: {"start": "2027-03-01"}),
    ("daily-list", BookingStatus.APPROVED, lambda: {"date": "2027-03-03", "location": "A wing"}),
    ("requests", BookingStatus.REQUESTED, dict),
    ("reviews", BookingStatus.CANCELLED, dict),
]


@pytest.mark.parametrize(("name", "status", "query"), LISTS, ids=[item[0] for item in LISTS])
def test_list_pages_cost_the_same_queries_for_2_or_20_bookings(
    staff_client, django_assert_max_num_queries, prison, name, status, query
):
    client = staff_client(staff_with(Role.GOVERNOR, prison))
    url = _url(name, prison) + "?" + "&".join(f"{key}={value}" for key, value in query().items())

    def add(count: int) -> None:
        for booking in _bookings(prison, count, status=status):
            if status == BookingStatus.CANCELLED:
                BookingReview.objects.create(
                    booking=booking, cause=NonAttendanceCause.CANCELLED_BY_CONTACT, opened_at=timezone.now()
                )

    add(2)
    few = _queries(client, url)
    Booking.objects.all().delete()
    add(20)
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("Resident") >= 20


# --- Board -------------------------------------------------------------------------------------------------------


def test_the_day_shows_each_room_with_its_places_left_in_local_time(staff_client, prison):
    room = RoomFactory(establishment=prison, name="Visits hall")
    _bookings(prison, 1, status=BookingStatus.APPROVED, room=room)
    # 1 July 2027 09:00 UTC is 10:00 in London (BST).
    SlotFactory(establishment=prison, room=room, starts_at=datetime(2027, 7, 1, 9, tzinfo=UTC), capacity=3)
    client = staff_client(staff_with(Role.SUPERVISING_OFFICER, prison))

    page = client.get(_url("day", prison) + "?date=2027-03-03").content.decode()
    assert "Visits hall: 1 of 2 places left" in page
    summer = client.get(_url("day", prison) + "?date=2027-07-01").content.decode()
    assert "10:00 to 11:00" in summer
    assert "Visits hall: 3 of 3 places left" in summer
    assert "Cancel" not in summer  # supervising officers do not cancel calls


# --- Requests ------------------------------------------------------------------------------------------------------


def _requested(party: Party) -> Booking:
    return booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
    ).booking


def test_a_clerk_approves_a_request(staff_client, party: Party, clerk):
    booking = _requested(party)
    client = staff_client(clerk)
    page = client.get(_url("request", party.establishment, booking_id=booking.pk)).content.decode()
    assert "The rules allow this call as things stand now." in page
    assert party.contact.full_name in page
    assert "minutes, 0 calls, with this request counted" in page

    response = client.post(_url("request", party.establishment, booking_id=booking.pk), {"action": "approve"})

    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.APPROVED


def test_approving_a_request_the_rules_now_refuse_shows_every_reason(staff_client, party: Party, clerk):
    booking = _requested(party)
    ContactLink.objects.filter(contact=party.contact).update(banned=True)
    party.contact.user.terms_acceptances.all().delete()
    client = staff_client(clerk)

    response = client.post(_url("request", party.establishment, booking_id=booking.pk), {"action": "approve"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "PF 4.10" in page
    assert "PF 4.15" in page
    assert "<title>Error:" in page
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.REQUESTED


def test_turning_down_for_another_reason_needs_the_explanation_and_keeps_what_was_chosen(
    staff_client, party: Party, clerk
):
    booking = _requested(party)
    client = staff_client(clerk)
    url = _url("request", party.establishment, booking_id=booking.pk)

    page = client.post(url, {"action": "reject", "reason": "other", "text": " "}).content.decode()
    assert "Explain the reason for turning the request down." in page
    assert 'value="other" checked' in page

    response = client.post(url, {"action": "reject", "reason": "no_staff", "text": "Short-staffed"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REJECTED
    assert booking.rejection_reason == "no_staff"


def test_staff_check_a_request_on_a_persons_behalf_before_sending_it(staff_client, party: Party, clerk):
    # Staff book from the next 28 days.
    Slot.objects.filter(pk=party.slot.pk).update(
        starts_at=timezone.now().replace(microsecond=0) + timedelta(days=2),
        ends_at=timezone.now().replace(microsecond=0) + timedelta(days=2, hours=1),
    )
    client = staff_client(clerk)
    url = _url("request-new", party.establishment, resident_id=party.resident.pk)
    data = {"slot": str(party.slot.pk), "lead_contact": str(party.contact.pk), "kind": "legal"}

    refused = client.post(url, {**data, "action": "check"}).content.decode()
    assert "PF 5.1" in refused  # prisons: social calls only
    assert Booking.objects.count() == 0
    assert f'value="{party.contact.pk}" checked' in refused

    allowed = client.post(url, {**data, "kind": "social", "action": "check"}).content.decode()
    assert "This request can be made." in allowed
    assert Booking.objects.count() == 0

    sent = client.post(url, {**data, "kind": "social", "action": "send"})
    assert sent.status_code == 302
    booking = Booking.objects.get()
    assert booking.requested_by == RequestChannel.STAFF
    assert booking.requested_by_user == clerk


def test_staff_give_other_times_on_a_persons_behalf(staff_client, party: Party, clerk):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    Slot.objects.filter(pk=party.slot.pk).update(starts_at=start, ends_at=start + timedelta(hours=1))
    other = SlotFactory(establishment=party.establishment, starts_at=start + timedelta(days=1))
    client = staff_client(clerk)
    url = _url("request-new", party.establishment, resident_id=party.resident.pk)
    data = {"slot": str(party.slot.pk), "lead_contact": str(party.contact.pk), "kind": "social"}

    same = client.post(url, {**data, "second": str(party.slot.pk), "action": "check"}).content.decode()
    assert "The second choice must be a different time from the first choice" in same
    assert f'value="{party.contact.pk}" checked' in same

    sent = client.post(url, {**data, "second": str(other.pk), "action": "send"})
    assert sent.status_code == 302
    booking = Booking.objects.get()
    assert booking.slot_id == party.slot.pk
    assert [(item.rank, item.slot_id) for item in booking.preferences.all()] == [(2, other.pk)]


# --- Reviews and cancellations --------------------------------------------------------------------------------------


def test_a_review_closes_as_rebooked_with_the_new_booking_or_not_with_a_reason(staff_client, prison):
    old, new = _bookings(prison, 2, status=BookingStatus.CANCELLED)
    Booking.objects.filter(pk=new.pk).update(resident=old.resident, status=BookingStatus.APPROVED)
    review = BookingReview.objects.create(
        booking=old, cause=NonAttendanceCause.CANCELLED_BY_CONTACT, opened_at=timezone.now()
    )
    client = staff_client(staff_with(Role.BOOKING_CLERK, prison))
    url = _url("review", prison, review_id=review.pk)

    page = client.post(url, {"outcome": "not_rebooked", "reason": ""}).content.decode()
    assert "PF 4.8: Enter why the call was not rebooked" in page
    page = client.post(url, {"outcome": "rebooked", "new_booking": "NOPE2345"}).content.decode()
    assert "There is no booking here with this reference" in page
    assert 'value="NOPE2345"' in page

    response = client.post(url, {"outcome": "rebooked", "new_booking": new.reference.lower()})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.outcome == ReviewOutcome.REBOOKED
    assert review.new_booking == new


def test_staff_cancelling_at_short_notice_see_the_pf_4_8_warning(staff_client, party: Party, clerk):
    soon = SlotFactory(
        establishment=party.establishment,
        room=party.slot.room,
        starts_at=timezone.now().replace(microsecond=0) + timedelta(hours=3),
    )
    booking = _requested(Party(party.establishment, party.resident, party.contact, soon))
    client = staff_client(clerk)
    url = _url("cancel", party.establishment, booking_id=booking.pk)

    assert "PF 4.8" in client.get(url).content.decode()
    assert "Say why the call is cancelled" in client.post(url, {"reason": ""}).content.decode()
    response = client.post(url, {"reason": "Lockdown"}, follow=True)
    assert "PF 4.8" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancelled_by == "establishment"


# --- Allowance and grants -------------------------------------------------------------------------------------------


def test_the_allowance_page_shows_the_ledger_and_what_is_left(staff_client, party: Party, clerk):
    _requested(party)
    page = staff_client(clerk).get(
        _url("allowance", party.establishment, resident_id=party.resident.pk) + "?month=2027-03"
    )
    text = page.content.decode()
    assert "Call booked" in text
    assert "-60" in text
    assert "Calls and allowance in March 2027" in text


def test_a_clerk_in_a_prison_is_refused_an_extra_call_grant_with_the_citation(
    staff_client, party: Party, clerk
):
    client = staff_client(clerk)
    url = _url("grant-add", party.establishment, resident_id=party.resident.pk)
    assert "only the governor may grant" in client.get(url).content.decode()
    page = client.post(url, {"reason": "family_wellbeing", "notes": "Bereavement"}).content.decode()
    assert "There is a problem" in page
    assert "PF 4.3" in page
    assert "Bereavement" in page
    assert not ExtraCallGrant.objects.exists()


def test_a_governor_grants_an_extra_call_when_there_is_capacity(staff_client, party: Party, governor):
    for hours in range(1, 4):
        SlotFactory(
            establishment=party.establishment,
            starts_at=timezone.now().replace(microsecond=0) + timedelta(hours=hours),
        )
    response = staff_client(governor).post(
        _url("grant-add", party.establishment, resident_id=party.resident.pk),
        {"reason": "family_wellbeing", "notes": ""},
    )
    assert response.status_code == 302, response.content.decode()
    assert ExtraCallGrant.objects.get().approved_by == governor


# --- Schedule editor ---------------------------------------------------------------------------------------------


def _session_data(room: Room, **changes: Any) -> dict[str, Any]:
    return {
        "room": str(room.pk),
        "weekday": "2",
        "start": "09:00",
        "end": "12:00",
        "slot_minutes": "60",
        "valid_from_day": "1",
        "valid_from_month": "1",
        "valid_from_year": "2020",
        "channels": ["residents", "contacts", "staff"],
        **changes,
    }


def test_an_irc_schedule_under_seven_hours_a_day_cannot_be_published(staff_client):
    irc = IrcFactory()
    room = RoomFactory(establishment=irc)
    client = staff_client(staff_with(Role.GOVERNOR, irc))
    assert client.post(_url("session-add", irc), _session_data(room)).status_code == 302

    page = client.post(_url("publish", irc)).content.decode()

    assert "There is a problem" in page
    assert "DSO 7" in page
    assert SessionTemplate.objects.get().published_at is None


def test_a_session_with_errors_keeps_what_was_entered(staff_client, prison):
    room = RoomFactory(establishment=prison)
    client = staff_client(staff_with(Role.GOVERNOR, prison))
    page = client.post(
        _url("session-add", prison), _session_data(room, start="13:00", end="12:00", channels=[])
    ).content.decode()
    assert "The session must end after it starts" in page
    assert "Select who may request calls in this session" in page
    assert 'value="13:00"' in page


def test_publishing_a_prison_schedule_opens_times_and_warns_without_evenings_or_weekends(
    staff_client, prison
):
    room = RoomFactory(establishment=prison)
    terminals_in(room, 2)
    today = timezone.localdate()
    for offset in range(7):
        StaffRosterFactory(establishment=prison, room=room, date=today + timedelta(days=offset))
    SessionTemplateFactory(
        establishment=prison, room=room, weekday=today.weekday(), start=time(9), end=time(11)
    )
    client = staff_client(staff_with(Role.GOVERNOR, prison))

    assert "PF 4.2" in client.get(_url("schedule", prison)).content.decode()
    response = client.post(_url("publish", prison), follow=True)

    page = response.content.decode()
    assert "The schedule is published" in page
    assert "PF 4.2" in page
    assert Slot.objects.filter(establishment=prison).count() >= 2 * 4
    assert SessionTemplate.objects.get().published_at is not None


def test_closing_a_date_with_bookings_flags_them_for_review(staff_client, prison):
    [booking] = _bookings(prison, 1, status=BookingStatus.APPROVED)
    client = staff_client(staff_with(Role.GOVERNOR, prison))
    response = client.post(
        _url("closed-date-add", prison),
        {"day_day": "3", "day_month": "3", "day_year": "2027", "room": "", "reason": "Lockdown"},
        follow=True,
    )
    assert "1 booking(s) that day were flagged for review (PF 4.8)" in response.content.decode()
    assert ClosedDate.objects.get().reason == "Lockdown"
    assert BookingReview.objects.get(booking=booking).cause == "date_closed"


def test_rostering_staff_brings_that_days_places_up_to_date(staff_client, prison):
    room = RoomFactory(establishment=prison)
    terminals_in(room, 3)
    today = timezone.localdate()
    SessionTemplateFactory(
        establishment=prison, room=room, weekday=today.weekday(), published_at=timezone.now(), end=time(23)
    )
    client = staff_client(staff_with(Role.GOVERNOR, prison))
    response = client.post(
        _url("roster-add", prison),
        {
            "room": str(room.pk),
            "day_day": str(today.day),
            "day_month": str(today.month),
            "day_year": str(today.year),
            "start": "00:00",
            "end": "23:59",
            "supervising_officers": "1",
            "monitoring_officers": "1",
        },
    )
    assert response.status_code == 302
    # PF 4.7: 3 terminals, but one monitoring officer watches at most 4 calls: 3 places.
    assert set(Slot.objects.filter(room=room).values_list("capacity", flat=True)) == {3}


# --- Daily list, release or transfer --------------------------------------------------------------------------------


def test_the_daily_list_shows_each_persons_calls_with_a_print_stylesheet(staff_client, prison):
    [booking] = _bookings(prison, 1, status=BookingStatus.APPROVED)
    ResidentFactory(establishment=prison, location="B wing")
    client = staff_client(staff_with(Role.SUPERVISING_OFFICER, prison))

    page = client.get(_url("daily-list", prison) + "?date=2027-03-03&location=A+wing").content.decode()

    assert booking.resident.identifier in page
    assert booking.lead_contact.full_name in page
    assert "08:00 to 08:30" in page
    assert 'href="/static/bookings/print.css" media="print"' in page
    assert "style=" not in page
    other_wing = client.get(_url("daily-list", prison) + "?date=2027-03-03&location=B+wing").content.decode()
    assert booking.resident.identifier not in other_wing


def test_recording_a_release_flags_the_persons_future_calls(staff_client, prison):
    [booking] = _bookings(prison, 1, status=BookingStatus.APPROVED)
    client = staff_client(staff_with(Role.SECURITY, prison))
    url = _url("resident-move", prison, resident_id=booking.resident_id)

    assert "Select whether the person was released or transferred" in client.post(url, {}).content.decode()
    response = client.post(url, {"kind": "release", "note": "Released on licence"}, follow=True)

    assert "1 future call(s) were flagged for review (PF 4.8)" in response.content.decode()
    assert Resident.objects.get(pk=booking.resident_id).released_at is not None
    assert BookingReview.objects.get(booking=booking).cause == "released"


def test_the_overview_links_to_the_booking_pages_the_roles_allow(staff_client, prison):
    page = staff_client(staff_with(Role.BOOKING_CLERK, prison)).get(
        reverse("establishments:overview", args=[prison.code])
    )
    text = page.content.decode()
    assert _url("requests", prison) in text
    assert _url("day", prison) in text
    assert _url("schedule", prison) not in text


def test_a_clerk_approves_a_request_into_its_second_choice(staff_client, party: Party, clerk):
    second: Slot = SlotFactory(
        establishment=party.establishment,
        room=party.slot.room,
        starts_at=party.slot.starts_at + timedelta(days=1),
    )
    booking = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        alternatives=[second],
    ).booking
    client = staff_client(clerk)
    url = _url("request", party.establishment, booking_id=booking.pk)
    page = client.get(url).content.decode()
    assert "Other times the requester would accept" in page
    assert "Second choice" in page
    assert f'name="slot" value="{second.pk}"' in page

    stray = SlotFactory(establishment=party.establishment, room=party.slot.room)
    refused = client.post(url, {"action": "move", "slot": str(stray.pk)})
    assert refused.status_code == 200
    assert "This time is not one of the other times the request named." in refused.content.decode()

    response = client.post(url, {"action": "move", "slot": str(second.pk)})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.slot_id, booking.status) == (second.pk, BookingStatus.APPROVED)


def test_a_refused_move_shows_every_reason_and_changes_nothing(staff_client, party: Party, clerk):
    second: Slot = SlotFactory(
        establishment=party.establishment,
        room=party.slot.room,
        starts_at=party.slot.starts_at + timedelta(days=1),
    )
    booking = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        alternatives=[second],
    ).booking
    Slot.objects.filter(pk=second.pk).update(capacity=0, legal_reserved=True)
    response = staff_client(clerk).post(
        _url("request", party.establishment, booking_id=booking.pk),
        {"action": "move", "slot": str(second.pk)},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "PF 4.2: This time is fully booked." in page
    assert "DSO 9:" in page
    booking.refresh_from_db()
    assert (booking.slot_id, booking.status) == (party.slot.pk, BookingStatus.REQUESTED)
