"""The deadlines registry, the dashboard list and the reminder and escalation pass, with the clock moved, across a
UK daylight-saving change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kinship.audit.models import AuditEvent
from kinship.bookings.models import BookingReview, BookingStatus, NonAttendanceCause
from kinship.core.roles import Role
from kinship.factories import (
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    RiskAssessmentFactory,
    staff_with,
)
from kinship.notifications.models import Notification
from kinship.safeguarding import deadlines
from kinship.safeguarding import services_welfare as services
from kinship.safeguarding.models import DeadlineNotice, DeadlineNoticeLevel, IncidentReason

from .test_incidents import booking_for

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
#: Saturday before the spring change (Sunday 28 March 2027, 01:00 GMT -> 02:00 BST).
BEFORE_SPRING = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def prison():
    return EstablishmentFactory()


@pytest.fixture
def resident(prison):
    return ResidentFactory(establishment=prison, location="B wing")


@pytest.fixture
def officer(prison):
    return staff_with(Role.SUPERVISING_OFFICER, prison)


def _concern(resident, actor, now):
    return services.wellbeing_concern_record(
        resident=resident, observation="Crying after the call", actor=actor, now=now
    )


def _review(resident, opened_at):
    return BookingReview.objects.create(
        booking=booking_for(resident, status=BookingStatus.CANCELLED),
        cause=NonAttendanceCause.CANCELLED_BY_CONTACT,
        opened_at=opened_at,
    )


# --- The registry and the list -------------------------------------------------------------------------------------


def test_every_kind_names_its_rule_and_roles():
    keys = {source.key: source for source in deadlines.sources()}
    assert {"cancellation_review", "wellbeing_follow_up", "incident_triage", "risk_assessment_review"} <= set(
        keys
    )
    assert keys["cancellation_review"].responsible == Role.BOOKING_CLERK
    assert keys["incident_triage"].responsible == Role.SECURITY
    for source in keys.values():
        assert source.policy_id
        assert source.visible_to <= deadlines.DASHBOARD_ROLES


def test_a_source_plugs_in_with_one_decorated_function(prison):
    @deadlines.deadline_source(
        key="test_extra",
        label="Extra",
        policy_id="DSO 18",
        responsible=Role.GOVERNOR,
        visible_to={Role.COMPLIANCE_MANAGER},
    )
    def extra(establishment, now, until):
        yield deadlines.Due(item_id="1", whose="Someone", due_at=now + timedelta(hours=3), url="/x/")

    try:
        found = deadlines.due_items(establishment=prison, roles={Role.COMPLIANCE_MANAGER}, now=BEFORE_SPRING)
        assert [item.source.key for item in found] == ["test_extra"]
        assert deadlines.due_items(establishment=prison, roles={Role.BOOKING_CLERK}, now=BEFORE_SPRING) == []
    finally:
        deadlines._SOURCES.pop("test_extra")


def test_items_come_sorted_by_due_time_with_the_roles_that_see_them(prison, resident, officer):
    now = BEFORE_SPRING
    _review(resident, opened_at=now - timedelta(hours=50))  # overdue by 2 hours
    _concern(resident, officer, now - timedelta(hours=20))  # due in 4 hours
    services.incident_create(
        establishment=prison,
        resident=resident,
        reason=IncidentReason.DRESS,
        details="Vest",
        actor=officer,
        now=now,
    )  # due in 24 hours
    everything = deadlines.due_items(establishment=prison, now=now)
    assert [item.source.key for item in everything] == [
        "cancellation_review",
        "wellbeing_follow_up",
        "incident_triage",
    ]
    assert [item.hours_left(now) for item in everything] == [-2, 4, 24]
    clerk = deadlines.due_items(establishment=prison, roles={Role.BOOKING_CLERK}, now=now)
    assert [item.source.key for item in clerk] == ["cancellation_review"]
    security = deadlines.due_items(establishment=prison, roles={Role.SECURITY}, now=now)
    assert [item.source.key for item in security] == ["wellbeing_follow_up", "incident_triage"]


def test_closed_items_and_other_establishments_leave_the_list(prison, resident, officer):
    follow_up = _concern(resident, officer, BEFORE_SPRING)
    _concern(ResidentFactory(establishment=EstablishmentFactory()), officer, BEFORE_SPRING)
    assert len(deadlines.due_items(establishment=prison, now=BEFORE_SPRING)) == 1
    governor = staff_with(Role.GOVERNOR, prison)
    services.wellbeing_follow_up_close(
        follow_up=follow_up, outcome="Spoke to them", acct_opened=False, actor=governor
    )
    assert deadlines.due_items(establishment=prison, now=BEFORE_SPRING) == []


def test_only_the_latest_risk_assessment_of_each_kind_counts(prison, resident):
    RiskAssessmentFactory(
        resident=resident, review_date=date(2027, 3, 20), assessed_at=BEFORE_SPRING - timedelta(days=60)
    )
    RiskAssessmentFactory(
        resident=resident, review_date=date(2027, 3, 30), assessed_at=BEFORE_SPRING - timedelta(days=1)
    )
    found = deadlines.due_items(establishment=prison, now=BEFORE_SPRING)
    assert len(found) == 1
    assert found[0].due_at.astimezone(LONDON).date() == date(2027, 3, 31)


# --- Daylight saving -----------------------------------------------------------------------------------------------


def test_a_review_date_after_the_spring_change_ends_at_local_midnight(prison, resident):
    RiskAssessmentFactory(resident=resident, review_date=date(2027, 3, 28), assessed_at=BEFORE_SPRING)
    (item,) = deadlines.due_items(establishment=prison, now=BEFORE_SPRING)
    # Midnight at the end of Sunday 28 March is 00:00 BST on the 29th: 23:00 UTC on the 28th.
    assert item.due_at.astimezone(UTC) == datetime(2027, 3, 28, 23, 0, tzinfo=UTC)
    # From Saturday 12:00 GMT that is 35 real hours, not 36: the night has one hour less.
    assert item.hours_left(BEFORE_SPRING) == 35


def test_an_hour_deadline_across_the_autumn_change_is_elapsed_time(prison, resident, officer):
    recorded = datetime(2027, 10, 30, 23, 30, tzinfo=UTC)  # Sunday 31 October, 00:30 BST
    follow_up = _concern(resident, officer, recorded)
    assert follow_up.due_at - follow_up.recorded_at == timedelta(hours=24)
    # On the wall clock the deadline is 23:30 GMT on the Sunday, 23 hours after 00:30 BST.
    local_due = follow_up.due_at.astimezone(LONDON)
    assert (local_due.day, local_due.hour, local_due.minute) == (31, 23, 30)


def test_reminders_and_escalation_across_the_spring_change(prison, resident, officer):
    governor = staff_with(Role.GOVERNOR, prison, email="governor@example.gov.uk")
    recorded = datetime(2027, 3, 27, 14, 0, tzinfo=UTC)  # Saturday 14:00 GMT; due Sunday 15:00 BST
    follow_up = _concern(resident, officer, recorded)
    with time_machine.travel(recorded + timedelta(hours=1), tick=False):
        assert deadlines.deadlines_run().reminders == 1  # 23 hours left: the 24-hour reminder
    with time_machine.travel(follow_up.due_at - timedelta(minutes=90), tick=False):
        assert deadlines.deadlines_run().reminders == 1  # the 2-hour reminder
    with time_machine.travel(follow_up.due_at + timedelta(minutes=1), tick=False):
        assert deadlines.deadlines_run().escalations == 1
    levels = list(DeadlineNotice.objects.order_by("sent_at").values_list("level", flat=True))
    assert levels == [
        DeadlineNoticeLevel.REMINDER_24H,
        DeadlineNoticeLevel.REMINDER_2H,
        DeadlineNoticeLevel.ESCALATION,
    ]
    assert set(Notification.objects.values_list("recipient", flat=True)) == {governor.email}


# --- Reminders and escalation sent once each -----------------------------------------------------------------------


def test_each_reminder_goes_once_however_often_the_pass_runs(prison, resident, officer):
    staff_with(Role.GOVERNOR, prison, email="governor@example.gov.uk")
    follow_up = _concern(resident, officer, BEFORE_SPRING)
    for minutes in (60, 70, 80):
        deadlines.deadlines_run(now=BEFORE_SPRING + timedelta(minutes=minutes))
    for minutes in (0, 10):
        deadlines.deadlines_run(now=follow_up.due_at - timedelta(hours=1) + timedelta(minutes=minutes))
    assert DeadlineNotice.objects.filter(level=DeadlineNoticeLevel.REMINDER_24H).count() == 1
    assert DeadlineNotice.objects.filter(level=DeadlineNoticeLevel.REMINDER_2H).count() == 1
    assert Notification.objects.count() == 2
    audited = AuditEvent.objects.filter(action="deadline_reminder_sent")
    assert audited.count() == 2
    assert all(event.policy_ids == ["PF 4.18"] for event in audited)


def test_an_item_first_seen_inside_two_hours_gets_only_the_two_hour_reminder(prison, resident, officer):
    follow_up = _concern(resident, officer, BEFORE_SPRING)
    deadlines.deadlines_run(now=follow_up.due_at - timedelta(minutes=30))
    assert list(DeadlineNotice.objects.values_list("level", flat=True)) == [DeadlineNoticeLevel.REMINDER_2H]


def test_an_overdue_cancellation_review_escalates_from_the_clerk_to_the_governor_once(prison, resident):
    clerk = staff_with(Role.BOOKING_CLERK, prison, email="clerk@example.gov.uk")
    governor = staff_with(Role.GOVERNOR, prison, email="governor@example.gov.uk")
    review = _review(resident, opened_at=BEFORE_SPRING)
    due = review.opened_at + timedelta(hours=deadlines.CANCELLATION_REVIEW_HOURS)
    deadlines.deadlines_run(now=due - timedelta(hours=5))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [clerk.email]
    for hours in (1, 2, 30):
        deadlines.deadlines_run(now=due + timedelta(hours=hours))
    escalation = DeadlineNotice.objects.get(level=DeadlineNoticeLevel.ESCALATION)
    assert escalation.role == Role.GOVERNOR
    assert escalation.recipients == [governor.email]
    assert Notification.objects.filter(recipient=governor.email).count() == 1
    assert "Overdue" in Notification.objects.get(recipient=governor.email).personalisation["subject"]
    event = AuditEvent.objects.get(action="deadline_escalated")
    assert event.policy_ids == ["PF 4.8"]


def test_in_immigration_detention_the_governor_escalates_to_the_compliance_manager():
    irc = IrcFactory()
    resident = ResidentFactory(establishment=irc)
    officer = staff_with(Role.SUPERVISING_OFFICER, irc)
    compliance = staff_with(Role.COMPLIANCE_MANAGER, irc, email="compliance@example.gov.uk")
    follow_up = _concern(resident, officer, BEFORE_SPRING)
    deadlines.deadlines_run(now=follow_up.due_at + timedelta(minutes=5))
    escalation = DeadlineNotice.objects.get(level=DeadlineNoticeLevel.ESCALATION)
    assert escalation.role == Role.COMPLIANCE_MANAGER
    assert escalation.recipients == [compliance.email]


def test_the_next_role_up():
    prison, irc = EstablishmentFactory(), IrcFactory()
    assert deadlines.next_role_up(Role.BOOKING_CLERK, prison) == Role.GOVERNOR
    assert deadlines.next_role_up(Role.SECURITY, irc) == Role.GOVERNOR
    assert deadlines.next_role_up(Role.GOVERNOR, irc) == Role.COMPLIANCE_MANAGER
    assert deadlines.next_role_up(Role.GOVERNOR, prison) == Role.GOVERNOR


def test_the_command_runs_the_pass_and_the_task_can_be_enqueued(prison, resident, officer):
    follow_up = _concern(resident, officer, BEFORE_SPRING)
    out = StringIO()
    with time_machine.travel(follow_up.due_at + timedelta(hours=1), tick=False):
        call_command("safeguarding_deadlines", stdout=out)
        assert "1 escalation(s)" in out.getvalue()
        out = StringIO()
        call_command(
            "safeguarding_deadlines", "--enqueue", stdout=out
        )  # the immediate backend runs it inline
    assert "enqueued" in out.getvalue()
    assert DeadlineNotice.objects.count() == 1


# --- The dashboard page --------------------------------------------------------------------------------------------


def test_the_dashboard_lists_items_with_hours_left_or_overdue(staff_client, prison, resident, officer):
    _concern(resident, officer, datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    governor = staff_with(Role.GOVERNOR, prison)
    with time_machine.travel(datetime(2027, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        response = staff_client(governor).get(reverse("safeguarding-welfare:deadlines", args=[prison.code]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "3 hours overdue" in body
    assert resident.identifier in body


def test_the_dashboard_costs_the_same_queries_however_long_the_list(
    staff_client, prison, officer, django_assert_max_num_queries
):
    governor = staff_with(Role.GOVERNOR, prison)
    url = reverse("safeguarding-welfare:deadlines", args=[prison.code])
    for _ in range(2):
        resident = ResidentFactory(establishment=prison)
        _concern(resident, officer, BEFORE_SPRING)
        _review(resident, BEFORE_SPRING)
        RiskAssessmentFactory(resident=resident, review_date=date(2027, 3, 30), assessed_at=BEFORE_SPRING)
    with time_machine.travel(BEFORE_SPRING, tick=False):
        client = staff_client(governor)
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for _ in range(8):
            resident = ResidentFactory(establishment=prison)
            _concern(resident, officer, BEFORE_SPRING)
            _review(resident, BEFORE_SPRING)
            RiskAssessmentFactory(resident=resident, review_date=date(2027, 3, 30), assessed_at=BEFORE_SPRING)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(url)
    assert response.content.decode().count("Wellbeing follow-up,") == 10
