"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from kinship.accounts.models import User
from kinship.factories import verified_totp_device


def sign_in_with_2fa(client: Client, user: User) -> Client:
    """Sign a member of staff in as if they had also entered a valid TOTP code (the middleware checks this)."""
    client.force_login(user)
    device = verified_totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client() -> Callable[[User], Client]:
    """``staff_client(user)`` gives a new client signed in as that member of staff, second factor passed."""

    def make(user: User) -> Client:
        return sign_in_with_2fa(Client(), user)

    return make
