"""A contact's own pages: home (linked people, link requests, asking to be linked) and profile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kinship.accounts.models import User
from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import (
    TEST_PASSWORD,
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    accept_current_terms,
    staff_with,
)
from kinship.people.models import Contact, LinkRequest, LinkStatus

from .conftest import StaffClient

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:contact-home")


def _request_data(establishment_pk: str, **overrides: str) -> dict[str, str]:
    data = {
        "establishment": establishment_pk,
        "resident_first_name": "Alex",
        "resident_last_name": "Smith",
        "resident_date_of_birth_day": "17",
        "resident_date_of_birth_month": "5",
        "resident_date_of_birth_year": "1990",
        "resident_identifier": "a1234bc",
        "relationship": "Sister",
    }
    data.update(overrides)
    return data


def test_home_lists_approved_links_only(contact_client: Client, contact_user: User) -> None:
    contact = Contact.objects.get(user=contact_user)
    approved = ContactLinkFactory(contact=contact, resident__first_name="Robin")
    ContactLinkFactory(contact=contact, resident__first_name="Morgan", status=LinkStatus.REMOVED)
    ContactLinkFactory(resident__first_name="Taylor")  # someone else's
    html = contact_client.get(HOME).content.decode()
    assert approved.resident.full_name in html
    assert "Morgan" not in html
    assert "Taylor" not in html
    assert approved.resident.establishment.safer_custody_hotline in html  # PF 4.19, from the base template


def test_asking_to_be_linked(contact_client: Client, contact_user: User) -> None:
    establishment = EstablishmentFactory(name="HMP Somewhere")
    response = contact_client.post(HOME, _request_data(str(establishment.pk)))
    assert response.status_code == 302
    link_request = LinkRequest.objects.get(contact__user=contact_user)
    assert link_request.establishment == establishment
    assert link_request.resident_identifier == "A1234BC"
    assert str(link_request.resident_date_of_birth) == "1990-05-17"
    event = AuditEvent.objects.get(action="link_request_created")
    assert event.establishment_code == establishment.code
    html = contact_client.get(HOME).content.decode()
    assert "Alex Smith" in html
    assert "HMP Somewhere" in html
    assert "Your request has been sent" in html
    # The same request again is refused, clearly.
    again = contact_client.post(HOME, _request_data(str(establishment.pk)))
    assert "You have already asked to be linked to this person" in again.content.decode()


def test_a_link_request_form_with_errors_keeps_what_was_entered(contact_client: Client) -> None:
    establishment = EstablishmentFactory()
    response = contact_client.post(
        HOME, _request_data(str(establishment.pk), resident_first_name="", relationship="")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter their first name" in html
    assert "Enter your relationship to them" in html
    assert 'value="Smith"' in html
    assert 'value="a1234bc"' in html
    assert f'value="{establishment.pk}" selected' in html
    assert not LinkRequest.objects.exists()


def test_inactive_establishments_cannot_be_chosen(contact_client: Client) -> None:
    closed = EstablishmentFactory(active=False, name="HMP Closed")
    assert "HMP Closed" not in contact_client.get(HOME).content.decode()
    response = contact_client.post(HOME, _request_data(str(closed.pk)))
    assert "Select a prison or centre from the list" in response.content.decode()


def test_a_contact_sees_only_their_own_link_requests(contact_client: Client, contact_user: User) -> None:
    establishment = EstablishmentFactory()
    contact_client.post(HOME, _request_data(str(establishment.pk)))
    own = LinkRequest.objects.get(contact__user=contact_user)
    assert contact_client.get(reverse("accounts:link-request", args=[own.pk])).status_code == 200

    other_user = ContactFactory().user
    accept_current_terms(other_user)
    other = Client()
    other.force_login(other_user)
    assert other.get(reverse("accounts:link-request", args=[own.pk])).status_code == 404
    assert "Alex Smith" not in other.get(HOME).content.decode()


def test_staff_cannot_use_contact_pages(staff_client: StaffClient) -> None:
    client = staff_client(staff_with(Role.GOVERNOR, EstablishmentFactory()))
    assert client.get(HOME).status_code == 403
    assert client.get(reverse("accounts:profile")).status_code == 403


def test_anonymous_people_are_sent_to_sign_in() -> None:
    response = Client().get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def test_changing_name_and_phone(contact_client: Client, contact_user: User) -> None:
    url = reverse("accounts:profile-details")
    assert f'value="{contact_user.first_name}"' in contact_client.get(url).content.decode()
    bad = contact_client.post(url, {"first_name": "Jo", "last_name": "", "phone": "07700 900 111"})
    assert "Enter your last name" in bad.content.decode()
    assert 'value="Jo"' in bad.content.decode()
    response = contact_client.post(url, {"first_name": "Jo", "last_name": "Bloggs", "phone": "07700 900 111"})
    assert response["Location"] == reverse("accounts:profile")
    contact_user.refresh_from_db()
    contact = Contact.objects.get(user=contact_user)
    assert (contact_user.first_name, contact.last_name, contact.phone) == ("Jo", "Bloggs", "07700 900 111")
    assert AuditEvent.objects.filter(action="contact_details_changed").exists()
    assert "Jo Bloggs" in contact_client.get(reverse("accounts:profile")).content.decode()


def test_changing_email_needs_the_new_address_confirmed(
    contact_client: Client,
    contact_user: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old_email = contact_user.email
    url = reverse("accounts:profile-email")
    wrong = contact_client.post(url, {"email": "new@example.org", "password": "wrong password"})
    assert "The password is not correct" in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = contact_client.post(url, {"email": "New@Example.org", "password": TEST_PASSWORD})
    assert response.status_code == 302
    contact_user.refresh_from_db()
    assert contact_user.email == old_email  # unchanged until confirmed
    to_new = next(m for m in mail.outbox if m.to == ["new@example.org"])
    assert any(m.to == [old_email] for m in mail.outbox)
    link = re.search(r"https?://[^/\s]+(/verify-email/[^\s]+/)", str(to_new.body))
    assert link is not None
    contact_client.get(link.group(1))
    contact_user.refresh_from_db()
    assert contact_user.email == "new@example.org"
    assert Contact.objects.get(user=contact_user).email == "new@example.org"
    assert AuditEvent.objects.filter(action="email_changed").exists()
    # The old link cannot be used to switch back and forth.
    assert contact_client.get(link.group(1)).status_code == 302


def test_changing_email_to_one_in_use_is_refused(contact_client: Client) -> None:
    taken = ContactFactory().user.email
    response = contact_client.post(
        reverse("accounts:profile-email"), {"email": taken, "password": TEST_PASSWORD}
    )
    assert "You cannot use this email address" in response.content.decode()


def test_changing_password(contact_client: Client, contact_user: User) -> None:
    url = reverse("accounts:profile-password")
    new = "another long passphrase 77"
    bad = contact_client.post(url, {"old_password": "nope", "password1": new, "password2": new})
    assert "Your current password is not correct" in bad.content.decode()
    response = contact_client.post(url, {"old_password": TEST_PASSWORD, "password1": new, "password2": new})
    assert response.status_code == 302
    contact_user.refresh_from_db()
    assert contact_user.check_password(new)
    assert contact_client.get(reverse("accounts:profile")).status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="password_changed").exists()
