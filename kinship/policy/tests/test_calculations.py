"""The pure calculations workflows call: deadlines, reviews, capacity, media, recording, the call clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from kinship.policy import (
    AllowancePattern,
    Appeal,
    CallKind,
    CallPhase,
    ContactAccessFacts,
    Decision,
    DeletionFacts,
    EstablishmentSettings,
    EstablishmentType,
    ExtraCallFacts,
    ExtraCallReason,
    Facts,
    Profile,
    RecordKind,
    Requester,
    Restriction,
    RestrictionFacts,
    RestrictionKind,
    Rule34Ground,
    ScheduleFacts,
    Session,
    Suspension,
    SuspensionFacts,
    SuspensionReason,
    TerminationFacts,
    TerminationReason,
    WellbeingClosureFacts,
    WellbeingConcernFacts,
    appeal_decision_due,
    appeal_overdue,
    booking_allowed,
    booking_priority,
    call_log_fields,
    call_may_run,
    call_phase,
    can_grant_extra_call,
    cancellation_notice,
    contact_may_use_service,
    deletion_allowed,
    evaluate,
    hotline_notice,
    monitor_media,
    monitoring_allowed,
    monitoring_officers_needed,
    next_review_due,
    participants_allowed,
    profile_defaults,
    profiles_for_type,
    recording_required,
    resident_access,
    restriction_allowed,
    retention_expires_at,
    review_closure,
    review_overdue,
    schedule_meets_daily_hours,
    schedule_publishable,
    slot_length_allowed,
    suspension_allowed,
    suspension_needs_authorisation,
    termination_allowed,
    termination_outcome,
    wellbeing_closure_allowed,
    wellbeing_concern_allowed,
)
from kinship.policy.tests import builders as b
from kinship.policy.time import LONDON

DETAINEE = b.resident()
REMOVAL = b.resident(imminent_removal_directions=True)


def suspension(start: datetime, end: datetime | None, *reviews: datetime) -> Suspension:
    return Suspension(reason=SuspensionReason.SAFETY, decided_by="cm", start=start, end=end, reviews=reviews)


# --- DSO 18: appeals ----------------------------------------------------------------------------------------------


def test_appeal_due_in_48_hours_or_12_with_removal_directions() -> None:
    appeal = Appeal(submitted_at=datetime(2025, 6, 2, 9, 0, tzinfo=LONDON))
    assert appeal_decision_due(appeal, DETAINEE, LONDON) == datetime(2025, 6, 4, 9, 0, tzinfo=LONDON)
    assert appeal_decision_due(appeal, REMOVAL, LONDON) == datetime(2025, 6, 2, 21, 0, tzinfo=LONDON)


def test_appeal_deadline_across_the_autumn_clock_change() -> None:
    # Submitted Saturday 25 October 2025 12:00 BST; 48 real hours later it is Monday 11:00 GMT.
    appeal = Appeal(submitted_at=datetime(2025, 10, 25, 12, 0, tzinfo=LONDON))
    due = appeal_decision_due(appeal, DETAINEE, LONDON)
    assert (due.day, due.hour, due.utcoffset()) == (27, 11, timedelta(0))
    before = datetime(2025, 10, 27, 10, 59, tzinfo=LONDON)
    assert not appeal_overdue(appeal, DETAINEE, LONDON, before)
    assert appeal_overdue(appeal, DETAINEE, LONDON, before + timedelta(minutes=2))


def test_appeal_deadline_across_the_spring_clock_change() -> None:
    # Submitted Saturday 29 March 2025 20:00 GMT with removal directions: 12 real hours is Sunday 09:00 BST.
    appeal = Appeal(submitted_at=datetime(2025, 3, 29, 20, 0, tzinfo=LONDON))
    due = appeal_decision_due(appeal, REMOVAL, LONDON)
    assert (due.day, due.hour) == (30, 9)


def test_a_decided_appeal_is_overdue_only_if_decided_late() -> None:
    submitted = datetime(2025, 6, 2, 9, 0, tzinfo=LONDON)
    on_time = Appeal(submitted_at=submitted, decided_at=submitted + timedelta(hours=47))
    late = Appeal(submitted_at=submitted, decided_at=submitted + timedelta(hours=49))
    much_later = submitted + timedelta(days=30)
    assert not appeal_overdue(on_time, DETAINEE, LONDON, much_later)
    assert appeal_overdue(late, DETAINEE, LONDON, much_later)


# --- DSO 18: suspension length and weekly reviews -----------------------------------------------------------------


def test_seven_days_exactly_needs_no_authorisation_even_across_the_clock_change() -> None:
    start = datetime(2025, 10, 24, 10, 0, tzinfo=LONDON)
    # Seven calendar days on the wall clock is 7 days and 1 real hour here: still "1 week".
    assert not suspension_needs_authorisation(
        suspension(start, datetime(2025, 10, 31, 10, 0, tzinfo=LONDON)), LONDON
    )
    assert suspension_needs_authorisation(
        suspension(start, datetime(2025, 10, 31, 10, 1, tzinfo=LONDON)), LONDON
    )
    assert suspension_needs_authorisation(suspension(start, None), LONDON)


def test_weekly_review_keeps_local_time_across_the_clock_change() -> None:
    start = datetime(2025, 10, 24, 10, 0, tzinfo=LONDON)
    open_ended = suspension(start, None)
    due = next_review_due(open_ended, LONDON)
    assert due is not None
    assert (due.day, due.hour, due.utcoffset()) == (31, 10, timedelta(0))
    reviewed = suspension(start, None, datetime(2025, 10, 30, 15, 0, tzinfo=LONDON))
    assert next_review_due(reviewed, LONDON) == datetime(2025, 11, 6, 15, 0, tzinfo=LONDON)
    assert review_overdue(open_ended, LONDON, datetime(2025, 10, 31, 10, 1, tzinfo=LONDON))
    assert not review_overdue(open_ended, LONDON, datetime(2025, 10, 31, 9, 59, tzinfo=LONDON))


def test_no_review_when_none_is_needed() -> None:
    start = datetime(2025, 6, 2, 9, 0, tzinfo=LONDON)
    short = suspension(start, start + timedelta(days=3))
    ends_before_review = suspension(start, start + timedelta(days=10), start + timedelta(days=6))
    assert next_review_due(short, LONDON) is None
    assert next_review_due(ends_before_review, LONDON) is None
    assert not review_overdue(short, LONDON, start + timedelta(days=30))


# --- PF 4.1, PF 4.8, DSO Annex A: slots, notice, reviews ----------------------------------------------------------


def test_slot_lengths_per_profile() -> None:
    irc = profile_defaults(Profile.IMMIGRATION_DETENTION)
    assert not slot_length_allowed(Profile.IMMIGRATION_DETENTION, irc, 20).allowed
    assert not slot_length_allowed(Profile.IMMIGRATION_DETENTION, irc, 90).allowed
    assert slot_length_allowed(Profile.IMMIGRATION_DETENTION, irc, 30).allowed
    two_30 = replace(profile_defaults(Profile.PRISON), allowance_pattern=AllowancePattern.TWO_30)
    assert slot_length_allowed(Profile.PRISON, two_30, 30).allowed
    assert slot_length_allowed(Profile.PRISON, two_30, 60).refusals[0].rule_id == "PF 4.1"
    no_pattern = replace(two_30, allowance_pattern=None)
    assert not slot_length_allowed(Profile.PRISON, no_pattern, 30).allowed


def test_cancellation_notice_warns_only_when_short() -> None:
    settings = EstablishmentSettings()
    short = cancellation_notice(b.NOW + timedelta(hours=5), b.NOW, settings)
    assert short.allowed
    assert [reason.code for reason in short.warnings] == ["cancellation.short_notice"]
    assert cancellation_notice(b.NOW + timedelta(hours=30), b.NOW, settings).reasons == ()


def test_booking_notice_counts_real_hours_across_the_clock_change() -> None:
    # Saturday 25 October 2025 12:00 BST to Sunday 11:30 GMT is 23.5 hours on the wall clock, 24.5 real hours.
    now = datetime(2025, 10, 25, 12, 0, tzinfo=LONDON)
    facts = b.booking(
        now=now,
        requested_by=Requester.RESIDENT,
        slot=b.slot(start=datetime(2025, 10, 26, 11, 30, tzinfo=LONDON)),
    )
    assert booking_allowed(facts).allowed


def test_review_closure() -> None:
    assert review_closure(rebooked=True, new_booking_id="b2", reason="").allowed
    assert review_closure(rebooked=False, new_booking_id=None, reason="Family declined").allowed
    assert (
        review_closure(rebooked=True, new_booking_id=None, reason="").refusals[0].field_name
        == "new_booking_id"
    )
    assert review_closure(rebooked=False, new_booking_id=None, reason=" ").refusals[0].field_name == "reason"


def test_monitoring_officers_needed() -> None:
    assert monitoring_officers_needed(e_list_calls=0, other_calls=4, calls_per_officer=4) == 1
    assert monitoring_officers_needed(e_list_calls=1, other_calls=5, calls_per_officer=4) == 3


# --- DSO 7, DSO 9, DSO 12, DSO Annex A, PF 1.3, PF 4.19, PF 4.20, PF 4.21 -----------------------------------------


def test_schedule_meets_daily_hours() -> None:
    assert schedule_meets_daily_hours(b.week(time(9, 0), time(16, 0))).allowed
    short = schedule_meets_daily_hours(b.week(time(9, 0), time(16, 0), range(6)))
    assert short.refusals[0].params["day"] == "Sunday"
    assert (
        short.refusals[0].message
        == "DSO 7: Sunday has 0 hours 0 minutes of video calls. Every day needs at least 7 hours."
    )


def test_sessions_must_make_sense() -> None:
    with pytest.raises(ValueError, match="weekday"):
        Session(weekday=7, start=time(9, 0), end=time(10, 0))
    with pytest.raises(ValueError, match="end after"):
        Session(weekday=0, start=time(10, 0), end=time(9, 0))
    with pytest.raises(ValueError, match="end after"):
        b.slot(start=b.NOW, end=b.NOW)


def test_legal_priority_recording_and_media() -> None:
    assert booking_priority(Profile.IMMIGRATION_DETENTION, CallKind.LEGAL) == 1
    assert booking_priority(Profile.IMMIGRATION_DETENTION, CallKind.SOCIAL) == 0
    assert booking_priority(Profile.PRISON, CallKind.LEGAL) == 0
    assert recording_required(Profile.PRISON)
    assert recording_required(Profile.YOUTH_CUSTODY)
    assert not recording_required(Profile.IMMIGRATION_DETENTION, CallKind.LEGAL)
    media = monitor_media()
    assert media.video
    assert not media.audio
    assert call_log_fields(Profile.IMMIGRATION_DETENTION) == ("date", "time", "duration")
    assert call_log_fields(Profile.PRISON) is None


def test_termination_outcome_and_police_referral() -> None:
    for reason in TerminationReason:
        outcome = termination_outcome(reason)
        assert outcome.incident_report
        assert outcome.route_to_security
        police = reason in {TerminationReason.RECORDING_THE_CALL, TerminationReason.UNLAWFUL_ACTIVITY}
        assert outcome.police_referral is police


def test_hotline_notice() -> None:
    notice = hotline_notice(Profile.PRISON, b.HOTLINE)
    assert notice is not None
    assert notice.message.endswith("0800 123 4567.")
    assert hotline_notice(Profile.PRISON, "") is None
    assert hotline_notice(Profile.IMMIGRATION_DETENTION, b.HOTLINE) is None


def test_retention_expiry_counts_local_days() -> None:
    created = datetime(2025, 3, 1, 12, 0, tzinfo=LONDON)
    expires = retention_expires_at(RecordKind.RECORDING, created, profile_defaults(Profile.PRISON), LONDON)
    assert expires == datetime(2025, 5, 30, 12, 0, tzinfo=LONDON)


def test_establishment_types_and_profiles() -> None:
    assert profiles_for_type(EstablishmentType.YOI) == {Profile.PRISON}
    assert profiles_for_type(EstablishmentType.SECURE_TRAINING_CENTRE) == {Profile.YOUTH_CUSTODY}
    assert profiles_for_type(EstablishmentType.PDA) == {Profile.IMMIGRATION_DETENTION}
    assert profiles_for_type(EstablishmentType.NON_RESIDENTIAL_STHF) == frozenset()


# --- The call clock -----------------------------------------------------------------------------------------------


def test_call_phase() -> None:
    slot = b.slot(minutes=30)
    assert call_phase(slot, slot.start - timedelta(minutes=1)) is CallPhase.NOT_STARTED
    assert call_phase(slot, slot.start) is CallPhase.RUNNING
    assert call_phase(slot, slot.end - timedelta(minutes=5)) is CallPhase.ENDING_SOON
    assert call_phase(slot, slot.end) is CallPhase.ENDED


# --- Named entry points are evaluate under the services' names ----------------------------------------------------


ENTRY_POINTS = [
    (booking_allowed, b.booking()),
    (call_may_run, b.call()),
    (monitoring_allowed, b.viewing()),
    (participants_allowed, b.booking()),
    (resident_access, b.access()),
    (contact_may_use_service, ContactAccessFacts(establishment=b.prison(), contact=b.contact())),
    (
        can_grant_extra_call,
        ExtraCallFacts(
            establishment=b.prison(),
            approver=b.GOVERNOR,
            reason=ExtraCallReason.FAMILY_WELLBEING,
            notes="",
            slots_left_this_month=5,
            residents_without_call=1,
        ),
    ),
    (
        deletion_allowed,
        DeletionFacts(
            establishment=b.prison(),
            kind=RecordKind.BOOKING,
            created_at=b.NOW - timedelta(days=366),
            now=b.NOW,
        ),
    ),
    (
        restriction_allowed,
        RestrictionFacts(
            establishment=b.prison(),
            decided_by=b.GOVERNOR,
            restriction=Restriction(
                kind=RestrictionKind.WITHHOLD,
                ground=Rule34Ground.PUBLIC_SAFETY,
                rationale="Threats made on a call",
                decided_by="gov",
                start=b.NOW,
                review_on=(b.NOW + timedelta(days=28)).date(),
            ),
        ),
    ),
    (schedule_publishable, ScheduleFacts(profile=Profile.PRISON, sessions=b.week(time(12, 0), time(20, 0)))),
    (
        suspension_allowed,
        SuspensionFacts(
            establishment=b.irc(),
            decided_by=b.CENTRE_MANAGER,
            suspension=suspension(b.NOW, b.NOW + timedelta(days=2)),
        ),
    ),
    (
        termination_allowed,
        TerminationFacts(
            establishment=b.prison(),
            actor=b.SUPERVISING_OFFICER,
            reason=TerminationReason.SECURITY_RISK,
            details="Caller displayed a weapon",
            body_worn_camera_used=True,
        ),
    ),
    (
        wellbeing_concern_allowed,
        WellbeingConcernFacts(
            establishment=b.prison(), actor=b.SUPERVISING_OFFICER, observation="Withdrawn after the call"
        ),
    ),
    (
        wellbeing_closure_allowed,
        WellbeingClosureFacts(
            establishment=b.prison(), actor=b.SUPERVISING_OFFICER, outcome="ACCT opened", acct_opened=True
        ),
    ),
]


@pytest.mark.parametrize(
    ("entry_point", "facts"), ENTRY_POINTS, ids=lambda value: getattr(value, "__name__", "")
)
def test_named_entry_points_are_evaluate(entry_point: Callable[[Any], Decision], facts: Facts) -> None:
    decision = entry_point(facts)
    assert decision == evaluate(facts)
    assert decision.allowed, decision.messages
