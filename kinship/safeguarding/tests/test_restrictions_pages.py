"""Who may open each safeguarding page (deny by default), and the suspension pages end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kinship.core.roles import Role
from kinship.establishments.tests.access import Page, case_id, check_anonymous, check_role, role_cases
from kinship.factories import IrcFactory, ResidentFactory, StaffFactory, staff_with
from kinship.safeguarding.models import Appeal, ComplianceNotice, Suspension, SuspensionReason

pytestmark = pytest.mark.django_db
READERS = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER})


def _suspension(world: Any) -> Suspension:
    now = timezone.now()
    return Suspension.objects.create(
        resident=world.resident,
        establishment=world.establishment,
        reason=SuspensionReason.SECURITY,
        details="Tried to show another detainee's documents on a call.",
        starts_at=now,
        ends_at=now + timedelta(days=10),
        decided_by=StaffFactory(),
    )


def _appeal(world: Any) -> Appeal:
    return Appeal.objects.create(
        suspension=_suspension(world),
        submitted_at=timezone.now(),
        text="I did not do this.",
        recorded_by=StaffFactory(),
    )


PAGES = [
    Page("safeguarding-restrictions:overview", READERS),
    Page(
        "safeguarding-restrictions:restriction-new",
        frozenset({Role.GOVERNOR}),
        lambda w: {"resident_id": w.resident.pk},
    ),
    Page(
        "safeguarding-restrictions:suspension-new",
        frozenset({Role.GOVERNOR}),
        lambda w: {"resident_id": w.resident.pk},
    ),
    Page("safeguarding-restrictions:suspension", READERS, lambda w: {"suspension_id": _suspension(w).pk}),
    Page(
        "safeguarding-restrictions:suspension-notice", READERS, lambda w: {"suspension_id": _suspension(w).pk}
    ),
    Page(
        "safeguarding-restrictions:suspension-authorise",
        frozenset({Role.COMPLIANCE_MANAGER}),
        lambda w: {"suspension_id": _suspension(w).pk},
    ),
    Page(
        "safeguarding-restrictions:suspension-review",
        frozenset({Role.GOVERNOR}),
        lambda w: {"suspension_id": _suspension(w).pk},
    ),
    Page("safeguarding-restrictions:appeal-new", READERS, lambda w: {"suspension_id": _suspension(w).pk}),
    Page(
        "safeguarding-restrictions:appeal-decide",
        frozenset({Role.GOVERNOR}),
        lambda w: {"appeal_id": _appeal(w).pk},
    ),
]


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PAGES)), ids=case_id)
def test_roles(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous(client, page):
    check_anonymous(client, page)


def test_suspend_authorise_and_print(staff_client):
    irc = IrcFactory()
    resident = ResidentFactory(establishment=irc)
    manager = staff_with(Role.GOVERNOR, irc)
    compliance = staff_with(Role.COMPLIANCE_MANAGER, irc)
    client = staff_client(manager)
    url = f"/staff/{irc.code}/safeguarding/residents/{resident.pk}/suspend/"
    refused = client.post(url, {"reason": "wider_non_compliance", "details": "Refused to work", "days": "10"})
    assert refused.status_code == 200
    assert "DSO 17:" in refused.content.decode()
    assert "Refused to work" in refused.content.decode()
    response = client.post(url, {"reason": "safety", "details": "Threats on a call", "days": "10"})
    suspension = Suspension.objects.get()
    assert response.status_code == 302
    assert ComplianceNotice.objects.filter(recipient=compliance).exists()
    pdf = client.get(f"/staff/{irc.code}/safeguarding/suspensions/{suspension.pk}/notice.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    other = staff_client(compliance)
    assert "Awaiting" in other.get(f"/staff/{irc.code}/safeguarding/").content.decode()
    other.post(f"/staff/{irc.code}/safeguarding/suspensions/{suspension.pk}/authorise/", {"note": "ok"})
    suspension.refresh_from_db()
    assert suspension.authorised_by == compliance
    for role_url in ("authorise/", "review/", "appeal/", ""):
        assert other.get(
            f"/staff/{irc.code}/safeguarding/suspensions/{suspension.pk}/{role_url}"
        ).status_code in {200, 403}
