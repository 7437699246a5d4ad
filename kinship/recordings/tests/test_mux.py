"""The media work on its own (no Janus, no database): reading raw files, and composing participants side by side
with their audio mixed, each at its own offset."""

from __future__ import annotations

import json
import math
import shutil
from array import array
from pathlib import Path

import av
import pytest
from av.audio.resampler import AudioResampler

from kinship.recordings import mux

from .media import decoded, stream_kinds, write_audio, write_video


def write_mjr(path: Path, header: dict[str, object]) -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(b"MJR00002" + len(text).to_bytes(2, "big") + text)
    return path


def test_the_grid_puts_two_people_side_by_side_and_more_in_rows():
    assert [mux.grid(n) for n in (1, 2, 3, 4, 5, 9, 10)] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (2, 2),
        (3, 2),
        (3, 3),
        (4, 3),
    ]


def test_raw_tracks_are_read_from_their_names_and_headers(tmp_path):
    write_mjr(
        tmp_path / "videoroom-7-user-11-1700000000000000-audio-0.mjr",
        {"t": "a", "c": "opus", "s": 1700000000000000, "u": 1700000000500000},
    )
    write_mjr(
        tmp_path / "videoroom-7-user-11-1700000000000100-video-1.mjr",
        {"t": "v", "c": "vp8", "s": 1700000000000100, "u": 1700000000400000},
    )
    # A publisher that never sent a packet, and a file that is not Janus's: both left out.
    write_mjr(tmp_path / "videoroom-7-user-12-1700000000000200-video-1.mjr", {"t": "v", "c": "vp8", "s": 1})
    (tmp_path / "notes.mjr").write_bytes(b"hello")

    tracks = mux.raw_tracks(tmp_path)

    assert [(t.feed_id, t.kind, t.codec, t.started_us) for t in tracks] == [
        (11, "video", "vp8", 1700000000400000),
        (11, "audio", "opus", 1700000000500000),
    ]


def test_a_file_that_is_not_a_janus_recording_is_refused(tmp_path):
    path = tmp_path / "videoroom-7-user-11-1700000000000000-audio-0.mjr"
    path.write_bytes(b"RIFF0000")
    with pytest.raises(mux.MuxError, match="not a Janus recording"):
        mux.raw_tracks(tmp_path)


@pytest.mark.skipif(
    shutil.which("janus-pp-rec") is None, reason="janus-pp-rec (janus-tools) is not installed"
)
def test_a_conversion_failure_names_the_file(tmp_path):
    path = write_mjr(
        tmp_path / "videoroom-7-user-11-1700000000000000-video-1.mjr",
        {"t": "v", "c": "vp8", "s": 1700000000000000, "u": 1700000000000001},
    )
    (track,) = mux.raw_tracks(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(mux.MuxError, match=path.name):
        mux.convert(track, work)
    assert path.exists()


def _luma(frame: av.VideoFrame, x: int, y: int) -> int:
    plane = frame.planes[0]
    return bytes(plane)[y * plane.line_size + x]


def _rms(samples: array) -> float:
    return math.sqrt(sum(value * value for value in samples) / max(len(samples), 1))


def test_two_participants_are_composed_side_by_side_at_their_offsets_with_their_audio_mixed(tmp_path):
    resident = mux.Participant(
        "Person in custody",
        video=[mux.Segment(write_video(tmp_path / "a.webm", seconds=2, luma=200), 0.0)],
        audio=[mux.Segment(write_audio(tmp_path / "a.opus", seconds=2, frequency=440), 0.0)],
    )
    # The contact joins half a second later, with a wide picture (letterboxed into the tile).
    contact = mux.Participant(
        "Contact",
        video=[mux.Segment(write_video(tmp_path / "b.webm", seconds=1, width=640, height=360, luma=60), 0.5)],
        audio=[mux.Segment(write_audio(tmp_path / "b.opus", seconds=1, frequency=660), 0.5)],
    )

    result = mux.compose([resident, contact], tmp_path / "out.webm")

    assert stream_kinds(result.path) == ["video", "audio"]
    assert result.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert decoded(result.path, "video") == result.video_frames
    assert decoded(result.path, "audio") > 0
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("vp8", 640, 240)
        pictures = {round(float(frame.time), 2): frame for frame in container.decode(video=0)}
    early, both = pictures[0.2], pictures[1.0]
    # Before the contact joined: the resident on the left, black on the right.
    assert abs(_luma(early, 160, 120) - 200) < 20
    assert _luma(early, 480, 120) < 30
    # Both on screen, the contact's wide picture with black bars above and below.
    assert abs(_luma(both, 160, 120) - 200) < 20
    assert abs(_luma(both, 480, 120) - 60) < 20
    assert _luma(both, 480, 5) < 30

    with av.open(str(result.path)) as container:
        mixed = array("f")
        mono = AudioResampler(format="flt", layout="mono", rate=48000)
        for frame in container.decode(audio=0):
            for out in mono.resample(frame):
                mixed.frombytes(bytes(out.planes[0])[: out.samples * 4])
    alone = mixed[int(0.1 * 48000) : int(0.4 * 48000)]
    together = mixed[int(0.8 * 48000) : int(1.3 * 48000)]
    # Two tones summed carry more energy than one: both sides are heard.
    assert _rms(alone) > 0.05
    assert _rms(together) > 1.2 * _rms(alone)


def test_nothing_to_compose_is_an_error(tmp_path):
    with pytest.raises(mux.MuxError):
        mux.compose([], tmp_path / "out.webm")
