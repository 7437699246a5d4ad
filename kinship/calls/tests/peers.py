"""WebRTC test peers for the media-plane tests (aiortc), driven one JSON command per line on stdin.

Run inside the test network namespace (``ip netns exec NAME python peers.py``): ICE needs a non-loopback interface
and the namespace's veth carries 127.0.0.2. Each command gets one JSON line back on stdout:

- ``{"op": "publish", "name": N}`` → ``{"sdp": offer}``: a peer sending synthetic audio (a tone) and video.
- ``{"op": "answer", "name": N, "sdp": answer}`` → ``{}``
- ``{"op": "subscribe", "name": N, "sdp": offer}`` → ``{"sdp": answer}``: a receive-only peer counting what arrives.
- ``{"op": "stats"}`` → per peer: decoded frames and RTP packets received by kind, frames per track,
  connection state.
- ``{"op": "close", "name": N}``, ``{"op": "quit"}``.
Errors come back as ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import math
import struct
import sys
from collections import Counter
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

SAMPLE_RATE = 48000
SAMPLES = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone, so the audio is not silence a codec might skip."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._pts / SAMPLE_RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tone = (
            int(8000 * math.sin(2 * math.pi * 440 * (i + self._pts) / SAMPLE_RATE)) for i in range(SAMPLES)
        )
        frame = AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(struct.pack(f"<{SAMPLES}h", *tone))
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += SAMPLES
        return frame


class PatternTrack(VideoStreamTrack):
    """A moving 320x240 pattern."""

    def __init__(self) -> None:
        super().__init__()
        self._n = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=320, height=240, format="yuv420p")
        row = bytes((x + self._n * 4) % 256 for x in range(frame.planes[0].line_size))
        frame.planes[0].update(row * 240)
        for plane in frame.planes[1:]:
            plane.update(bytes([(self._n * 3) % 256]) * plane.buffer_size)
        self._n += 1
        frame.pts, frame.time_base = pts, time_base
        return frame


class Peers:
    def __init__(self) -> None:
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.frames: dict[str, Counter[str]] = {}
        self.tracks: dict[str, list[str]] = {}
        self.track_frames: dict[str, list[int]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def _new(self, name: str) -> RTCPeerConnection:
        if name in self.pcs:
            raise ValueError(f"peer {name} exists")
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[name], self.frames[name], self.tracks[name], self.track_frames[name] = pc, Counter(), [], []
        return pc

    async def publish(self, name: str) -> dict[str, Any]:
        pc = self._new(name)
        pc.addTrack(ToneTrack())
        pc.addTrack(PatternTrack())
        await pc.setLocalDescription(await pc.createOffer())
        return {"sdp": pc.localDescription.sdp}

    async def answer(self, name: str, sdp: str) -> dict[str, Any]:
        await self.pcs[name].setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        return {}

    async def subscribe(self, name: str, sdp: str) -> dict[str, Any]:
        pc = self._new(name)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tracks[name].append(track.kind)
            self.track_frames[name].append(0)
            index = len(self.track_frames[name]) - 1
            self.tasks.append(asyncio.ensure_future(self._consume(name, track, index)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return {"sdp": pc.localDescription.sdp}

    async def _consume(self, name: str, track: MediaStreamTrack, index: int) -> None:
        try:
            while True:
                await track.recv()
                self.frames[name][track.kind] += 1
                self.track_frames[name][index] += 1
        except MediaStreamError:
            return

    async def stats(self) -> dict[str, Any]:
        result = {}
        for name, pc in self.pcs.items():
            packets: Counter[str] = Counter()
            report = await pc.getStats()
            for stat in report.values():
                if getattr(stat, "type", "") == "inbound-rtp":
                    packets[stat.kind] += stat.packetsReceived
            result[name] = {
                "frames": dict(self.frames[name]),
                "packets": dict(packets),
                "tracks": sorted(self.tracks[name]),
                "frames_per_track": list(zip(self.tracks[name], self.track_frames[name], strict=True)),
                "state": pc.connectionState,
            }
        return result

    async def close(self, name: str) -> dict[str, Any]:
        await self.pcs[name].close()
        return {}


async def main() -> None:
    peers = Peers()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        try:
            reply = await getattr(peers, op)(**command)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    for pc in peers.pcs.values():
        await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
