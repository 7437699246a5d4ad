"""The deadline sources of restrictions, bans, suspensions and appeals, as the dashboard and the pass see them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kinship.core.roles import Role
from kinship.factories import ContactFactory, IrcFactory, ResidentFactory, staff_with
from kinship.safeguarding import deadlines
from kinship.safeguarding.models import Appeal, ContactBan, DeadlineNotice, Suspension

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def irc():
    return IrcFactory()


def _suspension(irc, days, **fields):
    return Suspension.objects.create(
        resident=ResidentFactory(establishment=irc),
        establishment=irc,
        reason="security",
        details="Recorded a call",
        decided_by=staff_with(Role.GOVERNOR, irc),
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW - timedelta(days=1) + timedelta(days=days),
        **fields,
    )


def _keys(items):
    return [item.source.key for item in items]


def test_a_long_suspension_awaits_authorisation_from_the_compliance_manager(irc):
    suspension = _suspension(irc, 10)
    items = deadlines.due_items(establishment=irc, roles={Role.COMPLIANCE_MANAGER}, now=NOW)
    (authorisation,) = [item for item in items if item.source.key == "suspension_authorisation"]
    # Day 7 of a suspension that started on Tuesday 23 March 10:00 GMT: Tuesday 30 March 10:00 BST (09:00 UTC),
    # the same wall-clock time across the spring change.
    assert authorisation.due_at.astimezone(UTC) == datetime(2027, 3, 30, 9, 0, tzinfo=UTC)
    assert authorisation.due.item_id == str(suspension.pk)
    assert "suspension_authorisation" not in _keys(
        deadlines.due_items(establishment=irc, roles={Role.BOOKING_CLERK}, now=NOW)
    )


def test_an_appeal_decision_is_due_in_12_hours_with_imminent_removal(irc):
    suspension = _suspension(irc, 5)
    Appeal.objects.create(
        suspension=suspension,
        submitted_at=NOW,
        text="I did not record it",
        recorded_by=staff_with(Role.GOVERNOR, irc),
        imminent_removal_directions=True,
    )
    (appeal,) = [
        item
        for item in deadlines.due_items(establishment=irc, now=NOW)
        if item.source.key == "appeal_decision"
    ]
    assert appeal.due_at - NOW == timedelta(hours=12)
    assert "12 hours" in appeal.what


def test_a_contact_ban_review_date_is_listed_for_the_governor(irc):
    resident = ResidentFactory(establishment=irc)
    ContactBan.objects.create(
        resident=resident,
        contact=ContactFactory(),
        establishment=irc,
        reason="Breach of the terms",
        decided_by=staff_with(Role.GOVERNOR, irc),
        starts_at=NOW - timedelta(days=3),
        review_on=date(2027, 3, 25),
    )
    items = deadlines.due_items(establishment=irc, roles={Role.GOVERNOR}, now=NOW)
    assert "contact_ban_review" in _keys(items)


def test_the_pass_escalates_an_overdue_appeal_decision_to_the_compliance_manager(irc):
    compliance = staff_with(Role.COMPLIANCE_MANAGER, irc, email="compliance@example.gov.uk")
    suspension = _suspension(irc, 5)
    Appeal.objects.create(
        suspension=suspension, submitted_at=NOW, text="Appeal", recorded_by=staff_with(Role.GOVERNOR, irc)
    )
    result = deadlines.deadlines_run(now=NOW + timedelta(hours=49), establishments=[irc])
    assert result.escalations >= 1
    notice = DeadlineNotice.objects.get(source="appeal_decision")
    assert notice.role == Role.COMPLIANCE_MANAGER
    assert notice.recipients == [compliance.email]
