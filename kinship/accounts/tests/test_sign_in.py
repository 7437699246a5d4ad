"""Signing in and out: audited, locked out after repeated failures, rate limited per address, session rotated."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kinship.accounts.models import User
from kinship.audit.models import AuditEvent
from kinship.factories import TEST_PASSWORD, ContactFactory, accept_current_terms

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign-in")


def _post(client: Client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(SIGN_IN, {"username": email, "password": password, **extra})


def test_the_sign_in_page_is_a_govuk_form() -> None:
    response = Client().get(SIGN_IN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="govuk-heading-l">Sign in</h1>' in html
    assert "novalidate" in html
    assert "csrfmiddlewaretoken" in html


def test_a_contact_signs_in_and_it_is_audited(contact_user: User) -> None:
    client = Client()
    response = _post(client, contact_user.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:contact-home")
    event = AuditEvent.objects.get(action="signed_in")
    assert event.actor_id == contact_user.pk
    assert event.subject_id == str(contact_user.pk)


def test_the_email_address_is_not_case_sensitive(contact_user: User) -> None:
    response = _post(Client(), contact_user.email.upper(), TEST_PASSWORD)
    assert response.status_code == 302


def test_signing_in_rotates_the_session_key(contact_user: User) -> None:
    client = Client()
    client.get(SIGN_IN)
    session = client.session
    session["before"] = "yes"
    session.save()
    before = session.session_key
    _post(client, contact_user.email, TEST_PASSWORD)
    assert client.session.session_key != before


def test_a_failed_sign_in_is_audited_without_the_password(contact_user: User) -> None:
    response = _post(Client(), contact_user.email, "not the password at all")
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "Enter a correct email address and password" in html
    assert contact_user.email in html  # what the person typed is kept
    assert "not the password at all" not in html
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.after["email"] == contact_user.email
    assert "not the password at all" not in str(event.before) + str(event.after)
    assert event.actor_id is None
    assert event.actor_label == "anonymous"


def test_a_failed_sign_in_for_an_unknown_address_is_audited() -> None:
    _post(Client(), "nobody@example.org", "whatever it is")
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.after == {"email": "nobody@example.org", "account_exists": False, "locked_out": False}


def test_empty_fields_get_govuk_messages() -> None:
    html = _post(Client(), "", "").content.decode()
    assert "Enter your email address" in html
    assert "Enter your password" in html


def test_repeated_failures_lock_the_account_out(settings, contact_user: User) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    responses = [
        _post(client, contact_user.email, "wrong password") for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = responses[-1]
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "You cannot sign in at the moment" in html
    assert "30 minutes" in html
    assert reverse("accounts:password-reset") in html
    # Even the right password is refused now.
    assert _post(client, contact_user.email, TEST_PASSWORD).status_code == 429
    assert AuditEvent.objects.filter(action="sign_in_failed", after__locked_out=True).exists()
    assert not AuditEvent.objects.filter(action="signed_in").exists()


def test_the_sign_in_post_is_rate_limited_per_address(settings, contact_user: User) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_RATE_LIMIT = 3
    client = Client()
    emails = [f"someone{n}@example.org" for n in range(3)]
    for email in emails:
        assert _post(client, email, "wrong password").status_code == 200
    response = _post(client, contact_user.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert response["Retry-After"] == str(settings.LOGIN_RATE_WINDOW_SECONDS)
    assert AuditEvent.objects.filter(action="rate_limited").count() == 1
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert _post(other, contact_user.email, TEST_PASSWORD).status_code == 302


def test_next_is_followed_only_within_the_site(contact_user: User) -> None:
    response = _post(Client(), contact_user.email, TEST_PASSWORD, next="/profile/")
    assert response["Location"] == "/profile/"
    response = _post(Client(), contact_user.email, TEST_PASSWORD, next="https://evil.example.com/")
    assert response["Location"] == reverse("accounts:contact-home")
    response = _post(Client(), contact_user.email, TEST_PASSWORD, next="//evil.example.com/")
    assert response["Location"] == reverse("accounts:contact-home")


def test_an_unverified_contact_is_asked_to_confirm_their_email() -> None:
    user = ContactFactory(user__email_verified_at=None).user
    accept_current_terms(user)
    response = _post(Client(), user.email, TEST_PASSWORD)
    assert response["Location"] == reverse("accounts:verify-email-sent")


def test_an_inactive_account_cannot_sign_in() -> None:
    user = ContactFactory(user__is_active=False).user
    client = Client()
    response = _post(client, user.email, TEST_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_out_is_post_only_and_audited(contact_client: Client, contact_user: User) -> None:
    assert contact_client.get(reverse("accounts:sign-out")).status_code == 405
    response = contact_client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert "_auth_user_id" not in contact_client.session
    event = AuditEvent.objects.get(action="signed_out")
    assert event.actor_id == contact_user.pk


def test_sign_out_when_not_signed_in_is_harmless() -> None:
    response = Client().post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="signed_out").exists()
