"""The people's call pages (issue 5 §4) and the pre-call check's WebSocket, against the in-memory media server.

Who may see them: the contact pages only for the booking's lead contact (anyone else, a participant on the same
booking included, gets the 404 of a booking that does not exist); the terminal screen only on a registered resident
terminal, and only for its own room's calls (PF 4.23). The pages hold nothing secret. The pre-call check creates a
throwaway room, publishes, sends the browser's media back to it and destroys the room. Every page state passes axe
(WCAG 2.2 AA) in the system Chromium with no CSP violation; the call itself, with real media, is in
test_browser_janus.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from config.asgi import application
from kinship.bookings.models import Booking, BookingParticipant, BookingStatus
from kinship.calls import consumers_precheck, services
from kinship.calls.media.fake import FakeMediaServer
from kinship.core.roles import Role
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import staff_with
from kinship.testing import assert_accessible, browser_sign_in, sign_in_with_2fa

from .conftest import Place, book
from .test_signalling import DEVICE, OFFER, resident_terminal, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def now_booking(place: Place, **kwargs: Any) -> Booking:
    """A booking whose slot started a minute ago (so it is the terminal's current call)."""
    return book(place.establishment, start=timezone.now() - timedelta(minutes=1), **kwargs)


def contact_client(booking: Booking) -> Client:
    client = Client()
    client.force_login(booking.lead_contact.user)
    return client


def pages(booking: Booking) -> list[str]:
    return [
        reverse("calls-contact:check", args=[booking.reference]),
        reverse("calls-contact:join", args=[booking.reference]),
    ]


# --- Contact pages: who may see them ---------------------------------------------------------------------------------


def test_the_lead_contact_sees_the_check_and_the_call_page_with_nothing_secret(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = now_booking(prison)
    call = services.call_open(booking=booking, media=fake_media)
    extra = book(prison.establishment).lead_contact
    BookingParticipant.objects.create(booking=booking, contact=extra)
    client = contact_client(booking)
    check, join = (client.get(url) for url in pages(booking))
    assert check.status_code == 200
    assert "Check your camera and connection" in check.text
    assert 'data-socket="/ws/precheck/"' in check.text
    assert join.status_code == 200
    assert f'data-socket="/ws/calls/{booking.pk}/"' in join.text
    # PF 4.13: the people on the booking, and only they, can be chosen.
    assert f'value="{extra.pk}"' in join.text
    assert join.text.count('name="participants"') == 1
    room = call.media_room()
    for response in (check, join):
        assert room.secret.reveal() not in response.text
        assert room.pin.reveal() not in response.text
        assert response["Cache-Control"].startswith("max-age=0")
    # The booking's page and the list of calls link to the call and the check.
    detail = client.get(reverse("bookings-contact:detail", args=[booking.reference]))
    assert reverse("calls-contact:join", args=[booking.reference]) in detail.text
    assert reverse("calls-contact:check", args=[booking.reference]) in detail.text
    listing = client.get(reverse("bookings-contact:calls"))
    assert reverse("calls-contact:join", args=[booking.reference]) in listing.text


def test_anyone_but_the_lead_contact_is_refused_like_a_missing_booking(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = now_booking(prison)
    participant = book(prison.establishment).lead_contact
    BookingParticipant.objects.create(booking=booking, contact=participant)
    stranger = book(prison.establishment).lead_contact
    missing = Booking(reference="ZZZZ-ZZZZ")
    for user in (participant.user, stranger.user):
        client = Client()
        client.force_login(user)
        for url in pages(booking) + pages(missing):
            assert client.get(url).status_code == 404, (user, url)
    staff = sign_in_with_2fa(Client(), prison.officer)
    for url in pages(booking):
        assert staff.get(url).status_code == 403
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(reverse("accounts:sign-in"))


def test_a_call_that_cannot_be_joined_says_why(prison: Place, fake_media: FakeMediaServer) -> None:
    requested = now_booking(prison)
    Booking.objects.filter(pk=requested.pk).update(status=BookingStatus.REQUESTED)
    ended = now_booking(prison)
    call = services.call_open(booking=ended, media=fake_media)
    services.call_fail(call=call, actor=None, media=fake_media)
    for booking, reason in (
        (requested, "has not been approved yet"),
        (ended, "technical problem"),
    ):
        response = contact_client(booking).get(reverse("calls-contact:join", args=[booking.reference]))
        assert response.status_code == 200
        assert reason in response.text
        assert "data-kinship-call" not in response.text
    # The check is for calls still to come.
    response = contact_client(ended).get(reverse("calls-contact:check", args=[ended.reference]))
    assert "nothing to check" in response.text
    assert "data-kinship-precheck" not in response.text


# --- Terminal screen -------------------------------------------------------------------------------------------------


def terminal_client(cookie: str = DEVICE) -> Client:
    client = Client()
    client.cookies[TERMINAL_COOKIE_NAME] = cookie
    return client


def test_a_registered_terminal_shows_its_rooms_current_call_and_joins_it(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = now_booking(prison)
    resident_terminal(booking)
    response = terminal_client().get(reverse("calls-terminal:call"))
    assert response.status_code == 200
    assert f'data-socket="/ws/calls/{booking.pk}/"' in response.text
    assert 'data-role="resident"' in response.text
    assert 'data-auto="true"' in response.text
    assert booking.resident.last_name in response.text


def test_only_a_registered_terminal_in_the_room_sees_the_call(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = now_booking(prison)
    other = now_booking(prison)
    assert other.slot.room_id != booking.slot.room_id
    resident_terminal(booking, room=other.slot.room)
    # A terminal in another room sees its own room's call, never this one.
    response = terminal_client().get(reverse("calls-terminal:call"))
    assert response.status_code == 200
    assert str(booking.pk) not in response.text
    assert f'data-socket="/ws/calls/{other.pk}/"' in response.text
    # Unregistered devices, contacts and staff are refused (PF 4.23).
    for client in (terminal_client("not-a-registered-device"), Client(), contact_client(booking)):
        refused = client.get(reverse("calls-terminal:call"))
        assert refused.status_code == 403
        assert str(booking.pk) not in refused.text


def test_a_terminal_with_no_call_now_says_so_and_looks_again(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = book(prison.establishment, start=timezone.now() + timedelta(hours=3))
    resident_terminal(booking)
    response = terminal_client().get(reverse("calls-terminal:call"))
    assert response.status_code == 200
    assert "No call" in response.text
    assert "data-kinship-refresh" in response.text
    assert "data-kinship-call" not in response.text


# --- The pre-call check's WebSocket ----------------------------------------------------------------------------------


class Socket:
    def __init__(self, cookie: str = "") -> None:
        headers = [(b"origin", b"http://localhost")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.socket = WebsocketCommunicator(application, "/ws/precheck/", headers=headers)

    async def open(self) -> None:
        connected, _ = await self.socket.connect()
        assert connected

    async def send(self, **message: Any) -> None:
        await self.socket.send_json_to(message)

    async def expect(self, kind: str) -> dict[str, Any]:
        output = await self.socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            message = {"type": "closed", "code": output.get("code")}
        else:
            message = json.loads(output["text"])
        assert message["type"] == kind, message
        return message


def test_the_precheck_publishes_to_a_throwaway_room_echoes_it_back_and_destroys_it(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = book(prison.establishment, start=timezone.now() + timedelta(days=2))
    rooms_before = set(fake_media.rooms)
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        socket = Socket(session_cookie(booking.lead_contact.user))
        await socket.open()
        await socket.send(type="ping", id=7)
        assert (await socket.expect("pong"))["id"] == 7
        await socket.send(type="offer", sdp=OFFER)
        sent.append(await socket.expect("answer"))
        (room_id,) = set(fake_media.rooms) - rooms_before
        assert fake_media.rooms[room_id].room.record is False
        assert (await socket.expect("media"))["state"] == "up"
        echo = await socket.expect("offer")
        assert echo["subscription"] == consumers_precheck.ECHO
        await socket.send(type="answer", subscription="echo", sdp=OFFER.replace("o=- 1 1", "o=- 2 2"))
        await socket.send(type="ice", target="publisher", candidate=None)
        await socket.send(type="ice", target="echo", candidate=None)
        await socket.send(type="leave")
        assert (await socket.expect("end"))["state"] == "done"
        assert (await socket.expect("closed"))["code"] == 1000
        assert room_id in fake_media.destroyed
        assert fake_media.sessions == {}

    run(scenario)
    assert all("secret" not in json.dumps(message) for message in sent)


def test_a_dropped_precheck_socket_destroys_its_room(prison: Place, fake_media: FakeMediaServer) -> None:
    booking = book(prison.establishment, start=timezone.now() + timedelta(days=2))

    async def scenario() -> None:
        socket = Socket(session_cookie(booking.lead_contact.user))
        await socket.open()
        await socket.send(type="offer", sdp=OFFER)
        await socket.expect("answer")
        await socket.socket.disconnect()
        assert len(fake_media.destroyed) == 1
        assert fake_media.rooms == {}

    run(scenario)


def test_the_precheck_is_only_for_contacts_with_a_call_to_come_and_is_rate_limited(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = book(prison.establishment, start=timezone.now() + timedelta(days=2))
    past = book(prison.establishment, start=timezone.now() - timedelta(days=2))
    officer = staff_with(Role.SUPERVISING_OFFICER, prison.establishment)

    async def refused(cookie: str, code: int, problem: str) -> None:
        socket = Socket(cookie)
        await socket.open()
        assert (await socket.expect("error"))["code"] == problem
        assert (await socket.expect("closed"))["code"] == code

    async def scenario() -> None:
        await refused("", 4401, "access.not_identified")
        await refused(session_cookie(officer), 4403, "access.forbidden")
        await refused(session_cookie(past.lead_contact.user), 4403, "precheck.no_call")
        for _ in range(consumers_precheck.PRECHECK_LIMIT):
            assert consumers_precheck.precheck_allowance_take(booking.lead_contact.user.pk)
        socket = Socket(session_cookie(booking.lead_contact.user))
        await socket.open()
        await socket.send(type="offer", sdp=OFFER)
        assert (await socket.expect("error"))["code"] == "precheck.limit"
        await socket.socket.disconnect()

    run(scenario)
    assert fake_media.rooms == {}


# --- In the browser: every page state passes axe ---------------------------------------------------------------------


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def test_the_people_pages_are_accessible(
    live_server: Any, page: Page, csp_violations: list[str], prison: Place, fake_media: FakeMediaServer
) -> None:
    booking = now_booking(prison)
    BookingParticipant.objects.create(booking=booking, contact=book(prison.establishment).lead_contact)
    browser_sign_in(page, live_server, booking.lead_contact.user)

    page.goto(live_server.url + reverse("calls-contact:check", args=[booking.reference]))
    _check(page)
    # The test server speaks no WebSocket, so the check finds the camera but no connection: a real page state.
    page.get_by_role("button", name="Start the check").click()
    expect(page.locator("[data-finished]")).to_have_count(1, timeout=30_000)
    expect(page.locator('[data-check="camera"] .govuk-tag')).to_have_text("Working")
    expect(page.locator('[data-check="kinship"] .govuk-tag')).to_have_text("Problem")
    expect(page.get_by_role("status").filter(has_text="Check finished")).to_be_visible()
    _check(page)

    page.goto(live_server.url + reverse("calls-contact:join", args=[booking.reference]))
    expect(page.get_by_role("group", name="Who is with you for this call?")).to_be_visible()
    _check(page)
    page.get_by_role("button", name="Join the call").click()
    expect(page.get_by_role("button", name="Leave the call")).to_be_visible()
    expect(page.get_by_label("Your camera")).to_be_visible()
    _check(page)
    page.get_by_role("button", name="Leave the call").click()
    expect(page.get_by_role("link", name="Join the call again")).to_be_visible()
    _check(page)

    resident_terminal(booking)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": TERMINAL_COOKIE_NAME, "value": DEVICE, "url": live_server.url}])
    page.goto(live_server.url + reverse("calls-terminal:call"))
    expect(page.get_by_text("The call starts when the officer starts it")).to_be_visible()
    _check(page)
    assert csp_violations == []
