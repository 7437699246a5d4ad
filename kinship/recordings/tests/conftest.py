"""Fixtures for the recording tests: the in-memory media server, private folders for raw files and stored
recordings, calls in a prison and an IRC taken live and closed through the call services, and a stand-in for the
slow media work where a test is about the bookkeeping around it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kinship.calls import services as call_services
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import Call, CallParty
from kinship.calls.provider import media_server, media_server_reset
from kinship.calls.tests.conftest import START, Place, book, monitoring_terminal
from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, IrcFactory, staff_with
from kinship.recordings import mux

from .media import write_recording

NOW = START + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def fake_media(settings: Any) -> Iterator[FakeMediaServer]:
    settings.KINSHIP_MEDIA_SERVER = "kinship.calls.media.fake.FakeMediaServer"
    media_server_reset()
    server = media_server()
    assert isinstance(server, FakeMediaServer)
    yield server
    media_server_reset()


@pytest.fixture(autouse=True)
def private_folders(settings: Any, tmp_path: Path) -> tuple[Path, Path]:
    """Raw recordings and the private media storage in the test's own folder."""
    settings.JANUS_RECORDINGS_DIR = tmp_path / "raw"
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.JANUS_RECORDINGS_DIR, settings.MEDIA_ROOT


@pytest.fixture
def prison() -> Place:
    establishment = EstablishmentFactory()
    return Place(
        establishment=establishment,
        officer=staff_with(Role.SUPERVISING_OFFICER, establishment),
        monitor=staff_with(Role.MONITORING_OFFICER, establishment),
        terminal=monitoring_terminal(establishment),
    )


@pytest.fixture
def irc() -> Place:
    establishment = IrcFactory()
    return Place(
        establishment=establishment,
        officer=staff_with(Role.SUPERVISING_OFFICER, establishment),
        monitor=staff_with(Role.MONITORING_OFFICER, establishment),
        terminal=monitoring_terminal(establishment),
    )


def live_call(place: Place, media: FakeMediaServer) -> Call:
    """A call of ``place`` opened, checked in, watched (prison) or adult-checked (IRC) and started."""
    call = call_services.call_open(booking=book(place.establishment), media=media, now=START)
    call_services.call_check_in(call=call, party=CallParty.RESIDENT, actor=place.officer, now=NOW)
    call = call_services.call_check_in(call=call, party=CallParty.OFFICER, actor=place.officer, now=NOW)
    if call.establishment.profile == "immigration_detention":
        call_services.call_adult_check(call=call, actor=place.officer, now=NOW)
    else:
        call_services.monitor_viewing_start(
            call=call, officer=place.monitor, terminal=place.terminal, reason="Routine monitoring", now=NOW
        )
    return call_services.call_start(call=call, actor=place.officer, now=NOW)


def raw_files(call: Call) -> list[Path]:
    """Stand-ins for Janus's raw files in the call's folder (the fake mux below does not read them)."""
    folder = Path(call.rec_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for feed, kind, mid in ((1, "audio", 0), (1, "video", 1), (2, "audio", 0), (2, "video", 1)):
        path = folder / f"videoroom-{call.janus_room_id}-user-{feed}-1700000000000000-{kind}-{mid}.mjr"
        path.write_bytes(b"MJR00002raw")
        paths.append(path)
    return paths


class FakeMux:
    """Replaces ``mux.mux_folder``: writes a small real WebM (or fails, or finds nothing) and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail: Exception | None = None
        self.empty = False

    def __call__(
        self, folder: Path, workdir: Path, target: Path, labels: dict[int, str]
    ) -> mux.MuxResult | None:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        if self.empty or not list(folder.glob("*.mjr")):
            return None
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "intermediate.webm").write_bytes(b"converted")
        write_recording(target, seconds=1.0)
        return mux.MuxResult(path=target, duration_seconds=1.0, video_frames=15, audio_samples=48000)


@pytest.fixture
def fake_mux(monkeypatch: pytest.MonkeyPatch) -> FakeMux:
    fake = FakeMux()
    monkeypatch.setattr(mux, "mux_folder", fake)
    return fake
