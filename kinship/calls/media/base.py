"""What Kinship asks of a media server, and the values it gets back.

Kinship owns every media-server session, handle and room: browsers never talk to Janus's API, they hand Kinship an
SDP offer or answer and get one back. The room's secret and pin and the node's admin key and admin secret are held
in ``Secret`` values, which print as asterisks, render as asterisks in a template and refuse JSON encoding, so they
have no path to a page or an API response; only this package calls ``Secret.reveal()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Kind = Literal["audio", "video"]


class Secret:
    """A value that must stay on the server. ``str``, ``repr`` and templates see ``********``; ``json.dumps`` and
    DjangoJSONEncoder raise ``TypeError``; pickling is refused so it cannot slip into a cache or a session."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a secret cannot be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "********"

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is never pickled")


class MediaError(Exception):
    """A media-server request failed. ``code`` is the server's error code where it gave one."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class NoSuchRoom(MediaError):
    pass


class NoSuchFeed(MediaError):
    pass


class NoSuchSession(MediaError):
    """The session or handle is gone (destroyed, timed out, or the node restarted)."""


class Unauthorized(MediaError):
    pass


class NodeUnavailable(MediaError):
    """The node did not answer (refused, timed out, or answered with something that is not Janus)."""


class NoHealthyNode(MediaError):
    pass


class MediaTimeout(MediaError):
    """An expected event (an answer, media flowing) did not arrive in time."""


@dataclass(frozen=True)
class NodeStatus:
    """A node's health and load (its number of sessions: each publisher and each subscription is one)."""

    url: str
    healthy: bool
    sessions: int = 0
    error: str = ""


@dataclass(frozen=True)
class Room:
    """A call's room on one node. ``secret`` and ``pin`` are ``Secret`` values."""

    node: str
    room_id: int
    call_id: str
    record: bool
    rec_dir: str | None
    secret: Secret
    pin: Secret


@dataclass(frozen=True)
class Endpoint:
    """One media-server session with one plugin handle, owned by Kinship for one participant."""

    room: Room
    participant: str
    session_id: int
    handle_id: int


@dataclass(frozen=True)
class Publisher(Endpoint):
    """A participant publishing into the room; ``answer_sdp`` goes back to that participant's browser. ``streams``
    are the feed's streams as its offer named them (kind and mid), which a video-only subscription picks from."""

    feed_id: int
    answer_sdp: str
    streams: tuple[Stream, ...]


@dataclass(frozen=True)
class Stream:
    """One stream a subscription carries: the publisher's feed, its kind, and its mid in the subscription's SDP."""

    feed_id: int
    kind: Kind
    mid: str


@dataclass(frozen=True)
class Subscription(Endpoint):
    """A participant receiving feeds; ``offer_sdp`` goes to that participant's browser, whose answer comes back
    through ``start_subscription``."""

    video_only: bool
    streams: tuple[Stream, ...]
    offer_sdp: str


@runtime_checkable
class MediaServer(Protocol):
    """The media plane as Kinship uses it. Every method may raise a ``MediaError`` subclass."""

    def nodes(self) -> list[NodeStatus]:
        """Every configured node's health and load."""
        ...

    def create_room(
        self, *, call_id: str, record: bool, rec_dir: str | None = None, publishers: int = 4
    ) -> Room:
        """A private room with a fresh secret and pin on the least-loaded healthy node. ``record`` is locked
        (``lock_record``): no participant can switch it. Recording needs ``rec_dir``."""
        ...

    def join_publisher(self, room: Room, *, participant: str, offer_sdp: str) -> Publisher:
        """Joins ``participant`` as a publisher and publishes the browser's offer; returns the answer."""
        ...

    def wait_for_media(self, endpoint: Endpoint, *, timeout: float = 10.0) -> None:
        """Returns once the endpoint's WebRTC connection is up (a feed can be subscribed only after this)."""
        ...

    def subscribe(
        self, room: Room, *, participant: str, feeds: Sequence[Publisher], video_only: bool
    ) -> Subscription:
        """A subscription to ``feeds``; ``video_only`` asks the server for the video streams alone, so no audio
        packet is ever sent to this participant (monitors, PF 4.21)."""
        ...

    def start_subscription(self, subscription: Subscription, *, answer_sdp: str) -> None: ...

    def trickle(self, endpoint: Endpoint, candidate: dict[str, object] | None) -> None:
        """Passes on one ICE candidate from the browser; ``None`` says gathering is complete."""
        ...

    def pause_subscription(self, subscription: Subscription) -> None:
        """Stops media to this subscriber only: the publisher and other subscribers (staff) are untouched."""
        ...

    def resume_subscription(self, subscription: Subscription) -> None: ...

    def kick(self, room: Room, *, feed_id: int) -> None: ...

    def leave(self, endpoint: Endpoint) -> None:
        """Ends one participant's session (hang-up, leave, detach, destroy)."""
        ...

    def destroy_room(self, room: Room) -> None:
        """Destroys the room and every session in it, subscribers included (Janus leaves those connected with no
        media)."""
        ...
