"""Properties over generated facts: decisions are consistent whatever the facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kinship.policy import (
    AllowancePattern,
    BookingFacts,
    CallKind,
    Funding,
    Profile,
    Requester,
    RequestModel,
    Severity,
    SupportNeed,
    evaluate,
)
from kinship.policy.tests import builders as b


@st.composite
def booking_facts(draw: st.DrawFn) -> BookingFacts:
    """Any mix of profile, settings, request, allowance, participants and the resident's flags."""
    profile = draw(st.sampled_from(list(Profile)))
    establishment = b.establishment(profile)
    settings = replace(
        establishment.settings,
        allowance_pattern=draw(st.sampled_from([None, *AllowancePattern])),
        who_may_request=draw(st.sampled_from(list(RequestModel))),
    )
    child_main = draw(st.booleans())
    return b.booking(
        replace(establishment, settings=settings),
        requested_by=draw(st.sampled_from(list(Requester))),
        call_kind=draw(st.sampled_from(list(CallKind))),
        funding=draw(st.sampled_from(list(Funding))),
        slot=b.slot(
            minutes=draw(st.sampled_from([20, 30, 45, 60, 90])),
            start=b.NOW + timedelta(hours=draw(st.integers(min_value=-2, max_value=72))),
        ),
        usage=b.usage_of(*draw(st.lists(st.sampled_from([15, 30, 60]), max_size=2))),
        extra_grants_available=draw(st.integers(min_value=0, max_value=1)),
        additional_contacts=tuple(
            b.contact(f"c{n}") for n in range(draw(st.integers(min_value=0, max_value=5)))
        ),
        resident=b.resident(
            support_needs=draw(st.frozensets(st.sampled_from(list(SupportNeed)), max_size=2)),
            e_list=draw(st.booleans()),
            compact_refused=draw(st.booleans()),
        ),
        main_contact=b.contact(born=date(2012, 1, 1)) if child_main else b.contact(),
    )


@settings(max_examples=150, deadline=None)
@given(facts=booking_facts())
def test_a_decision_never_both_allows_and_refuses(facts: BookingFacts) -> None:
    decision = evaluate(facts)
    refusing = [reason for reason in decision.reasons if reason.severity is Severity.REFUSE]
    assert decision.allowed is (not refusing)
    # Every reason reads as plain English citing its rule.
    for reason in decision.reasons:
        assert reason.message.startswith(reason.rule_id + ": ")


@settings(max_examples=100, deadline=None)
@given(facts=booking_facts())
def test_reasons_are_all_reported_and_stable(facts: BookingFacts) -> None:
    # Evaluating twice gives the same reasons in the same order: no hidden state, no clock.
    assert evaluate(facts) == evaluate(facts)
