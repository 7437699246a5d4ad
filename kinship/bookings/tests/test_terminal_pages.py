"""Resident terminal pages: only on a registered resident terminal (PF 4.23); the room's calls; identifying with a
PIN (set by staff, hashed, rate limited per terminal, audited); the person's calls and minutes left; asking for a
call with every refusal reason shown; the session ending on Finish or after inactivity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.bookings import selectors_contact
from kinship.bookings.models import Booking, BookingStatus, RequestChannel
from kinship.bookings.references import new_reference
from kinship.bookings.services_contact import PIN_ATTEMPT_LIMIT, resident_pin_set
from kinship.bookings.views_terminal import SESSION_KEY
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, Room, Terminal, hash_device_secret
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import EstablishmentFactory, RoomFactory, TerminalFactory, staff_with
from kinship.people.models import CompactRecord, Contact, Resident

from .factories import SlotFactory, approved_contact, eligible_resident

pytestmark = pytest.mark.django_db

PIN = "4821"
SECRET = "device-secret-for-tests"


@dataclass
class Terminal_:
    establishment: Establishment
    room: Room
    terminal: Terminal
    resident: Resident
    contact: Contact
    client: Client


def _terminal(establishment: Establishment, room: Room, secret: str = SECRET, **kwargs: Any) -> Terminal:
    fields: dict[str, Any] = {
        "establishment": establishment,
        "room": room,
        "kind": "resident",
        "device_secret_hash": hash_device_secret(secret),
        "registered_at": timezone.now(),
    }
    fields.update(kwargs)
    return TerminalFactory(**fields)


@pytest.fixture
def setup(client: Client) -> Terminal_:
    establishment = EstablishmentFactory()
    room = RoomFactory(establishment=establishment)
    terminal = _terminal(establishment, room)
    resident = eligible_resident(establishment, identifier="A1234BC")
    contact = approved_contact(resident, first_name="Jo", last_name="Lead")
    staff = staff_with(Role.BOOKING_CLERK, establishment)
    resident_pin_set(resident=resident, pin=PIN, actor=staff)
    client.cookies[TERMINAL_COOKIE_NAME] = SECRET
    return Terminal_(establishment, room, terminal, resident, contact, client)


def _url(name: str, *args: Any) -> str:
    return reverse(f"bookings-terminal:{name}", args=args)


def _sign_in(setup: Terminal_, identifier: str = "A1234BC", pin: str = PIN) -> Any:
    return setup.client.post(_url("home"), {"identifier": identifier, "pin": pin})


def _approved(slot: Any, resident: Resident, contact: Contact) -> Booking:
    return Booking.objects.create(
        reference=new_reference(),
        slot=slot,
        resident=resident,
        lead_contact=contact,
        requested_by=RequestChannel.CONTACT,
        status=BookingStatus.APPROVED,
        requested_at=timezone.now(),
    )


# --- Only on a registered resident terminal
# -------------------------------------------------------------------------------


def test_a_registered_resident_terminal_sees_the_page(setup: Terminal_) -> None:
    response = setup.client.get(_url("home"))
    assert response.status_code == 200
    assert "Video calls" in response.content.decode()


@pytest.mark.parametrize("name", ["home", "me", "request"])
def test_a_device_that_is_not_registered_is_refused(client: Client, name: str) -> None:
    response = client.get(_url(name))
    assert response.status_code == 403
    assert "This device is not a video calling terminal" in response.content.decode()
    client.cookies[TERMINAL_COOKIE_NAME] = "a guess"
    assert client.get(_url(name)).status_code == 403


def test_a_revoked_or_inactive_terminal_is_refused(setup: Terminal_) -> None:
    setup.terminal.revoked_at = timezone.now()
    setup.terminal.save()
    assert setup.client.get(_url("home")).status_code == 403
    assert _sign_in(setup).status_code == 403
    setup.terminal.revoked_at = None
    setup.terminal.active = False
    setup.terminal.save()
    assert setup.client.get(_url("home")).status_code == 403


def test_a_monitoring_terminal_is_refused(client: Client) -> None:
    establishment = EstablishmentFactory()
    _terminal(establishment, RoomFactory(establishment=establishment), kind="monitoring")
    client.cookies[TERMINAL_COOKIE_NAME] = SECRET
    assert client.get(_url("home")).status_code == 403


def test_a_signed_in_contact_or_staff_member_gains_nothing_without_the_device(setup: Terminal_) -> None:
    other = Client()
    other.force_login(setup.contact.user)
    assert other.get(_url("home")).status_code == 403
    assert other.post(_url("home"), {"identifier": "A1234BC", "pin": PIN}).status_code == 403


# --- The room's calls
# ----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_call_in_the_room_now(setup: Terminal_) -> None:
    now = timezone.now()
    slot = SlotFactory(
        establishment=setup.establishment, room=setup.room, starts_at=now - timedelta(minutes=10)
    )
    _approved(slot, setup.resident, setup.contact)
    page = setup.client.get(_url("home")).content.decode()
    assert f"A. {setup.resident.last_name}" in page
    assert "No call" not in page


def test_room_calls_gives_the_current_and_the_next_today_only() -> None:
    establishment = EstablishmentFactory()
    room = RoomFactory(establishment=establishment)
    resident = eligible_resident(establishment)
    contact = approved_contact(resident)
    now = datetime(2027, 3, 3, 11, 15, tzinfo=UTC)
    current = _approved(
        SlotFactory(establishment=establishment, room=room, starts_at=now - timedelta(minutes=15)),
        resident,
        contact,
    )
    later = _approved(
        SlotFactory(establishment=establishment, room=room, starts_at=now + timedelta(hours=2)),
        resident,
        contact,
    )
    _approved(
        SlotFactory(establishment=establishment, room=room, starts_at=now + timedelta(days=1)),
        resident,
        contact,
    )
    elsewhere = RoomFactory(establishment=establishment)
    _approved(
        SlotFactory(establishment=establishment, room=elsewhere, starts_at=now + timedelta(hours=1)),
        resident,
        contact,
    )
    assert selectors_contact.room_calls(room=room, now=now) == (current, [later])


# --- PIN set by staff
# ----------------------------------------------------------------------------------------------------


def test_staff_set_a_pin_which_is_kept_hashed_and_audited(setup: Terminal_, staff_client: Any) -> None:
    clerk = staff_with(Role.BOOKING_CLERK, setup.establishment)
    client = staff_client(clerk)
    url = _url("staff-pin", setup.establishment.code, setup.resident.pk)
    assert "Reset the terminal PIN" in client.get(url).content.decode()
    mismatch = client.post(url, {"pin": "135790", "pin_again": "135791"})
    assert "The PINs do not match" in mismatch.content.decode()
    short = client.post(url, {"pin": "12", "pin_again": "12"})
    assert "Enter a PIN of 4 to 8 numbers" in short.content.decode()
    done = client.post(url, {"pin": "135790", "pin_again": "135790"})
    assert done.status_code == 302
    setup.resident.refresh_from_db()
    assert "135790" not in setup.resident.pin_hash
    assert check_password("135790", setup.resident.pin_hash)
    event = AuditEvent.objects.filter(action="resident_pin_reset", subject_id=str(setup.resident.pk)).get()
    assert "135790" not in str(event.after)


def test_only_record_editors_may_set_a_pin(setup: Terminal_, staff_client: Any) -> None:
    monitor = staff_with(Role.MONITORING_OFFICER, setup.establishment)
    url = _url("staff-pin", setup.establishment.code, setup.resident.pk)
    assert staff_client(monitor).get(url).status_code == 403
    elsewhere = staff_with(Role.BOOKING_CLERK, EstablishmentFactory())
    assert staff_client(elsewhere).get(url).status_code == 403


# --- Identifying on the terminal
# -----------------------------------------------------------------------------------------


def test_the_right_pin_opens_the_persons_calls_and_finish_ends_it(setup: Terminal_) -> None:
    slot = SlotFactory(establishment=setup.establishment, starts_at=timezone.now() + timedelta(days=2))
    booking = _approved(slot, setup.resident, setup.contact)
    response = _sign_in(setup, identifier="a1234bc")
    assert response.url == _url("me")
    page = setup.client.get(_url("me")).content.decode()
    assert booking.reference in page
    assert "Jo Lead" in page
    assert "minutes</strong> of free calls left this month" in page
    assert AuditEvent.objects.filter(
        action="terminal_pin_accepted", subject_id=str(setup.terminal.pk)
    ).exists()

    finished = setup.client.post(_url("finish"))
    assert finished.url == _url("home")
    assert setup.client.get(_url("me")).url == _url("home")


def test_a_wrong_pin_or_unknown_number_is_refused_the_same_way(setup: Terminal_) -> None:
    wrong_pin = _sign_in(setup, pin="0000").content.decode()
    unknown = _sign_in(setup, identifier="Z9999ZZ").content.decode()
    for page in (wrong_pin, unknown):
        assert "The number or PIN is not right" in page
    assert 'value="A1234BC"' in wrong_pin  # what was typed is kept (but never the PIN)
    assert SESSION_KEY not in setup.client.session
    assert AuditEvent.objects.filter(action="terminal_pin_refused").count() == 2


def test_a_person_with_no_pin_or_from_elsewhere_cannot_identify(setup: Terminal_) -> None:
    no_pin = eligible_resident(setup.establishment, identifier="B2222BB")
    assert (
        "The number or PIN is not right"
        in _sign_in(setup, identifier=no_pin.identifier, pin="1234").content.decode()
    )
    away = eligible_resident(EstablishmentFactory(), identifier="C3333CC")
    resident_pin_set(resident=away, pin=PIN, actor=staff_with(Role.GOVERNOR, away.establishment))
    assert "The number or PIN is not right" in _sign_in(setup, identifier="C3333CC").content.decode()


def test_pin_attempts_are_rate_limited_per_terminal(setup: Terminal_) -> None:
    for _ in range(PIN_ATTEMPT_LIMIT):
        _sign_in(setup, pin="9999")
    locked = _sign_in(setup)  # even the right PIN is refused now
    assert "too many tries on this terminal" in locked.content.decode()
    assert SESSION_KEY not in setup.client.session
    _sign_in(setup)
    assert AuditEvent.objects.filter(action="terminal_pin_rate_limited").count() == 1
    # Another terminal in the room is counted on its own.
    other = Client()
    _terminal(setup.establishment, setup.room, secret="another-device", name="Terminal B")
    other.cookies[TERMINAL_COOKIE_NAME] = "another-device"
    assert other.post(_url("home"), {"identifier": "A1234BC", "pin": PIN}).url == _url("me")


def test_the_session_ends_after_inactivity(setup: Terminal_) -> None:
    _sign_in(setup)
    session = setup.client.session
    state = session[SESSION_KEY]
    state["seen"] = (timezone.now() - timedelta(minutes=6)).isoformat()
    session[SESSION_KEY] = state
    session.save()
    response = setup.client.get(_url("me"))
    assert response.url == _url("home")
    assert "signed out after 5 minutes" in setup.client.get(_url("home")).content.decode()


def test_a_session_does_not_move_to_another_terminal(setup: Terminal_) -> None:
    _sign_in(setup)
    _terminal(setup.establishment, setup.room, secret="another-device", name="Terminal B")
    setup.client.cookies[TERMINAL_COOKIE_NAME] = "another-device"
    assert setup.client.get(_url("me")).url == _url("home")


# --- Asking for a call
# ---------------------------------------------------------------------------------------------------


def _free_slot(setup: Terminal_) -> Any:
    return SlotFactory(establishment=setup.establishment, starts_at=timezone.now() + timedelta(days=3))


def test_a_person_asks_for_a_call_after_checking_it(setup: Terminal_) -> None:
    slot = _free_slot(setup)
    _sign_in(setup)
    form = setup.client.get(_url("request")).content.decode()
    assert "Jo Lead" in form
    assert str(slot.pk) in form
    answers = {"contact": str(setup.contact.pk), "slot": str(slot.pk)}
    check = setup.client.post(_url("request"), answers).content.decode()
    assert "Check your request" in check
    assert not Booking.objects.exists()
    sent = setup.client.post(_url("request"), {**answers, "confirm": "yes"})
    assert sent.url == _url("me")
    booking = Booking.objects.get()
    assert booking.requested_by == RequestChannel.RESIDENT
    assert booking.lead_contact == setup.contact
    assert booking.requested_by_user is None
    assert booking.reference in setup.client.get(_url("me")).content.decode()


def test_every_refusal_is_shown_before_the_request_is_sent(setup: Terminal_) -> None:
    slot = _free_slot(setup)
    CompactRecord.objects.filter(resident=setup.resident).delete()
    slot.supervising_officers = 0
    slot.save()
    _sign_in(setup)
    answers = {"contact": str(setup.contact.pk), "slot": str(slot.pk), "confirm": "yes"}
    page = setup.client.post(_url("request"), answers).content.decode()
    assert "PF 4.9:" in page
    assert "PF 4.7:" in page
    assert "Send request" not in page
    assert not Booking.objects.exists()


def test_where_only_contacts_may_request_the_person_is_told(setup: Terminal_) -> None:
    setup.establishment.who_may_request = "contact"
    setup.establishment.save()
    _sign_in(setup)
    assert "PF 4.6:" in setup.client.get(_url("me")).content.decode()
    page = setup.client.get(_url("request")).content.decode()
    assert "PF 4.6: At this establishment calls are requested by family and friends." in page
    assert (
        setup.client.post(_url("request"), {"contact": str(setup.contact.pk), "confirm": "yes"}).status_code
        == 200
    )
    assert not Booking.objects.exists()


def test_only_the_persons_own_contacts_are_offered(setup: Terminal_) -> None:
    slot = _free_slot(setup)
    stranger = approved_contact(eligible_resident(setup.establishment))
    _sign_in(setup)
    page = setup.client.post(
        _url("request"), {"contact": str(stranger.pk), "slot": str(slot.pk), "confirm": "yes"}
    ).content.decode()
    assert "Select someone on your approved contact list" in page
    assert not Booking.objects.exists()


def test_a_person_gives_other_times_and_gets_the_second_when_the_first_is_taken(setup: Terminal_) -> None:
    first = SlotFactory(
        establishment=setup.establishment, starts_at=timezone.now() + timedelta(days=3), capacity=1
    )
    second = SlotFactory(establishment=setup.establishment, starts_at=timezone.now() + timedelta(days=4))
    _sign_in(setup)
    form = setup.client.get(_url("request")).content.decode()
    assert "Second choice (optional)" in form
    answers = {"contact": str(setup.contact.pk), "slot": str(first.pk), "second": str(second.pk)}
    check = setup.client.post(_url("request"), answers).content.decode()
    assert "Check your request" in check
    assert "Second choice" in check
    # Someone else takes the first choice before the person sends the request.
    other = eligible_resident(setup.establishment)
    _approved(first, other, approved_contact(other))
    page = setup.client.post(_url("request"), {**answers, "confirm": "yes"})
    assert page.url == _url("me")
    booking = Booking.objects.get(resident=setup.resident)
    assert booking.slot == second
    assert "(your second choice)" in setup.client.get(_url("me")).content.decode()


def test_the_same_time_twice_is_refused_and_the_answers_kept(setup: Terminal_) -> None:
    slot = _free_slot(setup)
    _sign_in(setup)
    answers = {"contact": str(setup.contact.pk), "slot": str(slot.pk), "second": str(slot.pk)}
    page = setup.client.post(_url("request"), answers).content.decode()
    assert "Your second choice must be a different time from your first choice" in page
    assert f'value="{setup.contact.pk}" checked' in page
    assert not Booking.objects.exists()


def test_a_time_taken_since_the_page_was_shown_is_refused_with_its_reason(setup: Terminal_) -> None:
    slot = SlotFactory(
        establishment=setup.establishment, starts_at=timezone.now() + timedelta(days=3), capacity=1
    )
    _sign_in(setup)
    other = eligible_resident(setup.establishment)
    _approved(slot, other, approved_contact(other))
    answers = {"contact": str(setup.contact.pk), "slot": str(slot.pk), "confirm": "yes"}
    page = setup.client.post(_url("request"), answers).content.decode()
    assert "PF 4.2: This time is fully booked" in page
    assert "(no longer free)" in page
    assert not Booking.objects.filter(resident=setup.resident).exists()
