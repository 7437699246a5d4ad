"""The call signalling WebSocket (docs/signalling.md) through the real ASGI stack (origin check, session auth,
routing) against the in-memory media server: who may connect, joining, publishing, subscribing, ICE, state pushes
from the services, warnings, leaving, and that no secret ever reaches a browser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from kinship.accounts.models import TermsAcceptance
from kinship.bookings.models import Booking, BookingParticipant
from kinship.calls import services, signalling
from kinship.calls.models import Call, CallEndpoint, CallState, EndpointRole
from kinship.calls.threads import close_db_connections
from kinship.establishments.models import TerminalKind, hash_device_secret
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import TerminalFactory

from .conftest import book, off_the_loop
from .test_lifecycle import NOW, opened, ready, watch

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
)
ANSWER = (
    "v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
)
DEVICE = "resident-device-secret"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run the scenario in its own thread (``off_the_loop``). Afterwards the database connections it left open
    are closed: its event loop's thread's own (a scenario may read or write the database there directly), and the
    consumers' database threads' (channels' test communicator turns their clean-up off), or PostgreSQL could not
    drop the test database."""

    async def closing() -> None:
        try:
            await scenario()
        finally:
            connections.close_all()
            await asyncio.to_thread(close_db_connections)

    off_the_loop(async_to_sync(closing))


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def resident_terminal(booking: Booking, *, room: Any = None) -> None:
    TerminalFactory(
        establishment=booking.slot.establishment,
        kind=TerminalKind.RESIDENT,
        room=room if room is not None else booking.slot.room,
        device_secret_hash=hash_device_secret(DEVICE),
        registered_at=timezone.now(),
    )


class Browser:
    """A WebSocket client that keeps every message it received (for the no-secret check)."""

    def __init__(self, booking: Booking, cookie: str = "", log: list[dict[str, Any]] | None = None) -> None:
        headers = [(b"origin", b"http://localhost")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.socket = WebsocketCommunicator(application, f"/ws/calls/{booking.pk}/", headers=headers)
        self.log = log if log is not None else []

    async def open(self) -> None:
        connected, _ = await self.socket.connect()
        assert connected

    async def send(self, **message: Any) -> None:
        await self.socket.send_json_to(message)

    async def receive(self) -> dict[str, Any]:
        output = await self.socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            message = {"type": "closed", "code": output.get("code")}
        else:
            message = json.loads(output["text"])
        self.log.append(message)
        return message

    async def expect(self, kind: str) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == kind, message
        return message

    async def quiet(self) -> bool:
        return await self.socket.receive_nothing(timeout=0.2)

    async def close(self) -> None:
        await self.socket.disconnect()


def contact_browser(booking: Booking, log: list[dict[str, Any]] | None = None) -> Browser:
    return Browser(booking, session_cookie(booking.lead_contact.user), log)


def terminal_browser(booking: Booking, log: list[dict[str, Any]] | None = None) -> Browser:
    return Browser(booking, f"{TERMINAL_COOKIE_NAME}={DEVICE}", log)


def db(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    return database_sync_to_async(function)


# --- Who may connect ------------------------------------------------------------------------------------------------


async def refused(browser: Browser) -> tuple[dict[str, Any], int]:
    await browser.open()
    problem = await browser.expect("error")
    closed = await browser.expect("closed")
    return problem, closed["code"]


def test_an_anonymous_browser_is_refused(prison, fake_media):
    booking = opened(prison, fake_media).booking

    async def scenario() -> None:
        problem, code = await refused(Browser(booking))
        assert code == signalling.CLOSE_NOT_IDENTIFIED
        assert problem["code"] == "access.not_identified"

    run(scenario)


def test_a_browser_from_another_site_is_refused(prison, fake_media):
    booking = opened(prison, fake_media).booking

    async def scenario() -> None:
        socket = WebsocketCommunicator(
            application,
            f"/ws/calls/{booking.pk}/",
            headers=[
                (b"origin", b"https://evil.example"),
                (b"cookie", session_cookie(booking.lead_contact.user).encode()),
            ],
        )
        connected, _ = await socket.connect()
        assert not connected

    run(scenario)


def test_another_contact_is_refused(prison, fake_media):
    booking = opened(prison, fake_media).booking
    other = book(prison.establishment).lead_contact

    async def scenario() -> None:
        problem, code = await refused(Browser(booking, session_cookie(other.user)))
        assert code == signalling.CLOSE_FORBIDDEN
        assert problem["code"] == "access.forbidden"

    run(scenario)


def test_a_contact_who_has_not_accepted_the_current_terms_is_refused(prison, fake_media):
    booking = opened(prison, fake_media).booking
    TermsAcceptance.objects.filter(user=booking.lead_contact.user).delete()

    async def scenario() -> None:
        problem, code = await refused(contact_browser(booking))
        assert code == signalling.CLOSE_FORBIDDEN
        assert problem["rule"] == "PF 4.15"
        assert problem["message"].startswith("PF 4.15: ")

    run(scenario)


def test_a_call_that_is_not_open_is_refused(prison, fake_media):
    before = book(prison.establishment)
    ended = opened(prison, fake_media)
    services.call_fail(call=ended, actor=None, media=fake_media, now=NOW)

    async def scenario() -> None:
        for booking in (before, ended.booking):
            problem, code = await refused(contact_browser(booking))
            assert code == signalling.CLOSE_CALL_NOT_OPEN
            assert problem["code"] == "call.not_open"

    run(scenario)


def test_an_unregistered_terminal_or_one_in_another_room_is_refused(prison, fake_media):
    booking = opened(prison, fake_media).booking
    other_room_booking = book(prison.establishment)
    resident_terminal(booking, room=other_room_booking.slot.room)
    assert other_room_booking.slot.room_id != booking.slot.room_id

    async def scenario() -> None:
        problem, code = await refused(Browser(booking, f"{TERMINAL_COOKIE_NAME}=not-a-registered-device"))
        assert code == signalling.CLOSE_FORBIDDEN
        problem, code = await refused(terminal_browser(booking))
        assert code == signalling.CLOSE_FORBIDDEN
        assert problem["rule"] == "PF 4.23"

    run(scenario)


def test_a_party_cannot_join_in_a_role_it_does_not_hold(prison, fake_media):
    booking = opened(prison, fake_media).booking

    async def scenario() -> None:
        browser = contact_browser(booking)
        await browser.open()
        await browser.send(type="offer", sdp=OFFER)
        assert (await browser.expect("error"))["code"] == "protocol.join_first"
        await browser.send(type="join", role="resident")
        assert (await browser.expect("error"))["code"] == "access.role"
        await browser.send(type="join", role="contact", participants=["somebody-else"])
        problem = await browser.expect("error")
        assert problem["code"] == "participants.not_booked"
        assert "PF 4.13" in problem["rule"]
        await browser.close()

    run(scenario)


def test_booked_participants_may_join_with_the_lead_contact(prison, fake_media):
    booking = opened(prison, fake_media).booking
    extra = book(prison.establishment).lead_contact
    BookingParticipant.objects.create(booking=booking, contact=extra)

    async def scenario() -> None:
        browser = contact_browser(booking)
        await browser.open()
        await browser.send(type="join", role="contact", participants=[str(extra.pk)])
        joined = await browser.expect("joined")
        assert joined["role"] == "contact"
        assert joined["publish"] is True
        await browser.close()

    run(scenario)


# --- Joining and media ----------------------------------------------------------------------------------------------


def test_join_publish_subscribe_ice_state_warnings_end_without_any_secret(prison, fake_media, settings):
    settings.KINSHIP_REQUIRE_STAFF_2FA = False  # the officer's session has no second factor in this test
    call = ready(opened(prison, fake_media), prison)
    watch(call, prison)
    booking = call.booking
    resident_terminal(booking)
    log: list[dict[str, Any]] = []
    room = fake_media.rooms[call.janus_room_id].room

    async def scenario() -> None:
        contact = contact_browser(booking, log)
        resident = terminal_browser(booking, log)
        officer = Browser(booking, session_cookie(prison.officer), log)
        for browser, role in ((contact, "contact"), (resident, "resident"), (officer, "observer")):
            await browser.open()
            await browser.send(type="join", role=role)
            joined = await browser.expect("joined")
            assert joined["state"] == CallState.READY
        await officer.send(type="offer", sdp=OFFER)
        assert (await officer.expect("error"))["code"] == "protocol.observer"

        # Both parties publish; Kinship answers through the media server and records the publishers.
        for browser in (contact, resident):
            await browser.send(type="offer", sdp=OFFER)
            answer = await browser.expect("answer")
            assert answer["sdp"].startswith("v=0")
            assert "m=video" in answer["sdp"]
        publishers = await db(lambda: list(CallEndpoint.objects.filter(call=call, is_subscription=False)))()
        assert {p.role for p in publishers} == {EndpointRole.CONTACT, EndpointRole.RESIDENT}
        assert all(p.feed_id in fake_media.rooms[room.room_id].feeds for p in publishers)
        # Nobody receives anything before the officer starts the call.
        assert await contact.quiet()
        assert await resident.quiet()

        # ICE from the browser reaches the media server (an ended session would raise).
        await contact.send(type="ice", target="publisher", candidate=CANDIDATE)
        await contact.send(type="ice", target="publisher", candidate=None)
        await contact.send(type="ice", target="nonsense", candidate=None)
        assert (await contact.expect("error"))["code"] == "protocol.unknown_subscription"

        await db(services.call_start)(call=call, actor=prison.officer, now=NOW)
        offers = {}
        for name, browser in (("contact", contact), ("resident", resident)):
            assert (await browser.expect("state"))["state"] == "live"
            offers[name] = await browser.expect("offer")
            await browser.send(type="answer", subscription=offers[name]["subscription"], sdp=ANSWER)
            await browser.send(type="ice", target=offers[name]["subscription"], candidate=CANDIDATE)
        assert (await officer.expect("state"))["state"] == "live"
        subscriptions = await db(lambda: list(CallEndpoint.objects.filter(call=call, is_subscription=True)))()
        assert len(subscriptions) == 2
        assert await contact.quiet()  # the answers were accepted
        subs = {s.role: fake_media_subscription(s, room) for s in subscriptions}
        assert fake_media.delivering(subs[EndpointRole.CONTACT]) == {"audio", "video"}
        assert fake_media.delivering(subs[EndpointRole.RESIDENT]) == {"audio", "video"}

        await db(services.call_pause)(
            call=call, actor=prison.officer, reason="Dress", media=fake_media, now=NOW
        )
        for browser in (contact, resident, officer):
            assert (await browser.expect("state"))["state"] == "paused"
        assert fake_media.delivering(subs[EndpointRole.CONTACT]) == set()
        await db(services.call_resume)(call=call, actor=prison.officer, media=fake_media, now=NOW)
        for browser in (contact, resident, officer):
            assert (await browser.expect("state"))["state"] == "resumed"
        assert fake_media.delivering(subs[EndpointRole.CONTACT]) == {"audio", "video"}
        assert await contact.quiet()  # already subscribed: no second offer

        await db(services.call_warn)(call=call, minutes=5, now=booking.slot.ends_at - timedelta(minutes=4))
        await db(services.call_warn)(call=call, minutes=1, now=booking.slot.ends_at - timedelta(seconds=30))
        for browser in (contact, resident, officer):
            assert (await browser.expect("warning"))["minutes"] == 5
            last = await browser.expect("warning")
            assert last["minutes"] == 1
            assert last["ends_at"] == booking.slot.ends_at.isoformat()

        await db(services.call_end)(call=call, actor=prison.officer, media=fake_media, now=NOW)
        for browser in (contact, resident, officer):
            assert (await browser.expect("state"))["state"] == "ended"
            end = await browser.expect("end")
            assert end["reason"] == "ended_by_staff"
            assert (await browser.expect("closed"))["code"] == signalling.CLOSE_NORMAL
        assert room.room_id in fake_media.destroyed

    run(scenario)

    secrets = [room.secret.reveal(), room.pin.reveal()]
    sent = json.dumps(log)
    assert len(log) > 20
    assert not any(secret in sent for secret in secrets)
    assert "********" not in sent


def fake_media_subscription(endpoint: CallEndpoint, room: Any) -> Any:
    from kinship.calls.services import _subscription

    return _subscription(Call.objects.get(pk=endpoint.call_id), endpoint)


def test_a_party_joining_a_live_call_subscribes_at_once_and_leave_tears_everything_down(prison, fake_media):
    call = ready(opened(prison, fake_media), prison)
    watch(call, prison)
    call = services.call_start(call=call, actor=prison.officer, now=NOW)
    booking = call.booking
    resident_terminal(booking)

    async def scenario() -> None:
        resident = terminal_browser(booking)
        await resident.open()
        await resident.send(type="join", role="resident")
        await resident.expect("joined")
        await resident.send(type="offer", sdp=OFFER)
        await resident.expect("answer")

        contact = contact_browser(booking)
        await contact.open()
        await contact.send(type="join", role="contact")
        await contact.expect("joined")
        offer = await contact.expect("offer")  # the resident's feed is already up
        await contact.send(type="answer", subscription=offer["subscription"], sdp=ANSWER)
        await contact.send(type="offer", sdp=OFFER)
        await contact.expect("answer")
        resident_offer = await resident.expect("offer")  # the contact's feed came up
        await resident.send(type="answer", subscription=resident_offer["subscription"], sdp=ANSWER)
        assert len(fake_media.sessions) == 4

        await contact.send(type="leave")
        assert (await contact.expect("closed"))["code"] == signalling.CLOSE_NORMAL
        gone = await resident.expect("unsubscribed")
        assert gone["subscription"] == resident_offer["subscription"]
        # The contact's publisher and subscription, and the resident's subscription to the contact, are closed.
        assert len(fake_media.sessions) == 1
        open_endpoints = await db(
            lambda: list(
                CallEndpoint.objects.filter(call=call, ended_at__isnull=True).values_list("role", flat=True)
            )
        )()
        assert open_endpoints == [EndpointRole.RESIDENT]

        # The resident's socket drops: its publisher goes too.
        await resident.close()
        assert fake_media.sessions == {}
        assert await db(lambda: CallEndpoint.objects.filter(call=call, ended_at__isnull=True).count())() == 0

    run(scenario)


def test_bad_messages_are_refused_with_a_reason(prison, fake_media):
    booking = opened(prison, fake_media).booking

    async def scenario() -> None:
        browser = contact_browser(booking)
        await browser.open()
        await browser.send(type="join", role="contact")
        await browser.expect("joined")
        for message in (
            {"type": "dance"},
            {"type": "offer", "sdp": "hello"},
            {"type": "offer"},
            {"type": "ice", "target": "publisher", "candidate": {"candidate": 5}},
        ):
            await browser.send(**message)
            assert (await browser.expect("error"))["code"].startswith("protocol.")
        await browser.send(type="ice", target="publisher", candidate=None)
        assert (await browser.expect("error"))["code"] == "protocol.not_publishing"
        await browser.close()

    run(scenario)


# --- The protocol's pure parts --------------------------------------------------------------------------------------


def test_no_secret_can_be_sent(prison, fake_media):
    call = opened(prison, fake_media)
    room = call.media_room()
    with pytest.raises(TypeError, match="Secret"):
        signalling.outgoing({"type": "joined", "pin": room.pin})
    with pytest.raises(TypeError, match="Secret"):
        signalling.outgoing({"type": "joined", "nested": [{"secret": room.secret}]})
    with pytest.raises(TypeError):
        signalling.outgoing({"type": "joined", "room": room})  # type: ignore[dict-item]


def test_parse_accepts_the_documented_messages():
    assert signalling.parse({"type": "join", "role": "contact"}) == signalling.Join(
        role=signalling.Role.CONTACT
    )
    assert signalling.parse({"type": "leave"}) == signalling.Leave()
    ice = signalling.parse({"type": "ice", "target": "publisher", "candidate": CANDIDATE})
    assert ice == signalling.Ice(target="publisher", candidate=CANDIDATE)
    with pytest.raises(signalling.ProtocolError):
        signalling.parse([])
    with pytest.raises(signalling.ProtocolError):
        signalling.parse({"type": "join", "role": "governor"})


def test_state_pushes_need_no_listener(prison, fake_media):
    """A service's push with nobody connected (or the clock in another process) is harmless."""
    call = opened(prison, fake_media)
    services.call_fail(call=call, actor=None, media=fake_media, now=NOW)
    assert Call.objects.get(pk=call.pk).state == CallState.FAILED
