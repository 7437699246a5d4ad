"""``evaluate``: run every rule that applies to the facts and collect all of their reasons.

Nothing is short-circuited: a person sees every reason a request fails, each with its citation. The named
entry points below are ``evaluate`` under the names the services use; each accepts only its own kind of facts.
"""

from __future__ import annotations

from kinship.policy import rules as _rules  # noqa: F401  (importing the rule modules registers the rules)
from kinship.policy.decision import Decision, Reason
from kinship.policy.facts import (
    AccessFacts,
    BookingFacts,
    CallFacts,
    ContactAccessFacts,
    DeletionFacts,
    ExtraCallFacts,
    Facts,
    ParticipantFacts,
    RestrictionFacts,
    ScheduleFacts,
    SuspensionFacts,
    TerminationFacts,
    ViewingFacts,
    WellbeingClosureFacts,
    WellbeingConcernFacts,
)
from kinship.policy.registry import checks_for


def evaluate(facts: Facts) -> Decision:
    """Every reason from every check registered for this kind of facts under the facts' profile."""
    reasons: list[Reason] = []
    for check in checks_for(type(facts), facts.profile):
        reasons.extend(check(facts))
    return Decision.from_reasons(reasons)


def contact_may_use_service(facts: ContactAccessFacts) -> Decision:
    """May this contact book or join calls at all (PF 4.15)?"""
    return evaluate(facts)


def resident_access(facts: AccessFacts) -> Decision:
    """May this person have a call of this kind now (compact, assessments, restrictions, suspensions, scope)?"""
    return evaluate(facts)


def participants_allowed(facts: ParticipantFacts) -> Decision:
    """Access, plus: may these contacts join this call?"""
    return evaluate(facts)


def booking_allowed(facts: BookingFacts) -> Decision:
    """Access and participants, plus allowance, requester, staffing, notice, room, support and slot length."""
    return evaluate(facts)


def call_may_run(facts: CallFacts) -> Decision:
    """May the call start, or go on? A refusal during a call means pause it (PF 4.21) or end it (DSO 12)."""
    return evaluate(facts)


def monitoring_allowed(facts: ViewingFacts) -> Decision:
    """May this member of staff open this monitoring view (PF 4.21 to 4.23, PF 1.3, DSO 9 legal privacy)?"""
    return evaluate(facts)


def can_grant_extra_call(facts: ExtraCallFacts) -> Decision:
    """PF 4.3: approver, reason and this month's capacity."""
    return evaluate(facts)


def restriction_allowed(facts: RestrictionFacts) -> Decision:
    return evaluate(facts)


def suspension_allowed(facts: SuspensionFacts) -> Decision:
    return evaluate(facts)


def termination_allowed(facts: TerminationFacts) -> Decision:
    return evaluate(facts)


def schedule_publishable(facts: ScheduleFacts) -> Decision:
    """DSO 7 refuses; PF 4.2 warns."""
    return evaluate(facts)


def wellbeing_concern_allowed(facts: WellbeingConcernFacts) -> Decision:
    return evaluate(facts)


def wellbeing_closure_allowed(facts: WellbeingClosureFacts) -> Decision:
    return evaluate(facts)


def deletion_allowed(facts: DeletionFacts) -> Decision:
    return evaluate(facts)
