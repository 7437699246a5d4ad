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


def media_server_reset() -> None:
    """Forget the instance (tests, or after changing the setting)."""
    _build.cache_clear()
