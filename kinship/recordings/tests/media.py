"""Small real media files for the recording tests, made with PyAV (no Janus needed)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

RATE = 48000


def tone_frame(samples: int, start: int, frequency: float) -> AudioFrame:
    """Mono s16 samples of a sine tone, packed into a frame."""
    values = bytearray()
    for i in range(samples):
        value = int(8000 * math.sin(2 * math.pi * frequency * (start + i) / RATE))
        values += value.to_bytes(2, "little", signed=True)
    frame = AudioFrame(format="s16", layout="mono", samples=samples)
    frame.planes[0].update(bytes(values))
    frame.sample_rate = RATE
    frame.pts = start
    frame.time_base = Fraction(1, RATE)
    return frame


def colour_frame(width: int, height: int, luma: int, number: int, fps: int) -> VideoFrame:
    frame = VideoFrame(width, height, "yuv420p")
    for index, plane in enumerate(frame.planes):
        plane.update(bytes([luma if index == 0 else 128]) * plane.buffer_size)
    frame.pts = number
    frame.time_base = Fraction(1, fps)
    return frame


def write_video(path: Path, *, seconds: float, width: int = 320, height: int = 240, luma: int = 200) -> Path:
    """A VP8 WebM of one flat colour, like janus-pp-rec's output for a video track."""
    fps = 15
    with av.open(str(path), mode="w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for number in range(int(seconds * fps)):
            output.mux(stream.encode(colour_frame(width, height, luma, number, fps)))
        output.mux(stream.encode(None))
    return path


def write_audio(path: Path, *, seconds: float, frequency: float = 440) -> Path:
    """An Ogg Opus tone, like janus-pp-rec's output for an audio track."""
    with av.open(str(path), mode="w", format="ogg") as output:
        stream = output.add_stream("libopus", rate=RATE)
        stream.layout = "mono"  # type: ignore[union-attr]
        for start in range(0, int(seconds * RATE), 960):
            output.mux(stream.encode(tone_frame(960, start, frequency)))
        output.mux(stream.encode(None))
    return path


def write_recording(path: Path, *, seconds: float = 1.0) -> Path:
    """A small WebM with a video and an audio track, standing in for a composed recording."""
    fps = 15
    with av.open(str(path), mode="w", format="webm") as output:
        video = output.add_stream("libvpx", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = output.add_stream("libopus", rate=RATE)
        audio.layout = "mono"  # type: ignore[union-attr]
        for number in range(int(seconds * fps)):
            output.mux(video.encode(colour_frame(64, 48, 100, number, fps)))
        for start in range(0, int(seconds * RATE), 960):
            output.mux(audio.encode(tone_frame(960, start, 440)))
        output.mux(video.encode(None))
        output.mux(audio.encode(None))
    return path


def stream_kinds(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [stream.type for stream in container.streams]


def decoded(path: Path, kind: str) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(**{kind: 0}))
