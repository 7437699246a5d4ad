"""Password reset with Django's views and GOV.UK pages; requests and resets are audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kinship.accounts.models import User
from kinship.audit.models import AuditEvent
from kinship.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 2024"


def test_the_reset_flow(contact_user: User) -> None:
    client = Client()
    assert "Reset your password" in client.get(reverse("accounts:password-reset")).content.decode()
    response = client.post(reverse("accounts:password-reset"), {"email": contact_user.email.upper()})
    assert response["Location"] == reverse("accounts:password-reset-sent")
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(action="password_reset_requested")
    assert event.after["account_exists"] is True
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", str(mail.outbox[0].body))
    assert match is not None
    response = client.get(match.group(1))
    assert response.status_code == 302  # Django swaps the token for a session marker
    form_url = response["Location"]
    page = client.get(form_url)
    assert "Create a new password" in page.content.decode()
    mismatch = client.post(form_url, {"password1": NEW_PASSWORD, "password2": "something else"})
    assert "The passwords do not match" in mismatch.content.decode()
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == reverse("accounts:password-reset-complete")
    contact_user.refresh_from_db()
    assert contact_user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="password_reset_completed", actor_id=contact_user.pk).exists()
    # The link works once.
    assert "This link does not work" in client.get(match.group(1), follow=True).content.decode()


def test_an_unknown_address_looks_the_same_and_sends_nothing() -> None:
    response = Client().post(reverse("accounts:password-reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("accounts:password-reset-sent")
    assert mail.outbox == []
    assert AuditEvent.objects.get(action="password_reset_requested").after["account_exists"] is False


def test_a_bad_address_gets_a_govuk_error() -> None:
    html = Client().post(reverse("accounts:password-reset"), {"email": "nonsense"}).content.decode()
    assert "Enter an email address in the correct format" in html


def test_resetting_lifts_a_lockout(settings, contact_user: User) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:sign-in"), {"username": contact_user.email, "password": "wrong"})
    from kinship.accounts.services import password_reset_complete

    password_reset_complete(user=contact_user, new_password=NEW_PASSWORD)
    response = client.post(
        reverse("accounts:sign-in"), {"username": contact_user.email, "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert TEST_PASSWORD != NEW_PASSWORD
