"""An in-memory ``MediaServer`` for unit tests, with the real client's behaviour and errors.

Unknown rooms raise ``NoSuchRoom``, unknown or foreign feeds ``NoSuchFeed``, a wrong pin or secret
``Unauthorized``, anything done with an ended session ``NoSuchSession``; a video-only subscription's offer has no
audio m-line and delivers no audio; destroying a room ends every session in it, subscribers included; placement
picks the least-loaded healthy node. ``delivering(subscription)`` says which kinds of media would reach the
subscriber now (nothing while paused or ended), which is what tests of the call logic assert on.

Failures, as the media watchdog meets them: ``kill_node`` is a Janus process killed (``kill -9``): its rooms and
sessions are gone and every request to it raises ``NodeUnavailable``, as a refused connection does;
``revive_node`` restarts it empty; ``lose_room`` is a room gone behind Kinship's back while the node still answers.
``answering`` (default True) set to False for a node makes it hang: it keeps its rooms, but requests time out.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import sdp
from .base import (
    Endpoint,
    Kind,
    MediaError,
    MediaTimeout,
    NodeStatus,
    NodeUnavailable,
    NoHealthyNode,
    NoSuchFeed,
    NoSuchRoom,
    NoSuchSession,
    Publisher,
    Room,
    Secret,
    Stream,
    Subscription,
    Unauthorized,
)


@dataclass
class _Room:
    room: Room
    feeds: dict[int, Publisher] = field(default_factory=dict)
    sessions: set[int] = field(default_factory=set)


@dataclass
class _Session:
    node: str
    room_id: int
    state: str  # "joined", "live", "offered", "started", "paused"
    streams: list[Stream] = field(default_factory=list)


def _sdp(kind_of_description: str, sections: Sequence[tuple[Kind, str]]) -> str:
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=fake", "t=0 0"]
    for kind, mid in sections:
        codec = "111 opus/48000/2" if kind == "audio" else "96 VP8/90000"
        lines += [f"m={kind} 9 UDP/TLS/RTP/SAVPF {codec.split()[0]}", f"a=mid:{mid}", f"a=rtpmap:{codec}"]
        lines.append("a=recvonly" if kind_of_description == "answer" else "a=sendonly")
    return "\r\n".join(lines) + "\r\n"


class FakeMediaServer:
    def __init__(self, nodes: Sequence[str] = ("fake://node-1",)) -> None:
        self.healthy = dict.fromkeys(nodes, True)
        self.dead: set[str] = set()
        self.answering = dict.fromkeys(nodes, True)
        self.rooms: dict[int, _Room] = {}
        self.sessions: dict[int, _Session] = {}
        self.destroyed: list[int] = []
        self._ids = itertools.count(1000)

    # -- nodes ---------------------------------------------------------------------------------------------------

    def nodes(self) -> list[NodeStatus]:
        statuses = []
        for url, marked in self.healthy.items():
            healthy = marked and url not in self.dead and self.answering.get(url, True)
            statuses.append(
                NodeStatus(
                    url=url,
                    healthy=healthy,
                    sessions=sum(1 for s in self.sessions.values() if s.node == url) if healthy else 0,
                    error="" if healthy else "marked unhealthy",
                )
            )
        return statuses

    def node_urls(self) -> list[str]:
        return list(self.healthy)

    def _reach(self, node: str) -> None:
        """What a request to ``node`` meets when the node is dead (refused) or hung (timed out)."""
        if node in self.dead:
            raise NodeUnavailable(f"Janus at {node} is unavailable: connection refused")
        if not self.answering.get(node, True):
            raise MediaTimeout(f"Janus did not answer {node} in time")

    def rooms_on(self, node: str, *, timeout: float) -> set[int]:
        """The rooms on ``node`` (the watchdog's probe), or the error a dead or hung node gives."""
        if node not in self.healthy:
            raise NodeUnavailable(f"{node} is not a configured media node")
        self._reach(node)
        return {room_id for room_id, state in self.rooms.items() if state.room.node == node}

    def kill_node(self, node: str) -> None:
        """The node's process dies: its rooms and sessions go with it and it answers nothing."""
        self.dead.add(node)
        self.healthy[node] = False
        for room_id in [room_id for room_id, state in self.rooms.items() if state.room.node == node]:
            del self.rooms[room_id]
        for session_id in [sid for sid, session in self.sessions.items() if session.node == node]:
            del self.sessions[session_id]

    def revive_node(self, node: str) -> None:
        """The node is started again: it answers, with no room and no session."""
        self.dead.discard(node)
        self.healthy[node] = True
        self.answering[node] = True

    def lose_room(self, room_id: int) -> None:
        """The room (and its sessions) vanish while the node goes on answering."""
        state = self.rooms.pop(room_id)
        for session_id in state.sessions:
            self.sessions.pop(session_id, None)

    def pick_node(self) -> str:
        healthy = [status for status in self.nodes() if status.healthy]
        if not healthy:
            raise NoHealthyNode("no media node is healthy")
        return min(healthy, key=lambda status: status.sessions).url

    # -- rooms ---------------------------------------------------------------------------------------------------

    def create_room(
        self, *, call_id: str, record: bool, rec_dir: str | None = None, publishers: int = 4
    ) -> Room:
        if record and not rec_dir:
            raise ValueError(
                "a recorded room needs rec_dir (Janus would otherwise write into its working folder)"
            )
        room = Room(
            node=self.pick_node(),
            room_id=next(self._ids),
            call_id=call_id,
            record=record,
            rec_dir=rec_dir,
            secret=Secret(secrets.token_urlsafe(24)),
            pin=Secret(secrets.token_urlsafe(12)),
        )
        self.rooms[room.room_id] = _Room(room=room)
        return room

    def _room(self, room: Room, *, secret: bool = False) -> _Room:
        self._reach(room.node)
        state = self.rooms.get(room.room_id)
        if state is None or state.room.node != room.node:
            raise NoSuchRoom(f"Janus error 426: No such room ({room.room_id})", code=426)
        if state.room.pin != room.pin or (secret and state.room.secret != room.secret):
            raise Unauthorized("Janus error 433: Unauthorized (wrong pin or secret)", code=433)
        return state

    def recording(self, room: Room) -> bool:
        return self._room(room).room.record

    def destroy_room(self, room: Room) -> None:
        self._reach(room.node)
        state = self.rooms.get(room.room_id)
        if state is None:
            return
        self._room(room, secret=True)
        for session_id in state.sessions:
            self.sessions.pop(session_id, None)
        del self.rooms[room.room_id]
        self.destroyed.append(room.room_id)

    # -- participants --------------------------------------------------------------------------------------------

    def _open(self, room: _Room, state: str) -> tuple[int, int]:
        session_id, handle_id = next(self._ids), next(self._ids)
        self.sessions[session_id] = _Session(node=room.room.node, room_id=room.room.room_id, state=state)
        room.sessions.add(session_id)
        return session_id, handle_id

    def _session(self, endpoint: Endpoint) -> _Session:
        self._reach(endpoint.room.node)
        session = self.sessions.get(endpoint.session_id)
        if session is None:
            raise NoSuchSession(f"Janus error 458: No such session {endpoint.session_id}", code=458)
        return session

    def join_publisher(self, room: Room, *, participant: str, offer_sdp: str) -> Publisher:
        state = self._room(room)
        sections = sdp.media_sections(offer_sdp)
        if not sections:
            raise MediaError("Janus error 437: the offer has no audio or video", code=437)
        session_id, handle_id = self._open(state, "live")
        feed_id = next(self._ids)
        publisher = Publisher(
            room=room,
            participant=participant,
            session_id=session_id,
            handle_id=handle_id,
            feed_id=feed_id,
            answer_sdp=_sdp("answer", sections),
            streams=tuple(Stream(feed_id=feed_id, kind=kind, mid=mid) for kind, mid in sections),
        )
        state.feeds[feed_id] = publisher
        return publisher

    def wait_for_media(self, endpoint: Endpoint, *, timeout: float = 10.0) -> None:
        self._session(endpoint)

    def subscribe(
        self, room: Room, *, participant: str, feeds: Sequence[Publisher], video_only: bool
    ) -> Subscription:
        state = self._room(room)
        streams: list[Stream] = []
        for feed in feeds:
            if feed.feed_id not in state.feeds or feed.session_id not in self.sessions:
                raise NoSuchFeed(f"Janus error 428: No such feed ({feed.feed_id})", code=428)
            for stream in state.feeds[feed.feed_id].streams:
                if stream.kind == "video" or not video_only:
                    streams.append(Stream(feed_id=feed.feed_id, kind=stream.kind, mid=str(len(streams))))
        if not streams:
            raise NoSuchFeed("nothing to subscribe to")
        session_id, handle_id = self._open(state, "offered")
        self.sessions[session_id].streams = streams
        return Subscription(
            room=room,
            participant=participant,
            session_id=session_id,
            handle_id=handle_id,
            video_only=video_only,
            streams=tuple(streams),
            offer_sdp=_sdp("offer", [(s.kind, s.mid) for s in streams]),
        )

    def start_subscription(self, subscription: Subscription, *, answer_sdp: str) -> None:
        session = self._session(subscription)
        if session.state != "offered":
            raise MediaError("Janus error 431: unexpected answer", code=431)
        session.state = "started"

    def trickle(self, endpoint: Endpoint, candidate: dict[str, object] | None) -> None:
        self._session(endpoint)

    def pause_subscription(self, subscription: Subscription) -> None:
        self._session(subscription).state = "paused"

    def resume_subscription(self, subscription: Subscription) -> None:
        self._session(subscription).state = "started"

    def delivering(self, subscription: Subscription) -> set[Kind]:
        """The kinds of media reaching this subscriber now: its streams whose feeds are live, unless paused."""
        session = self.sessions.get(subscription.session_id)
        if session is None or session.state != "started":
            return set()
        feeds = self.rooms[session.room_id].feeds
        return {
            s.kind
            for s in session.streams
            if s.feed_id in feeds and feeds[s.feed_id].session_id in self.sessions
        }

    def kick(self, room: Room, *, feed_id: int) -> None:
        state = self._room(room, secret=True)
        publisher = state.feeds.pop(feed_id, None)
        if publisher is None:
            raise NoSuchFeed(f"Janus error 428: No such user ({feed_id})", code=428)
        self.sessions.pop(publisher.session_id, None)

    def leave(self, endpoint: Endpoint) -> None:
        self._reach(endpoint.room.node)
        self.sessions.pop(endpoint.session_id, None)
        state = self.rooms.get(endpoint.room.room_id)
        if state is not None:
            state.sessions.discard(endpoint.session_id)
            if isinstance(endpoint, Publisher):
                state.feeds.pop(endpoint.feed_id, None)
