"""The media plane against a real Janus: two parties see and hear each other, a monitor receives video and not one
audio packet (PF 4.21), an IRC call leaves no recording (DSO Annex A), a prison call leaves raw recordings
(PF 1.3), pausing a subscription stops only that subscriber, and destroying a room ends every session.

ICE cannot work over plain loopback here (Janus skips loopback interfaces, aioice drops 127.0.0.1), so a session
fixture creates a private network namespace with a veth pair on 127.0.0.2 and runs Janus and the aiortc peers
inside it; this process enters the namespace (``setns``) only for the duration of each test, to talk to Janus's API.
Needs root, ``ip netns`` and the ``janus`` binary; without them the tests skip and say why.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from kinship.calls.media import config
from kinship.calls.media.base import Publisher, Room, Secret, Subscription
from kinship.calls.media.janus import JanusMediaServer, JanusNode

pytestmark = pytest.mark.janus

TEST_TIMEOUT_SECONDS = 60
PEERS = Path(__file__).with_name("peers.py")
API = "http://127.0.0.1:8088/janus"
ADMIN = "http://127.0.0.1:7088/admin"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=15, check=False)  # noqa: S603


@contextlib.contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Moves this thread into the namespace's network (threads started meanwhile stay there) and back."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        os.setns(target, os.CLONE_NEWNET)
        yield
    finally:
        os.setns(own, os.CLONE_NEWNET)
        os.close(target)
        os.close(own)


@dataclass
class JanusUnderTest:
    namespace: str
    workdir: Path
    recordings: Path
    admin_secret: str
    admin_key: str
    log: Path


@pytest.fixture(scope="session")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JanusUnderTest]:
    if shutil.which("janus") is None:
        pytest.skip(
            "the janus binary is missing (apt-get install janus janus-tools; scripts/ensure-system-packages)"
        )
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace for ICE needs root (CI runs as root)")
    namespace = f"kinship-janus-{uuid.uuid4().hex[:8]}"
    created = _run("ip", "netns", "add", namespace)
    if created.returncode != 0:
        pytest.skip(f"ip netns add failed: {created.stderr.strip()}")
    process: subprocess.Popen[bytes] | None = None
    try:
        for step in (
            ("link", "set", "lo", "up"),
            ("link", "add", "v0", "type", "veth", "peer", "name", "v1"),
            ("addr", "add", "127.0.0.2/32", "dev", "v0"),
            ("link", "set", "v0", "up"),
            ("link", "set", "v1", "up"),
        ):
            result = _run("ip", "-n", namespace, *step)
            if result.returncode != 0:
                pytest.skip(f"setting up the namespace failed (ip {' '.join(step)}): {result.stderr.strip()}")
        root = tmp_path_factory.mktemp("janus")
        under_test = JanusUnderTest(
            namespace=namespace,
            workdir=root / "work",
            recordings=root / "recordings",
            admin_secret=Secret.__name__ + uuid.uuid4().hex,
            admin_key="key" + uuid.uuid4().hex,
            log=root / "janus.log",
        )
        under_test.workdir.mkdir()
        config.write(
            config.JanusConfig.for_node(
                url=API, admin_url=ADMIN, admin_secret=under_test.admin_secret, admin_key=under_test.admin_key
            ),
            root / "config",
        )
        with under_test.log.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603
                ["ip", "netns", "exec", namespace, "janus", "-F", str(root / "config"), "-o", "--log-stdout"],  # noqa: S607
                cwd=under_test.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        with inside(namespace):
            while True:
                try:
                    if httpx.get(f"{API}/info", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Janus did not start; its log:\n{under_test.log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield under_test
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        _run("ip", "netns", "delete", namespace)


@pytest.fixture(autouse=True)
def _time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """No test here (or in a module that imports this fixture) may hang: the whole test, fixtures included, is cut
    off after the module's TEST_TIMEOUT_SECONDS (this module's when it has none)."""
    limit = int(getattr(request.module, "TEST_TIMEOUT_SECONDS", TEST_TIMEOUT_SECONDS))

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"test exceeded {limit} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class HasSecrets(Protocol):
    admin_secret: str
    admin_key: str


def media_client(
    janus: HasSecrets, *, nodes: list[JanusNode] | None = None, **options: Any
) -> JanusMediaServer:
    """Kinship's client of a test Janus (``nodes``: the one at ``API`` unless given); make it inside the Janus's
    namespace."""
    return JanusMediaServer(
        nodes=nodes or [JanusNode(API, ADMIN)],
        admin_secret=Secret(janus.admin_secret),
        admin_key=Secret(janus.admin_key),
        **options,
    )


@pytest.fixture
def server(janus: JanusUnderTest) -> Iterator[JanusMediaServer]:
    with inside(janus.namespace):
        media = media_client(janus)
        try:
            yield media
        finally:
            media.close()


class Peers:
    """The aiortc peers process, one JSON line per command, every answer awaited with a deadline."""

    def __init__(self, namespace: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["ip", "netns", "exec", namespace, sys.executable, str(PEERS)],  # noqa: S607
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)

    def __call__(self, op: str, timeout: float = 15, **arguments: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        try:
            reply: dict[str, Any] = json.loads(self.replies.get(timeout=timeout))
        except queue.Empty:
            raise TimeoutError(f"peers did not answer {op} within {timeout} s") from None
        if "error" in reply:
            raise AssertionError(f"peers: {op} failed: {reply['error']}")
        return reply

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def peers(janus: JanusUnderTest) -> Iterator[Peers]:
    running = Peers(janus.namespace)
    try:
        yield running
    finally:
        running.stop()


def publish(server: JanusMediaServer, peers: Peers, room: Room, name: str) -> Publisher:
    offer = peers("publish", name=name)["sdp"]
    publisher = server.join_publisher(room, participant=name, offer_sdp=offer)
    peers("answer", name=name, sdp=publisher.answer_sdp)
    server.wait_for_media(publisher, timeout=10)
    return publisher


def subscribe(
    server: JanusMediaServer, peers: Peers, room: Room, name: str, feeds: list[Publisher], *, video_only: bool
) -> Subscription:
    subscription = server.subscribe(room, participant=name, feeds=feeds, video_only=video_only)
    answer = peers("subscribe", name=name, sdp=subscription.offer_sdp)["sdp"]
    server.start_subscription(subscription, answer_sdp=answer)
    return subscription


def wait_for(peers: Peers, ready: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = peers("stats")
        if ready(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.25)


def frames(stats: dict[str, Any], name: str, kind: str) -> int:
    return int(stats[name]["frames"].get(kind, 0))


def test_prison_call_monitor_receives_video_and_no_audio(
    janus: JanusUnderTest, server: JanusMediaServer, peers: Peers
) -> None:
    started = time.monotonic()
    rec_dir = janus.recordings / "prison-call"
    room = server.create_room(call_id="prison-call", record=True, rec_dir=str(rec_dir))
    resident = publish(server, peers, room, "resident")
    contact = publish(server, peers, room, "contact")
    subscribe(server, peers, room, "resident-sees-contact", [contact], video_only=False)
    subscribe(server, peers, room, "contact-sees-resident", [resident], video_only=False)
    monitor = subscribe(server, peers, room, "monitor", [resident, contact], video_only=True)

    # The monitor's offer carries two video m-lines and no audio m-line: Janus never sends it audio.
    assert [s.kind for s in monitor.streams] == ["video", "video"]
    assert {s.feed_id for s in monitor.streams} == {resident.feed_id, contact.feed_id}
    assert "m=audio" not in monitor.offer_sdp

    parties = ("resident-sees-contact", "contact-sees-resident")
    stats = wait_for(
        peers,
        lambda s: (
            all(frames(s, p, "video") >= 30 and frames(s, p, "audio") >= 100 for p in parties)
            and frames(s, "monitor", "video") >= 60
        ),
    )
    for party in parties:
        assert frames(stats, party, "video") >= 30, stats
        assert frames(stats, party, "audio") >= 100, stats
        assert stats[party]["tracks"] == ["audio", "video"]
    assert frames(stats, "monitor", "video") >= 60, stats
    assert stats["monitor"]["tracks"] == ["video", "video"]
    assert all(count >= 20 for _, count in stats["monitor"]["frames_per_track"]), stats["monitor"]
    assert stats["monitor"]["packets"].get("audio", 0) == 0
    assert frames(stats, "monitor", "audio") == 0
    print(f"\nmedia figures: {json.dumps(stats)} after {time.monotonic() - started:.1f} s")

    server.destroy_room(room)
    # Every session of the call is gone, the subscribers' included, and the monitor's connection ends.
    assert [node.sessions for node in server.nodes()] == [0]
    closed = wait_for(peers, lambda s: s["monitor"]["state"] in ("closed", "failed"), timeout=10)
    assert closed["monitor"]["state"] in ("closed", "failed"), closed["monitor"]

    # Janus recorded each publisher's audio and video (PF 1.3), into the call's own folder.
    for publisher in (resident, contact):
        for kind in ("audio", "video"):
            found = list(rec_dir.glob(f"videoroom-{room.room_id}-user-{publisher.feed_id}-*-{kind}-*.mjr"))
            assert len(found) == 1, sorted(p.name for p in rec_dir.iterdir())
            assert found[0].stat().st_size > 1000


def test_irc_call_is_never_recorded_and_pause_stops_only_that_subscriber(
    janus: JanusUnderTest, server: JanusMediaServer, peers: Peers
) -> None:
    rec_dir = janus.recordings / "irc-call"
    room = server.create_room(call_id="irc-call", record=False, rec_dir=str(rec_dir))
    resident = publish(server, peers, room, "resident")
    contact = publish(server, peers, room, "contact")
    resident_view = subscribe(server, peers, room, "resident-sees-contact", [contact], video_only=False)
    subscribe(server, peers, room, "contact-sees-resident", [resident], video_only=False)
    parties = ("resident-sees-contact", "contact-sees-resident")
    stats = wait_for(peers, lambda s: all(frames(s, p, "video") >= 20 for p in parties))
    assert all(frames(stats, p, "video") >= 20 for p in parties), stats

    # Pausing the resident's view stops what the resident receives; the contact's view keeps flowing.
    server.pause_subscription(resident_view)
    time.sleep(0.5)
    before = peers("stats")
    time.sleep(1.5)
    after = peers("stats")
    assert (
        frames(after, "resident-sees-contact", "video") - frames(before, "resident-sees-contact", "video")
        <= 1
    )
    assert (
        frames(after, "resident-sees-contact", "audio") - frames(before, "resident-sees-contact", "audio")
        <= 1
    )
    assert (
        frames(after, "contact-sees-resident", "video") - frames(before, "contact-sees-resident", "video")
        >= 10
    )

    server.resume_subscription(resident_view)
    resumed = wait_for(
        peers,
        lambda s: (
            frames(s, "resident-sees-contact", "video")
            >= frames(after, "resident-sees-contact", "video") + 10
        ),
        timeout=10,
    )
    assert (
        frames(resumed, "resident-sees-contact", "video")
        >= frames(after, "resident-sees-contact", "video") + 10
    )

    server.destroy_room(room)
    assert [node.sessions for node in server.nodes()] == [0]
    # No recording anywhere: not in the call's folder, not in Janus's working folder (DSO Annex A).
    assert not rec_dir.exists() or not any(rec_dir.iterdir())
    assert not list(janus.workdir.rglob("*.mjr"))


def test_calls_go_to_a_healthy_node(janus: JanusUnderTest) -> None:
    with inside(janus.namespace):
        media = media_client(
            janus,
            nodes=[
                JanusNode("http://127.0.0.1:8099/janus", "http://127.0.0.1:7099/admin"),
                JanusNode(API, ADMIN),
            ],
            timeout=3,
        )
        try:
            down, up = media.nodes()
            assert not down.healthy
            assert down.error
            assert up.healthy
            room = media.create_room(call_id="placement", record=False)
            assert room.node == API
            media.destroy_room(room)
        finally:
            media.close()


def test_a_publisher_joins_on_a_spare_handle_and_media_flows(janus: JanusUnderTest, peers: Peers) -> None:
    with inside(janus.namespace):
        media = media_client(janus, spare_handles=2)
        try:
            media.start_keepalive()
            media.keep_spare_handles()
            deadline = time.monotonic() + 10
            while [node.sessions for node in media.nodes()] != [2] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [node.sessions for node in media.nodes()] == [2]  # two spares, in no room
            spares = {session_id for session_id, _ in media._spares[API]}
            room = media.create_room(call_id="spares", record=False)

            resident = publish(media, peers, room, "resident")  # joins and publishes in one request; media up

            assert resident.session_id in spares
            deadline = time.monotonic() + 10
            while [node.sessions for node in media.nodes()] != [3] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [node.sessions for node in media.nodes()] == [3]  # the publisher and two spares again
            media.destroy_room(room)
            assert [node.sessions for node in media.nodes()] == [2]  # the spares outlive the room
        finally:
            media.close()
        # Closing the client ends its spares.
        check = media_client(janus)
        try:
            assert [node.sessions for node in check.nodes()] == [0]
        finally:
            check.close()
