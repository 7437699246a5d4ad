"""The media watchdog against a real Janus: a live call with two aiortc peers sending to each other; Janus is
killed with SIGKILL and within ten seconds the call is failed, the minutes are back in the allowance ledger, the
booking is in the review queue and both sides' sockets are told. A hung Janus (SIGSTOP: connections accepted,
never answered) and a room destroyed behind Kinship's back (the node still answering) fail their calls the same
way.

This module starts a Janus of its own (other ports, another RTP range, in a network namespace of its own), since
it kills it: the session-scoped Janus of ``test_janus_media`` is shared by other tests. Its helpers (``inside``,
``Peers``, ``publish``, ``subscribe``) are reused as they are. Needs root, ``ip netns`` and ``janus``; without
them the tests skip and say why.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from kinship.bookings.models import AllowanceEntry, BookingReview, BookingStatus, LedgerReason
from kinship.calls import services, signalling
from kinship.calls.media import config
from kinship.calls.media.janus import JanusMediaServer, JanusNode
from kinship.calls.models import Call, CallParty, CallState, EndpointRole, EndReason
from kinship.calls.watchdog import NODE_LOST_NOTE, ROOM_LOST_NOTE, MediaWatchdog

from .conftest import NAMESPACE_SAFE_DATABASE, Place, book, off_the_loop
from .test_janus_media import (  # noqa: F401 (_time_limit: the autouse fixture, with this module's limit)
    Peers,
    _run,
    _time_limit,
    frames,
    inside,
    media_client,
    publish,
    subscribe,
    wait_for,
)

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True), NAMESPACE_SAFE_DATABASE]

#: Not the shared Janus's 8088/7088 and 20000-20999.
API = "http://127.0.0.1:8288/janus"
ADMIN = "http://127.0.0.1:7288/admin"
RTP_PORTS = (22000, 22999)
DETECT_WITHIN_SECONDS = 10.0
TEST_TIMEOUT_SECONDS = 90


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    if shutil.which("janus") is None:
        pytest.skip("the janus binary is missing (apt-get install janus janus-tools)")
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace for ICE needs root (CI runs as root)")
    name = f"kinship-watch-{uuid.uuid4().hex[:8]}"
    created = _run("ip", "netns", "add", name)
    if created.returncode != 0:
        pytest.skip(f"ip netns add failed: {created.stderr.strip()}")
    try:
        for step in (
            ("link", "set", "lo", "up"),
            ("link", "add", "v0", "type", "veth", "peer", "name", "v1"),
            ("addr", "add", "127.0.0.2/32", "dev", "v0"),
            ("link", "set", "v0", "up"),
            ("link", "set", "v1", "up"),
        ):
            result = _run("ip", "-n", name, *step)
            if result.returncode != 0:
                pytest.skip(f"setting up the namespace failed (ip {' '.join(step)}): {result.stderr.strip()}")
        yield name
    finally:
        _run("ip", "netns", "delete", name)


@dataclass
class OwnJanus:
    namespace: str
    process: subprocess.Popen[bytes]
    admin_secret: str
    admin_key: str
    log: Path


@pytest.fixture
def own_janus(namespace: str, tmp_path: Path) -> Iterator[OwnJanus]:
    """A Janus for this test alone, started as test_janus_media starts the shared one."""
    admin_secret, admin_key = "secret" + uuid.uuid4().hex, "key" + uuid.uuid4().hex
    config.write(
        config.JanusConfig.for_node(
            url=API, admin_url=ADMIN, admin_secret=admin_secret, admin_key=admin_key, rtp_port_range=RTP_PORTS
        ),
        tmp_path / "config",
    )
    (tmp_path / "work").mkdir()
    log = tmp_path / "janus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            ["ip", "netns", "exec", namespace, "janus", "-F", str(tmp_path / "config"), "-o", "--log-stdout"],  # noqa: S607
            cwd=tmp_path / "work",
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        with inside(namespace):
            while True:
                try:
                    if httpx.get(f"{API}/info", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Janus did not start; its log:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield OwnJanus(namespace, process, admin_secret, admin_key, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def media(own_janus: OwnJanus, settings: Any) -> Iterator[JanusMediaServer]:
    settings.JANUS_RECORDINGS_DIR = Path(own_janus.log.parent / "recordings")
    with inside(own_janus.namespace):
        server = media_client(own_janus, nodes=[JanusNode(API, ADMIN)], timeout=5)  # this module's own Janus
        try:
            yield server
        finally:
            server.close()


@pytest.fixture
def peers(own_janus: OwnJanus) -> Iterator[Peers]:
    running = Peers(own_janus.namespace)
    try:
        yield running
    finally:
        running.stop()


def live_call_with_media(prison: Place, media: JanusMediaServer, peers: Peers) -> Call:
    """A live prison call on the real Janus: the resident and the contact each publish synthetic audio and video
    and receive the other, with the sessions recorded as the signalling layer records them."""
    booking = book(prison.establishment, start=timezone.now() - timedelta(minutes=1))
    AllowanceEntry.objects.create(
        resident=booking.resident,
        month=booking.slot.starts_at.strftime("%Y-%m"),
        minutes=-60,
        reason=LedgerReason.BOOKING,
        booking=booking,
    )
    call = services.call_open(booking=booking, media=media)
    assert call.has_room, "the room was not created on the test's Janus"
    services.call_check_in(call=call, party=CallParty.RESIDENT, actor=prison.officer)
    services.call_check_in(call=call, party=CallParty.OFFICER, actor=prison.officer)
    services.monitor_viewing_start(
        call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine monitoring"
    )
    call = services.call_start(call=call, actor=prison.officer)
    room = call.media_room()
    resident = publish(media, peers, room, "resident")
    contact = publish(media, peers, room, "contact")
    services.call_endpoint_record(call=call, role=EndpointRole.RESIDENT, endpoint=resident)
    services.call_endpoint_record(call=call, role=EndpointRole.CONTACT, endpoint=contact)
    for name, role, feed in (
        ("resident-sees-contact", EndpointRole.RESIDENT, contact),
        ("contact-sees-resident", EndpointRole.CONTACT, resident),
    ):
        view = subscribe(media, peers, room, name, [feed], video_only=False)
        services.call_endpoint_record(call=call, role=role, endpoint=view)
    parties = ("resident-sees-contact", "contact-sees-resident")
    stats = wait_for(peers, lambda s: all(frames(s, p, "video") >= 15 for p in parties))
    assert all(frames(stats, p, "video") >= 15 for p in parties), stats
    return call


class Socket:
    """A channel in the call's group, as each side's WebSocket consumer is: what the services push reaches it."""

    def __init__(self, call: Call) -> None:
        self.layer = get_channel_layer()
        assert self.layer is not None
        self.name = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(signalling.group_name(call.pk), self.name)

    def received(self) -> dict[str, Any]:
        async def receive() -> dict[str, Any]:
            return await asyncio.wait_for(self.layer.receive(self.name), timeout=3)

        return async_to_sync(receive)()


def watch_until_failed(watchdog: MediaWatchdog, call: Call, within: float) -> float:
    """Runs the watchdog every 2 s, as ``manage.py media_watch --every 2`` does; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within + 2:
        watchdog.check()
        if Call.objects.get(pk=call.pk).state == CallState.FAILED:
            return time.monotonic() - started
        time.sleep(max(0.0, 2.0 - (time.monotonic() - started) % 2.0))
    return time.monotonic() - started


def assert_failed_and_credited(call: Call, note: str) -> None:
    call.refresh_from_db()
    assert call.state == CallState.FAILED
    assert call.end_reason == EndReason.MEDIA_NODE_LOST
    assert call.end_note == note
    credit = AllowanceEntry.objects.get(booking=call.booking, minutes=60)
    assert credit.reason == LedgerReason.TECHNICAL_FAILURE
    assert (
        BookingReview.objects.get(booking=call.booking, closed_at__isnull=True).cause == "technical_failure"
    )
    call.booking.refresh_from_db()
    assert call.booking.status == BookingStatus.FAILED
    assert not call.endpoints.filter(ended_at__isnull=True).exists()


def test_killing_janus_fails_the_live_call_within_ten_seconds(
    own_janus: OwnJanus, media: JanusMediaServer, peers: Peers, prison: Place
) -> None:
    off_the_loop(lambda: _kill_and_watch(own_janus, media, peers, prison))


def _kill_and_watch(own_janus: OwnJanus, media: JanusMediaServer, peers: Peers, prison: Place) -> None:
    with inside(own_janus.namespace):
        call = live_call_with_media(prison, media, peers)
        resident_side, contact_side = Socket(call), Socket(call)
        watchdog = MediaWatchdog(media)
        assert watchdog.check().failed == []  # healthy, and the room is there

        os.kill(own_janus.process.pid, signal.SIGKILL)
        killed_at = timezone.now()
        took = watch_until_failed(watchdog, call, DETECT_WITHIN_SECONDS)

    assert own_janus.process.wait(timeout=5) == -signal.SIGKILL
    assert_failed_and_credited(call, NODE_LOST_NOTE)
    # The failure is decided (and its time recorded) within ten seconds of the kill. ``took`` also counts what
    # the test profile runs inline after the commit (the recording task), which a worker does in production.
    failed_after = (call.ended_at - killed_at).total_seconds()
    assert failed_after <= DETECT_WITHIN_SECONDS, f"the call was failed {failed_after:.1f} s after the kill"
    assert took <= DETECT_WITHIN_SECONDS + 5
    # Both sides are told: each socket of the call gets the final state (the consumer then sends ``end``).
    for side in (resident_side, contact_side):
        pushed = side.received()
        assert pushed["type"] == "call.state"
        assert pushed["state"] == "failed"
        assert pushed["end_reason"] == EndReason.MEDIA_NODE_LOST
    print(f"\nwatchdog: call failed {failed_after:.1f} s after kill -9")


def test_a_room_destroyed_behind_kinship_s_back_fails_its_call(
    own_janus: OwnJanus, media: JanusMediaServer, peers: Peers, prison: Place
) -> None:
    with inside(own_janus.namespace):
        call = live_call_with_media(prison, media, peers)
        watchdog = MediaWatchdog(media)
        assert watchdog.check().failed == []
        # Someone with the room secret destroys it outside Kinship; the node goes on answering.
        room = call.media_room()
        media._control(API, {"request": "destroy", "room": room.room_id, "secret": room.secret.reveal()})
        destroyed_at = timezone.now()
        watch_until_failed(watchdog, call, DETECT_WITHIN_SECONDS)
        assert media.nodes()[0].healthy
    assert_failed_and_credited(call, ROOM_LOST_NOTE)
    assert (call.ended_at - destroyed_at).total_seconds() <= DETECT_WITHIN_SECONDS
    assert own_janus.process.poll() is None


def test_a_hung_janus_fails_the_call_within_ten_seconds_without_waiting_on_it(
    own_janus: OwnJanus, media: JanusMediaServer, peers: Peers, prison: Place
) -> None:
    with inside(own_janus.namespace):
        call = live_call_with_media(prison, media, peers)
        watchdog = MediaWatchdog(media)
        assert watchdog.check().failed == []
        # SIGSTOP: the kernel still accepts connections, nothing answers them; each probe times out (1.5 s).
        os.kill(own_janus.process.pid, signal.SIGSTOP)
        try:
            stopped_at = timezone.now()
            took = watch_until_failed(watchdog, call, DETECT_WITHIN_SECONDS)
        finally:
            os.kill(own_janus.process.pid, signal.SIGCONT)
    assert_failed_and_credited(call, NODE_LOST_NOTE)
    failed_after = (call.ended_at - stopped_at).total_seconds()
    assert failed_after <= DETECT_WITHIN_SECONDS, f"the call was failed {failed_after:.1f} s after Janus hung"
    # The teardown did not wait on the hung node (the client's own timeout is 5 s a request).
    assert took <= DETECT_WITHIN_SECONDS + 5
    print(f"\nwatchdog: call failed {failed_after:.1f} s after Janus hung")
