"""Contact pages for calls end to end: requesting (person, time, participants, check answers), every refusal
reason shown with its citation before sending, holds that lapse, PF 4.6 closed to contacts, the contact's calls,
cancelling, the calendar file, and isolation (another contact's booking is a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.bookings.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    CancelledBy,
    RequestChannel,
    Slot,
    SlotHold,
)
from kinship.bookings.services import booking_request
from kinship.bookings.views_contact import SESSION_KEY, calendar_text
from kinship.establishments.models import Establishment
from kinship.factories import EstablishmentFactory, TermsVersionFactory
from kinship.people.models import CompactRecord, Contact, Resident

from .factories import SlotFactory, approved_contact, eligible_resident

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _slot_start(days: int = 3, hour: int = 10) -> datetime:
    """A whole hour a few days ahead, in UTC (clear of PF 4.8's notice and of today)."""
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Family:
    establishment: Establishment
    resident: Resident
    contact: Contact
    sibling: Contact
    slot: Slot
    client: Client


@pytest.fixture
def family(client: Client) -> Family:
    establishment = EstablishmentFactory(safer_custody_hotline="0800 111 2222")
    resident = eligible_resident(establishment)
    contact = approved_contact(resident, first_name="Jo", last_name="Lead")
    sibling = approved_contact(resident, first_name="Kim", last_name="Sibling")
    slot = SlotFactory(establishment=establishment, starts_at=_slot_start())
    client.force_login(contact.user)
    return Family(establishment, resident, contact, sibling, slot, client)


def _url(name: str, *args: Any) -> str:
    return reverse(f"bookings-contact:{name}", args=args)


def _choose(family: Family, participants: list[Contact] | None = None) -> None:
    client = family.client
    assert client.post(_url("request-person"), {"resident": str(family.resident.pk)}).url == _url(
        "request-time"
    )
    assert client.post(_url("request-time"), {"slot": str(family.slot.pk)}).url == _url(
        "request-participants"
    )
    response = client.post(
        _url("request-participants"), {"participants": [str(p.pk) for p in participants or []]}
    )
    assert response.url == _url("request-check")


def _request(family: Family, **kwargs: Any) -> Booking:
    fields: dict[str, Any] = {
        "slot": family.slot,
        "resident": family.resident,
        "lead_contact": family.contact,
        "channel": RequestChannel.CONTACT,
        "actor": family.contact.user,
    }
    fields.update(kwargs)
    return booking_request(**fields).booking


# --- Requesting
# ------------------------------------------------------------------------------------------------


def test_a_contact_requests_a_call_through_the_pages(family: Family) -> None:
    client = family.client
    start = client.get(_url("request-person")).content.decode()
    assert family.resident.full_name in start
    client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    times = client.get(_url("request-time")).content.decode()
    assert str(family.slot.pk) in times
    client.post(_url("request-time"), {"slot": str(family.slot.pk)})
    hold = SlotHold.objects.get(slot=family.slot)
    assert hold.held_by == family.contact.user
    participants = client.get(_url("request-participants")).content.decode()
    assert "Kim Sibling" in participants
    assert "We are keeping" in participants
    client.post(_url("request-participants"), {"participants": [str(family.sibling.pk)]})
    check = client.get(_url("request-check")).content.decode()
    assert "Send request" in check
    assert "Kim Sibling" in check
    assert "There is a problem" not in check
    assert "cannot be requested" not in check

    sent = client.post(_url("request-check"))
    booking = Booking.objects.get()
    assert sent.url == _url("request-sent", booking.reference)
    assert booking.status == BookingStatus.REQUESTED
    assert booking.requested_by == RequestChannel.CONTACT
    assert list(booking.participants.all()) == [family.sibling]
    hold.refresh_from_db()
    assert hold.converted_at is not None
    assert SESSION_KEY not in client.session
    confirmation = client.get(sent.url).content.decode()
    assert booking.reference in confirmation
    assert "Waiting for approval" in confirmation
    assert "0800 111 2222" in confirmation  # PF 4.19


def test_the_times_are_shown_in_the_establishments_time(family: Family) -> None:
    morning = SlotFactory(establishment=family.establishment, starts_at=_slot_start(days=4, hour=9))
    family.client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    page = family.client.get(_url("request-time")).content.decode()
    start = morning.starts_at.astimezone(LONDON)
    end = morning.ends_at.astimezone(LONDON)
    assert f"{start:%A %-d %B}" in page
    assert f"{start:%H:%M} to {end:%H:%M}" in page


def test_an_auto_approved_call_is_booked_at_once(family: Family) -> None:
    BookingSettings.objects.create(establishment=family.establishment, auto_approve=True)
    _choose(family)
    sent = family.client.post(_url("request-check"))
    page = family.client.get(sent.url).content.decode()
    assert "Your call is booked" in page
    assert Booking.objects.get().status == BookingStatus.APPROVED


def test_every_reason_is_shown_with_its_citation_before_sending_and_nothing_is_lost(family: Family) -> None:
    # This month's free call is already used (PF 4.1) and the compact is not recorded (PF 4.9).
    earlier = SlotFactory(
        establishment=family.establishment, starts_at=family.slot.starts_at - timedelta(hours=3)
    )
    _request(family, slot=earlier)
    CompactRecord.objects.filter(resident=family.resident).delete()
    _choose(family, participants=[family.sibling])

    check = family.client.get(_url("request-check"))
    page = check.content.decode()
    assert "This call cannot be requested yet" in page
    assert "PF 4.9:" in page
    assert "PF 4.1:" in page
    assert "Send request" not in page
    assert page.count("<title>Error:") == 1
    # What the contact chose is kept.
    assert "Kim Sibling" in page
    assert family.resident.full_name in page

    refused = family.client.post(_url("request-check"))
    assert refused.status_code == 200
    assert "PF 4.9:" in refused.content.decode()
    assert Booking.objects.count() == 1
    assert family.client.session[SESSION_KEY]["participants"] == [str(family.sibling.pk)]


def test_too_many_people_is_refused_with_pf_4_13(family: Family) -> None:
    family.establishment.max_outside_participants = 1
    family.establishment.save()
    _choose(family, participants=[family.sibling])
    page = family.client.get(_url("request-check")).content.decode()
    assert "PF 4.13:" in page


def test_a_lapsed_hold_is_explained_and_the_other_answers_are_kept(family: Family) -> None:
    _choose(family, participants=[family.sibling])
    SlotHold.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    check = family.client.get(_url("request-check")).content.decode()
    assert "We could not keep this time for you any longer" in check
    assert "Choose a time again" in check
    assert "Kim Sibling" in check
    assert "Send request" not in check
    assert family.client.post(_url("request-check")).status_code == 200
    assert not Booking.objects.exists()

    times = family.client.get(_url("request-time")).content.decode()
    assert "We could not keep the time you chose any longer" in times
    family.client.post(_url("request-time"), {"slot": str(family.slot.pk)})
    assert SlotHold.objects.filter(expires_at__gt=timezone.now()).count() == 1
    assert family.client.session[SESSION_KEY]["participants"] == [str(family.sibling.pk)]
    family.client.post(_url("request-check"))
    assert list(Booking.objects.get().participants.all()) == [family.sibling]


def test_a_time_taken_meanwhile_is_refused_when_chosen(family: Family) -> None:
    family.slot.capacity = 1
    family.slot.save()
    family.client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    other = approved_contact(eligible_resident(family.establishment))
    SlotHold.objects.create(
        slot=family.slot, held_by=other.user, expires_at=timezone.now() + timedelta(minutes=5)
    )
    response = family.client.post(_url("request-time"), {"slot": str(family.slot.pk)})
    assert response.status_code == 200
    assert "That time is no longer available" in response.content.decode()


def test_changing_the_time_releases_the_first_hold(family: Family) -> None:
    later = SlotFactory(establishment=family.establishment, starts_at=_slot_start(days=5))
    _choose(family)
    first = SlotHold.objects.get()
    family.client.post(_url("request-time"), {"slot": str(later.pk)})
    first.refresh_from_db()
    assert first.released_at is not None
    assert SlotHold.objects.filter(slot=later, released_at__isnull=True).exists()


def test_where_only_residents_may_request_contacts_are_told_who_can(family: Family) -> None:
    family.establishment.who_may_request = "resident"
    family.establishment.save()
    page = family.client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    text = page.content.decode()
    assert "PF 4.6: At this establishment calls are requested by the person in custody." in text
    assert "0800 111 2222" in text
    assert not SlotHold.objects.exists()
    # And the later steps cannot be reached round the first one.
    session = family.client.session
    session[SESSION_KEY] = {"resident": str(family.resident.pk), "participants": []}
    session.save()
    assert "PF 4.6:" in family.client.get(_url("request-time")).content.decode()


def test_only_people_the_contact_is_linked_to_can_be_chosen(family: Family) -> None:
    stranger = eligible_resident(family.establishment)
    response = family.client.post(_url("request-person"), {"resident": str(stranger.pk)})
    assert response.status_code == 200
    assert "Select the person in custody you want to call" in response.content.decode()
    assert SESSION_KEY not in family.client.session


def test_the_terms_must_be_accepted_first(family: Family) -> None:
    TermsVersionFactory()  # a new version the contact has not accepted (PF 4.15)
    response = family.client.get(_url("request-person"))
    assert response.status_code == 302
    assert reverse("accounts:terms") in response.url


def test_the_contact_home_links_to_booking(family: Family) -> None:
    page = family.client.get(reverse("accounts:contact-home")).content.decode()
    assert _url("request-person") in page
    assert _url("calls") in page


# --- Their calls, cancelling, the calendar file, isolation
# ------------------------------------------------------------------------


def test_the_calls_list_shows_calls_led_and_joined(family: Family) -> None:
    led = _request(family, participants=[family.sibling])
    family.client.force_login(family.sibling.user)
    page = family.client.get(_url("calls")).content.decode()
    assert led.reference in page
    assert "Waiting for approval" in page
    detail = family.client.get(_url("detail", led.reference)).content.decode()
    assert "Only Jo Lead, who asked for this call, can cancel it" in detail
    assert family.client.get(_url("cancel", led.reference)).status_code == 302


def test_a_contact_cancels_with_a_reason_after_confirming(family: Family) -> None:
    booking = _request(family)
    client = family.client
    assert "Cancel this call" in client.get(_url("detail", booking.reference)).content.decode()
    empty = client.post(_url("cancel", booking.reference), {"reason": ""})
    assert "Enter why you are cancelling the call" in empty.content.decode()
    confirm = client.post(_url("cancel", booking.reference), {"reason": "I am unwell"})
    text = confirm.content.decode()
    assert "Are you sure you want to cancel this call?" in text
    assert "I am unwell" in text
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED
    done = client.post(_url("cancel", booking.reference), {"reason": "I am unwell", "confirm": "yes"})
    assert done.url == _url("detail", booking.reference)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.status_reason) == (
        BookingStatus.CANCELLED,
        CancelledBy.CONTACT,
        "I am unwell",
    )
    assert AuditEvent.objects.filter(action="booking_cancelled", subject_id=str(booking.pk)).exists()
    page = client.get(_url("calls")).content.decode()
    assert "Cancelled" in page


def test_the_calendar_file(family: Family) -> None:
    booking = _request(family)
    response = family.client.get(_url("calendar", booking.reference))
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "")
    assert f"UID:{booking.reference}@kinship\r\n" in unfolded
    assert f"DTSTART:{family.slot.starts_at:%Y%m%dT%H%M%S}Z\r\n" in unfolded
    assert f"DTEND:{family.slot.ends_at:%Y%m%dT%H%M%S}Z\r\n" in unfolded
    assert f"SUMMARY:Video call with {family.resident.full_name}\r\n" in unfolded
    assert "0800 111 2222" in unfolded
    assert "BEGIN:VEVENT" in unfolded
    assert "END:VEVENT" in unfolded
    assert "STATUS:TENTATIVE" in unfolded


def test_calendar_text_escapes_and_folds() -> None:
    establishment = EstablishmentFactory(name="HMP Long, Name; With \\ Marks", safer_custody_hotline="0800")
    resident = eligible_resident(establishment, first_name="Zoë" * 20)
    contact = approved_contact(resident)
    slot = SlotFactory(establishment=establishment, starts_at=_slot_start())
    booking = booking_request(slot=slot, resident=resident, lead_contact=contact, channel="contact").booking
    text = calendar_text(booking, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert "HMP Long\\, Name\\; With \\\\ Marks" in unfolded
    assert "DTSTAMP:20270101T000000Z" in unfolded
    assert "Zoë" * 20 in unfolded


def test_a_contact_sees_only_bookings_they_are_on(family: Family) -> None:
    theirs = _request(family)
    outsider = approved_contact(eligible_resident(family.establishment))
    family.client.force_login(outsider.user)
    assert theirs.reference not in family.client.get(_url("calls")).content.decode()
    for name in ("detail", "cancel", "calendar", "request-sent"):
        assert family.client.get(_url(name, theirs.reference)).status_code == 404
    assert (
        family.client.post(_url("cancel", theirs.reference), {"reason": "x", "confirm": "yes"}).status_code
        == 404
    )
    assert family.client.get("/calls/ABCD-EFGH/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.REQUESTED


def test_staff_and_anonymous_people_cannot_use_contact_pages(family: Family, staff_client: Any) -> None:
    from kinship.core.roles import Role
    from kinship.factories import staff_with

    anonymous = Client()
    assert anonymous.get(_url("calls")).status_code == 302
    clerk = staff_with(Role.BOOKING_CLERK, family.establishment)
    assert staff_client(clerk).get(_url("calls")).status_code == 403


# --- The check before sending says what the service would say
# -------------------------------------------------------------------


def _parity(
    family: Family, *, participants: list[Contact] | None = None, **changes: Any
) -> set[tuple[str, str]]:
    from kinship.bookings.errors import BookingRefused
    from kinship.bookings.selectors_contact import request_problems

    lead = changes.pop("lead_contact", family.contact)
    now = timezone.now()
    shown = {
        (problem.rule_id, problem.code)
        for problem in request_problems(
            slot=family.slot,
            resident=family.resident,
            lead_contact=lead,
            participants=participants or [],
            channel=RequestChannel.CONTACT,
            actor_id=lead.user_id,
            now=now,
        )
    }
    with pytest.raises(BookingRefused) as refused:
        _request(family, lead_contact=lead, participants=participants or [], actor=lead.user, now=now)
    assert shown == {(problem.rule_id, problem.code) for problem in refused.value.problems}
    return shown


def test_the_check_lists_exactly_what_the_service_refuses(family: Family) -> None:
    from kinship.factories import ContactFactory

    CompactRecord.objects.filter(resident=family.resident).delete()
    family.slot.legal_reserved = True
    family.slot.save()
    codes = _parity(family, lead_contact=ContactFactory())
    assert {"compact.missing", "participants.not_approved", "terms.not_accepted", "slot.legal_reserved"} <= {
        code for _, code in codes
    }


def test_the_check_matches_the_service_on_capacity_allowance_and_bans(family: Family) -> None:
    earlier = SlotFactory(
        establishment=family.establishment, starts_at=family.slot.starts_at - timedelta(hours=3)
    )
    _request(family, slot=earlier)
    family.slot.capacity = 0
    family.slot.save()
    family.sibling.booking_banned_until = family.slot.starts_at.date() + timedelta(days=30)
    family.sibling.save()
    codes = {code for _, code in _parity(family, participants=[family.sibling, family.sibling])}
    assert {
        "slot.full",
        "allowance.no_calls_left",
        "contact.booking_banned",
        "participants.repeated",
    } <= codes


# --- Up to three preferences
# ---------------------------------------------------------------------------------------


def _alternative_slots(family: Family) -> tuple[Slot, Slot]:
    return (
        SlotFactory(establishment=family.establishment, starts_at=_slot_start(days=4)),
        SlotFactory(establishment=family.establishment, starts_at=_slot_start(days=5)),
    )


def _choose_preferences(family: Family, second: Slot, third: Slot | None = None) -> None:
    client = family.client
    client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    answer = client.post(
        _url("request-time"),
        {"slot": str(family.slot.pk), "second": str(second.pk), "third": str(third.pk) if third else ""},
    )
    assert answer.url == _url("request-participants")
    client.post(_url("request-participants"), {"participants": []})


def test_a_contact_gives_a_second_and_third_choice(family: Family) -> None:
    second, third = _alternative_slots(family)
    client = family.client
    client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    times = client.get(_url("request-time")).content.decode()
    assert "Second choice (optional)" in times
    assert "Only your first choice is kept for you" in times
    _choose_preferences(family, second, third)
    assert SlotHold.objects.get().slot == family.slot  # only the first choice is held
    check = client.get(_url("request-check")).content.decode()
    assert "Second choice" in check
    assert "Third choice" in check
    assert "Not kept for you" in check
    assert "There is a problem" not in check
    assert "cannot be requested" not in check
    sent = client.post(_url("request-check"))
    booking = Booking.objects.get()
    assert booking.slot == family.slot
    assert list(booking.preferences.values_list("slot", "rank")) == [(second.pk, 2), (third.pk, 3)]
    confirmation = client.get(sent.url).content.decode()
    assert "was fully booked" not in confirmation


def test_a_full_first_choice_books_the_second_and_the_confirmation_says_so(family: Family) -> None:
    second, third = _alternative_slots(family)
    _choose_preferences(family, second, third)
    Slot.objects.filter(pk=family.slot.pk).update(capacity=0)
    SlotHold.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    check = family.client.get(_url("request-check")).content.decode()
    assert "Your first choice of time is now fully booked" in check
    assert "Send request" in check
    sent = family.client.post(_url("request-check"))
    booking = Booking.objects.get()
    assert booking.slot == second
    assert sent.url == _url("request-sent", booking.reference)
    confirmation = family.client.get(sent.url).content.decode()
    assert "so we requested your second choice" in confirmation
    local = timezone.localtime(second.starts_at, LONDON)
    assert f"{local:%H:%M}" in confirmation


def test_without_alternatives_a_full_first_choice_still_blocks_sending(family: Family) -> None:
    _choose(family)
    Slot.objects.filter(pk=family.slot.pk).update(capacity=0)
    SlotHold.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    check = family.client.get(_url("request-check")).content.decode()
    assert "Send request" not in check
    assert "PF 4.2:" in check


def test_wrong_preferences_are_errors_and_what_was_entered_is_kept(family: Family) -> None:
    _second, third = _alternative_slots(family)
    client = family.client
    client.post(_url("request-person"), {"resident": str(family.resident.pk)})
    same = client.post(_url("request-time"), {"slot": str(family.slot.pk), "second": str(family.slot.pk)})
    assert same.status_code == 200
    page = same.content.decode()
    assert "Your second choice must be a different time from your first choice" in page
    assert 'href="#id_second"' in page
    assert f'value="{family.slot.pk}" checked' in page
    assert f'<option value="{family.slot.pk}" selected>' in page
    gap = client.post(_url("request-time"), {"slot": str(family.slot.pk), "third": str(third.pk)})
    page = gap.content.decode()
    assert "Select a second choice before a third choice" in page
    assert f'<option value="{third.pk}" selected>' in page
    unknown = client.post(_url("request-time"), {"slot": str(family.slot.pk), "second": "nope"})
    assert "Your second choice is no longer available" in unknown.content.decode()
    assert not SlotHold.objects.exists()


def test_the_time_page_shows_the_choices_already_made(family: Family) -> None:
    second, third = _alternative_slots(family)
    _choose_preferences(family, second, third)
    page = family.client.get(_url("request-time")).content.decode()
    assert f'<option value="{second.pk}" selected>' in page
    assert f'<option value="{third.pk}" selected>' in page


def test_an_alternative_that_has_started_is_listed_on_the_check(family: Family) -> None:
    second, _third = _alternative_slots(family)
    _choose_preferences(family, second)
    Slot.objects.filter(pk=second.pk).update(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now()
    )
    check = family.client.get(_url("request-check")).content.decode()
    assert "Your second choice of time has already started" in check
    assert "Send request" not in check
