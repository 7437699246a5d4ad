"""Which ``MediaServer`` the call lifecycle talks to: ``settings.KINSHIP_MEDIA_SERVER``, a dotted path to a class
or a factory. A class with ``from_settings`` (the Janus client) is built with it, anything else is called with no
arguments. One instance per process (the Janus client keeps its sessions' pending events in memory); tests point
the setting at ``FakeMediaServer`` and call ``media_server_reset()`` between tests."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .media.base import MediaServer


class MediaNotConfigured(Exception):
    """No media server is configured: ``KINSHIP_MEDIA_SERVER`` is empty (and ``JANUS_NODES`` was not set)."""


@cache
def _build(path: str) -> MediaServer:
    target = import_string(path)
    factory = getattr(target, "from_settings", target)
    server = factory()
    if not isinstance(server, MediaServer):
        raise MediaNotConfigured(f"KINSHIP_MEDIA_SERVER ({path}) does not make a MediaServer")
    # Janus ends a session that hears nothing for its session_timeout (60 s), hanging up the participant's media
    # mid-call: this process keeps the sessions it opened alive (the Janus client's keepalive thread).
    start_keepalive = getattr(server, "start_keepalive", None)
    if callable(start_keepalive):
        start_keepalive()
    return server


def media_server() -> MediaServer:
    path = getattr(settings, "KINSHIP_MEDIA_SERVER", "")
    if not path:
        raise MediaNotConfigured(
            "The media server is not configured: set JANUS_NODES (and the Janus secrets) or KINSHIP_MEDIA_SERVER."
        )
    return _build(path)


def participant_media_server() -> MediaServer:
    """The media server, for a process that joins participants (the signalling consumers): a server that can
    keep handles ready for their joins (the Janus client's spares) starts doing so."""
    server = media_server()
    keep_spares = getattr(server, "keep_spare_handles", None)
    if callable(keep_spares):
        keep_spares()
    return server


def preload() -> None:
    """Import the configured media server's code now, when a web process starts, instead of on the first
    call's join: importing the Janus client's HTTP library (httpx, with what it pulls in) took about 0.9 s of
    CPU here, and every socket connecting meanwhile waited for it (bench/media_load.py). Nothing is built or
    contacted: the instance is still made on first use."""
    path = getattr(settings, "KINSHIP_MEDIA_SERVER", "")
    if path:
        import_string(path)


def media_server_reset() -> None:
    """Forget the instance (tests, or after changing the setting)."""
    _build.cache_clear()
