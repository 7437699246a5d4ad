"""Which media server the calls use, and loading it when a web process starts rather than on a call's join."""

from __future__ import annotations

from typing import Any

import pytest

from kinship.calls import provider
from kinship.calls.media.fake import FakeMediaServer


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    provider.media_server_reset()
    yield
    provider.media_server_reset()


def test_preload_imports_the_configured_media_server_without_making_one(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.KINSHIP_MEDIA_SERVER = "kinship.calls.media.fake.FakeMediaServer"
    imported: list[str] = []
    real = provider.import_string

    def recording(path: str) -> Any:
        imported.append(path)
        return real(path)

    monkeypatch.setattr(provider, "import_string", recording)

    provider.preload()

    assert imported == ["kinship.calls.media.fake.FakeMediaServer"]
    assert provider._build.cache_info().currsize == 0  # nothing built, nothing contacted


def test_preload_fails_at_start_up_on_a_wrong_path(settings: Any) -> None:
    settings.KINSHIP_MEDIA_SERVER = "kinship.calls.media.nowhere.MediaServer"
    with pytest.raises(ImportError):
        provider.preload()


def test_preload_does_nothing_without_a_media_server(settings: Any) -> None:
    settings.KINSHIP_MEDIA_SERVER = ""
    provider.preload()
    with pytest.raises(provider.MediaNotConfigured):
        provider.media_server()


class SpareKeepingFake(FakeMediaServer):
    """The in-memory media server, recording whether it was asked to keep handles ready."""

    def __init__(self) -> None:
        super().__init__()
        self.keeping = 0

    def keep_spare_handles(self) -> None:
        self.keeping += 1


def test_the_signalling_asks_its_media_server_to_keep_handles_ready(settings: Any) -> None:
    settings.KINSHIP_MEDIA_SERVER = f"{__name__}.SpareKeepingFake"
    server = provider.participant_media_server()
    assert isinstance(server, SpareKeepingFake)
    assert server.keeping == 1
    # Other processes (the worker, the watchdog) use media_server() and keep none.
    assert provider.media_server() is server
    assert server.keeping == 1
