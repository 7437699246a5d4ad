"""PF 4.21 at the media level, through the WebSocket path: a monitor joins a live prison call over the call
signalling consumer (``channels.testing.WebsocketCommunicator`` on the real ASGI application), Kinship subscribes
it to the parties' video through a real Janus, and the aiortc peer answering for the monitor receives video frames
and not one audio packet. Leaving tears the monitor's Janus sessions down, ends the viewing and pauses the call
nobody else watches.

Janus, the aiortc peers and this process's media calls run inside the private network namespace of
``test_janus_media`` (its fixtures and helpers are reused as they are); without root or the janus binary the test
skips and says why.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kinship.calls import services, signalling
from kinship.calls.media.base import MediaServer
from kinship.calls.media.janus import JanusMediaServer
from kinship.calls.models import Call, CallParty, CallState, EndpointRole, MonitorViewing
from kinship.calls.provider import media_server_reset

from .conftest import NAMESPACE_SAFE_DATABASE, Place, book
from .test_janus_media import (  # noqa: F401 (fixtures, used by name)
    JanusUnderTest,
    Peers,
    _time_limit,
    frames,
    janus,
    peers,
    publish,
    server,
    wait_for,
)
from .test_monitoring_signalling import join_as_monitor, monitor_browser, run

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True), NAMESPACE_SAFE_DATABASE]

#: The media server the consumer gets from ``provider.media_server`` during the test (the fixture's client).
_SERVER: dict[str, MediaServer] = {}


def current_server() -> MediaServer:
    """``KINSHIP_MEDIA_SERVER`` points here, so the consumer uses the test's Janus client."""
    return _SERVER["server"]


def _live_prison_call(place: Place, media: JanusMediaServer) -> Call:
    booking = book(place.establishment, start=timezone.now() - timedelta(minutes=1))
    call = services.call_open(booking=booking, media=media)
    services.call_check_in(call=call, party=CallParty.RESIDENT, actor=place.officer)
    services.call_check_in(call=call, party=CallParty.OFFICER, actor=place.officer)
    services.monitor_viewing_start(
        call=call, officer=place.monitor, terminal=place.terminal, reason="Routine live monitoring"
    )
    return services.call_start(call=call, actor=place.officer)


def test_a_monitor_joining_over_the_websocket_receives_video_and_not_one_audio_packet(
    janus: JanusUnderTest,  # noqa: F811 (the fixtures imported above)
    server: JanusMediaServer,  # noqa: F811
    peers: Peers,  # noqa: F811
    prison: Place,
    settings: Any,
) -> None:
    settings.JANUS_RECORDINGS_DIR = janus.recordings
    settings.KINSHIP_MEDIA_SERVER = f"{__name__}.current_server"
    _SERVER["server"] = server
    media_server_reset()
    call = _live_prison_call(prison, server)
    room = call.media_room()
    for name, role in (("resident", EndpointRole.RESIDENT), ("contact", EndpointRole.CONTACT)):
        services.call_endpoint_record(call=call, role=role, endpoint=publish(server, peers, room, name))
    names = ("monitor-resident", "monitor-contact")
    offers: list[dict[str, Any]] = []
    stats: dict[str, Any] = {}

    async def scenario() -> None:
        monitor = monitor_browser(call, prison.monitor)
        assert (await join_as_monitor(monitor))["publish"] is False
        for _ in range(2):
            offer = await monitor.expect("offer")
            offers.append(offer)
            answer = await asyncio.to_thread(
                peers, "subscribe", name=f"monitor-{offer['party']}", sdp=offer["sdp"]
            )
            await monitor.send(type="answer", subscription=offer["subscription"], sdp=answer["sdp"])
        assert await monitor.quiet()  # both answers accepted by Janus
        stats.update(
            await asyncio.to_thread(
                wait_for, peers, lambda s: all(n in s and frames(s, n, "video") >= 30 for n in names)
            )
        )
        assert [node.sessions for node in await asyncio.to_thread(server.nodes)] == [4]
        await monitor.send(type="leave")
        assert (await monitor.expect("closed"))["code"] == signalling.CLOSE_NORMAL

    try:
        run(scenario)

        # Each offer carried one video m-line and no audio m-line; each peer got video, and no audio at all.
        assert sorted(offer["party"] for offer in offers) == ["contact", "resident"]
        assert all("m=audio" not in offer["sdp"] and "m=video" in offer["sdp"] for offer in offers)
        for name in names:
            assert frames(stats, name, "video") >= 30, stats
            assert stats[name]["tracks"] == ["video"], stats[name]
            assert stats[name]["packets"].get("audio", 0) == 0, stats[name]
            assert frames(stats, name, "audio") == 0, stats[name]
        print(f"\nmonitor media figures: { {name: stats[name] for name in names} }")

        # Leaving closed the monitor's two Janus sessions (the publishers stay), ended the viewing, and paused
        # the call that nobody watches any more (PF 4.21).
        assert [node.sessions for node in server.nodes()] == [2]
        assert MonitorViewing.objects.get(call=call).ended_at is not None
        assert Call.objects.get(pk=call.pk).state == CallState.PAUSED
    finally:
        services.call_end(call=Call.objects.get(pk=call.pk), actor=prison.officer, media=server)
        media_server_reset()
        _SERVER.clear()
    assert [node.sessions for node in server.nodes()] == [0]
