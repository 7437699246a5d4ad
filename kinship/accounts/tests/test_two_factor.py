"""Staff TOTP second factor: set up once (QR code), then a code at every sign-in; nothing else until then."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kinship.accounts.models import User
from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import TEST_PASSWORD, EstablishmentFactory, staff_with, verified_totp_device

from .conftest import code_for

pytestmark = pytest.mark.django_db

TWO_FACTOR = reverse("accounts:two-factor")
SETUP = reverse("accounts:two-factor-setup")


@pytest.fixture
def staff() -> User:
    return staff_with(Role.BOOKING_CLERK, EstablishmentFactory())


def _sign_in(client: Client, user: User, next_url: str = "") -> str:
    data = {"username": user.email, "password": TEST_PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("accounts:sign-in"), data)
    assert response.status_code == 302
    return str(response["Location"])


def test_staff_without_a_device_are_sent_to_set_one_up(staff: User) -> None:
    assert _sign_in(Client(), staff).startswith(SETUP)


def test_staff_with_a_device_are_asked_for_a_code(staff: User) -> None:
    verified_totp_device(staff)
    assert _sign_in(Client(), staff) == TWO_FACTOR


def test_staff_cannot_reach_other_pages_until_verified(staff: User) -> None:
    verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    for path in [reverse("core:home"), "/back-office/", reverse("accounts:identity-queue", args=["X"])]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(TWO_FACTOR)


def test_a_wrong_code_is_refused_and_audited(staff: User) -> None:
    device = verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    wrong = f"{(int(code_for(device)) + 1) % 1000000:06d}"
    response = client.post(TWO_FACTOR, {"token": wrong})
    assert response.status_code == 200
    assert "The security code is not correct" in response.content.decode()
    assert AuditEvent.objects.filter(action="two_factor_failed", actor_id=staff.pk).exists()
    assert client.get(reverse("core:home")).status_code == 302


def test_a_malformed_code_gets_a_clear_message(staff: User) -> None:
    verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    html = client.post(TWO_FACTOR, {"token": "12ab"}).content.decode()
    assert "The security code must be 6 numbers" in html
    html = client.post(TWO_FACTOR, {"token": ""}).content.decode()
    assert "Enter the security code from your authenticator app" in html


def test_the_right_code_verifies_the_session_and_follows_next(staff: User) -> None:
    device = verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff, next_url="/back-office/")
    before = client.session.session_key
    response = client.post(TWO_FACTOR, {"token": code_for(device), "next": "/back-office/"})
    assert response.status_code == 302
    assert response["Location"] == "/back-office/"
    assert client.session.session_key != before
    assert AuditEvent.objects.filter(action="two_factor_passed", actor_id=staff.pk).exists()
    # The two-factor page now sends a verified person straight on.
    assert client.get(TWO_FACTOR)["Location"] == reverse("core:home")


def test_an_unsafe_next_is_ignored(staff: User) -> None:
    device = verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    response = client.post(TWO_FACTOR, {"token": code_for(device), "next": "https://evil.example.com/"})
    assert response["Location"] == reverse("core:home")


def test_two_factor_attempts_are_rate_limited(staff: User) -> None:
    device = verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    for _ in range(10):
        client.post(TWO_FACTOR, {"token": "000000"})
    response = client.post(TWO_FACTOR, {"token": code_for(device)})
    assert response.status_code == 429
    assert AuditEvent.objects.filter(action="rate_limited", subject_id="two-factor").count() == 1


def test_contacts_cannot_use_the_two_factor_pages(contact_client: Client) -> None:
    assert contact_client.get(TWO_FACTOR).status_code == 403
    assert contact_client.get(SETUP).status_code == 403


def test_setting_up_an_authenticator_app(staff: User) -> None:
    client = Client()
    _sign_in(client, staff)
    response = client.get(SETUP)
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="QR code', html)
    assert match is not None
    svg = base64.b64decode(match.group(1)).decode()
    assert svg.startswith("<?xml") or "<svg" in svg
    assert "style=" not in svg
    assert "<style" not in svg
    assert ' style="' not in html.split("<main", 1)[1]
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # Reloading the page keeps the same secret (the app already scanned it).
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=staff).count() == 1

    wrong = f"{(int(code_for(device)) + 1) % 1000000:06d}"
    assert "not correct" in client.post(SETUP, {"token": wrong}).content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(SETUP, {"token": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="two_factor_setup_completed", actor_id=staff.pk).exists()
    # The secret is never shown again.
    assert client.get(SETUP)["Location"].startswith(TWO_FACTOR)


def test_set_up_is_not_offered_again_to_someone_with_a_device(staff: User) -> None:
    verified_totp_device(staff)
    client = Client()
    _sign_in(client, staff)
    assert client.get(SETUP)["Location"] == TWO_FACTOR


def test_without_the_2fa_requirement_staff_go_straight_on(settings, staff: User) -> None:  # type: ignore[no-untyped-def]
    settings.KINSHIP_REQUIRE_STAFF_2FA = False
    assert _sign_in(Client(), staff) == reverse("core:home")
