"""The media watchdog against the in-memory media server: a killed node or a lost room fails every open call on it
after two misses in a row (minutes back, review opened, both sides told), one slow answer does not, a
configuration error never does, and passes are idempotent."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from kinship.audit.models import AuditEvent
from kinship.bookings.models import AllowanceEntry, BookingReview, BookingStatus, LedgerReason
from kinship.calls import services
from kinship.calls.media.base import MediaTimeout, NoSuchRoom, Unauthorized
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import Call, CallState, EndReason
from kinship.calls.provider import media_server_reset
from kinship.calls.watchdog import NODE_LOST_NOTE, ROOM_LOST_NOTE, MediaWatchdog, WatchableMedia

from .conftest import Place
from .test_lifecycle import NOW, _balance, _charge, live, opened, ready

pytestmark = pytest.mark.django_db

NODE = "fake://node-1"


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """The state pushes the services make after the commit (to both sides' sockets)."""
    sent: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        services,
        "notify_call_state",
        lambda call, event=None: sent.append((str(call.pk), event or call.state)),
    )
    return sent


def test_both_media_servers_can_be_watched() -> None:
    from kinship.calls.media.janus import JanusMediaServer

    assert isinstance(FakeMediaServer(), WatchableMedia)
    assert issubclass(JanusMediaServer, WatchableMedia)


def test_a_killed_node_fails_its_calls_on_the_second_miss(
    prison: Place,
    fake_media: FakeMediaServer,
    pushes: list[tuple[str, str | None]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    call = live(prison, fake_media)
    _charge(call)
    watchdog = MediaWatchdog(fake_media)
    assert watchdog.check(now=NOW).failed == []

    fake_media.kill_node(NODE)
    first = watchdog.check(now=NOW)
    assert first.failed == []
    assert first.suspect == 1
    assert Call.objects.get(pk=call.pk).state == CallState.LIVE

    with django_capture_on_commit_callbacks(execute=True):
        second = watchdog.check(now=NOW + timedelta(seconds=2))
    assert second.failed == [call.pk]
    call.refresh_from_db()
    assert call.state == CallState.FAILED
    assert call.end_reason == EndReason.MEDIA_NODE_LOST
    assert call.end_note == NODE_LOST_NOTE
    assert call.ended_at == NOW + timedelta(seconds=2)
    assert call.ended_by is None
    # PF 4.1: the minutes are given back; PF 4.8: the booking goes to the review queue for rebooking.
    assert _balance(call) == 0
    credit = AllowanceEntry.objects.get(booking=call.booking, minutes=60)
    assert credit.reason == LedgerReason.TECHNICAL_FAILURE
    assert BookingReview.objects.get(booking=call.booking).cause == "technical_failure"
    call.booking.refresh_from_db()
    assert call.booking.status == BookingStatus.FAILED
    event = AuditEvent.objects.get(subject_id=str(call.pk), action="call_failed")
    assert event.actor is None
    assert {"PF 4.1", "PF 4.8"} <= set(event.policy_ids)
    assert "lost" in event.after["media_error"]  # the dead node was not asked to destroy the room
    assert pushes == [(str(call.pk), CallState.FAILED)]

    # Idempotent: nothing more happens on the next passes.
    assert watchdog.check(now=NOW + timedelta(seconds=4)).failed == []
    assert AuditEvent.objects.filter(subject_id=str(call.pk), action="call_failed").count() == 1


def test_ready_and_paused_calls_fail_too_but_scheduled_ones_are_left_to_the_clock(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    scheduled = opened(prison, fake_media)
    waiting = ready(opened(prison, fake_media), prison)
    paused = live(prison, fake_media)
    services.call_pause(call=paused, actor=prison.officer, reason="Dress", media=fake_media, now=NOW)
    watchdog = MediaWatchdog(fake_media)
    fake_media.kill_node(NODE)
    watchdog.check(now=NOW)
    assert sorted(watchdog.check(now=NOW).failed) == sorted([waiting.pk, paused.pk])
    assert Call.objects.get(pk=scheduled.pk).state == CallState.SCHEDULED


def test_one_slow_answer_does_not_end_a_call(prison: Place, fake_media: FakeMediaServer) -> None:
    call = live(prison, fake_media)
    watchdog = MediaWatchdog(fake_media)
    fake_media.answering[NODE] = False
    assert watchdog.check(now=NOW).suspect == 1
    fake_media.answering[NODE] = True
    assert watchdog.check(now=NOW).suspect == 0
    fake_media.answering[NODE] = False
    assert watchdog.check(now=NOW).failed == []  # a miss, then an answer, then a miss: never two in a row
    assert Call.objects.get(pk=call.pk).state == CallState.LIVE
    # Two in a row do: a hung node is as lost as a dead one, and its teardown is not waited for.
    assert watchdog.check(now=NOW).failed == [call.pk]


def test_a_lost_room_fails_the_call_while_the_node_answers(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    call = live(prison, fake_media)
    other = live(prison, fake_media)
    watchdog = MediaWatchdog(fake_media)
    fake_media.lose_room(call.janus_room_id)
    assert watchdog.check(now=NOW).failed == []
    assert watchdog.check(now=NOW).failed == [call.pk]
    call.refresh_from_db()
    assert call.state == CallState.FAILED
    assert call.end_note == ROOM_LOST_NOTE
    assert BookingReview.objects.get(booking=call.booking).cause == "technical_failure"
    assert Call.objects.get(pk=other.pk).state == CallState.LIVE


def test_a_call_ended_between_two_misses_is_left_alone(prison: Place, fake_media: FakeMediaServer) -> None:
    call = live(prison, fake_media)
    watchdog = MediaWatchdog(fake_media)
    room = call.media_room()
    fake_media.destroy_room(room)  # the officer's end has destroyed the room but not yet committed
    assert watchdog.check(now=NOW).failed == []
    services.call_end(call=call, actor=prison.officer, media=fake_media, now=NOW)
    assert watchdog.check(now=NOW).failed == []
    call.refresh_from_db()
    assert call.state == CallState.ENDED
    assert watchdog.room_misses == {}


def test_a_call_failed_elsewhere_meanwhile_is_only_logged(
    prison: Place, fake_media: FakeMediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = live(prison, fake_media)
    watchdog = MediaWatchdog(fake_media)
    fake_media.kill_node(NODE)
    watchdog.check(now=NOW)
    real_fail = services.call_fail

    def raced(**kwargs: Any) -> Call:
        # Another process (the clock) fails the call first; then the watchdog's own attempt is refused.
        real_fail(**{**kwargs, "note": "clock"})
        return real_fail(**kwargs)

    monkeypatch.setattr("kinship.calls.watchdog.call_fail", raced)
    result = watchdog.check(now=NOW)
    assert result.failed == []
    assert "cannot be marked as a technical failure" in result.errors[0]
    assert Call.objects.get(pk=call.pk).end_note == "clock"


def test_an_error_answer_is_not_a_lost_node(
    prison: Place, fake_media: FakeMediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = live(prison, fake_media)

    def refuse(node: str, *, timeout: float) -> set[int]:
        raise Unauthorized("Janus error 403: Unauthorized request (wrong or missing secret/token)", code=403)

    monkeypatch.setattr(fake_media, "rooms_on", refuse)
    watchdog = MediaWatchdog(fake_media)
    for _ in range(4):
        result = watchdog.check(now=NOW)
        assert result.failed == []
        assert "403" in result.errors[0]
    assert Call.objects.get(pk=call.pk).state == CallState.LIVE


def test_only_the_lost_node_s_calls_fail(prison: Place) -> None:
    media = FakeMediaServer(nodes=("fake://a", "fake://b"))
    first = live(prison, media)
    media.healthy[first.media_node] = False  # the second call goes to the other node
    second = live(prison, media)
    media.healthy[first.media_node] = True
    assert {first.media_node, second.media_node} == {"fake://a", "fake://b"}
    media.kill_node(first.media_node)
    watchdog = MediaWatchdog(media)
    watchdog.check(now=NOW)
    assert watchdog.check(now=NOW).failed == [first.pk]
    assert Call.objects.get(pk=second.pk).state == CallState.LIVE
    assert second.janus_room_id in media.rooms


def test_a_hung_node_is_not_asked_to_destroy_the_room(
    prison: Place, fake_media: FakeMediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = live(prison, fake_media)
    asked: list[int] = []
    monkeypatch.setattr(fake_media, "destroy_room", lambda room: asked.append(room.room_id))
    fake_media.answering[NODE] = False
    watchdog = MediaWatchdog(fake_media)
    watchdog.check(now=NOW)
    assert watchdog.check(now=NOW).failed == [call.pk]
    assert asked == []


def test_a_lost_room_is_destroyed_on_the_node_that_answers(
    prison: Place, fake_media: FakeMediaServer
) -> None:
    call = live(prison, fake_media)
    fake_media.lose_room(call.janus_room_id)
    with pytest.raises(NoSuchRoom):
        fake_media.recording(call.media_room())
    watchdog = MediaWatchdog(fake_media, confirm=1)
    assert watchdog.check(now=NOW).failed == [call.pk]
    assert Call.objects.get(pk=call.pk).room_destroyed_at is not None


def test_the_fake_node_behaves_as_a_dead_or_hung_janus(fake_media: FakeMediaServer) -> None:
    room = fake_media.create_room(call_id="c", record=False)
    assert fake_media.rooms_on(NODE, timeout=1) == {room.room_id}
    fake_media.answering[NODE] = False
    with pytest.raises(MediaTimeout):
        fake_media.rooms_on(NODE, timeout=1)
    assert not fake_media.nodes()[0].healthy
    fake_media.answering[NODE] = True
    fake_media.kill_node(NODE)
    with pytest.raises(Exception, match="connection refused"):
        fake_media.destroy_room(room)
    fake_media.revive_node(NODE)
    assert fake_media.rooms_on(NODE, timeout=1) == set()
    assert fake_media.nodes()[0].healthy


def test_the_command_fails_a_call_on_a_killed_node(
    prison: Place, fake_media: FakeMediaServer, capsys: Any
) -> None:
    call = live(prison, fake_media)
    _charge(call)
    fake_media.kill_node(NODE)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):
        call_command("media_watch", "--every", "0.5", "--passes", "2")
    call.refresh_from_db()
    assert call.state == CallState.FAILED
    assert _balance(call) == 0
    assert "1 calls failed" in capsys.readouterr().out


def test_the_command_idles_without_a_media_server(settings: Any, capsys: Any) -> None:
    settings.KINSHIP_MEDIA_SERVER = ""
    media_server_reset()
    call_command("media_watch", "--once")
    assert "idle" in capsys.readouterr().err


def test_the_run_loop_stops_when_told(fake_media: FakeMediaServer) -> None:
    stop = threading.Event()
    stop.set()
    assert MediaWatchdog(fake_media).run(every=2, stop=stop) == 0


def test_the_watchdog_is_in_the_procfile() -> None:
    from django.conf import settings

    procfile = (settings.BASE_DIR / "Procfile").read_text()
    assert "media: .venv/bin/python manage.py media_watch --every 2" in procfile


# --- The Janus client's probe, against a scripted HTTP transport ----------------------------------------------------


def test_the_janus_probe_lists_private_rooms_with_one_admin_request() -> None:
    from .test_media_janus_client import A, client

    seen: list[dict[str, Any]] = []

    def handle(request: Any, body: dict[str, Any]) -> Any:
        seen.append(body)
        assert str(request.url) == A.admin_url
        return {
            "janus": "success",
            "response": {"videoroom": "success", "list": [{"room": 7, "num_participants": 2}, {"room": 9}]},
        }

    media = client(handle)
    assert media.node_urls() == [A.url]
    assert media.rooms_on(A.url, timeout=1) == {7, 9}
    (body,) = seen
    assert body["janus"] == "message_plugin"
    assert body["plugin"] == "janus.plugin.videoroom"
    assert body["admin_secret"] == "admin-secret-0123456789"
    # The admin key makes Janus list private rooms (every Kinship room is private).
    assert body["request"] == {"request": "list", "admin_key": "admin-key-0123456789"}


def test_the_janus_probe_tells_a_dead_node_from_a_refusal() -> None:
    import httpx

    from kinship.calls.media.base import NodeUnavailable

    from .test_media_janus_client import A, client

    def refused(request: Any, body: dict[str, Any]) -> Any:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(NodeUnavailable):
        client(refused).rooms_on(A.url, timeout=1)

    def wrong_secret(request: Any, body: dict[str, Any]) -> Any:
        return {"janus": "error", "error": {"code": 403, "reason": "Unauthorized request"}}

    with pytest.raises(Unauthorized):
        client(wrong_secret).rooms_on(A.url, timeout=1)

    def wrong_key(request: Any, body: dict[str, Any]) -> Any:
        return {
            "janus": "success",
            "response": {"videoroom": "event", "error_code": 433, "error": "Unauthorized"},
        }

    with pytest.raises(Unauthorized):
        client(wrong_key).rooms_on(A.url, timeout=1)


def test_the_keepalive_forgets_a_session_janus_no_longer_has() -> None:
    from kinship.calls.media.janus import JanusMediaServer

    from .test_media_janus_client import A, client

    def handle(request: Any, body: dict[str, Any]) -> Any:
        assert body["janus"] == "keepalive"
        return {"janus": "error", "error": {"code": 458, "reason": "No such session 5"}}

    media: JanusMediaServer = client(handle)
    media._pending[(A.url, 5)] = []
    media.keepalive()
    assert (A.url, 5) not in media._pending
