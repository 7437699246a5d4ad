"""The back-office admin for accounts: no password hashes in lists, acceptances read-only, role grants audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kinship.accounts.models import StaffRole, TermsAcceptance, User
from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, StaffFactory, TermsVersionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_2fa(staff_client) -> Client:  # type: ignore[no-untyped-def]
    admin = StaffFactory(is_staff=True, is_superuser=True)
    client: Client = staff_client(admin)
    return client


def test_the_user_list_shows_no_password_hashes(admin_client_2fa: Client) -> None:
    user = UserFactory()
    html = admin_client_2fa.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert user.email in html
    assert str(User.objects.get(pk=user.pk).password) not in html
    assert "md5$" not in html
    assert "argon2" not in html


def test_terms_acceptances_are_read_only(admin_client_2fa: Client) -> None:
    terms = TermsVersionFactory()
    user = UserFactory()
    TermsAcceptance.objects.create(user=user, terms=terms)
    response = admin_client_2fa.get(reverse("admin:accounts_termsversion_change", args=[terms.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert user.email in html or str(user) in html
    assert 'name="acceptances-0-user"' not in html
    assert 'name="body"' not in html  # accepted wording is evidence


def test_granting_a_role_in_the_admin_is_audited(admin_client_2fa: Client) -> None:
    establishment = EstablishmentFactory()
    member = StaffFactory()
    response = admin_client_2fa.post(
        reverse("admin:accounts_staffrole_add"),
        {"user": member.pk, "establishment": establishment.pk, "role": Role.SECURITY},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    role = StaffRole.objects.get(user=member)
    assert role.granted_by is not None
    event = AuditEvent.objects.get(action="staff_role_granted")
    assert event.establishment_code == establishment.code


def test_the_back_office_needs_is_staff(staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(StaffFactory(is_staff=False))
    response = client.get("/back-office/")
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert User.objects.count() == 1
