"""Fixtures for the recording tests: the call tests' in-memory media server and places (a prison, an IRC), private
folders for raw files and stored recordings, and a stand-in for the slow media work where a test is about the
bookkeeping around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kinship.calls.models import Call

# The call tests' fixtures (the in-memory media server, a prison and an IRC with their staff and terminal) and
# their way of taking a call live, shared rather than copied.
from kinship.calls.tests.conftest import fake_media, irc, prison  # noqa: F401 - fixtures
from kinship.calls.tests.test_lifecycle import NOW, live  # noqa: F401 - for the recording tests
from kinship.recordings import mux

from .media import write_recording


@pytest.fixture(autouse=True)
def private_folders(settings: Any, tmp_path: Path) -> tuple[Path, Path]:
    """Raw recordings and the private media storage in the test's own folder."""
    settings.JANUS_RECORDINGS_DIR = tmp_path / "raw"
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.JANUS_RECORDINGS_DIR, settings.MEDIA_ROOT


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
