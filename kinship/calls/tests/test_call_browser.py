"""A supervising officer runs a prison call from the pages, in the system Chromium: the day's calls, the call page
as the call opens, check-in, a monitor watching, start, a refused termination and a termination. Every page state
passes axe (WCAG 2.2 AA) with no CSP violation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import Call, CallState
from kinship.calls.services import call_open, monitor_viewing_start
from kinship.testing import assert_accessible, browser_sign_in

from .conftest import Place, book

pytestmark = pytest.mark.django_db(transaction=True)


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def test_an_officer_runs_and_terminates_a_call(
    live_server: Any, page: Page, csp_violations: list[str], prison: Place, fake_media: FakeMediaServer
) -> None:
    code = prison.establishment.code
    booking = book(prison.establishment, start=timezone.now() - timedelta(minutes=1))
    browser_sign_in(page, live_server, prison.officer)

    page.goto(live_server.url + reverse("calls:day", args=[code]))
    _check(page)
    page.goto(live_server.url + reverse("calls:call", args=[code, booking.pk]))
    expect(page.get_by_text("Not open yet")).to_be_visible()
    _check(page)

    call = call_open(booking=booking, media=fake_media)
    page.reload()
    page.get_by_role("button", name="Check in the person in custody").click()
    page.get_by_role("button", name="Check yourself in").click()
    # PF 4.21: no monitor is watching, so starting is refused with the citation.
    page.get_by_role("button", name="Start the call").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("PF 4.21")
    _check(page)

    monitor_viewing_start(
        call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine monitoring"
    )
    page.get_by_role("button", name="Start the call").click()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    _check(page)

    page.get_by_role("link", name="Terminate the call for a breach or a security risk").click()
    page.get_by_role("button", name="Terminate the call").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page)
    page.get_by_label("Recording the call").check()
    page.get_by_label("What happened, and your concerns").fill(
        "The contact held a phone up to the screen to record the call."
    )
    page.get_by_role("button", name="Terminate the call").click()
    expect(page.get_by_text("Terminated by staff")).to_be_visible()
    _check(page)

    assert Call.objects.get(pk=call.pk).state == CallState.TERMINATED
    assert csp_violations == []
