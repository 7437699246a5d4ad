"""Recordings against a real Janus (PF 1.3, DSO Annex A): a prison call with two aiortc publishers, run through
the call services, leaves after the task one playable WebM with both sides side by side and their audio mixed,
its checksum right and the raw files gone; an IRC call leaves nothing at all.

Uses the network namespace, Janus and peers of kinship/calls/tests/test_janus_media.py (see its docstring); needs
root, ``ip netns``, ``janus`` and ``janus-pp-rec``, and skips with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import shutil
from array import array
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from av.audio.resampler import AudioResampler

from kinship.calls import services as call_services
from kinship.calls.models import Call, EndpointRole
from kinship.calls.tests.conftest import place
from kinship.calls.tests.test_janus_media import (  # noqa: F401 (fixtures)
    JanusUnderTest,
    Peers,
    _time_limit,
    frames,
    janus,
    peers,
    publish,
    server,
    subscribe,
    wait_for,
)
from kinship.calls.tests.test_lifecycle import NOW, live
from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, IrcFactory, staff_with
from kinship.recordings.models import Recording, RecordingStatus

pytestmark = [pytest.mark.janus, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _folders(settings: Any, janus: JanusUnderTest, tmp_path: Path) -> None:  # noqa: F811 - the imported fixture
    if shutil.which("janus-pp-rec") is None:
        pytest.skip("janus-pp-rec is missing (apt-get install janus-tools; scripts/ensure-system-packages)")
    settings.JANUS_RECORDINGS_DIR = janus.recordings / "kinship"
    settings.MEDIA_ROOT = tmp_path / "private"


def _talk(call: Call, media: Any, party: Peers) -> None:
    """Both parties publish (recorded as the call's endpoints, as the signalling does) and see each other."""
    room = call.media_room()
    resident = publish(media, party, room, "resident")
    call_services.call_endpoint_record(call=call, role=EndpointRole.RESIDENT, endpoint=resident)
    contact = publish(media, party, room, "contact")
    call_services.call_endpoint_record(call=call, role=EndpointRole.CONTACT, endpoint=contact)
    subscribe(media, party, room, "resident-sees-contact", [contact], video_only=False)
    subscribe(media, party, room, "contact-sees-resident", [resident], video_only=False)
    parties = ("resident-sees-contact", "contact-sees-resident")
    stats = wait_for(party, lambda s: all(frames(s, p, "video") >= 45 for p in parties))
    assert all(frames(stats, p, "video") >= 45 for p in parties), stats


def _end(call: Call, media: Any, capture: Any) -> Call:
    officer = staff_with(Role.SUPERVISING_OFFICER, call.establishment)
    with capture(execute=True):
        return call_services.call_end(call=call, actor=officer, media=media, now=NOW + timedelta(minutes=20))


def _brightest(frame: av.VideoFrame, left: int, right: int) -> int:
    """The brightest luma along the middle row between two columns (the peers' pictures are moving gradients)."""
    plane = frame.planes[0]
    row = frame.height // 2
    return max(bytes(plane)[row * plane.line_size + left : row * plane.line_size + right])


def test_pf_1_3_a_prison_call_leaves_one_playable_webm_of_both_sides(
    janus: JanusUnderTest,  # noqa: F811 - the imported fixture
    server: Any,  # noqa: F811 - the imported fixture
    peers: Peers,  # noqa: F811 - the imported fixture
    django_capture_on_commit_callbacks: Any,
) -> None:
    call = live(place(EstablishmentFactory()), server)
    raw = Path(call.rec_dir)
    assert call.recorded
    assert raw.parent == janus.recordings / "kinship"
    _talk(call, server, peers)

    _end(call, server, django_capture_on_commit_callbacks)

    recording = Recording.objects.get(call=call)
    assert recording.status == RecordingStatus.READY, recording.error
    assert recording.participants == ["Person in custody", "Contact"]
    path = Path(recording.file.path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recording.sha256
    assert path.stat().st_size == recording.size_bytes
    assert recording.duration_seconds is not None
    assert recording.duration_seconds > 1
    # The raw .mjr files and every intermediate file are gone.
    assert not raw.exists()
    assert not list((janus.recordings / "kinship").rglob("*.mjr"))

    with av.open(str(path)) as container:
        assert container.format.name in {"matroska,webm", "webm"}
        kinds = sorted(stream.type for stream in container.streams)
        assert kinds == ["audio", "video"]
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("vp8", 640, 240)
        pictures = list(container.decode(video=0))
    assert len(pictures) >= 15
    # Both sides are on screen: the synthetic pictures are never black, in the left tile and in the right one.
    middle = pictures[len(pictures) // 2]
    assert _brightest(middle, 0, 320) > 100, "the person in custody's tile is black"
    assert _brightest(middle, 320, 640) > 100, "the contact's tile is black"

    with av.open(str(path)) as container:
        mixed = array("f")
        mono = AudioResampler(format="flt", layout="mono", rate=48000)
        for frame in container.decode(audio=0):
            for out in mono.resample(frame):
                mixed.frombytes(bytes(out.planes[0])[: out.samples * 4])
    assert len(mixed) > 48000
    energy = sum(value * value for value in mixed) / len(mixed)
    assert energy > 0.0005, "the mixed audio is silent"
    print(
        f"\nrecording: {recording.duration_seconds:.1f} s, {recording.size_bytes} bytes, "
        f"{len(pictures)} frames, {len(mixed)} samples"
    )


def test_dso_annex_a_an_irc_call_leaves_no_recording_at_all(
    janus: JanusUnderTest,  # noqa: F811 - the imported fixture
    server: Any,  # noqa: F811 - the imported fixture
    peers: Peers,  # noqa: F811 - the imported fixture
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    call = live(place(IrcFactory()), server)
    assert not call.recorded
    assert call.rec_dir == ""
    _talk(call, server, peers)

    _end(call, server, django_capture_on_commit_callbacks)

    assert not Recording.objects.exists()
    kinship_raw = Path(settings.JANUS_RECORDINGS_DIR)
    assert not kinship_raw.exists() or not list(kinship_raw.rglob("*"))
    assert not list(janus.workdir.rglob("*.mjr"))
    media_root = Path(settings.MEDIA_ROOT)
    assert not media_root.exists() or not list(media_root.rglob("*"))
