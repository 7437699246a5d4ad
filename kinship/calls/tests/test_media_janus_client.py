"""The Janus client's protocol handling, against a scripted HTTP transport (the real Janus is in
test_janus_media.py): acks and events, events kept for later, error mapping, node choice, the PF 4.21 guard."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from kinship.calls.media.base import (
    MediaError,
    NodeUnavailable,
    NoHealthyNode,
    NoSuchRoom,
    NoSuchSession,
    Publisher,
    Room,
    Secret,
    Stream,
)
from kinship.calls.media.janus import JanusMediaServer, JanusNode

A = JanusNode("http://10.0.0.1:8088/janus", "http://10.0.0.1:7088/admin")
B = JanusNode("http://10.0.0.2:8088/janus", "http://10.0.0.2:7088/admin")
OFFER = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
ANSWER = OFFER.replace("a=mid", "a=recvonly\r\na=mid")

Handler = Callable[[httpx.Request, dict[str, Any]], Any]


def client(
    handler: Handler, nodes: list[JanusNode] | None = None, *, spare_handles: int = 0
) -> JanusMediaServer:
    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        reply = handler(request, body)
        if isinstance(reply, httpx.Response):
            return reply
        if isinstance(reply, dict) and "transaction" in body:
            reply.setdefault("transaction", body["transaction"])
        return httpx.Response(200, json=reply)

    return JanusMediaServer(
        nodes=nodes or [A],
        admin_secret=Secret("admin-secret-0123456789"),
        admin_key=Secret("admin-key-0123456789"),
        timeout=2,
        transport=httpx.MockTransport(respond),
        spare_handles=spare_handles,
    )


def healthy(sessions: int) -> Handler:
    def handle(request: httpx.Request, body: dict[str, Any]) -> Any:
        if request.url.path.endswith("/info"):
            return {"janus": "server_info"}
        if body.get("janus") == "list_sessions":
            assert body["admin_secret"] == "admin-secret-0123456789"
            return {"janus": "success", "sessions": list(range(sessions))}
        raise AssertionError(f"unexpected {request.url} {body}")

    return handle


def room_on(node: JanusNode) -> Room:
    return Room(
        node=node.url, room_id=7, call_id="c", record=False, rec_dir=None, secret=Secret("s"), pin=Secret("p")
    )


def test_the_least_loaded_healthy_node_is_chosen() -> None:
    loads = {"10.0.0.1": 5, "10.0.0.2": 2}

    def handle(request: httpx.Request, body: dict[str, Any]) -> Any:
        return healthy(loads[request.url.host])(request, body)

    assert client(handle, [A, B]).pick_node() == B.url
    loads["10.0.0.2"] = 9
    assert client(handle, [A, B]).pick_node() == A.url


def test_a_node_that_does_not_answer_is_unhealthy() -> None:
    def handle(request: httpx.Request, body: dict[str, Any]) -> Any:
        if request.url.host == "10.0.0.1":
            raise httpx.ConnectError("refused", request=request)
        return healthy(50)(request, body)

    media = client(handle, [A, B])
    down, up = media.nodes()
    assert not down.healthy
    assert "unavailable" in down.error
    assert up.healthy
    assert up.sessions == 50
    assert media.pick_node() == B.url

    def all_down(request: httpx.Request, body: dict[str, Any]) -> Any:
        return httpx.Response(503)

    with pytest.raises(NoHealthyNode):
        client(all_down, [A, B]).pick_node()


def test_a_wrong_admin_secret_makes_a_node_unhealthy() -> None:
    def handle(request: httpx.Request, body: dict[str, Any]) -> Any:
        if request.url.path.endswith("/info"):
            return {"janus": "server_info"}
        return {"janus": "error", "error": {"code": 403, "reason": "Unauthorized request"}}

    (status,) = client(handle).nodes()
    assert not status.healthy
    assert "403" in status.error


class ScriptedJanus:
    """Sessions and handles, acks for asynchronous requests, events out of order on the long poll."""

    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.destroyed: list[str] = []

    def __call__(self, request: httpx.Request, body: dict[str, Any]) -> Any:
        path = request.url.path.removeprefix("/janus").strip("/").split("/")
        if request.method == "GET":
            events, self.queued = self.queued, []
            return events
        kind = body.get("janus")
        if kind == "create":
            return {"janus": "success", "data": {"id": 11}}
        if kind == "attach":
            return {"janus": "success", "data": {"id": 22}}
        if kind == "destroy":
            self.destroyed.append(path[0])
            return {"janus": "success"}
        if kind == "message":
            self.requests.append(body["body"])
            return self.message(body)
        raise AssertionError(body)

    def message(self, body: dict[str, Any]) -> Any:
        request, transaction = body["body"]["request"], body["transaction"]
        if request == "joinandconfigure" and body["body"]["ptype"] == "publisher":
            assert body["jsep"]["type"] == "offer"
            # Janus's webrtcup can come before the transaction's event; it must be kept for wait_for_media.
            self.queued.append({"janus": "webrtcup", "session_id": 11, "sender": 22})
            self.queued.append({"janus": "keepalive"})
            self.queued.append(
                self.event(
                    transaction,
                    {"videoroom": "joined", "id": 33, "private_id": 44},
                    {"type": "answer", "sdp": ANSWER},
                )
            )
            return {"janus": "ack"}
        if request == "join":
            self.queued.append(
                self.event(
                    transaction,
                    {
                        "videoroom": "attached",
                        "streams": [{"type": "audio", "mid": "0", "feed_id": 33}],
                    },
                    {"type": "offer", "sdp": OFFER},
                )
            )
            return {"janus": "ack"}
        if request == "kick":
            return {
                "janus": "success",
                "plugindata": {
                    "data": {"videoroom": "event", "error_code": 426, "error": "No such room (7)"}
                },
            }
        raise AssertionError(body)

    @staticmethod
    def event(transaction: str, data: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "janus": "event",
            "session_id": 11,
            "sender": 22,
            "transaction": transaction,
            "plugindata": {"plugin": "janus.plugin.videoroom", "data": data},
        }
        if jsep:
            event["jsep"] = jsep
        return event


def test_publishing_waits_for_the_answer_and_keeps_other_events() -> None:
    janus = ScriptedJanus()
    media = client(janus)
    publisher = media.join_publisher(room_on(A), participant="resident", offer_sdp=OFFER)
    assert publisher.feed_id == 33
    assert publisher.answer_sdp == ANSWER
    assert [(s.kind, s.mid) for s in publisher.streams] == [("audio", "0"), ("video", "1")]
    # One request joins and publishes.
    assert janus.requests == [
        {
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": 7,
            "pin": "p",
            "display": "resident",
        }
    ]
    media.wait_for_media(publisher, timeout=1)  # the webrtcup that came first


def test_a_video_only_subscription_asks_for_the_video_mids_and_refuses_audio() -> None:
    janus = ScriptedJanus()
    media = client(janus)
    room = room_on(A)
    feed = Publisher(
        room=room,
        participant="resident",
        session_id=1,
        handle_id=2,
        feed_id=33,
        answer_sdp="",
        streams=(Stream(33, "audio", "0"), Stream(33, "video", "1")),
    )
    # This scripted Janus (wrongly) offers audio: the client refuses it and ends the session it opened.
    with pytest.raises(MediaError, match=r"PF 4\.21"):
        media.subscribe(room, participant="monitor", feeds=[feed], video_only=True)
    assert janus.requests[-1]["streams"] == [{"feed": 33, "mid": "1"}]
    assert janus.destroyed == ["11"]


def test_errors_are_mapped() -> None:
    media = client(ScriptedJanus())
    with pytest.raises(NoSuchRoom) as raised:
        media.kick(room_on(A), feed_id=33)
    assert raised.value.code == 426

    def gone(request: httpx.Request, body: dict[str, Any]) -> Any:
        return {"janus": "error", "error": {"code": 458, "reason": "No such session 11"}}

    endpoint = Publisher(room_on(A), "r", 11, 22, 33, "", ())
    with pytest.raises(NoSuchSession):
        client(gone).trickle(endpoint, None)

    def refused(request: httpx.Request, body: dict[str, Any]) -> Any:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(NodeUnavailable):
        client(refused).trickle(endpoint, {"candidate": "c", "sdpMid": "0"})
    with pytest.raises(NodeUnavailable, match="not a configured"):
        client(refused).trickle(Publisher(room_on(B), "r", 11, 22, 33, "", ()), None)


def test_keepalives_go_to_every_owned_session() -> None:
    janus = ScriptedJanus()
    sent: list[str] = []

    def handle(request: httpx.Request, body: dict[str, Any]) -> Any:
        if body.get("janus") == "keepalive":
            sent.append(request.url.path)
            return {"janus": "ack"}
        return janus(request, body)

    media = client(handle)
    media.join_publisher(room_on(A), participant="resident", offer_sdp=OFFER)
    media.keepalive()
    assert sent == ["/janus/11"]
    media.close()


class NumberedJanus:
    """Sessions numbered from 101 with handle = session + 1000, a log of what was asked in order, and sessions
    that Janus no longer knows (as after a restart): their requests are refused with error 458."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.next_session = 101
        self.gone: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request, body: dict[str, Any]) -> Any:
        path = request.url.path.removeprefix("/janus").strip("/").split("/")
        session = int(path[0]) if path[0] else 0
        kind = "poll" if request.method == "GET" else str(body.get("janus"))
        with self.lock:
            self.log.append((kind, session))
            if session in self.gone:
                return {"janus": "error", "error": {"code": 458, "reason": f"No such session {session}"}}
            if kind == "create":
                self.next_session += 1
                return {"janus": "success", "data": {"id": self.next_session - 1}}
        if kind == "attach":
            return {"janus": "success", "data": {"id": session + 1000}}
        if kind in ("destroy", "keepalive"):
            return {"janus": "success"}
        if kind == "message":
            assert body["body"]["request"] == "joinandconfigure"
            return {
                "janus": "event",
                "sender": session + 1000,
                "plugindata": {"data": {"videoroom": "joined", "id": 900 + session}},
                "jsep": {"type": "answer", "sdp": ANSWER},
            }
        raise AssertionError(body)

    def opened(self) -> list[int]:
        with self.lock:
            return [session for kind, session in self.log if kind == "attach"]


def wait_until(ready: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_participant_joins_on_a_spare_handle_and_the_spare_is_replaced() -> None:
    janus = NumberedJanus()
    media = client(janus, spare_handles=2)
    try:
        # No spare is kept unless asked for, and never without the keepalive (it would die after Janus's 60 s
        # session timeout).
        media.start_keepalive(interval=3600)
        media.join_publisher(room_on(A), participant="first", offer_sdp=OFFER)
        time.sleep(0.2)
        assert janus.opened() == [101]
        media.close()
        media = client(janus, spare_handles=2)
        media.keep_spare_handles()
        media.join_publisher(room_on(A), participant="second", offer_sdp=OFFER)
        time.sleep(0.2)
        assert janus.opened() == [101, 102]
        media.start_keepalive(interval=3600)
        media.keep_spare_handles()
        wait_until(lambda: janus.opened() == [101, 102, 103, 104])
        before = len(janus.log)

        publisher = media.join_publisher(room_on(A), participant="resident", offer_sdp=OFFER)

        # Straight to the join on the oldest spare, opened before the participant came: no session created or
        # handle attached on the way (the replacement spare is opened meanwhile, in the background).
        assert (publisher.session_id, publisher.handle_id, publisher.feed_id) == (103, 1103, 1003)
        assert ("attach", 103) in janus.log[:before]
        assert ("message", 103) in janus.log[before:]
        wait_until(lambda: janus.opened() == [101, 102, 103, 104, 105])  # and a new spare replaces it
    finally:
        media.close()
    # Closing ends the spares with the client.
    assert {("destroy", 104), ("destroy", 105)} <= set(janus.log)


@contextmanager
def a_spare_janus_forgot(janus: NumberedJanus) -> Iterator[JanusMediaServer]:
    """A client keeping one spare (session 101) that Janus then no longer knows, as after a restart."""
    media = client(janus, spare_handles=1)
    try:
        media.start_keepalive(interval=3600)
        media.keep_spare_handles()
        wait_until(lambda: janus.opened() == [101])
        janus.gone.add(101)
        yield media
    finally:
        media.close()


def test_a_spare_lost_with_a_janus_restart_is_dropped_for_a_fresh_handle() -> None:
    janus = NumberedJanus()
    with a_spare_janus_forgot(janus) as media:
        publisher = media.join_publisher(room_on(A), participant="resident", offer_sdp=OFFER)

        assert publisher.session_id != 101
        assert ("message", 101) in janus.log
        assert ("destroy", 101) in janus.log


def test_spare_handles_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        JanusMediaServer(
            nodes=[A], admin_secret=Secret("a" * 20), admin_key=Secret("b" * 20), spare_handles=-1
        )


def test_a_spare_the_keepalive_finds_gone_is_replaced() -> None:
    janus = NumberedJanus()
    with a_spare_janus_forgot(janus) as media:
        media.keepalive()

        wait_until(lambda: janus.opened() == [101, 102])
        assert media.spare_sessions() == 1
        assert media.join_publisher(room_on(A), participant="resident", offer_sdp=OFFER).session_id == 102
