"""Who may open each welfare page: the table (URL name -> roles). Everything else is refused, other establishments,
contacts and anonymous visitors included."""

from __future__ import annotations

import pytest

from kinship.core.roles import RECORD_READERS
from kinship.establishments.tests.access import (
    Page,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.factories import StaffFactory
from kinship.safeguarding import services_welfare as services
from kinship.safeguarding.deadlines import DASHBOARD_ROLES
from kinship.safeguarding.views_welfare import (
    INCIDENT_HANDLERS,
    INCIDENT_READERS,
    INCIDENT_REPORTERS,
    WELLBEING_READERS,
    WELLBEING_RECORDERS,
)

pytestmark = pytest.mark.django_db


def _incident(world):
    incident = services.incident_create(
        establishment=world.establishment,
        resident=world.resident,
        reason="dress",
        details="Vest",
        actor=StaffFactory(),
    )
    return {"incident_id": incident.pk}


def _follow_up(world):
    follow_up = services.wellbeing_concern_record(
        resident=world.resident, observation="Upset", actor=StaffFactory()
    )
    return {"follow_up_id": follow_up.pk}


PAGES = [
    Page("safeguarding-welfare:deadlines", DASHBOARD_ROLES),
    Page("safeguarding-welfare:incidents", INCIDENT_READERS),
    Page("safeguarding-welfare:incident-new", INCIDENT_REPORTERS),
    Page("safeguarding-welfare:incident", INCIDENT_READERS, _incident),
    Page("safeguarding-welfare:incident-update", INCIDENT_HANDLERS, _incident),
    Page("safeguarding-welfare:wellbeing-list", WELLBEING_READERS),
    Page("safeguarding-welfare:wellbeing-new", WELLBEING_RECORDERS),
    Page("safeguarding-welfare:wellbeing", WELLBEING_READERS, _follow_up),
    Page(
        "safeguarding-welfare:risk-history", RECORD_READERS, lambda world: {"resident_id": world.resident.pk}
    ),
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
