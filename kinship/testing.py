"""Helpers for tests (nothing in the service imports this)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from kinship.factories import verified_totp_device


def sign_in_with_2fa(client: Client, user: Any) -> Client:
    """Sign ``user`` in; a member of staff also as if they had entered a valid TOTP code (the middleware checks)."""
    client.force_login(user)
    if getattr(user, "is_staff_member", False):
        device = verified_totp_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def assert_accessible(page: Any) -> None:
    """No WCAG 2.2 A/AA violation (axe) on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def browser_sign_in(page: Any, live_server: Any, user: Any) -> None:
    """Give the browser page the session of ``user`` (staff with the second factor passed), as if they had signed
    in through the pages, which the accounts browser tests already cover."""
    client = sign_in_with_2fa(Client(), user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
