"""The monthly allowance ledger (PF 4.1): charges, refunds, and a property over any sequence of them."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinship.policy import (
    AllowancePattern,
    AllowanceUsage,
    NonAttendanceCause,
    PolicyRefusal,
    allowance_left,
    charge,
    check_allowance,
    gives_minutes_back,
    refund,
)

EMPTY = AllowanceUsage()


def test_one_call_of_up_to_60_minutes() -> None:
    used = charge(AllowancePattern.ONE_60, EMPTY, "b1", 45)
    assert allowance_left(AllowancePattern.ONE_60, used).calls == 0
    with pytest.raises(PolicyRefusal) as refused:
        charge(AllowancePattern.ONE_60, used, "b2", 15)
    assert refused.value.decision.refusals[0].code == "allowance.no_calls_left"


def test_two_calls_of_up_to_30_minutes() -> None:
    first = charge(AllowancePattern.TWO_30, EMPTY, "b1", 30)
    notes = check_allowance(AllowancePattern.TWO_30, first, 30)
    assert [(note.code, note.params["minutes_left"]) for note in notes] == [("allowance.minutes_left", 0)]
    second = charge(AllowancePattern.TWO_30, first, "b2", 30)
    assert allowance_left(AllowancePattern.TWO_30, second).minutes == 0
    assert [reason.code for reason in check_allowance(AllowancePattern.TWO_30, EMPTY, 40)] == [
        "allowance.call_too_long"
    ]


def test_not_enough_minutes_left() -> None:
    # Under TWO_30 a 20-minute call leaves 40 minutes, but only 30 per call; a pattern change mid-month could
    # leave fewer minutes than a call needs, which is refused rather than overspent.
    used = AllowanceUsage(charges=(*charge(AllowancePattern.ONE_60, EMPTY, "b1", 50).charges,))
    reasons = check_allowance(AllowancePattern.TWO_30, used, 30)
    assert [reason.code for reason in reasons] == ["allowance.not_enough_minutes"]
    assert reasons[0].params["minutes_left"] == 10


def test_charging_a_booking_twice_is_a_bug() -> None:
    used = charge(AllowancePattern.TWO_30, EMPTY, "b1", 30)
    with pytest.raises(ValueError, match="already charged"):
        charge(AllowancePattern.TWO_30, used, "b1", 30)


@pytest.mark.parametrize(
    ("cause", "refunded"),
    [
        (NonAttendanceCause.TECHNICAL_FAILURE, True),
        (NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT, True),
        (NonAttendanceCause.CANCELLED_BY_CONTACT, False),
        (NonAttendanceCause.CANCELLED_BY_RESIDENT, False),
        (NonAttendanceCause.FAILED_TO_ATTEND, False),
    ],
)
def test_refunds(cause: NonAttendanceCause, refunded: bool) -> None:
    used = charge(AllowancePattern.ONE_60, EMPTY, "b1", 60)
    assert gives_minutes_back(cause) is refunded
    assert (refund(used, "b1", cause) == EMPTY) is refunded


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("charge"), st.integers(min_value=0, max_value=6), st.sampled_from([15, 30, 45, 60, 90])
        ),
        st.tuples(
            st.just("refund"),
            st.integers(min_value=0, max_value=6),
            st.sampled_from(list(NonAttendanceCause)),
        ),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(pattern=st.sampled_from(list(AllowancePattern)), operations=OPERATIONS)
def test_allowance_never_goes_below_zero(
    pattern: AllowancePattern, operations: list[tuple[str, int, object]]
) -> None:
    usage = EMPTY
    for operation, number, argument in operations:
        booking_id = f"b{number}"
        if operation == "refund":
            assert isinstance(argument, NonAttendanceCause)
            usage = refund(usage, booking_id, argument)
        else:
            assert isinstance(argument, int)
            # Refused, or already charged: the ledger is unchanged.
            with contextlib.suppress(PolicyRefusal, ValueError):
                usage = charge(pattern, usage, booking_id, argument)
        left = allowance_left(pattern, usage)
        assert left.minutes >= 0
        assert left.calls >= 0
