"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from playwright.sync_api import Page

from kinship.audit.triggers import create_triggers, drop_triggers
from kinship.testing import sign_in_with_2fa


@pytest.fixture
def staff_client(client: Client) -> Callable[[Any], Client]:
    """``staff_client(user)``: the test client, signed in as ``user`` with the second factor passed."""

    def sign_in(user: Any) -> Client:
        return sign_in_with_2fa(client, user)

    return sign_in


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Any) -> None:
    """Uploaded files (identity photos) go to a fresh folder per test, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "private"


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _empty_audit_log_after_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """The audit log refuses deletes (database triggers), so the flush that ends a transactional test would fail
    once the test has written events. Empty it here, with the triggers lifted for just that moment; this teardown
    runs before the flush because the database fixture was set up first."""
    if not _is_transactional(request):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
        cursor.execute("DELETE FROM audit_auditchainhead")
    create_triggers(connection)


# Browser tests: Playwright drives Debian's Chromium (installed by scripts/ensure-system-packages; Playwright's own
# browser download cannot work here). The flags keep Chromium off the network, of which there is none, and give it
# a fake camera and microphone for the call pages.
CHROMIUM = os.environ.get("KINSHIP_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that drives a browser is marked `browser` (CI's PostgreSQL pass leaves them out)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
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


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console messages reporting a Content Security Policy violation (a blocked script or style)."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return found
