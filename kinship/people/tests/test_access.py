"""Who may open each people page: the table (URL name → roles). Everything else is refused."""

from __future__ import annotations

import pytest

from kinship.core.roles import ESTABLISHMENT_ADMINS, RECORD_EDITORS, RECORD_READERS
from kinship.establishments.tests.access import (
    Page,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)

pytestmark = pytest.mark.django_db


def _resident(world):
    return {"resident_id": world.resident.pk}


PAGES = [
    Page("people:residents", RECORD_READERS),
    Page("people:resident", RECORD_READERS, _resident),
    Page("people:resident-add", RECORD_EDITORS),
    Page("people:resident-edit", RECORD_EDITORS, _resident),
    Page("people:compact-add", RECORD_EDITORS, _resident),
    Page("people:risk-assessment-add", RECORD_EDITORS, _resident),
    Page("people:compact-texts", ESTABLISHMENT_ADMINS),
    Page("people:compact-text-add", ESTABLISHMENT_ADMINS),
    Page("people:contact", RECORD_READERS, lambda world: {"contact_id": world.contact.pk}),
    Page("people:link-decide", RECORD_EDITORS, lambda world: {"link_id": world.link.pk}),
    Page("people:link-edit", RECORD_EDITORS, lambda world: {"link_id": world.link.pk}),
    Page("people:link-requests", RECORD_READERS),
    Page("people:link-request", RECORD_EDITORS, lambda world: {"request_id": world.link_request.pk}),
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
