"""Who may open each establishments page: the table (URL name → roles). Everything else is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinship.core.roles import ESTABLISHMENT_ADMINS, Role
from kinship.establishments.views import TERMINAL_REGISTRARS
from kinship.factories import ContactFactory, EstablishmentFactory, StaffFactory
from kinship.testing import sign_in_with_2fa

from .access import (
    Page,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)

pytestmark = pytest.mark.django_db

ANY_ROLE = frozenset(Role)

PAGES = [
    Page("establishments:overview", ANY_ROLE),
    Page("establishments:settings", ESTABLISHMENT_ADMINS),
    Page("establishments:rooms", ESTABLISHMENT_ADMINS),
    Page("establishments:room-add", ESTABLISHMENT_ADMINS),
    Page("establishments:room-edit", ESTABLISHMENT_ADMINS, lambda world: {"room_id": world.room.pk}),
    Page("establishments:terminals", ESTABLISHMENT_ADMINS),
    Page("establishments:terminal-add", ESTABLISHMENT_ADMINS),
    Page(
        "establishments:terminal-edit", ESTABLISHMENT_ADMINS, lambda world: {"terminal_id": world.terminal.pk}
    ),
    Page(
        "establishments:terminal-revoke",
        ESTABLISHMENT_ADMINS,
        lambda world: {"terminal_id": world.terminal.pk},
    ),
    Page(
        "establishments:terminal-code", ESTABLISHMENT_ADMINS, lambda world: {"terminal_id": world.terminal.pk}
    ),
    Page("establishments:terminal-register", TERMINAL_REGISTRARS),
    Page("establishments:terminal-registered", TERMINAL_REGISTRARS),
]


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PAGES)), ids=case_id)
def test_each_role_is_let_in_or_refused(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_a_role_at_another_establishment_is_refused(client, page):
    check_role_elsewhere(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_contacts_are_refused(client, page):
    check_contact(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    check_anonymous(client, page)


# --- Pages not about one establishment -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=case_id)
def test_any_member_of_staff_has_a_home_listing_their_establishments(client, role):
    place = EstablishmentFactory(name="HMP Somewhere")
    staff = StaffFactory(roles=[(place, role)])
    response = sign_in_with_2fa(client, staff).get(reverse("establishments:mine"))
    assert response.status_code == 200
    assert "HMP Somewhere" in response.content.decode()
    assert str(role.label) in response.content.decode()


def test_a_member_of_staff_sees_only_their_own_establishments(client):
    mine, _theirs = EstablishmentFactory(name="HMP Mine"), EstablishmentFactory(name="HMP Theirs")
    staff = StaffFactory(roles=[(mine, Role.BOOKING_CLERK)])
    page = sign_in_with_2fa(client, staff).get(reverse("establishments:mine")).content.decode()
    assert "HMP Mine" in page
    assert "HMP Theirs" not in page


def test_the_staff_home_refuses_contacts_and_sends_anonymous_people_to_sign_in(client):
    assert client.get(reverse("establishments:mine"))["Location"].startswith(reverse("accounts:sign-in"))
    client.force_login(ContactFactory().user)
    assert client.get(reverse("establishments:mine")).status_code == 403


@pytest.mark.parametrize("role", list(Role), ids=case_id)
def test_only_system_administrators_may_set_up_an_establishment(client, role):
    staff = StaffFactory(roles=[(EstablishmentFactory(), role)])
    response = sign_in_with_2fa(client, staff).get(reverse("establishments:create"))
    assert response.status_code == (200 if role == Role.SYSTEM_ADMINISTRATOR else 403)


def test_setting_up_an_establishment_refuses_contacts_and_anonymous_people(client):
    assert client.get(reverse("establishments:create"))["Location"].startswith(reverse("accounts:sign-in"))
    client.force_login(ContactFactory().user)
    assert client.get(reverse("establishments:create")).status_code == 403
