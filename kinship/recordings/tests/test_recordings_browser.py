"""A security officer at a registered monitoring terminal plays a recording in the system Chromium: the list, the
reason asked first (refused empty, with its citation), then the <video> loads the WebM from the authorised view and
seeks with Range requests. Every page passes axe (WCAG 2.2 AA) with no CSP violation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.urls import reverse
from playwright.sync_api import Page, expect

from kinship.core.roles import Role
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import staff_with
from kinship.recordings.models import RecordingPlayback
from kinship.testing import assert_accessible, browser_sign_in

from .media import write_recording
from .test_pages import DEVICE_SECRET, make_recording

pytestmark = pytest.mark.django_db(transaction=True)


def _video_ready(page: Page, state: int) -> None:
    """Wait for the player's readyState (polled from here: the page's CSP forbids the eval wait_for_function uses)."""
    deadline = time.monotonic() + 10
    while page.evaluate("document.querySelector('video').readyState") < state:
        assert time.monotonic() < deadline, "the video did not load"
        page.wait_for_timeout(100)


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def test_a_security_officer_states_a_reason_and_plays_a_recording(
    live_server: Any, page: Page, csp_violations: list[str], prison: Any, tmp_path: Path
) -> None:
    establishment = prison.establishment
    recording = make_recording(establishment)
    with write_recording(tmp_path / "call.webm", seconds=3).open("rb") as stream:
        recording.file.save("call.webm", File(stream), save=False)
    recording.size_bytes = recording.file.size
    recording.save()
    security = staff_with(Role.SECURITY, establishment)
    browser_sign_in(page, live_server, security)
    page.context.add_cookies([{"name": TERMINAL_COOKIE_NAME, "value": DEVICE_SECRET, "url": live_server.url}])
    ranges: list[str] = []
    page.on(
        "request",
        lambda request: ranges.append(request.headers.get("range", "")) if "/media" in request.url else None,
    )

    page.goto(live_server.url + reverse("recordings:list", args=[establishment.code]))
    _check(page)
    page.get_by_role("link", name=f"recording of call {recording.call.booking.reference}").click()
    expect(page.get_by_label("Why are you opening this recording?")).to_be_visible()
    _check(page)

    page.get_by_role("button", name="Play the recording").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "PF 4.23: Say why you are opening this recording"
    )
    _check(page)
    assert not RecordingPlayback.objects.exists()

    page.get_by_label("Why are you opening this recording?").fill("Intelligence report 42")
    page.get_by_role("button", name="Play the recording").click()
    video = page.locator("video")
    expect(video).to_be_visible()
    _video_ready(page, 1)
    assert page.evaluate("document.querySelector('video').duration") > 2
    page.evaluate("document.querySelector('video').currentTime = 2")
    _video_ready(page, 2)
    _check(page)

    assert RecordingPlayback.objects.get().reason == "Intelligence report 42"
    assert any(value.startswith("bytes=") for value in ranges), ranges
    assert csp_violations == []
