"""The ``monitor`` role of the call signalling WebSocket (docs/signalling.md) through the real ASGI stack, against
the in-memory media server: who may watch (PF 4.23: role, second factor, registered monitoring terminal, an open
viewing on it; DSO 9 through the policy engine), that Kinship asks for the parties' video alone (PF 4.21) and the
monitor never publishes, that pause keeps the monitor watching, and that every way a viewing ends tears its media
down and closes the viewing (pausing a live prison call left unwatched, PF 4.21)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kinship.calls import services, signalling
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import Call, CallEndpoint, CallState, EndpointRole, MonitorViewing
from kinship.core.roles import Role
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import staff_with
from kinship.testing import sign_in_with_2fa

from .conftest import Place, monitoring_terminal
from .test_lifecycle import NOW, opened, ready, watch
from .test_signalling import (
    ANSWER,
    DEVICE,
    OFFER,
    Browser,
    contact_browser,
    db,
    fake_media_subscription,
    refused,
    resident_terminal,
    run,
    session_cookie,
    terminal_browser,
)

pytestmark = pytest.mark.django_db(transaction=True)

#: The device secret of the monitoring terminal made by ``conftest.monitoring_terminal``.
MONITOR_DEVICE = "device-secret"


def staff_cookie(user: Any) -> str:
    """A session cookie of ``user`` signed in with the second factor."""
    client = sign_in_with_2fa(Client(), user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def monitor_browser(call: Call, user: Any, *, device: str = MONITOR_DEVICE, log: Any = None) -> Browser:
    cookie = staff_cookie(user)
    if device:
        cookie += f"; {TERMINAL_COOKIE_NAME}={device}"
    return Browser(call.booking, cookie, log)


def live_watched(place: Place, media: FakeMediaServer, **kwargs: Any) -> Call:
    call = ready(opened(place, media, **kwargs), place)
    watch(call, place)
    return services.call_start(call=call, actor=place.officer, now=NOW)


def monitor_endpoints(call: Call, *, open_only: bool = True) -> list[CallEndpoint]:
    endpoints = CallEndpoint.objects.filter(call=call, role=EndpointRole.MONITOR)
    if open_only:
        endpoints = endpoints.filter(ended_at__isnull=True)
    return list(endpoints)


async def join_as_monitor(browser: Browser) -> dict[str, Any]:
    await browser.open()
    await browser.send(type="join", role="monitor")
    return await browser.expect("joined")


# --- Watching -------------------------------------------------------------------------------------------------------


def test_a_monitor_gets_the_video_alone_of_each_party_never_publishes_and_keeps_watching_through_a_pause(
    prison, fake_media
):
    call = live_watched(prison, fake_media)
    booking = call.booking
    resident_terminal(booking)
    room = fake_media.rooms[call.janus_room_id].room
    log: list[dict[str, Any]] = []

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor, log=log)
        joined = await join_as_monitor(monitor)
        assert joined["role"] == "monitor"
        assert joined["publish"] is False
        assert await monitor.quiet()  # nobody publishes yet: nothing to watch

        # The resident publishes: the monitor is offered that video alone, labelled with the party.
        resident = terminal_browser(booking, log)
        await resident.open()
        await resident.send(type="join", role="resident")
        await resident.expect("joined")
        await resident.send(type="offer", sdp=OFFER)
        await resident.expect("answer")
        first = await monitor.expect("offer")
        assert first["party"] == "resident"
        assert "m=video" in first["sdp"]
        assert "m=audio" not in first["sdp"]

        # The contact joins the live call and publishes: the monitor gets the contact's video as a second offer.
        contact = contact_browser(booking, log)
        await contact.open()
        await contact.send(type="join", role="contact")
        await contact.expect("joined")
        await contact.expect("offer")
        await contact.send(type="offer", sdp=OFFER)
        await contact.expect("answer")
        second = await monitor.expect("offer")
        assert second["party"] == "contact"
        assert "m=audio" not in second["sdp"]
        await resident.expect("offer")

        for offered in (first, second):
            await monitor.send(type="answer", subscription=offered["subscription"], sdp=ANSWER)
            await monitor.send(type="ice", target=offered["subscription"], candidate=None)
        assert await monitor.quiet()  # answers and candidates accepted

        endpoints = await db(monitor_endpoints)(call)
        assert len(endpoints) == 2
        assert all(e.video_only and e.participant == str(prison.monitor.pk) for e in endpoints)
        assert all({s["kind"] for s in e.streams} == {"video"} for e in endpoints)
        subscriptions = [await db(fake_media_subscription)(e, room) for e in endpoints]
        assert [fake_media.delivering(s) for s in subscriptions] == [{"video"}, {"video"}]

        # A monitor never publishes (PF 4.21).
        await monitor.send(type="offer", sdp=OFFER)
        problem = await monitor.expect("error")
        assert problem["code"] == "protocol.monitor"
        assert problem["rule"] == "PF 4.21"
        await monitor.send(type="ice", target="publisher", candidate=None)
        assert (await monitor.expect("error"))["code"] == "protocol.not_publishing"

        # Pause: the parties stop receiving; the monitor still sees both.
        await db(services.call_pause)(
            call=call, actor=prison.officer, reason="Dress", media=fake_media, now=NOW
        )
        assert (await monitor.expect("state"))["state"] == "paused"
        assert [fake_media.delivering(s) for s in subscriptions] == [{"video"}, {"video"}]
        for party in (contact, resident):
            assert (await party.expect("state"))["state"] == "paused"
        await db(services.call_resume)(call=call, actor=prison.officer, media=fake_media, now=NOW)
        assert (await monitor.expect("state"))["state"] == "resumed"
        assert await monitor.quiet()  # already subscribed: no new offer

        # The contact leaves: the monitor's subscription to the contact's video is closed.
        await contact.send(type="leave")
        gone = await monitor.expect("unsubscribed")
        assert gone["subscription"] == second["subscription"]
        assert len(await db(monitor_endpoints)(call)) == 1
        await resident.close()
        await monitor.expect("unsubscribed")
        await monitor.close()

    run(scenario)

    room_secrets = [room.secret.reveal(), room.pin.reveal()]
    sent = json.dumps(log)
    assert not any(secret in sent for secret in room_secrets)


def test_a_monitor_joining_after_both_parties_publish_is_offered_both_videos_at_once(prison, fake_media):
    call = live_watched(prison, fake_media)
    room = call.media_room()
    for name, role in (("resident", EndpointRole.RESIDENT), ("contact", EndpointRole.CONTACT)):
        publisher = fake_media.join_publisher(room, participant=name, offer_sdp=OFFER)
        services.call_endpoint_record(call=call, role=role, endpoint=publisher)

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await join_as_monitor(monitor)
        parties = {(await monitor.expect("offer"))["party"] for _ in range(2)}
        assert parties == {"resident", "contact"}
        await monitor.close()

    run(scenario)


# --- Who may watch --------------------------------------------------------------------------------------------------


def test_watching_needs_the_role_the_second_factor_a_monitoring_terminal_and_an_open_viewing(
    prison, fake_media
):
    call = live_watched(prison, fake_media)
    resident_terminal(call.booking)
    clerk = staff_with(Role.BOOKING_CLERK, prison.establishment)
    other_monitor = staff_with(Role.MONITORING_OFFICER, prison.establishment)
    second_terminal = monitoring_terminal(prison.establishment, registered=False)
    second_terminal.device_secret_hash = "0" * 64
    second_terminal.registered_at = timezone.now()
    second_terminal.save()

    async def scenario() -> None:
        # A booking clerk holds no role that may watch, terminal or not.
        problem, code = await refused(monitor_browser(call, clerk))
        assert code == signalling.CLOSE_FORBIDDEN
        assert problem["code"] == "access.forbidden"

        # The supervising officer may follow the call as an observer, not watch it.
        officer = monitor_browser(call, prison.officer)
        await officer.open()
        await officer.send(type="join", role="monitor")
        assert (await officer.expect("error"))["code"] == "access.role"
        await officer.close()

        # No terminal cookie or a made-up one: PF 4.23.
        for device in ("", "not-a-device"):
            problem, code = await refused(monitor_browser(call, prison.monitor, device=device))
            assert code == signalling.CLOSE_FORBIDDEN
            assert (problem["code"], problem["rule"]) == ("access.monitoring_terminal", "PF 4.23")
        # A resident terminal of the call's room is let in, as the resident side only: not as a monitor.
        at_resident_terminal = monitor_browser(call, prison.monitor, device=DEVICE)
        await at_resident_terminal.open()
        await at_resident_terminal.send(type="join", role="monitor")
        problem = await at_resident_terminal.expect("error")
        assert (problem["code"], problem["rule"]) == ("access.monitoring_terminal", "PF 4.23")
        await at_resident_terminal.close()

        # A monitoring officer at the right terminal who has not started a viewing of this call: PF 4.23.
        problem, code = await refused(monitor_browser(call, other_monitor))
        assert (problem["code"], problem["rule"]) == ("access.no_viewing", "PF 4.23")

        # Without the second factor the monitor is not let in at all.
        no_otp = Browser(
            call.booking, f"{session_cookie(prison.monitor)}; {TERMINAL_COOKIE_NAME}={MONITOR_DEVICE}"
        )
        problem, code = await refused(no_otp)
        assert code == signalling.CLOSE_FORBIDDEN

    run(scenario)


def test_a_viewing_counts_only_on_the_terminal_it_was_started_on(prison, fake_media):
    call = live_watched(prison, fake_media)
    from kinship.establishments.models import hash_device_secret

    elsewhere = monitoring_terminal(prison.establishment)
    elsewhere.device_secret_hash = hash_device_secret("another-device")
    elsewhere.save()

    async def scenario() -> None:
        problem, _ = await refused(monitor_browser(call, prison.monitor, device="another-device"))
        assert (problem["code"], problem["rule"]) == ("access.no_viewing", "PF 4.23")

    run(scenario)


def test_dso_9_a_legal_call_in_immigration_detention_is_never_watched(irc, fake_media):
    call = opened(irc, fake_media, kind="legal")
    # The service refuses to start such a viewing; a record made around it is refused by the policy engine too.
    MonitorViewing.objects.create(
        call=call, officer=irc.monitor, terminal=irc.terminal, reason="Test", started_at=timezone.now()
    )

    async def scenario() -> None:
        problem, code = await refused(monitor_browser(call, irc.monitor))
        assert code == signalling.CLOSE_FORBIDDEN
        assert (problem["code"], problem["rule"]) == ("legal.no_monitoring", "DSO 9")

    run(scenario)


def test_a_social_call_in_immigration_detention_may_be_supervised_visually(irc, fake_media):
    """DSO Annex A: IRC calls may be "visually supervised"; the policy engine allows it, so the socket does."""
    call = opened(irc, fake_media)
    services.monitor_viewing_start(
        call=call, officer=irc.monitor, terminal=irc.terminal, reason="Supervision"
    )

    async def scenario() -> None:
        monitor = monitor_browser(call, irc.monitor)
        assert (await join_as_monitor(monitor))["role"] == "monitor"
        await monitor.close()

    run(scenario)


# --- Every way a viewing ends ---------------------------------------------------------------------------------------


def _with_monitor_subscription(place: Place, media: FakeMediaServer) -> Call:
    call = live_watched(place, media)
    publisher = media.join_publisher(call.media_room(), participant="resident", offer_sdp=OFFER)
    services.call_endpoint_record(call=call, role=EndpointRole.RESIDENT, endpoint=publisher)
    return call


def test_leaving_tears_the_subscription_down_ends_the_viewing_and_pauses_the_unwatched_call(
    prison, fake_media
):
    call = _with_monitor_subscription(prison, fake_media)

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await join_as_monitor(monitor)
        offer = await monitor.expect("offer")
        await monitor.send(type="answer", subscription=offer["subscription"], sdp=ANSWER)
        assert len(fake_media.sessions) == 2
        await monitor.send(type="leave")
        assert (await monitor.expect("closed"))["code"] == signalling.CLOSE_NORMAL

    run(scenario)
    assert len(fake_media.sessions) == 1  # the resident's publisher alone
    assert monitor_endpoints(call) == []
    viewing = MonitorViewing.objects.get(call=call)
    assert viewing.ended_at is not None
    assert viewing.end_note == "The monitoring screen was closed"
    call.refresh_from_db()
    assert call.state == CallState.PAUSED
    assert call.pauses.get().policy_id == "PF 4.21"


def test_a_dropped_socket_ends_the_viewing_too(prison, fake_media):
    call = _with_monitor_subscription(prison, fake_media)

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await join_as_monitor(monitor)
        await monitor.expect("offer")
        await monitor.close()

    run(scenario)
    assert len(fake_media.sessions) == 1
    assert not MonitorViewing.objects.filter(call=call, ended_at__isnull=True).exists()
    assert Call.objects.get(pk=call.pk).state == CallState.PAUSED


def test_stopping_the_viewing_elsewhere_closes_the_monitor_socket(prison, fake_media):
    call = _with_monitor_subscription(prison, fake_media)
    second = staff_with(Role.MONITORING_OFFICER, prison.establishment)
    watch(call, prison, officer=second)  # someone else watches too: the call goes on

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await join_as_monitor(monitor)
        await monitor.expect("offer")
        viewing = await db(lambda: MonitorViewing.objects.get(call=call, officer=prison.monitor))()
        await db(services.monitor_viewing_end)(
            viewing=viewing, actor=prison.monitor, media=fake_media, note="Stopped on the monitoring wall"
        )
        ended = await monitor.expect("viewing_ended")
        assert ended["note"] == "Stopped on the monitoring wall"
        assert (await monitor.expect("closed"))["code"] == signalling.CLOSE_NORMAL

    run(scenario)
    assert len(fake_media.sessions) == 1
    assert monitor_endpoints(call) == []
    assert Call.objects.get(pk=call.pk).state == CallState.LIVE


def test_the_call_ending_ends_the_monitor_socket(prison, fake_media):
    call = _with_monitor_subscription(prison, fake_media)

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await join_as_monitor(monitor)
        await monitor.expect("offer")
        await db(services.call_end)(call=call, actor=prison.officer, media=fake_media, now=NOW)
        assert (await monitor.expect("state"))["state"] == "ended"
        await monitor.expect("end")
        assert (await monitor.expect("closed"))["code"] == signalling.CLOSE_NORMAL

    run(scenario)
    assert fake_media.sessions == {}
    assert MonitorViewing.objects.get(call=call).end_note == "The call ended"


def test_a_viewing_ended_before_the_monitor_joins_refuses_the_join(prison, fake_media):
    call = live_watched(prison, fake_media)
    second = staff_with(Role.MONITORING_OFFICER, prison.establishment)
    watch(call, prison, officer=second)

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        await monitor.open()
        viewing = await db(lambda: MonitorViewing.objects.get(call=call, officer=prison.monitor))()
        await db(services.monitor_viewing_end)(viewing=viewing, actor=prison.monitor, media=fake_media)
        await monitor.send(type="join", role="monitor")
        problem = await monitor.expect("error")
        assert (problem["code"], problem["rule"]) == ("access.no_viewing", "PF 4.23")
        await monitor.close()

    run(scenario)


def test_parse_knows_the_monitor_role():
    assert signalling.parse({"type": "join", "role": "monitor"}) == signalling.Join(
        role=signalling.Role.MONITOR
    )
    assert signalling.offer("s", "v=0", party=signalling.Role.RESIDENT)["party"] == "resident"
    assert "party" not in signalling.offer("s", "v=0")
