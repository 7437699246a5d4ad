"""The public pages in a real browser: they render with GOV.UK Frontend, run its JavaScript under the strict CSP,
and pass an axe WCAG 2.2 AA scan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kinship.testing import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/", "/accessibility/", "/privacy/", "/cookies/", "/no-such-page/"])
def test_public_page_is_accessible_and_csp_clean(
    live_server, page: Page, csp_violations: list[str], path: str
) -> None:
    page.goto(live_server.url + path)
    expect(page.locator("h1")).to_have_count(1)
    # GOV.UK Frontend's module ran (it marks the body), so its script was allowed by the CSP nonce.
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)
    assert csp_violations == []


def test_skip_link_moves_focus_to_the_main_content(live_server, page: Page) -> None:
    page.goto(live_server.url + "/accessibility/")
    page.keyboard.press("Tab")
    skip = page.locator(".govuk-skip-link")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
