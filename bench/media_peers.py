"""The browsers of one call for the media benchmark: a resident, a contact and a monitor, each an aiortc peer
speaking Kinship's own signalling protocol (docs/signalling.md) over its own WebSocket, with the cookies a browser
would hold. Run inside the benchmark's network namespace by bench/media_load.py, one process per call (so that
the peers, which stand in for browsers and are not measured, do not share one interpreter's lock).

The first stdin line is the call as JSON (``{"url", "origin", "participants": {name: {"role", "cookie"}}}``).
Then it joins all three at once, the parties publish synthetic audio and video (the test peers' tone and moving
pattern, counted as sent), everyone answers the subscriptions Kinship offers, and it prints one JSON line
``{"ready": ..., "join_ms": {...}}`` when every participant decoded its first remote video frame (or
``{"error": ...}``). Each later stdin line ``snapshot`` prints the counters; ``quit`` leaves and exits.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtp import RtpPacket
from av import VideoFrame
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

# The test peers' synthetic media, reused (a plain module: importing it sets up no Django).
from kinship.calls.tests.peers import PatternTrack, ToneTrack

READY_TIMEOUT = 45.0
#: Opus, the only audio codec of Kinship's rooms (``audiocodec: opus``), as Janus numbers it in its offers.
AUDIO_PAYLOAD_TYPES = frozenset({111})

#: What arrived on the wire, per DTLS transport's router, before aiortc sorted it into tracks: an audio packet
#: sent to a peer that negotiated no audio would otherwise be dropped unseen (and not counted by getStats).
WIRE: dict[int, Counter[str]] = {}
_route_rtp = RtpRouter.route_rtp


def _counted_route(self: RtpRouter, packet: RtpPacket) -> Any:
    receiver = _route_rtp(self, packet)
    seen = WIRE.setdefault(id(self), Counter())
    seen["packets"] += 1
    seen["audio_payload"] += packet.payload_type in AUDIO_PAYLOAD_TYPES
    seen["unrouted"] += receiver is None
    return receiver


RtpRouter.route_rtp = _counted_route  # type: ignore[method-assign]


class CountedPattern(PatternTrack):
    """The test peers' moving pattern, counting the frames handed to the encoder (sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def recv(self) -> VideoFrame:
        frame = await super().recv()
        self.sent += 1
        return frame


@dataclass
class Participant:
    name: str
    role: str
    cookie: str
    joined_at: float = 0.0
    first_frame_at: float = 0.0
    socket: ClientConnection | None = None
    publisher: RTCPeerConnection | None = None
    video: CountedPattern | None = None
    receivers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    frames: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    audio_m_lines: int = 0
    #: The media kinds of each subscription offer Kinship sent (m-lines in order).
    offers: list[list[str]] = field(default_factory=list)
    first: asyncio.Event = field(default_factory=asyncio.Event)
    consumers: list[asyncio.Future[None]] = field(default_factory=list)
    #: (what, milliseconds after join): where a join's time goes.
    timeline: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, what: str) -> None:
        if self.joined_at:
            self.timeline.append((what, round((time.monotonic() - self.joined_at) * 1000, 1)))


def _config() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[])


async def _consume(person: Participant, track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
            person.frames[track.kind] += 1
            if track.kind == "video" and not person.first.is_set():
                person.first_frame_at = time.monotonic()
                person.mark("first remote video frame")
                person.first.set()
    except MediaStreamError:
        return


def _watch(person: Participant, pc: RTCPeerConnection, what: str) -> None:
    @pc.on("connectionstatechange")
    def changed() -> None:
        person.mark(f"{what} {pc.connectionState}")


async def _send(person: Participant, message: dict[str, Any]) -> None:
    assert person.socket is not None
    await person.socket.send(json.dumps(message))


async def _publish(person: Participant) -> None:
    pc = RTCPeerConnection(_config())
    person.publisher = pc
    person.video = CountedPattern()
    pc.addTrack(ToneTrack())
    pc.addTrack(person.video)
    _watch(person, pc, "publisher")
    await pc.setLocalDescription(await pc.createOffer())
    person.mark("offer ready")
    await _send(person, {"type": "offer", "sdp": pc.localDescription.sdp})


async def _subscribe(person: Participant, key: str, sdp: str) -> None:
    pc = RTCPeerConnection(_config())
    person.receivers[key] = pc
    kinds = [line.split()[0][2:] for line in sdp.splitlines() if line.startswith("m=")]
    person.offers.append(kinds)
    person.audio_m_lines += kinds.count("audio")

    _watch(person, pc, f"subscription {len(person.receivers)}")

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        person.consumers.append(asyncio.ensure_future(_consume(person, track)))

    await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    person.mark("subscription answer ready")
    await _send(person, {"type": "answer", "subscription": key, "sdp": pc.localDescription.sdp})


async def _run(person: Participant, url: str, origin: str) -> None:
    async with connect(
        url,
        origin=Origin(origin),
        additional_headers={"Cookie": person.cookie},
        open_timeout=15,
        max_size=2**22,
    ) as socket:
        person.socket = socket
        person.joined_at = time.monotonic()
        await _send(person, {"type": "join", "role": person.role})
        async for raw in socket:
            message = json.loads(raw)
            kind = message.get("type")
            person.mark(f"got {kind}")
            if kind == "joined":
                if message.get("publish"):
                    await _publish(person)
            elif kind == "answer":
                assert person.publisher is not None
                await person.publisher.setRemoteDescription(
                    RTCSessionDescription(sdp=message["sdp"], type="answer")
                )
            elif kind == "offer":
                await _subscribe(person, str(message["subscription"]), str(message["sdp"]))
            elif kind == "unsubscribed":
                pc = person.receivers.pop(str(message["subscription"]), None)
                if pc is not None:
                    await pc.close()
            elif kind == "error":
                person.errors.append(f"{message.get('code')}: {message.get('message')}")
            elif kind in {"state", "end", "viewing_ended"}:
                person.states.append(str(message.get("state", kind)))


async def _warm(person: Participant, url: str, origin: str) -> None:
    """Open and close a socket without joining (nothing changes on the call): the server process has then
    imported and connected what a join needs, as a long-running server has, so the join is not a cold start."""
    async with connect(
        url, origin=Origin(origin), additional_headers={"Cookie": person.cookie}, open_timeout=15
    ):
        await asyncio.sleep(0.5)


async def _packets(person: Participant) -> Counter[str]:
    """RTP packets received by kind (getStats), and on the wire: audio payload types and unrouted packets."""
    packets: Counter[str] = Counter()
    routers: set[int] = set()
    for pc in person.receivers.values():
        for stat in (await pc.getStats()).values():
            if getattr(stat, "type", "") == "inbound-rtp":
                packets[stat.kind] += stat.packetsReceived
        for transceiver in pc.getTransceivers():
            routers.add(id(transceiver.receiver.transport._rtp_router))
    for router in routers:
        seen = WIRE.get(router, Counter())
        packets["wire"] += seen["packets"]
        packets["wire_audio_payload"] += seen["audio_payload"]
        packets["wire_unrouted"] += seen["unrouted"]
    return packets


async def _snapshot(people: list[Participant]) -> dict[str, Any]:
    result: dict[str, Any] = {"at": time.monotonic()}
    for person in people:
        packets = await _packets(person)
        result[person.name] = {
            "role": person.role,
            "sent_video": person.video.sent if person.video is not None else 0,
            "received": dict(person.frames),
            "packets": dict(packets),
            "audio_m_lines": person.audio_m_lines,
            "offers": person.offers,
            "subscriptions": len(person.receivers),
            "errors": person.errors,
            "states": person.states,
        }
    return result


def _print(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    call = json.loads(await asyncio.wait_for(reader.readline(), timeout=30))
    people = [
        Participant(name=name, role=item["role"], cookie=item["cookie"])
        for name, item in call["participants"].items()
    ]
    if call.get("warm", True):
        await asyncio.wait_for(
            asyncio.gather(*(_warm(person, call["url"], call["origin"]) for person in people)), timeout=30
        )
    tasks = [asyncio.ensure_future(_run(person, call["url"], call["origin"])) for person in people]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(person.first.wait() for person in people)), timeout=READY_TIMEOUT
        )
        _print(
            {
                "ready": True,
                "join_ms": {p.name: round((p.first_frame_at - p.joined_at) * 1000, 1) for p in people},
                "timeline": {p.name: p.timeline for p in people},
            }
        )
    except TimeoutError:
        failed = [task.exception() for task in tasks if task.done() and task.exception() is not None]
        _print(
            {
                "error": f"not every participant saw video within {READY_TIMEOUT:.0f} s",
                "snapshot": await _snapshot(people),
                "exceptions": [repr(e) for e in failed],
            }
        )
    while line := await reader.readline():
        command = line.decode().strip()
        if command == "snapshot":
            _print(await _snapshot(people))
        elif command == "quit":
            break
    for person in people:
        if person.socket is not None:
            # Best effort: the server closes the media sessions of a socket that drops anyway.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_send(person, {"type": "leave"}), timeout=2)
    for person in people:
        for pc in [person.publisher, *person.receivers.values()]:
            if pc is not None:
                await pc.close()
    for task in tasks:
        task.cancel()
    _print({"bye": True})


if __name__ == "__main__":
    asyncio.run(main())
