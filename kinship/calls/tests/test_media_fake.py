"""The fake media server behaves like the real one where the call logic will depend on it."""

from __future__ import annotations

import json
import pickle

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.template import Context, Template

from kinship.calls.media import sdp
from kinship.calls.media.base import (
    MediaServer,
    NoHealthyNode,
    NoSuchFeed,
    NoSuchRoom,
    NoSuchSession,
    Secret,
    Unauthorized,
)
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.media.janus import JanusMediaServer

OFFER = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"


def test_both_implementations_satisfy_the_protocol() -> None:
    assert isinstance(FakeMediaServer(), MediaServer)
    assert issubclass(JanusMediaServer, MediaServer)


def test_a_call_with_a_video_only_monitor() -> None:
    media = FakeMediaServer()
    room = media.create_room(call_id="c1", record=True, rec_dir="/tmp/rec")  # noqa: S108
    resident = media.join_publisher(room, participant="resident", offer_sdp=OFFER)
    contact = media.join_publisher(room, participant="contact", offer_sdp=OFFER)
    assert [s.kind for s in resident.streams] == ["audio", "video"]
    view = media.subscribe(room, participant="contact", feeds=[resident], video_only=False)
    monitor = media.subscribe(room, participant="monitor", feeds=[resident, contact], video_only=True)
    assert [kind for kind, _ in sdp.media_sections(monitor.offer_sdp)] == ["video", "video"]
    assert "m=audio" not in monitor.offer_sdp
    media.start_subscription(view, answer_sdp="answer")
    media.start_subscription(monitor, answer_sdp="answer")
    assert media.delivering(view) == {"audio", "video"}
    assert media.delivering(monitor) == {"video"}

    media.pause_subscription(view)
    assert media.delivering(view) == set()
    assert media.delivering(monitor) == {"video"}
    media.resume_subscription(view)
    assert media.delivering(view) == {"audio", "video"}


def test_destroying_a_room_ends_every_session_subscribers_included() -> None:
    media = FakeMediaServer()
    room = media.create_room(call_id="c1", record=False)
    resident = media.join_publisher(room, participant="resident", offer_sdp=OFFER)
    monitor = media.subscribe(room, participant="monitor", feeds=[resident], video_only=True)
    media.destroy_room(room)
    assert media.nodes()[0].sessions == 0
    assert media.delivering(monitor) == set()
    with pytest.raises(NoSuchSession):
        media.pause_subscription(monitor)
    with pytest.raises(NoSuchRoom):
        media.join_publisher(room, participant="late", offer_sdp=OFFER)
    media.destroy_room(room)  # again: nothing to do


def test_errors_match_the_real_server() -> None:
    media = FakeMediaServer()
    room = media.create_room(call_id="c1", record=False)
    other = media.create_room(call_id="c2", record=False)
    stranger = media.join_publisher(other, participant="x", offer_sdp=OFFER)
    with pytest.raises(NoSuchFeed) as raised:
        media.subscribe(room, participant="y", feeds=[stranger], video_only=False)
    assert raised.value.code == 428
    with pytest.raises(NoSuchFeed):
        media.kick(room, feed_id=stranger.feed_id)
    forged = type(room)(**{**room.__dict__, "secret": Secret("guess")})
    with pytest.raises(Unauthorized):
        media.destroy_room(forged)
    with pytest.raises(ValueError, match="rec_dir"):
        media.create_room(call_id="c3", record=True)


def test_kicked_and_departed_feeds_stop_flowing() -> None:
    media = FakeMediaServer()
    room = media.create_room(call_id="c1", record=False)
    resident = media.join_publisher(room, participant="resident", offer_sdp=OFFER)
    view = media.subscribe(room, participant="contact", feeds=[resident], video_only=False)
    media.start_subscription(view, answer_sdp="answer")
    media.kick(room, feed_id=resident.feed_id)
    assert media.delivering(view) == set()
    with pytest.raises(NoSuchFeed):
        media.subscribe(room, participant="contact", feeds=[resident], video_only=False)


def test_calls_go_to_the_least_loaded_healthy_node() -> None:
    media = FakeMediaServer(nodes=["fake://a", "fake://b"])
    first = media.create_room(call_id="c1", record=False)
    media.join_publisher(first, participant="r", offer_sdp=OFFER)
    assert first.node == "fake://a"
    assert media.create_room(call_id="c2", record=False).node == "fake://b"
    media.healthy["fake://b"] = False
    assert media.create_room(call_id="c3", record=False).node == "fake://a"
    media.healthy["fake://a"] = False
    with pytest.raises(NoHealthyNode):
        media.create_room(call_id="c4", record=False)


def test_room_secrets_have_no_path_to_a_page_or_json() -> None:
    room = FakeMediaServer().create_room(call_id="c1", record=False)
    secret = room.secret.reveal()
    assert secret not in repr(room)
    assert secret not in str(room.pin) + str(room.secret)
    rendered = Template("{{ room.secret }} {{ room.pin }} {{ room }}").render(Context({"room": room}))
    assert secret not in rendered
    assert room.pin.reveal() not in rendered
    with pytest.raises(TypeError):
        json.dumps({"secret": room.secret})
    with pytest.raises(TypeError):
        json.dumps({"pin": room.pin}, cls=DjangoJSONEncoder)
    with pytest.raises(TypeError):
        pickle.dumps(room)
