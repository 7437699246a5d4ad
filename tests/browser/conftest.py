"""Browser tests: Playwright drives the system Chromium against the live test server; axe checks every page.

Chromium is Debian's (`/usr/bin/chromium`, installed by scripts/ensure-system-packages): Playwright's own browser
download cannot work here. The flags keep Chromium off the network (there is none) and give it a fake camera and
microphone for the call pages of later issues.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = os.environ.get("KINSHIP_CHROMIUM", "/usr/bin/chromium")
WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--allow-loopback-in-peer-connection",
        ],
    }


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(15_000)
    return page


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """No WCAG 2.2 A/AA violation on the page as it is now."""
    results = _axe.run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console errors that report a Content Security Policy violation (a blocked script or style)."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return found
