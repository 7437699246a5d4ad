"""Kinship's client for Janus VideoRoom nodes over Janus's HTTP API (and its admin API).

Kinship owns every Janus session: one session with one VideoRoom handle per publisher and per subscription, and a
short-lived control session for room requests (create, kick, destroy), which need the room secret or the admin
key and so are never made on a participant's behalf by a browser. Asynchronous requests (join, publish, start,
pause) are answered by an "ack" and then an event, fetched by long-polling the session; events that arrive while
waiting for another (webrtcup, media, hangup) are kept for whoever asks next. A keepalive thread (``start_keepalive``)
keeps owned sessions alive between requests. In the process that joins participants (``keep_spare_handles``), the
client also keeps a few spare sessions per node, each with its VideoRoom handle attached and in no room, so that a
participant's publisher or subscription starts with its join request instead of two round trips to create a
session and attach a handle.

A call is placed on the least-loaded healthy node: health is the admin API's ``list_sessions`` and the API's
``info`` both answering; load is the number of sessions on the node.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from . import sdp
from .base import (
    Endpoint,
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

logger = logging.getLogger(__name__)

PLUGIN = "janus.plugin.videoroom"
Json = dict[str, Any]

# Janus core and VideoRoom error codes, mapped to our exceptions.
_ERRORS: dict[int, type[MediaError]] = {
    403: Unauthorized,  # core: unauthorized request (admin secret, token)
    405: Unauthorized,  # core: unauthorized plugin
    458: NoSuchSession,  # core: session not found
    459: NoSuchSession,  # core: handle not found
    426: NoSuchRoom,  # videoroom: no such room
    428: NoSuchFeed,  # videoroom: no such feed
    433: Unauthorized,  # videoroom: wrong secret or pin
}


def _error(code: int | None, reason: str) -> MediaError:
    return _ERRORS.get(code or 0, MediaError)(f"Janus error {code}: {reason}", code=code)


@dataclass(frozen=True)
class JanusNode:
    url: str
    admin_url: str


class JanusMediaServer:
    """The ``MediaServer`` over one or more Janus nodes."""

    def __init__(
        self,
        *,
        nodes: Sequence[JanusNode],
        admin_secret: Secret,
        admin_key: Secret,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        spare_handles: int = 0,
    ) -> None:
        if not nodes:
            raise ValueError("at least one Janus node is needed")
        if spare_handles < 0:
            raise ValueError("spare_handles cannot be negative")
        self._nodes = {node.url.rstrip("/"): node for node in nodes}
        self._admin_secret = admin_secret
        self._admin_key = admin_key
        self._timeout = timeout
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int], list[Json]] = {}
        self._poll_locks: dict[tuple[str, int], threading.Lock] = {}
        self._room_sessions: dict[int, set[tuple[str, int]]] = {}
        self._keepalive_stop = threading.Event()
        self._keepalive_thread: threading.Thread | None = None
        #: Attached handles kept ready per node (session id, handle id): only while the keepalive runs, which
        #: keeps their sessions alive (Janus ends a silent session after 60 s).
        self._spare_target = spare_handles
        self._keeping_spares = False
        self._spares: dict[str, list[tuple[int, int]]] = {url: [] for url in self._nodes}
        self._refilling: set[str] = set()

    @classmethod
    def from_settings(cls) -> JanusMediaServer:
        from django.conf import settings

        return cls(
            nodes=[
                JanusNode(url, admin)
                for url, admin in zip(settings.JANUS_NODES, settings.JANUS_ADMIN_URLS, strict=True)
            ],
            admin_secret=Secret(settings.JANUS_ADMIN_SECRET),
            admin_key=Secret(settings.JANUS_ADMIN_KEY),
            timeout=settings.JANUS_REQUEST_TIMEOUT_SECONDS,
            spare_handles=settings.JANUS_SPARE_HANDLES,
        )

    # -- transport -----------------------------------------------------------------------------------------------

    def _request(self, method: str, url: str, body: Json | None = None, timeout: float | None = None) -> Json:
        try:
            response = self._http.request(method, url, json=body, timeout=timeout or self._timeout)
            response.raise_for_status()
            reply = response.json()
        except httpx.TimeoutException as exc:
            raise MediaTimeout(f"Janus did not answer {method} {url} in time") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise NodeUnavailable(f"Janus at {url} is unavailable: {exc}") from exc
        if isinstance(reply, dict) and reply.get("janus") == "error":
            error = reply.get("error") or {}
            raise _error(error.get("code"), str(error.get("reason", "")))
        return reply

    def _post(self, url: str, body: Json, timeout: float | None = None) -> Json:
        return self._request("POST", url, {**body, "transaction": secrets.token_hex(8)}, timeout)

    def _admin(self, node: str, path: str, body: Json, timeout: float | None = None) -> Json:
        admin_url = self._nodes[node].admin_url.rstrip("/") + path
        return self._post(admin_url, {**body, "admin_secret": self._admin_secret.reveal()}, timeout)

    def _node(self, url: str) -> str:
        key = url.rstrip("/")
        if key not in self._nodes:
            raise NodeUnavailable(f"{url} is not a configured Janus node")
        return key

    # -- sessions, handles, events -------------------------------------------------------------------------------

    def _open(self, node: str) -> tuple[int, int]:
        session_id = int(self._post(node, {"janus": "create"})["data"]["id"])
        try:
            handle_id = int(
                self._post(f"{node}/{session_id}", {"janus": "attach", "plugin": PLUGIN})["data"]["id"]
            )
        except MediaError:
            self._destroy_session(node, session_id)
            raise
        with self._lock:
            self._pending[(node, session_id)] = []
            self._poll_locks[(node, session_id)] = threading.Lock()
        return session_id, handle_id

    def _destroy_session(self, node: str, session_id: int) -> None:
        with self._lock:
            self._pending.pop((node, session_id), None)
            self._poll_locks.pop((node, session_id), None)
            for sessions in self._room_sessions.values():
                sessions.discard((node, session_id))
        with contextlib.suppress(NoSuchSession):
            self._post(f"{node}/{session_id}", {"janus": "destroy"})

    def spare_sessions(self) -> int:
        """How many spare sessions (attached handles in no room) this client holds on all its nodes now."""
        with self._lock:
            return sum(len(items) for items in self._spares.values())

    def _take_spare(self, node: str) -> tuple[int, int] | None:
        """A spare attached handle on ``node`` whose session the keepalive has not found gone, or ``None``; a
        refill is started either way."""
        spare = None
        with self._lock:
            spares = self._spares.get(node, [])
            while spares and spare is None:
                candidate = spares.pop(0)
                if (node, candidate[0]) in self._pending:
                    spare = candidate
        self._refill_spares(node)
        return spare

    def _refill_spares(self, node: str) -> None:
        """Bring ``node``'s spares back to the target in a background thread (one at a time per node), while the
        keepalive runs. A node that does not answer is left alone until the next participant asks."""
        with self._lock:
            if (
                not self._keeping_spares
                or self._keepalive_thread is None
                or self._keepalive_stop.is_set()
                or node in self._refilling
                or len(self._spares.get(node, [])) >= self._spare_target
            ):
                return
            self._refilling.add(node)

        def run() -> None:
            try:
                while not self._keepalive_stop.is_set():
                    with self._lock:
                        if len(self._spares[node]) >= self._spare_target:
                            return
                    opened = self._open(node)
                    with self._lock:
                        kept = not self._keepalive_stop.is_set()
                        if kept:
                            self._spares[node].append(opened)
                    if not kept:  # the client closed meanwhile
                        self._destroy_session(node, opened[0])
            except MediaError as exc:
                logger.info("Janus node %s: no spare handle opened: %s", node, exc)
            except RuntimeError:
                # httpx refuses requests once the client is closed: closing won the race; nothing to keep.
                if not self._keepalive_stop.is_set():
                    raise
            finally:
                with self._lock:
                    self._refilling.discard(node)

        threading.Thread(target=run, name="janus-spares", daemon=True).start()

    def _attached[T](self, node: str, use: Callable[[int, int], T]) -> tuple[int, int, T]:
        """Runs ``use(session_id, handle_id)`` on a spare handle, or on one opened now; the session is destroyed
        if ``use`` fails. A spare whose session Janus no longer knows (the node restarted since) is dropped and
        a fresh handle opened."""
        spare = self._take_spare(node)
        if spare is not None:
            try:
                return (*spare, use(*spare))
            except BaseException as failure:
                self._destroy_session(node, spare[0])
                if not isinstance(failure, NoSuchSession):
                    raise
        session_id, handle_id = self._open(node)
        try:
            return session_id, handle_id, use(session_id, handle_id)
        except BaseException:
            self._destroy_session(node, session_id)
            raise

    def _poll(self, node: str, session_id: int, deadline: float) -> None:
        """One long poll; events found are appended to the session's pending list."""
        lock = self._poll_locks.get((node, session_id))
        if lock is None:
            raise NoSuchSession(f"session {session_id} is not owned by this client")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if not lock.acquire(timeout=remaining):
            return
        try:
            wait = max(0.1, deadline - time.monotonic())
            reply: Any = self._request("GET", f"{node}/{session_id}?maxev=10", None, timeout=wait + 1)
        except MediaTimeout:
            return
        finally:
            lock.release()
        events = reply if isinstance(reply, list) else [reply]
        with self._lock:
            pending = self._pending.setdefault((node, session_id), [])
            pending.extend(event for event in events if event.get("janus") != "keepalive")

    def _wait_event(self, node: str, session_id: int, match: Callable[[Json], bool], timeout: float) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = self._pending.get((node, session_id), [])
                for index, event in enumerate(pending):
                    if match(event):
                        return pending.pop(index)
            if time.monotonic() >= deadline:
                raise MediaTimeout(f"no matching Janus event on session {session_id} within {timeout:.0f} s")
            self._poll(node, session_id, deadline)

    def _message(
        self,
        node: str,
        session_id: int,
        handle_id: int,
        body: Json,
        jsep: Json | None = None,
        timeout: float | None = None,
    ) -> tuple[Json, Json | None]:
        """Sends a plugin request; returns the plugin's data and its JSEP, whether answered at once or by event."""
        transaction = secrets.token_hex(8)
        message: Json = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        reply = self._request("POST", f"{node}/{session_id}/{handle_id}", message)
        if reply.get("janus") == "ack":
            reply = self._wait_event(
                node,
                session_id,
                lambda event: event.get("transaction") == transaction,
                timeout or self._timeout,
            )
        if reply.get("janus") == "error":
            error = reply.get("error") or {}
            raise _error(error.get("code"), str(error.get("reason", "")))
        data: Json = (reply.get("plugindata") or {}).get("data") or {}
        if "error_code" in data:
            raise _error(int(data["error_code"]), str(data.get("error", "")))
        return data, reply.get("jsep")

    def _control(self, node: str, body: Json) -> Json:
        """A room request on a short-lived session of Kinship's own."""
        session_id, handle_id = self._open(node)
        try:
            return self._message(node, session_id, handle_id, body)[0]
        finally:
            self._destroy_session(node, session_id)

    def _own(self, room: Room, session_id: int) -> None:
        with self._lock:
            self._room_sessions.setdefault(room.room_id, set()).add((room.node, session_id))

    # -- keepalive -----------------------------------------------------------------------------------------------

    def keepalive(self) -> None:
        """Tells every node that every session this client owns is still wanted."""
        with self._lock:
            owned = list(self._pending)
        for node, session_id in owned:
            try:
                self._post(f"{node}/{session_id}", {"janus": "keepalive"})
            except NoSuchSession:
                # Gone with its room (destroyed by another process, or the node restarted): stop asking, and
                # replace it if it was a spare.
                with self._lock:
                    self._pending.pop((node, session_id), None)
                    self._poll_locks.pop((node, session_id), None)
                    spares = self._spares.get(node, [])
                    spares[:] = [spare for spare in spares if spare[0] != session_id]
                self._refill_spares(node)
            except MediaError as exc:
                logger.warning("Janus keepalive failed for session %s on %s: %s", session_id, node, exc)

    def start_keepalive(self, interval: float = 25.0) -> None:
        if self._keepalive_thread is not None:
            return

        def run() -> None:
            while not self._keepalive_stop.wait(interval):
                self.keepalive()

        self._keepalive_thread = threading.Thread(target=run, name="janus-keepalive", daemon=True)
        self._keepalive_thread.start()

    def keep_spare_handles(self) -> None:
        """From now on keep ``spare_handles`` attached handles ready on every node, for participants' publishers
        and subscriptions: asked for by the process that joins participants (the web process's signalling), not
        by the worker or the watchdog, which never do. Spares are kept only while the keepalive runs (Janus ends
        a silent session after 60 s)."""
        with self._lock:
            self._keeping_spares = True
        for node in self._nodes:
            self._refill_spares(node)

    def close(self) -> None:
        self._keepalive_stop.set()
        if self._keepalive_thread is not None:
            self._keepalive_thread.join(timeout=self._timeout)
            self._keepalive_thread = None
        with self._lock:
            spares = [(node, session_id) for node, items in self._spares.items() for session_id, _ in items]
            for items in self._spares.values():
                items.clear()
        for node, session_id in spares:
            with contextlib.suppress(MediaError):
                self._destroy_session(node, session_id)
        self._http.close()

    # -- nodes ---------------------------------------------------------------------------------------------------

    def nodes(self) -> list[NodeStatus]:
        statuses = []
        for url in self._nodes:
            try:
                info = self._request("GET", f"{url}/info", timeout=min(self._timeout, 3.0))
                if info.get("janus") != "server_info":
                    raise NodeUnavailable(f"{url}/info did not describe a Janus server")
                reply = self._admin(url, "", {"janus": "list_sessions"}, timeout=min(self._timeout, 3.0))
                statuses.append(NodeStatus(url=url, healthy=True, sessions=len(reply.get("sessions") or [])))
            except MediaError as exc:
                statuses.append(NodeStatus(url=url, healthy=False, error=str(exc)))
        return statuses

    def node_urls(self) -> list[str]:
        """The configured nodes' API URLs, as ``Room.node`` and ``Call.media_node`` name them."""
        return list(self._nodes)

    def rooms_on(self, node: str, *, timeout: float) -> set[int]:
        """Every room on ``node``, private ones included (the VideoRoom ``list`` request with the admin key), in
        one admin API request that needs no session of ours: the media watchdog's probe, cheap enough to make
        every two seconds. ``NodeUnavailable`` or ``MediaTimeout`` when the node does not answer within
        ``timeout``; ``Unauthorized`` (a wrong admin secret or key) says nothing about the node's health."""
        key = self._node(node)
        reply = self._admin(
            key,
            "",
            {
                "janus": "message_plugin",
                "plugin": PLUGIN,
                "request": {"request": "list", "admin_key": self._admin_key.reveal()},
            },
            timeout=timeout,
        )
        data: Json = reply.get("response") or {}
        if "error_code" in data:
            raise _error(int(data["error_code"]), str(data.get("error", "")))
        if data.get("videoroom") != "success" or not isinstance(data.get("list"), list):
            raise NodeUnavailable(f"{key} answered the room list with something that is not a VideoRoom list")
        return {int(room["room"]) for room in data["list"] if isinstance(room, dict) and "room" in room}

    def pick_node(self) -> str:
        healthy = [status for status in self.nodes() if status.healthy]
        if not healthy:
            raise NoHealthyNode("no Janus node is healthy")
        return min(healthy, key=lambda status: status.sessions).url

    # -- rooms ---------------------------------------------------------------------------------------------------

    def create_room(
        self, *, call_id: str, record: bool, rec_dir: str | None = None, publishers: int = 4
    ) -> Room:
        if record and not rec_dir:
            raise ValueError(
                "a recorded room needs rec_dir (Janus would otherwise write into its working folder)"
            )
        node = self.pick_node()
        secret, pin = Secret(secrets.token_urlsafe(24)), Secret(secrets.token_urlsafe(12))
        for _attempt in range(3):
            room_id = secrets.randbelow(2**52) + 1  # below 2**53: exact in JavaScript too
            body: Json = {
                "request": "create",
                "admin_key": self._admin_key.reveal(),
                "room": room_id,
                "description": f"call {call_id}",
                "secret": secret.reveal(),
                "pin": pin.reveal(),
                "is_private": True,
                "publishers": publishers,
                "bitrate": 512000,
                "audiocodec": "opus",
                "videocodec": "vp8",
                "notify_joining": False,
                "record": record,
                "lock_record": True,
            }
            if record:
                body["rec_dir"] = rec_dir
            try:
                self._control(node, body)
            except MediaError as exc:
                if exc.code == 427:  # room id taken: draw another
                    continue
                raise
            return Room(
                node=node,
                room_id=room_id,
                call_id=call_id,
                record=record,
                rec_dir=rec_dir,
                secret=secret,
                pin=pin,
            )
        raise MediaError("could not find a free room id")

    def destroy_room(self, room: Room) -> None:
        node = self._node(room.node)
        sessions = self._sessions_in_room(node, room.room_id)
        with contextlib.suppress(NoSuchRoom):
            self._control(node, {"request": "destroy", "room": room.room_id, "secret": room.secret.reveal()})
        # Janus tells publishers the room is gone but leaves subscribers connected with no media: end them all.
        for session_id in sorted(sessions):
            try:
                self._destroy_session(node, session_id)
            except MediaError:
                self._admin(node, "", {"janus": "destroy_session", "session_id": session_id})
        with self._lock:
            self._room_sessions.pop(room.room_id, None)

    def _sessions_in_room(self, node: str, room_id: int) -> set[int]:
        """The sessions this client opened for the room, and any other session whose VideoRoom handle is in it
        (opened by another Kinship process), found through the admin API."""
        with self._lock:
            found = {session for owner, session in self._room_sessions.get(room_id, set()) if owner == node}
        for session_id in self._admin(node, "", {"janus": "list_sessions"}).get("sessions") or []:
            try:
                handles = self._admin(node, f"/{session_id}", {"janus": "list_handles"}).get("handles") or []
                for handle_id in handles:
                    info = self._admin(node, f"/{session_id}/{handle_id}", {"janus": "handle_info"}).get(
                        "info"
                    )
                    specific = (info or {}).get("plugin_specific") or {}
                    if (info or {}).get("plugin") == PLUGIN and specific.get("room") == room_id:
                        found.add(int(session_id))
            except NoSuchSession:
                continue
        return found

    # -- participants --------------------------------------------------------------------------------------------

    def join_publisher(self, room: Room, *, participant: str, offer_sdp: str) -> Publisher:
        node = self._node(room.node)

        def join(session_id: int, handle_id: int) -> tuple[int, Json]:
            # Joining and publishing in one request (one round trip and one event, not two of each).
            joined, answer = self._message(
                node,
                session_id,
                handle_id,
                {
                    "request": "joinandconfigure",
                    "ptype": "publisher",
                    "room": room.room_id,
                    "pin": room.pin.reveal(),
                    "display": participant,
                },
                jsep={"type": "offer", "sdp": offer_sdp},
            )
            if not answer or answer.get("type") != "answer":
                raise MediaError("Janus accepted the offer without an answer")
            return int(joined["id"]), answer

        session_id, handle_id, (feed_id, answer) = self._attached(node, join)
        self._own(room, session_id)
        return Publisher(
            room=room,
            participant=participant,
            session_id=session_id,
            handle_id=handle_id,
            feed_id=feed_id,
            answer_sdp=str(answer["sdp"]),
            streams=tuple(
                Stream(feed_id=feed_id, kind=kind, mid=mid) for kind, mid in sdp.media_sections(offer_sdp)
            ),
        )

    def wait_for_media(self, endpoint: Endpoint, *, timeout: float = 10.0) -> None:
        node = self._node(endpoint.room.node)
        self._wait_event(
            node,
            endpoint.session_id,
            lambda event: event.get("janus") == "webrtcup" and event.get("sender") == endpoint.handle_id,
            timeout,
        )

    def subscribe(
        self, room: Room, *, participant: str, feeds: Sequence[Publisher], video_only: bool
    ) -> Subscription:
        node = self._node(room.node)
        wanted: list[Json] = []
        for feed in feeds:
            if feed.room.room_id != room.room_id:
                raise NoSuchFeed(f"feed {feed.feed_id} is not in room {room.room_id}")
            if video_only:
                # One entry per video stream: Janus offers exactly these, so no audio m-line and no audio packet.
                wanted.extend({"feed": feed.feed_id, "mid": s.mid} for s in feed.streams if s.kind == "video")
            else:
                wanted.append({"feed": feed.feed_id})
        if not wanted:
            raise NoSuchFeed("nothing to subscribe to")

        def join(session_id: int, handle_id: int) -> tuple[str, tuple[Stream, ...]]:
            attached, offer = self._message(
                node,
                session_id,
                handle_id,
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": room.room_id,
                    "pin": room.pin.reveal(),
                    "streams": wanted,
                },
            )
            if not offer or offer.get("type") != "offer":
                raise MediaError("Janus attached the subscriber without an offer")
            offer_sdp = str(offer["sdp"])
            streams = tuple(
                Stream(feed_id=int(s["feed_id"]), kind=s["type"], mid=str(s["mid"]))
                for s in attached.get("streams") or []
                if s.get("type") in ("audio", "video") and s.get("active", True) and "feed_id" in s
            )
            if video_only and (
                any(s.kind != "video" for s in streams)
                or any(kind != "video" for kind, _ in sdp.media_sections(offer_sdp))
            ):
                raise MediaError(
                    "Janus offered a video-only subscriber more than video; refusing it (PF 4.21)"
                )
            return offer_sdp, streams

        session_id, handle_id, (offer_sdp, streams) = self._attached(node, join)
        self._own(room, session_id)
        return Subscription(
            room=room,
            participant=participant,
            session_id=session_id,
            handle_id=handle_id,
            video_only=video_only,
            streams=streams,
            offer_sdp=offer_sdp,
        )

    def start_subscription(self, subscription: Subscription, *, answer_sdp: str) -> None:
        self._subscriber_request(
            subscription, {"request": "start"}, jsep={"type": "answer", "sdp": answer_sdp}
        )

    def pause_subscription(self, subscription: Subscription) -> None:
        self._subscriber_request(subscription, {"request": "pause"})

    def resume_subscription(self, subscription: Subscription) -> None:
        self._subscriber_request(subscription, {"request": "start"})

    def _subscriber_request(self, subscription: Subscription, body: Json, jsep: Json | None = None) -> None:
        node = self._node(subscription.room.node)
        self._message(node, subscription.session_id, subscription.handle_id, body, jsep=jsep)

    def trickle(self, endpoint: Endpoint, candidate: dict[str, object] | None) -> None:
        node = self._node(endpoint.room.node)
        self._post(
            f"{node}/{endpoint.session_id}/{endpoint.handle_id}",
            {"janus": "trickle", "candidate": candidate if candidate is not None else {"completed": True}},
        )

    def kick(self, room: Room, *, feed_id: int) -> None:
        node = self._node(room.node)
        self._control(
            node, {"request": "kick", "room": room.room_id, "secret": room.secret.reveal(), "id": feed_id}
        )

    def leave(self, endpoint: Endpoint) -> None:
        self._destroy_session(self._node(endpoint.room.node), endpoint.session_id)
