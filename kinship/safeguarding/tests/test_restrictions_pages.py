"""Who may open each safeguarding page (deny by default), and the suspension pages end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from kinship.core.roles import Role
from kinship.establishments.tests.access import (
    Page,
    case_id,
    check_anonymous,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.factories import IrcFactory, ResidentFactory, StaffFactory, staff_with
from kinship.safeguarding.models import (
    Appeal,
    AppealDecision,
    ComplianceNotice,
    ContactBan,
    Restriction,
    RestrictionKind,
    Rule34Ground,
    Suspension,
    SuspensionReason,
    VisitorBan,
    VisitorBanKind,
)

pytestmark = pytest.mark.django_db
READERS = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER})
SUMMARY_READERS = READERS | {Role.BOOKING_CLERK}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00"
    b"IEND\xaeB`\x82"
)


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


def _appeal_with_scan(world: Any) -> Appeal:
    appeal = _appeal(world)
    appeal.scan.save("appeal.png", ContentFile(PNG), save=False)
    appeal.scan_content_type = "image/png"
    appeal.save()
    return appeal


def _decided_appeal(world: Any) -> Appeal:
    appeal = _appeal(world)
    appeal.decision = AppealDecision.UPHELD
    appeal.decision_reasons = "The recording shows the documents."
    appeal.decided_by = appeal.recorded_by
    appeal.decided_at = timezone.now()
    appeal.save()
    return appeal


def _restriction(world: Any) -> Restriction:
    return Restriction.objects.create(
        resident=world.resident,
        establishment=world.establishment,
        kind=RestrictionKind.LIMIT,
        ground=Rule34Ground.CRIME,
        rationale="Arranging supply of drugs on calls.",
        necessity_and_proportionality="Shorter calls with a monitor; no lesser step works.",
        max_call_minutes=15,
        decided_by=StaffFactory(),
        starts_at=timezone.now(),
        review_on=timezone.localdate() + timedelta(days=28),
    )


def _contact_ban(world: Any) -> ContactBan:
    return ContactBan.objects.create(
        resident=world.resident,
        contact=world.contact,
        establishment=world.establishment,
        reason="Harassment of the contact.",
        decided_by=StaffFactory(),
        starts_at=timezone.now(),
        review_on=timezone.localdate() + timedelta(days=28),
    )


def _visitor_ban(world: Any) -> VisitorBan:
    return VisitorBan.objects.create(
        contact=world.contact,
        establishment=world.establishment,
        kind=VisitorBanKind.BANNED_VISITOR,
        reason="Passed an item at a visit.",
        decided_by=StaffFactory(),
        starts_at=timezone.now(),
        until=timezone.localdate() + timedelta(days=90),
        review_on=timezone.localdate() + timedelta(days=28),
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
    Page("safeguarding-restrictions:appeal-scan", READERS, lambda w: {"appeal_id": _appeal_with_scan(w).pk}),
    Page("safeguarding-restrictions:appeal-notice", READERS, lambda w: {"appeal_id": _decided_appeal(w).pk}),
    Page("safeguarding-restrictions:restriction", READERS, lambda w: {"restriction_id": _restriction(w).pk}),
    Page(
        "safeguarding-restrictions:contact-ban-new",
        frozenset({Role.GOVERNOR}),
        lambda w: {"resident_id": w.resident.pk},
    ),
    Page("safeguarding-restrictions:contact-ban", READERS, lambda w: {"ban_id": _contact_ban(w).pk}),
    Page("safeguarding-restrictions:visitor-ban-new", frozenset({Role.GOVERNOR})),
    Page("safeguarding-restrictions:visitor-ban", SUMMARY_READERS, lambda w: {"ban_id": _visitor_ban(w).pk}),
    Page(
        "safeguarding-restrictions:banned-visitor-authorise",
        frozenset({Role.GOVERNOR}),
        lambda w: {"resident_id": w.resident.pk},
    ),
    Page("safeguarding-restrictions:resident-find", SUMMARY_READERS),
    Page("safeguarding-restrictions:resident", SUMMARY_READERS, lambda w: {"resident_id": w.resident.pk}),
]


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PAGES)), ids=case_id)
def test_roles(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous(client, page):
    check_anonymous(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_elsewhere(client, page):
    check_role_elsewhere(client, page)


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
