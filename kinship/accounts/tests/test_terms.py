"""PF 4.15: contacts accept the current terms before booking or joining; a new version is accepted again; with no
published version, contacts are held (deny by default)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kinship.accounts.models import TermsAcceptance, TermsVersion, User
from kinship.accounts.services import contact_must_accept_terms
from kinship.audit.models import AuditEvent
from kinship.factories import ContactFactory, TermsVersionFactory

pytestmark = pytest.mark.django_db

TERMS = reverse("accounts:terms")
HOME = reverse("accounts:contact-home")  # wrapped with contact_required(terms=True)


@pytest.fixture
def contact() -> User:
    user: User = ContactFactory().user
    return user


@pytest.fixture
def client(contact: User) -> Client:
    client = Client()
    client.force_login(contact)
    return client


def test_with_no_published_terms_contacts_are_held(client: Client, contact: User) -> None:
    TermsVersionFactory(published_at=timezone.now() + timedelta(days=1))  # not published yet
    assert contact_must_accept_terms(contact)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(TERMS)
    page = client.get(TERMS)
    assert page.status_code == 503
    assert "You cannot book or join calls yet" in page.content.decode()


def test_a_contact_accepts_the_current_terms_and_goes_on_to_next(client: Client, contact: User) -> None:
    terms = TermsVersionFactory(body="Do not record the call.")
    response = client.get(HOME)
    assert response["Location"] == f"{TERMS}?next={HOME}"
    page = client.get(response["Location"])
    assert "Do not record the call." in page.content.decode()
    missing = client.post(TERMS, {"version": terms.version, "next": HOME})
    assert "Confirm that you accept the terms and conditions" in missing.content.decode()
    response = client.post(TERMS, {"version": terms.version, "accept": "on", "next": HOME})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert TermsAcceptance.objects.filter(user=contact, terms=terms).exists()
    event = AuditEvent.objects.get(action="terms_accepted")
    assert event.policy_ids == ["PF 4.15"]
    assert client.get(HOME).status_code == 200


def test_a_new_version_blocks_until_accepted(client: Client, contact: User) -> None:
    old = TermsVersionFactory(published_at=timezone.now() - timedelta(days=30))
    TermsAcceptance.objects.create(user=contact, terms=old)
    assert client.get(HOME).status_code == 200
    new = TermsVersionFactory(summary_of_changes="Calls can now be recorded in prisons.")
    response = client.get(HOME)
    assert response.status_code == 302
    page = client.get(TERMS).content.decode()
    assert f"since you accepted version {old.version}" in page
    assert "Calls can now be recorded in prisons." in page
    client.post(TERMS, {"version": new.version, "accept": "on"})
    assert client.get(HOME).status_code == 200


def test_terms_changed_while_reading_are_not_accepted_blindly(client: Client, contact: User) -> None:
    old = TermsVersionFactory(published_at=timezone.now() - timedelta(days=1))
    TermsVersionFactory()
    response = client.post(TERMS, {"version": old.version, "accept": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(TERMS)
    assert not TermsAcceptance.objects.filter(user=contact).exists()


def test_an_unsafe_next_is_ignored(client: Client) -> None:
    terms = TermsVersionFactory()
    response = client.post(
        TERMS, {"version": terms.version, "accept": "on", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == HOME


def test_already_accepted_terms_show_when(client: Client, contact: User) -> None:
    terms = TermsVersionFactory()
    TermsAcceptance.objects.create(user=contact, terms=terms)
    html = client.get(TERMS).content.decode()
    assert "You accepted these terms and conditions on" in html
    assert TermsVersion.objects.count() == 1
