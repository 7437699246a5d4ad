"""Safeguarding: suspensions and appeals in immigration detention (DSO 17, DSO 18) and wellbeing follow-ups
after a call (PF 4.17, PF 4.18).

Deadlines follow ``kinship.policy.time``: weeks are counted on the establishment's wall clock, hours as
elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from kinship.policy.decision import Reason
from kinship.policy.facts import (
    AccessFacts,
    Appeal,
    Resident,
    Suspension,
    SuspensionFacts,
    WellbeingClosureFacts,
    WellbeingConcernFacts,
)
from kinship.policy.registry import rule
from kinship.policy.time import add_calendar_days, add_elapsed_hours, utc
from kinship.policy.vocabulary import IMMIGRATION_PROFILES, PRISON_PROFILES, CallKind, Role, SuspensionReason

#: DSO 18: "exceeding a period of 1 week" needs authorisation, and reviews are "on a weekly basis".
SUSPENSION_THRESHOLD_DAYS = 7
REVIEW_INTERVAL_DAYS = 7
APPEAL_DECISION_HOURS = 48
APPEAL_DECISION_HOURS_IMMINENT_REMOVAL = 12

SUSPENDING_ROLES = (Role.CENTRE_MANAGER, Role.DEPUTY_CENTRE_MANAGER)


@rule(
    "DSO 17",
    profiles=IMMIGRATION_PROFILES,
    summary="The centre or deputy centre manager may suspend access for a reason tied to the video call service, "
    "never as a sanction for other non-compliance; recorded, with written notice and reason.",
    facts=AccessFacts,
)
def suspended(facts: AccessFacts) -> Iterator[Reason]:
    """A suspension stops social calls; calls with legal advisers go on (DSO 18)."""
    if facts.call_kind is CallKind.LEGAL:
        return
    for suspension in facts.resident.suspensions:
        if suspension.active_at(facts.now):
            yield Reason.refuse("DSO 17", "suspension.active")


@rule("DSO 17", facts=SuspensionFacts)
def suspension_decision(facts: SuspensionFacts) -> Iterator[Reason]:
    if not facts.decided_by.has(*SUSPENDING_ROLES):
        yield Reason.refuse("DSO 17", "suspension.not_manager")
    if facts.suspension.reason is SuspensionReason.WIDER_NON_COMPLIANCE:
        yield Reason.refuse("DSO 17", "suspension.sanction", field="reason")


@rule(
    "DSO 18",
    profiles=IMMIGRATION_PROFILES,
    summary="The compliance manager is told of every suspension; over 7 days needs their authorisation and weekly "
    "review; appeals decided within 48 hours (12 with imminent removal); legal access is kept.",
)
def suspension_needs_authorisation(suspension: Suspension, tz: ZoneInfo) -> bool:
    """Interpretation: "exceeding a period of 1 week" means ending later than the same wall-clock time 7
    calendar days after the start in the centre's timezone; an open-ended suspension may exceed it, so it
    needs authorisation from the start."""
    if suspension.end is None:
        return True
    return utc(suspension.end) > utc(add_calendar_days(suspension.start, SUSPENSION_THRESHOLD_DAYS, tz))


@rule("DSO 18", facts=SuspensionFacts)
def long_suspension_authorised(facts: SuspensionFacts) -> Iterator[Reason]:
    suspension = facts.suspension
    needs = suspension_needs_authorisation(suspension, facts.establishment.timezone)
    if needs and not suspension.compliance_authorised_by:
        yield Reason.refuse("DSO 18", "suspension.authorisation")


@rule("DSO 18", facts=AccessFacts)
def legal_access_kept(facts: AccessFacts) -> Iterator[Reason]:
    if facts.call_kind is CallKind.LEGAL and any(
        item.active_at(facts.now) for item in facts.resident.suspensions
    ):
        yield Reason.info("DSO 18", "suspension.legal_access_kept")


@rule("DSO 18")
def next_review_due(suspension: Suspension, tz: ZoneInfo) -> datetime | None:
    """When the next weekly review is due: 7 local calendar days after the last review (or the start), or
    ``None`` when no review is needed (a suspension that needs no authorisation, or one that ends before the
    review)."""
    if not suspension_needs_authorisation(suspension, tz):
        return None
    last = max((suspension.start, *suspension.reviews), key=utc)
    due = add_calendar_days(last, REVIEW_INTERVAL_DAYS, tz)
    if suspension.end is not None and utc(suspension.end) <= utc(due):
        return None
    return due


@rule("DSO 18")
def review_overdue(suspension: Suspension, tz: ZoneInfo, now: datetime) -> bool:
    due = next_review_due(suspension, tz)
    return due is not None and utc(now) > utc(due)


@rule("DSO 18")
def appeal_decision_due(appeal: Appeal, resident: Resident, tz: ZoneInfo) -> datetime:
    """48 hours after the appeal is submitted, 12 with imminent removal directions: elapsed hours, shown in
    the centre's timezone."""
    hours = (
        APPEAL_DECISION_HOURS_IMMINENT_REMOVAL
        if resident.imminent_removal_directions
        else APPEAL_DECISION_HOURS
    )
    return add_elapsed_hours(appeal.submitted_at, hours, tz)


@rule("DSO 18")
def appeal_overdue(appeal: Appeal, resident: Resident, tz: ZoneInfo, now: datetime) -> bool:
    due = appeal_decision_due(appeal, resident, tz)
    decided = appeal.decided_at
    return utc(decided if decided is not None else now) > utc(due)


@rule(
    "PF 4.17",
    profiles=PRISON_PROFILES,
    summary="Staff can record that a call seems to have affected a person badly; this opens a wellbeing follow-up.",
    facts=WellbeingConcernFacts,
)
def wellbeing_concern(facts: WellbeingConcernFacts) -> Iterator[Reason]:
    """The follow-up is only useful with what staff saw: an empty observation is refused."""
    if not facts.observation.strip():
        yield Reason.refuse("PF 4.17", "wellbeing.observation", field="observation")


@rule(
    "PF 4.18",
    profiles=PRISON_PROFILES,
    summary="A wellbeing follow-up stays on the wing's list until closed with an outcome and a decision on an ACCT "
    "referral.",
    facts=WellbeingClosureFacts,
)
def wellbeing_closure(facts: WellbeingClosureFacts) -> Iterator[Reason]:
    if not facts.outcome.strip():
        yield Reason.refuse("PF 4.18", "wellbeing.outcome", field="outcome")
    if facts.acct_opened is None:
        yield Reason.refuse("PF 4.18", "wellbeing.acct", field="acct_opened")
