"""The monitoring wall in the system Chromium, served by Kinship's ASGI application (uvicorn in a thread: the wall
needs the signalling WebSocket, which pytest-django's live server does not speak), against the in-memory media
server. A monitoring officer sees why the wall refuses an unregistered device (PF 4.23), then at a registered
monitoring terminal watches a call (the tile joins the call's socket as a monitor, without a reload), is refused a
second one with the citation (PF 4.7) and stops watching. Every state passes axe (WCAG 2.2 AA); the page never has
an audio element and no CSP violation."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from config.asgi import application
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import MonitorViewing
from kinship.calls.services import call_open
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.testing import assert_accessible, sign_in_with_2fa

from .conftest import Place, book

pytestmark = pytest.mark.django_db(transaction=True)


class AsgiServer:
    """Kinship's ASGI application (HTTP and WebSocket) under uvicorn, in a thread with its own event loop."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        )
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def asgi_server(settings: Any, transactional_db: Any) -> Iterator[AsgiServer]:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    server = AsgiServer()
    try:
        yield server
    finally:
        server.stop()


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert page.locator("audio").count() == 0
    assert_accessible(page)


def test_a_monitoring_officer_uses_the_wall(
    asgi_server: AsgiServer, page: Page, csp_violations: list[str], prison: Place, fake_media: FakeMediaServer
) -> None:
    starts = timezone.now() - timedelta(minutes=1)
    first = call_open(booking=book(prison.establishment, start=starts), media=fake_media)
    second = call_open(booking=book(prison.establishment, start=starts), media=fake_media)
    prison.establishment.calls_per_monitoring_officer = 1
    prison.establishment.save()
    client = sign_in_with_2fa(Client(), prison.monitor)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server.url}]
    )
    wall = asgi_server.url + reverse("calls-monitoring:wall", args=[prison.establishment.code])

    # Not a registered monitoring terminal: the page says why (PF 4.23) and how to register one.
    response = page.goto(wall)
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("This device is not a monitoring terminal")
    _check(page)

    page.context.add_cookies(
        [{"name": TERMINAL_COOKIE_NAME, "value": "device-secret", "url": asgi_server.url}]
    )
    page.goto(wall)
    expect(page.get_by_text("You are not watching any call.")).to_be_visible()
    _check(page)

    # Watching: posted in the background (no reload, which would close the sockets), and the tile joins the call's
    # socket as a monitor.
    page.evaluate("window.kinshipNoReload = true")
    room = first.booking.slot.room.name
    page.get_by_role("button", name=f"Watch the call in {room}").click()
    tile = page.locator(f'[data-booking="{first.booking_id}"]')
    expect(tile).to_be_visible()
    expect(tile.locator("[data-tile-status]")).to_have_text("Waiting for the video of the people on the call")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"You are watching the call in {room}")
    assert page.evaluate("window.kinshipNoReload") is True
    assert MonitorViewing.objects.filter(call=first, ended_at__isnull=True).count() == 1
    _check(page)

    # A second call is one too many here (PF 4.7): the refusal is cited in the error summary, which takes focus.
    page.get_by_role("button", name=f"Watch the call in {second.booking.slot.room.name}").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("PF 4.7")
    expect(summary).to_be_focused()
    expect(tile.locator("[data-tile-status]")).to_have_text("Waiting for the video of the people on the call")
    _check(page)

    page.get_by_role("button", name=f"Stop watching the call in {room}").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You stopped watching")
    expect(page.get_by_text("You are not watching any call.")).to_be_visible()
    assert page.evaluate("window.kinshipNoReload") is True
    assert not MonitorViewing.objects.filter(ended_at__isnull=True).exists()
    _check(page)
    assert csp_violations == []
