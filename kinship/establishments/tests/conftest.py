# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# Factories are not generic yet (kinship/factories.py), so they type as themselves, not as their models:
# mypy: disable-error-code="arg-type,attr-defined,comparison-overlap,misc"
"""Fixtures for staff-page tests: a signed-in member of staff who has passed TOTP two-factor authentication.

(The lead may move ``staff_client`` to a shared conftest; kinship/people/tests imports it from here.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_otp
import pytest
from django.test import Client

from kinship.factories import verified_totp_device


def sign_in_with_2fa(client: Client, user: Any) -> Client:
    """Log ``user`` in and mark the session as having passed the second factor, as django_otp.login would."""
    client.force_login(user)
    if getattr(user, "is_staff_member", False):
        device = verified_totp_device(user)
        session = client.session
        session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def staff_client(client: Client) -> Callable[[Any], Client]:
    """``staff_client(user)``: the test client, signed in as ``user`` with 2FA done."""

    def sign_in(user: Any) -> Client:
        return sign_in_with_2fa(client, user)

    return sign_in
