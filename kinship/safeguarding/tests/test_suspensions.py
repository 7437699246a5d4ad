"""Suspensions (DSO 17, 18) and appeals: the services, with the clock moved across their deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from kinship import policy
from kinship.audit.models import AuditEvent
from kinship.bookings import facts as booking_facts
from kinship.core.roles import Role
from kinship.factories import CompactRecordFactory, IrcFactory, ResidentFactory, staff_with
from kinship.notifications.models import Notification
from kinship.safeguarding import selectors_restrictions as selectors
from kinship.safeguarding import services_restrictions as services
from kinship.safeguarding.models import AppealDecision, ComplianceNotice, ReviewOutcome, SuspensionReason
from kinship.safeguarding.notices import appeal_decision_pdf, suspension_notice_pdf

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
# Friday 20 March 2026, 10:00 GMT: the clocks go forward on Sunday 29 March.
START = datetime(2026, 3, 20, 10, 0, tzinfo=LONDON)


@pytest.fixture
def centre():
    irc = IrcFactory()
    return {
        "irc": irc,
        "manager": staff_with(Role.GOVERNOR, irc),
        "compliance": staff_with(Role.COMPLIANCE_MANAGER, irc, email="compliance@example.gov.uk"),
        "resident": ResidentFactory(establishment=irc),
    }


def suspend(centre, days=10, **kwargs):
    return services.suspension_create(
        resident=centre["resident"],
        reason=kwargs.pop("reason", SuspensionReason.ACCEPTABLE_USE_BREACH),
        details="Recorded the call on a phone.",
        days=days,
        actor=centre["manager"],
        now=START,
        **kwargs,
    )


def access(resident, now, kind=policy.CallKind.SOCIAL):
    establishment = booking_facts.establishment_facts(resident.establishment, terms_version="")
    facts = policy.AccessFacts(
        establishment=establishment, resident=booking_facts.resident_facts(resident), now=now, call_kind=kind
    )
    return policy.resident_access(facts)


def suspended(resident, now):
    return access(resident, now).find("suspension.active") is not None


def test_a_suspension_tells_the_compliance_manager_in_the_app_and_by_email(centre):
    suspension = suspend(centre)
    notice = ComplianceNotice.objects.get(suspension=suspension)
    assert notice.recipient == centre["compliance"]
    assert "needs your authorisation" in notice.body
    email = Notification.objects.get(recipient="compliance@example.gov.uk")
    assert email.channel == "email"
    event = AuditEvent.objects.get(action="safeguarding.suspension_created")
    assert event.policy_ids == ["DSO 17", "DSO 18", "PF 4.8"]


def test_wider_non_compliance_is_refused_with_the_citation(centre):
    with pytest.raises(services.SafeguardingRefused) as refused:
        suspend(centre, reason=SuspensionReason.WIDER_NON_COMPLIANCE)
    assert any(message.startswith("DSO 17:") for message in refused.value.messages)
    assert refused.value.problems[0].field == "reason"


def test_only_the_centre_manager_suspends(centre):
    with pytest.raises(services.SafeguardingRefused) as refused:
        services.suspension_create(
            resident=centre["resident"],
            reason=SuspensionReason.SAFETY,
            details="x",
            days=3,
            actor=centre["compliance"],
            now=START,
        )
    assert "DSO 17: Only the centre manager or deputy centre manager can suspend video calls." in (
        refused.value.messages
    )


def test_unauthorised_long_suspension_stops_at_day_seven_across_the_clock_change(centre):
    suspend(centre, days=10)
    resident = centre["resident"]
    # Day 7 is Friday 27 March 10:00 GMT; after the change on the 29th, day 10 is Monday 30 March 10:00 BST.
    assert suspended(resident, datetime(2026, 3, 27, 9, 59, tzinfo=LONDON))
    assert not suspended(resident, datetime(2026, 3, 27, 10, 0, tzinfo=LONDON))
    # Legal calls stay bookable throughout (DSO 18).
    legal = access(resident, START + timedelta(hours=1), policy.CallKind.LEGAL)
    assert legal.find("suspension.active") is None
    assert legal.find("suspension.legal_access_kept") is not None


def test_authorised_suspension_runs_its_full_length_and_weekly_review_comes_due(centre):
    suspension = suspend(centre, days=10)
    resident = centre["resident"]
    services.suspension_authorise(
        suspension=suspension,
        note="Proportionate.",
        actor=centre["compliance"],
        now=START + timedelta(hours=2),
    )
    suspension.refresh_from_db()
    assert suspended(resident, datetime(2026, 3, 30, 9, 59, tzinfo=LONDON))
    assert not suspended(resident, datetime(2026, 3, 30, 10, 0, tzinfo=LONDON))
    # The end is 10 local days later at the same wall-clock time, across the change to BST.
    assert suspension.ends_at.astimezone(LONDON) == datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)
    due = datetime(2026, 3, 27, 10, 0, tzinfo=LONDON)
    status = selectors.suspension_status(suspension, now=due - timedelta(minutes=1))
    assert status.review_due == due
    assert not status.review_overdue
    assert selectors.suspension_status(suspension, now=due + timedelta(minutes=1)).review_overdue
    services.suspension_review(
        suspension=suspension,
        outcome=ReviewOutcome.CONTINUE,
        notes="Still needed.",
        actor=centre["manager"],
        now=due + timedelta(hours=1),
    )
    suspension.refresh_from_db()
    after = selectors.suspension_status(suspension, now=due + timedelta(hours=2))
    assert not after.review_overdue
    assert after.review_due is None  # the next review would fall after the end


def test_only_the_compliance_manager_authorises(centre):
    suspension = suspend(centre, days=10)
    with pytest.raises(services.SafeguardingRefused):
        services.suspension_authorise(suspension=suspension, note="", actor=centre["manager"], now=START)


def test_a_short_suspension_needs_no_authorisation(centre):
    suspension = suspend(centre, days=5)
    with pytest.raises(services.SafeguardingRefused) as refused:
        services.suspension_authorise(suspension=suspension, note="", actor=centre["compliance"], now=START)
    assert refused.value.messages == ("DSO 18: A suspension of 7 days or less needs no authorisation.",)


def test_appeal_with_imminent_removal_is_due_in_12_elapsed_hours_across_the_clock_change(centre):
    resident = centre["resident"]
    resident.imminent_removal_directions = True
    resident.save()
    suspension = suspend(centre, days=10)
    # Saturday 28 March 20:00 GMT; 12 real hours later is Sunday 29 March 09:00 BST.
    submitted = datetime(2026, 3, 28, 20, 0, tzinfo=LONDON)
    appeal = services.appeal_record(
        suspension=suspension,
        actor=centre["manager"],
        text="I did not record it.",
        submitted_at=submitted,
        now=submitted,
    )
    status = selectors.appeal_status(appeal, now=submitted)
    assert status.due.astimezone(LONDON) == datetime(2026, 3, 29, 9, 0, tzinfo=LONDON)
    assert status.hours_left == 12
    assert not status.overdue
    late = selectors.appeal_status(appeal, now=datetime(2026, 3, 29, 9, 1, tzinfo=LONDON))
    assert late.overdue
    assert late.hours_left == 0


def test_appeal_without_removal_directions_is_due_in_48_hours(centre):
    suspension = suspend(centre, days=3)
    appeal = services.appeal_record(suspension=suspension, actor=centre["manager"], text="Please.", now=START)
    assert selectors.appeal_status(appeal, now=START).due == START + timedelta(hours=48)


def test_an_overturned_appeal_lifts_the_suspension_and_the_notice_renders(centre):
    CompactRecordFactory(resident=centre["resident"], language="Arabic")
    suspension = suspend(centre, days=10)
    appeal = services.appeal_record(suspension=suspension, actor=centre["manager"], text="Appeal", now=START)
    services.appeal_decide(
        appeal=appeal,
        decision=AppealDecision.OVERTURNED,
        reasons="The evidence was not clear.",
        actor=centre["manager"],
        now=START + timedelta(hours=3),
    )
    assert not suspended(centre["resident"], START + timedelta(hours=4))
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(appeal_decision_pdf(appeal))).pages)
    assert "Suspension overturned" in text
    assert "The evidence was not clear." in text
    assert "Translation into Arabic" in text


def test_suspension_notice_pdf_in_english_with_a_translation_space(centre):
    CompactRecordFactory(resident=centre["resident"], language="Arabic")
    suspension = suspend(centre, days=10)
    text = "".join(
        page.extract_text() for page in PdfReader(BytesIO(suspension_notice_pdf(suspension))).pages
    )
    assert "Notice of suspension of video calls" in text
    assert "Breach of the acceptable use policy" in text
    assert "legal advisers" in text
    assert "Translation into Arabic" in text


def test_english_notice_has_no_translation_space(centre):
    suspension = suspend(centre, days=2)
    text = "".join(
        page.extract_text() for page in PdfReader(BytesIO(suspension_notice_pdf(suspension))).pages
    )
    assert "Translation" not in text


def test_times_are_stored_in_utc(centre):
    suspension = suspend(centre, days=1)
    assert suspension.starts_at == START.astimezone(UTC)
    assert date(2026, 3, 21) == suspension.ends_at.astimezone(LONDON).date()
