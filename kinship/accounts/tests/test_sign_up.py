"""Contacts sign up, confirm their email address by a signed, time-limited link, and can ask for it again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kinship.accounts import services
from kinship.accounts.models import User, UserKind
from kinship.audit.models import AuditEvent
from kinship.factories import ContactFactory, UserFactory, accept_current_terms
from kinship.people.models import Contact

pytestmark = pytest.mark.django_db

SIGN_UP = reverse("accounts:sign-up")
PASSWORD = "a long and unusual passphrase 42"


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Jo",
        "last_name": "Bloggs",
        "date_of_birth_day": "3",
        "date_of_birth_month": "2",
        "date_of_birth_year": "1985",
        "email": "Jo.Bloggs@Example.org",
        "phone": "07700 900 982",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/verify-email/[^\s]+/)", str(message.body))
    assert match is not None, message.body
    return match.group(1)


def test_sign_up_creates_an_unverified_contact_and_emails_a_link(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_UP, _form())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:verify-email-sent")
    user = User.objects.get(email="jo.bloggs@example.org")
    assert user.kind == UserKind.CONTACT
    assert user.email_verified_at is None
    assert user.check_password(PASSWORD)
    contact = Contact.objects.get(user=user)
    assert (contact.first_name, contact.last_name, str(contact.date_of_birth)) == (
        "Jo",
        "Bloggs",
        "1985-02-03",
    )
    assert contact.phone == "07700 900 982"
    assert AuditEvent.objects.filter(action="contact_signed_up", subject_id=str(contact.pk)).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jo.bloggs@example.org"]

    page = client.get(reverse("accounts:verify-email-sent"))
    assert "jo.bloggs@example.org" in page.content.decode()
    # Contact pages wait until the address is confirmed.
    assert client.get(reverse("accounts:profile"))["Location"] == reverse("accounts:verify-email-sent")

    response = client.get(_link(mail.outbox[0]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="email_verified", actor_id=user.pk).exists()
    # Following the link again is harmless.
    assert client.get(_link(mail.outbox[0])).status_code == 302


def test_the_link_works_in_another_browser(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(SIGN_UP, _form())
    response = Client().get(_link(mail.outbox[0]))
    assert response.status_code == 200
    assert "Email address confirmed" in response.content.decode()


def test_an_expired_or_altered_link_does_not_work() -> None:
    user = ContactFactory(user__email_verified_at=None).user
    token = services.email_token_make(user=user)
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = Client().get(reverse("accounts:verify-email", args=[token]))
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    response = Client().get(reverse("accounts:verify-email", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_a_duplicate_email_gives_a_clear_error_and_keeps_what_was_entered() -> None:
    UserFactory(email="jo.bloggs@example.org")
    response = Client().post(SIGN_UP, _form())
    assert response.status_code == 200
    html = response.content.decode()
    assert "You cannot create an account with this email address" in html
    assert 'href="#id_email"' in html
    assert 'value="Bloggs"' in html
    assert 'value="07700 900 982"' in html
    assert PASSWORD not in html
    assert User.objects.filter(email="jo.bloggs@example.org").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"first_name": ""}, "Enter your first name"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"phone": "12"}, "Enter a mobile phone number"),
        ({"date_of_birth_day": ""}, "Enter your date of birth"),
        ({"date_of_birth_month": "13"}, "Enter a real date"),
        ({"date_of_birth_year": str(timezone.now().year - 10)}, "You must be 18 or over"),
        ({"password2": "something else entirely"}, "The passwords do not match"),
        ({"password1": "short", "password2": "short"}, "at least 12 characters"),
        ({"password1": "123456789012345", "password2": "123456789012345"}, "cannot be only numbers"),
    ],
)
def test_sign_up_validation(overrides: dict[str, str], message: str) -> None:
    response = Client().post(SIGN_UP, _form(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert message in html
    assert not User.objects.exists()


def test_a_contact_can_ask_for_the_link_again(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    user = ContactFactory(user__email_verified_at=None).user
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:verify-email-resend"))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    client.get(_link(mail.outbox[0]))
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_resending_is_rate_limited() -> None:
    user = ContactFactory(user__email_verified_at=None).user
    client = Client()
    client.force_login(user)
    statuses = [client.post(reverse("accounts:verify-email-resend")).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_signed_in_people_are_not_offered_sign_up(contact_user: User) -> None:
    client = Client()
    client.force_login(contact_user)
    accept_current_terms(contact_user)
    assert client.get(SIGN_UP).status_code == 302
