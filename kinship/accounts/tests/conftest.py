"""Fixtures for the accounts tests."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from kinship.accounts.models import User
from kinship.factories import ContactFactory, accept_current_terms

StaffClient = Callable[[User], Client]


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app would show now."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def image_upload(
    name: str = "photo.png", image_format: str = "PNG", size: tuple[int, int] = (40, 30)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[image_format]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


@pytest.fixture
def contact_user(db: None) -> User:
    """A contact with a verified email who has accepted the current terms."""
    user: User = ContactFactory().user
    accept_current_terms(user)
    return user


@pytest.fixture
def contact_client(contact_user: User) -> Client:
    client = Client()
    client.force_login(contact_user)
    return client


@pytest.fixture
def make_contact_client() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
