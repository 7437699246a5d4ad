"""THE browser test of issue 5: the system Chromium joins a call as the contact, through Kinship's own pages and
WebSocket, against an aiortc resident at a registered terminal, through a real Janus, and decodes the resident's
video (and the resident decodes the contact's), and rejoins after its socket drops. It also runs the pre-call
check against the same Janus, and the resident terminal's screen (Chromium) against an aiortc contact.

Everything that carries media runs inside a private network namespace (janus-facts.md: Janus skips loopback
interfaces, so the namespace's veth carries 127.0.0.2): Janus and the aiortc peers (test_janus_media.py's
fixtures), and a worker thread of this test that enters the namespace (``setns``) and stays there. That thread
starts Kinship's ASGI application under uvicorn (pytest-django's live server speaks no WebSocket) and Playwright,
whose Chromium inherits the namespace. The in-memory channel layer belongs to the server's event loop, so the
services' pushes made by this test (the officer starting the call, the clock's warning) are sent on that loop, as
Redis would carry them between processes. Needs root, ``ip netns``, ``janus``, Chromium and the SQLite test
database (the server's database connections are made from inside the namespace); skips otherwise. The page's call
sockets pass through Playwright (``route_web_socket``) so that the test can drop one and watch the page rejoin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import uvicorn
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, Playwright, WebSocketRoute, expect, sync_playwright
from websockets.sync.client import connect

from config.asgi import application
from kinship.bookings.models import BookingParticipant
from kinship.calls import services, signalling
from kinship.calls.media.janus import JanusMediaServer
from kinship.calls.models import Call, CallParty, CallState
from kinship.calls.provider import media_server, media_server_reset
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.testing import assert_accessible

from .conftest import Place, book
from .test_janus_media import ADMIN, API, JanusUnderTest, Peers, janus, wait_for  # noqa: F401
from .test_signalling import DEVICE, resident_terminal

pytestmark = [pytest.mark.janus, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEST_TIMEOUT_SECONDS = 60
CHROMIUM = os.environ.get("KINSHIP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # The namespace has only loopback-range addresses: without this Chromium gathers no ICE candidate at all.
    "--allow-loopback-in-peer-connection",
    # Real addresses in the candidates, not mDNS names Janus cannot resolve.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


def _enter(namespace: str) -> None:
    """Moves the calling thread into the namespace for good (threads and processes it starts inherit it)."""
    target = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        os.setns(target, os.CLONE_NEWNET)
    finally:
        os.close(target)


def in_namespace[T](namespace: str, work: Callable[[], T], timeout: float) -> T:
    """Runs ``work`` in a daemon thread inside the namespace, with a deadline (a hung browser cannot hang the
    suite: the thread is left behind and dies with the process)."""
    result: Future[T] = Future()

    def run() -> None:
        try:
            _enter(namespace)
            result.set_result(work())
        except BaseException as problem:
            result.set_exception(problem)

    threading.Thread(target=run, name="in-namespace", daemon=True).start()
    return result.result(timeout=timeout)


class Server:
    """Kinship's ASGI application under uvicorn in a thread (started from inside the namespace)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.server = uvicorn.Server(
            uvicorn.Config(
                application,
                host="127.0.0.1",
                port=self.port,
                lifespan="off",
                log_level="warning",
                ws="websockets-sansio",
            )
        )
        self.thread = threading.Thread(target=self._run, name="uvicorn", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.05)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def on_loop(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``async_to_sync`` for the channel layer: the coroutine runs on the server's loop."""

        def call(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(function(*args, **kwargs), self.loop).result(timeout=5)

        return call

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class AiortcParty:
    """The other side of the call: an aiortc peer (peers.py, in the namespace) speaking Kinship's protocol over the
    WebSocket in a thread of its own, as the resident (a registered terminal's cookie) or the contact (a session
    cookie). It publishes as soon as it has joined and answers every subscription offered to it."""

    def __init__(self, server: Server, booking_id: object, peers: Peers, *, role: str, cookie: str) -> None:
        self.peers = peers
        self.role = role
        self.views = 0
        self.messages: list[dict[str, Any]] = []
        self.problem: BaseException | None = None
        self.socket = connect(
            f"ws://127.0.0.1:{server.port}/ws/calls/{booking_id}/",
            additional_headers={"Cookie": cookie, "Origin": server.url},
            open_timeout=10,
        )
        self.thread = threading.Thread(target=self._run, name=role, daemon=True)
        self.thread.start()

    def _send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def _run(self) -> None:
        try:
            self._send(type="join", role=self.role)
            for raw in self.socket:
                message = json.loads(raw)
                self.messages.append(message)
                if message["type"] == "joined":
                    self._send(type="offer", sdp=self.peers("publish", name=self.role)["sdp"])
                elif message["type"] == "answer":
                    self.peers("answer", name=self.role, sdp=message["sdp"])
                elif message["type"] == "offer":
                    # A new subscription each time the other side (re)joins: one aiortc peer each.
                    self.views += 1
                    name = f"{self.role}-sees-other-{self.views}"
                    answer = self.peers("subscribe", name=name, sdp=message["sdp"])["sdp"]
                    self._send(type="answer", subscription=message["subscription"], sdp=answer)
        except BaseException as problem:
            self.problem = problem

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.close()
        self.thread.join(timeout=5)


def launch(playwright: Playwright, server: Server, cookie: dict[str, Any]) -> tuple[Browser, Page, list[str]]:
    """Chromium with a fake camera and microphone, the given cookie, and a list collecting CSP violations."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    context = browser.new_context()
    context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return browser, page, violations


def wait_for_frames(page: Page, at_least: int, seconds: float = 20) -> int:
    """The strict CSP forbids Playwright's string predicates (eval): poll the page's count of shown frames."""
    deadline = time.monotonic() + seconds
    while _frames(page) < at_least and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    frames = _frames(page)
    assert frames >= at_least, f"Chromium showed {frames} frames of the other side's video"
    return frames


@pytest.fixture
def janus_media(janus: JanusUnderTest, settings: Any) -> Iterator[None]:  # noqa: F811 - the imported fixture
    """Kinship's media server is the real Janus in the namespace (the calls conftest had set the fake)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is missing at {CHROMIUM} (scripts/ensure-system-packages)")
    if connections["default"].vendor != "sqlite":
        pytest.skip(
            "the server runs inside the network namespace, where the host's database server is unreachable"
        )
    settings.JANUS_NODES = [API]
    settings.JANUS_ADMIN_URLS = [ADMIN]
    settings.JANUS_ADMIN_SECRET = janus.admin_secret
    settings.JANUS_ADMIN_KEY = janus.admin_key
    settings.KINSHIP_MEDIA_SERVER = "kinship.calls.media.janus.JanusMediaServer"
    media_server_reset()
    yield
    with contextlib.suppress(Exception):
        media_server().close()  # type: ignore[attr-defined]
    media_server_reset()


def _session_cookie(user: Any) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    return {"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value}


def _frames(page: Page) -> int:
    return int(page.locator('[data-call="remote"]').get_attribute("data-frames") or 0)


def resident_sees(peers: Peers, view: str) -> None:
    """Waits (bounded) until the aiortc resident has decoded more than ten frames of Chromium's video and audio
    on ``view``; the test's assertions then check the counts."""

    def enough(stats: dict[str, Any]) -> bool:
        seen = stats.get(view, {}).get("frames", {})
        return bool(seen.get("video", 0) > 10 and seen.get("audio", 0) > 10)

    wait_for(peers, enough, timeout=10)


def test_chromium_joins_a_call_as_the_contact_and_decodes_the_residents_video_through_janus(
    janus: JanusUnderTest,  # noqa: F811 - the imported fixture
    janus_media: None,
    irc: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    booking = book(irc.establishment, start=timezone.now() - timedelta(minutes=1))
    resident_terminal(booking)
    # Someone else on the booking, with the lead contact at the device (PF 4.13).
    companion = book(irc.establishment).lead_contact
    BookingParticipant.objects.create(booking=booking, contact=companion)
    cookie = _session_cookie(booking.lead_contact.user)
    peers = Peers(janus.namespace)

    def scenario() -> dict[str, Any]:
        server = Server()
        monkeypatch.setattr(signalling, "async_to_sync", server.on_loop)
        resident: AiortcParty | None = None
        try:
            # The call opens on the real Janus; the officer checks everyone in and records the adult check (DSO 8).
            call = services.call_open(booking=booking, media=media_server())
            for party in (CallParty.RESIDENT, CallParty.OFFICER):
                services.call_check_in(call=call, party=party, actor=irc.officer)
            call = services.call_adult_check(call=call, actor=irc.officer)
            resident = AiortcParty(
                server, booking.pk, peers, role="resident", cookie=f"{TERMINAL_COOKIE_NAME}={DEVICE}"
            )

            with sync_playwright() as playwright:
                browser, page, violations = launch(playwright, server, cookie)
                # The page's call sockets pass through Playwright, so that the test can drop one.
                sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []
                page.route_web_socket(
                    re.compile(r"/ws/calls/"),
                    lambda route: sockets.append((route, route.connect_to_server())),
                )

                # The waiting page: join, the camera starts, the state is pushed.
                page.goto(server.url + reverse("calls-contact:join", args=[booking.reference]))
                page.get_by_label(companion.full_name).check()
                assert_accessible(page)
                page.get_by_role("button", name="Join the call").click()
                expect(page.get_by_role("status")).to_have_text(
                    "Everyone is ready. Waiting for the officer to start the call"
                )
                expect(page.get_by_label("Your camera")).to_be_visible()
                assert_accessible(page)

                # The officer starts the call: both sides are subscribed to each other through Janus.
                services.call_start(call=call, actor=irc.officer)
                expect(page.get_by_role("status")).to_have_text("The call is live")
                wait_for_frames(page, 30)
                decoded = page.evaluate(
                    """async () => {
                        const video = document.querySelector('[data-call="remote"]');
                        return {width: video.videoWidth, height: video.videoHeight, playing: !video.paused};
                    }"""
                )
                assert (decoded["width"], decoded["height"]) == (320, 240), decoded
                assert decoded["playing"], decoded
                expect(page.get_by_role("timer")).to_have_text(re.compile(r"^\d{1,2}:\d{2}$"))

                # The clock's 5-minute warning arrives as a GOV.UK notification banner in the live region.
                ends = Call.objects.select_related("booking__slot").get(pk=call.pk).booking.slot.ends_at
                services.call_warn(call=call, minutes=5, now=ends - timedelta(minutes=4, seconds=50))
                expect(page.locator('[aria-live="assertive"] .govuk-notification-banner')).to_contain_text(
                    "The call ends in 5 minutes"
                )
                assert_accessible(page)
                frames_seen = _frames(page)

                # The resident has Chromium's media too before anything is dropped (a busy machine is slower).
                resident_sees(peers, "resident-sees-other-1")

                # The socket drops mid-call: the page rejoins by itself and the resident's video comes back.
                page_side, server_side = sockets[-1]
                server_side.close(code=4000, reason="dropped by the test")
                page_side.close(code=4000, reason="dropped by the test")
                wait_for_frames(page, frames_seen + 30)
                assert len(sockets) == 2, "the page did not reconnect"
                expect(page.get_by_role("status")).to_have_text("The call is live")
                frames_seen = _frames(page)
                resident_sees(peers, "resident-sees-other-2")

                # The officer ends the call: the page says so and lets the camera go.
                services.call_end(call=call, actor=irc.officer, media=media_server())
                expect(page.get_by_text("The call is over")).to_be_visible()
                assert_accessible(page)
                assert violations == []
                browser.close()
            assert resident.problem is None, resident.problem
            stats = peers("stats")
            return {"frames": frames_seen, "stats": stats, "resident": resident.messages}
        finally:
            if resident is not None:
                resident.close()
            server.stop()
            connections.close_all()

    try:
        outcome = in_namespace(janus.namespace, scenario, timeout=TEST_TIMEOUT_SECONDS - 5)
    finally:
        peers.stop()
    print(
        f"\nbrowser call: {outcome['frames']} frames shown in Chromium, resident peer "
        f"{json.dumps(outcome['stats'])}, {time.monotonic() - started:.1f} s"
    )
    assert outcome["frames"] > 30
    # Both ways: the aiortc resident decoded the Chromium contact's video and audio through Janus.
    for view in ("resident-sees-other-1", "resident-sees-other-2"):  # before and after the reconnect
        seen = outcome["stats"][view]["frames"]
        assert seen.get("video", 0) > 10, outcome["stats"]
        assert seen.get("audio", 0) > 10, outcome["stats"]
    assert Call.objects.get(booking=booking).state == CallState.ENDED
    assert time.monotonic() - started < TEST_TIMEOUT_SECONDS


def test_the_precheck_sends_chromiums_media_through_janus_and_back(
    janus: JanusUnderTest,  # noqa: F811 - the imported fixture
    janus_media: None,
    irc: Place,
) -> None:
    booking = book(irc.establishment, start=timezone.now() + timedelta(days=1))
    cookie = _session_cookie(booking.lead_contact.user)

    def scenario() -> dict[str, Any]:
        server = Server()
        try:
            with sync_playwright() as playwright:
                browser, page, violations = launch(playwright, server, cookie)
                page.goto(server.url + reverse("calls-contact:check", args=[booking.reference]))
                page.get_by_role("button", name="Start the check").click()
                expect(page.locator("[data-finished]")).to_have_count(1, timeout=30_000)
                results = {
                    name: page.locator(f'[data-check="{name}"]').get_attribute("data-result")
                    for name in ("support", "camera", "kinship", "media")
                }
                texts = page.locator(".govuk-summary-list").inner_text()
                frames = int(page.locator("[data-kinship-precheck]").get_attribute("data-frames-back") or 0)
                assert_accessible(page)
                assert violations == []
                browser.close()
            return {"results": results, "frames": frames, "texts": texts}
        finally:
            server.stop()
            connections.close_all()

    outcome = in_namespace(janus.namespace, scenario, timeout=TEST_TIMEOUT_SECONDS - 5)
    assert outcome["results"] == dict.fromkeys(("support", "camera", "kinship", "media"), "passed"), outcome
    assert outcome["frames"] > 0
    # The throwaway room is gone from Janus, with every session in it: what is left are the spare handles the
    # web process keeps ready for the next participant (in no room).
    assert _sessions_left(janus) == 0


def _sessions_left(janus: JanusUnderTest) -> int:  # noqa: F811 - not the fixture: its value
    def count() -> int:
        server = cast(JanusMediaServer, media_server())
        deadline = time.monotonic() + 5
        while True:
            sessions = sum(node.sessions for node in server.nodes()) - server.spare_sessions()
            if sessions == 0 or time.monotonic() > deadline:
                return sessions
            time.sleep(0.2)

    return in_namespace(janus.namespace, count, timeout=10)


def test_the_resident_terminal_joins_when_the_officer_starts_the_call_and_shows_the_contact(
    janus: JanusUnderTest,  # noqa: F811 - the imported fixture
    janus_media: None,
    irc: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booking = book(irc.establishment, start=timezone.now() - timedelta(minutes=1))
    resident_terminal(booking)
    contact_cookie = _session_cookie(booking.lead_contact.user)
    peers = Peers(janus.namespace)

    def scenario() -> dict[str, Any]:
        server = Server()
        monkeypatch.setattr(signalling, "async_to_sync", server.on_loop)
        contact: AiortcParty | None = None
        try:
            call = services.call_open(booking=booking, media=media_server())
            for party in (CallParty.RESIDENT, CallParty.OFFICER):
                services.call_check_in(call=call, party=party, actor=irc.officer)
            call = services.call_adult_check(call=call, actor=irc.officer)
            contact = AiortcParty(
                server,
                booking.pk,
                peers,
                role="contact",
                cookie=f"{contact_cookie['name']}={contact_cookie['value']}",
            )
            with sync_playwright() as playwright:
                browser, page, violations = launch(
                    playwright, server, {"name": TERMINAL_COOKIE_NAME, "value": DEVICE}
                )
                # The terminal joins by itself and waits; its camera stays off until the call starts.
                page.goto(server.url + reverse("calls-terminal:call"))
                expect(page.get_by_role("status")).to_have_text(
                    "Everyone is ready. Waiting for the officer to start the call"
                )
                expect(page.get_by_label("Your camera")).to_be_hidden()
                assert_accessible(page)

                services.call_start(call=call, actor=irc.officer)
                expect(page.get_by_role("status")).to_have_text("The call is live")
                expect(page.get_by_label("Your camera")).to_be_visible()
                frames = wait_for_frames(page, 30)
                assert_accessible(page)

                services.call_end(call=call, actor=irc.officer, media=media_server())
                expect(page.get_by_text("The call is over")).to_be_visible()
                assert violations == []
                browser.close()
            assert contact.problem is None, contact.problem
            return {"frames": frames, "stats": peers("stats")}
        finally:
            if contact is not None:
                contact.close()
            server.stop()
            connections.close_all()

    try:
        outcome = in_namespace(janus.namespace, scenario, timeout=TEST_TIMEOUT_SECONDS - 5)
    finally:
        peers.stop()
    assert outcome["frames"] >= 30
    seen = outcome["stats"]["contact-sees-other-1"]["frames"]
    assert seen.get("video", 0) > 10, outcome["stats"]
    assert seen.get("audio", 0) > 10, outcome["stats"]
