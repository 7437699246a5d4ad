"""Turning Janus's raw recordings of one call into one WebM that security staff can watch (PF 1.3).

Janus writes each publisher's audio and video into separate ``.mjr`` files (RTP packets with a JSON header) in the
call's own folder. ``janus-pp-rec`` (Debian package janus-tools) turns each into a playable file (VP8 video into
WebM, Opus audio into Ogg) but cannot put tracks together; PyAV does the rest:

- **video**: the participants side by side (a grid from three on), each picture scaled to fit its tile with black
  bars, at a fixed frame rate, so staff see both sides at the same moment;
- **audio**: every participant's audio mixed into one track (FFmpeg's ``amix``), so staff hear both sides;
- **time**: each raw file's header says when its first packet arrived (``u``, microseconds since the epoch); the
  earliest becomes zero and every track is placed at its own offset, so a participant who joins late, or rejoins
  under a new feed, appears in their tile at the right moment.

Frames are composed from the decoded planes directly (no numpy: it is not a dependency), one output frame at a
time, so memory stays flat however long the call. This module knows nothing of Django: it takes folders and
writes a file, which keeps it testable on its own and runnable by any worker that can see the files.
"""

from __future__ import annotations

import heapq
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.video.frame import VideoFrame

#: ``videoroom-<room>-user-<feed>-<created µs>-<audio|video>-<mid>.mjr``, as Janus's VideoRoom names them.
RAW_NAME = re.compile(
    r"^videoroom-(?P<room>\d+)-user-(?P<feed>\d+)-(?P<created>\d+)-(?P<kind>audio|video)-(?P<mid>\d+)\.mjr$"
)
#: What ``janus-pp-rec`` turns each codec into (chosen by the extension of the target).
CONVERTED_SUFFIX = {"vp8": ".webm", "vp9": ".webm", "opus": ".opus"}

FPS = 15
TILE_WIDTH = 320
TILE_HEIGHT = 240
SAMPLE_RATE = 48000
VIDEO_BIT_RATE = 600_000
AUDIO_BIT_RATE = 48_000
CONVERT_TIMEOUT_SECONDS = 600


class MuxError(Exception):
    """The raw files could not be turned into a recording; the message says why (it is kept on the row)."""


@dataclass(frozen=True, slots=True)
class RawTrack:
    """One ``.mjr`` file: one publisher's audio or video, from one join."""

    path: Path
    feed_id: int
    kind: str
    codec: str
    #: When the first packet was written (µs since the epoch), or the file's creation time without one.
    started_us: int


@dataclass(slots=True)
class Segment:
    path: Path
    offset: float  # seconds from the start of the recording


@dataclass(slots=True)
class Participant:
    """A tile of the composed picture and one input of the mix: everything one person published."""

    label: str
    video: list[Segment] = field(default_factory=list)
    audio: list[Segment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MuxResult:
    path: Path
    duration_seconds: float
    video_frames: int
    audio_samples: int


def read_header(path: Path) -> dict[str, object]:
    """The JSON header of a ``.mjr`` file: ``t`` (a/v), ``c`` (codec), ``s`` (created, µs), ``u`` (first packet)."""
    with path.open("rb") as raw:
        magic = raw.read(8)
        if magic != b"MJR00002":
            raise MuxError(f"{path.name} is not a Janus recording (MJR00002)")
        length = int.from_bytes(raw.read(2), "big")
        try:
            header = json.loads(raw.read(length))
        except ValueError as problem:
            raise MuxError(f"{path.name} has an unreadable header") from problem
    if not isinstance(header, dict):
        raise MuxError(f"{path.name} has an unreadable header")
    return header


def raw_tracks(folder: Path) -> list[RawTrack]:
    """The raw recordings in a call's folder, oldest first. Files without media (a header only) are left out."""
    tracks = []
    for path in sorted(folder.glob("*.mjr")):
        match = RAW_NAME.match(path.name)
        if match is None:
            continue
        header = read_header(path)
        started = header.get("u") or header.get("s") or int(match["created"])
        if not header.get("u"):
            continue  # Janus never wrote a packet into it: nothing to convert.
        tracks.append(
            RawTrack(
                path=path,
                feed_id=int(match["feed"]),
                kind=match["kind"],
                codec=str(header.get("c", "")),
                started_us=int(str(started)),
            )
        )
    return sorted(tracks, key=lambda track: (track.started_us, track.path.name))


def convert(track: RawTrack, workdir: Path) -> Path:
    """``janus-pp-rec`` one raw track into ``workdir``; the raw file is left untouched."""
    suffix = CONVERTED_SUFFIX.get(track.codec)
    if suffix is None:
        raise MuxError(f"{track.path.name}: codec {track.codec!r} is not supported")
    binary = shutil.which("janus-pp-rec")
    if binary is None:
        raise MuxError("janus-pp-rec is not installed (apt-get install janus-tools)")
    target = workdir / f"{track.path.stem}{suffix}"
    try:
        result = subprocess.run(  # noqa: S603 (our own paths, no shell)
            [binary, "-d", "2", "-o", str(track.path), str(target)],
            capture_output=True,
            text=True,
            timeout=CONVERT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as problem:
        raise MuxError(f"janus-pp-rec timed out on {track.path.name}") from problem
    if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise MuxError(f"janus-pp-rec failed on {track.path.name}: {detail[0]}")
    return target


def grid(count: int) -> tuple[int, int]:
    """Columns and rows for ``count`` tiles: side by side for two, then as square as possible."""
    if count <= 2:
        return max(count, 1), 1
    columns = 2
    while columns * columns < count:
        columns += 1
    rows = -(-count // columns)
    return columns, rows


# --- Video ----------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tile:
    """The current picture of one participant, as the three yuv420p planes of a tile (rows of bytes)."""

    planes: list[list[bytes]]


def _black_tile() -> _Tile:
    sizes = (
        (TILE_WIDTH, TILE_HEIGHT, 16),
        (TILE_WIDTH // 2, TILE_HEIGHT // 2, 128),
        (TILE_WIDTH // 2, TILE_HEIGHT // 2, 128),
    )
    return _Tile([[bytes([value]) * width for _ in range(height)] for width, height, value in sizes])


def _fit(width: int, height: int) -> tuple[int, int]:
    """The largest even size with the picture's aspect ratio that fits the tile."""
    scale = min(TILE_WIDTH / width, TILE_HEIGHT / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _tile_of(frame: VideoFrame) -> _Tile:
    """The frame scaled into a tile with black bars (letterboxed), as rows of plane bytes."""
    width, height = _fit(frame.width, frame.height)
    scaled = frame.reformat(width=width, height=height, format="yuv420p")
    tile = _black_tile()
    for index, plane in enumerate(scaled.planes):
        divisor = 1 if index == 0 else 2
        data = bytes(plane)
        stride = plane.line_size
        left = (TILE_WIDTH // divisor - width // divisor) // 2
        top = (TILE_HEIGHT // divisor - height // divisor) // 2
        rows = tile.planes[index]
        for row in range(height // divisor):
            line = data[row * stride : row * stride + width // divisor]
            background = rows[top + row]
            rows[top + row] = background[:left] + line + background[left + len(line) :]
    return tile


def _timed_frames(segments: list[Segment]) -> Iterator[tuple[float, VideoFrame]]:
    """Every decoded frame of a participant's video segments with its time from the start of the recording."""
    for segment in sorted(segments, key=lambda s: s.offset):
        with av.open(str(segment.path)) as container:
            for frame in container.decode(video=0):
                if frame.time is not None:
                    yield segment.offset + float(frame.time), frame


class _VideoFeed:
    """A participant's picture over time: the most recent frame at or before each output instant."""

    def __init__(self, segments: list[Segment]) -> None:
        self._frames = _timed_frames(segments)
        self._pending: tuple[float, VideoFrame] | None = next(self._frames, None)
        self._current = _black_tile()
        self._decoded = 0

    def at(self, instant: float) -> _Tile:
        latest: VideoFrame | None = None
        while self._pending is not None and self._pending[0] <= instant:
            latest = self._pending[1]
            self._pending = next(self._frames, None)
        if latest is not None:
            self._current = _tile_of(latest)
            self._decoded += 1
        return self._current

    @property
    def shown(self) -> int:
        return self._decoded


def _compose(tiles: list[_Tile], columns: int, rows: int) -> VideoFrame:
    width, height = TILE_WIDTH * columns, TILE_HEIGHT * rows
    out = VideoFrame(width, height, "yuv420p")
    black = _black_tile()
    for index, plane in enumerate(out.planes):
        divisor = 1 if index == 0 else 2
        tile_width, tile_height = TILE_WIDTH // divisor, TILE_HEIGHT // divisor
        padding = bytes(plane.line_size - width // divisor)
        buffer = bytearray()
        for grid_row in range(rows):
            row_tiles = [
                (tiles[grid_row * columns + column] if grid_row * columns + column < len(tiles) else black)
                for column in range(columns)
            ]
            for line in range(tile_height):
                for tile in row_tiles:
                    buffer += tile.planes[index][line]
                buffer += padding
        assert len(buffer) == plane.buffer_size or tile_width == 0
        plane.update(bytes(buffer))
    return out


# --- Audio ----------------------------------------------------------------------------------------------------------


def _timed_audio(index: int, segments: list[Segment]) -> Iterator[tuple[int, int, AudioFrame]]:
    """A participant's audio as stereo float frames at 48 kHz, each with its start in samples from the start of
    the recording; overlaps (a rejoin while the old feed still ran) are cut, never summed twice."""
    written_until = 0
    for segment in sorted(segments, key=lambda s: s.offset):
        resampler = AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        with av.open(str(segment.path)) as container:
            for decoded in container.decode(audio=0):
                if decoded.time is None:
                    continue
                start = round((segment.offset + float(decoded.time)) * SAMPLE_RATE)
                for frame in resampler.resample(decoded):
                    if start >= written_until:
                        frame.pts = start
                        frame.time_base = Fraction(1, SAMPLE_RATE)
                        yield start, index, frame
                        written_until = start + frame.samples
                    start += frame.samples


class _Mixer:
    """FFmpeg's amix over every participant, each input re-timed by ``aresample`` (silence before a participant's
    first sound and in gaps), so the mix follows the recording's clock."""

    def __init__(self, inputs: int) -> None:
        self.graph = av.filter.Graph()
        self.sources = []
        mix = self.graph.add("amix", f"inputs={inputs}:duration=longest:dropout_transition=0:normalize=0")
        for number in range(inputs):
            source = self.graph.add_abuffer(
                format="fltp", sample_rate=SAMPLE_RATE, layout="stereo", time_base=Fraction(1, SAMPLE_RATE)
            )
            timing = self.graph.add("aresample", "async=1:min_hard_comp=0.05:first_pts=0")
            source.link_to(timing)
            timing.link_to(mix, 0, number)
            self.sources.append(source)
        limit = self.graph.add("alimiter", "limit=0.95:level=disabled")
        shape = self.graph.add("aformat", "sample_fmts=flt:channel_layouts=stereo")
        self.sink = self.graph.add("abuffersink")
        mix.link_to(limit)
        limit.link_to(shape)
        shape.link_to(self.sink)
        self.graph.configure()

    def push(self, index: int, frame: AudioFrame | None) -> None:
        self.sources[index].push(frame)

    def pull(self) -> Iterator[AudioFrame]:
        while True:
            try:
                frame = self.sink.pull()
            except (BlockingIOError, av.error.EOFError):
                return
            yield frame  # type: ignore[misc]


# --- The whole ------------------------------------------------------------------------------------------------------


def participants_of(
    tracks: Iterable[RawTrack], converted: dict[Path, Path], labels: dict[int, str]
) -> list[Participant]:
    """Group converted tracks by participant (``labels``: feed id -> who, from the call's endpoints; a feed not
    named there is a participant of its own), offsets from the earliest first packet."""
    tracks = list(tracks)
    if not tracks:
        return []
    origin = min(track.started_us for track in tracks)
    people: dict[str, Participant] = {}
    for track in tracks:
        label = labels.get(track.feed_id, f"feed {track.feed_id}")
        person = people.setdefault(label, Participant(label=label))
        segment = Segment(path=converted[track.path], offset=(track.started_us - origin) / 1_000_000)
        (person.video if track.kind == "video" else person.audio).append(segment)
    # Named participants in the order ``labels`` names them (the person in custody first), then the others.
    rank = {label: place for place, label in enumerate(dict.fromkeys(labels.values()))}
    return sorted(people.values(), key=lambda person: rank.get(person.label, len(rank)))


def _length(segments: Iterable[Segment]) -> float:
    end = 0.0
    for segment in segments:
        with av.open(str(segment.path)) as container:
            duration = (container.duration or 0) / 1_000_000
        end = max(end, segment.offset + duration)
    return end


def compose(participants: list[Participant], target: Path) -> MuxResult:
    """Write one WebM (VP8 + Opus) with every participant's picture side by side and their audio mixed."""
    if not participants:
        raise MuxError("nothing to compose")
    duration = max(_length([*p.video, *p.audio]) for p in participants)
    if duration <= 0:
        raise MuxError("the recordings hold no media")
    columns, rows = grid(len(participants))
    with av.open(str(target), mode="w", format="webm") as output:
        # libvpx's realtime mode: several times faster than its default, and plenty for 320x240 tiles.
        video = output.add_stream(
            "libvpx", rate=FPS, options={"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        )
        video.width = TILE_WIDTH * columns
        video.height = TILE_HEIGHT * rows
        video.pix_fmt = "yuv420p"
        video.bit_rate = VIDEO_BIT_RATE
        audio_inputs = [p for p in participants if p.audio]
        # Nobody's microphone recorded anything (all muted): a video-only file rather than an empty track.
        audio = output.add_stream("libopus", rate=SAMPLE_RATE) if audio_inputs else None
        if audio is not None:
            audio.layout = "stereo"
            audio.bit_rate = AUDIO_BIT_RATE
        mixer = _Mixer(len(audio_inputs)) if audio_inputs else None
        sounds = heapq.merge(
            *(_timed_audio(index, p.audio) for index, p in enumerate(audio_inputs)), key=lambda item: item[0]
        )
        pending_sound = next(sounds, None)
        feeds = [_VideoFeed(p.video) for p in participants]
        frames = int(duration * FPS) + 1
        samples = 0

        def mux_audio(frames_out: Iterable[AudioFrame]) -> None:
            nonlocal samples
            for mixed in frames_out:
                mixed.pts = samples
                mixed.time_base = Fraction(1, SAMPLE_RATE)
                samples += mixed.samples
                assert audio is not None
                output.mux(audio.encode(mixed))

        for number in range(frames):
            instant = number / FPS
            # Feed the mixer everything up to this instant, in time order across participants.
            while (
                mixer is not None
                and pending_sound is not None
                and pending_sound[0] <= (instant + 1 / FPS) * SAMPLE_RATE
            ):
                _, index, frame = pending_sound
                mixer.push(index, frame)
                pending_sound = next(sounds, None)
            if mixer is not None:
                mux_audio(mixer.pull())
            picture = _compose([feed.at(instant) for feed in feeds], columns, rows)
            picture.pts = number
            picture.time_base = Fraction(1, FPS)
            output.mux(video.encode(picture))
        if mixer is not None:
            while pending_sound is not None:
                _, index, frame = pending_sound
                mixer.push(index, frame)
                pending_sound = next(sounds, None)
            for index in range(len(audio_inputs)):
                mixer.push(index, None)
            mux_audio(mixer.pull())
            assert audio is not None
            output.mux(audio.encode(None))
        output.mux(video.encode(None))
    return MuxResult(path=target, duration_seconds=frames / FPS, video_frames=frames, audio_samples=samples)


def mux_folder(folder: Path, workdir: Path, target: Path, labels: dict[int, str]) -> MuxResult | None:
    """Convert every raw track of ``folder`` into ``workdir`` and compose them into ``target``.
    ``None`` when the folder holds no media at all (nobody published before the call closed)."""
    tracks = raw_tracks(folder)
    if not tracks:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    converted = {track.path: convert(track, workdir) for track in tracks}
    return compose(participants_of(tracks, converted, labels), target)
