"""Decisions and reasons: the invariant, the views on reasons, the English messages."""

from __future__ import annotations

from datetime import date

import pytest

from kinship.policy import ALLOWED, Decision, PolicyRefusal, Reason, Severity
from kinship.policy.facts import Facts
from kinship.policy.messages import MESSAGES, render


def test_allowed_exactly_when_nothing_refuses() -> None:
    note = Reason.info("PF 4.1", "allowance.minutes_left", minutes_left=30, calls_left=0)
    refusal = Reason.refuse("PF 4.13", "participants.too_many", limit=4, count=5)
    assert Decision.from_reasons([note]).allowed
    assert not Decision.from_reasons([note, refusal]).allowed
    with pytest.raises(ValueError, match="exactly when"):
        Decision(allowed=True, reasons=(refusal,))
    with pytest.raises(ValueError, match="exactly when"):
        Decision(allowed=False)


def test_views_on_reasons() -> None:
    warning = Reason.warn("PF 4.2", "schedule.no_weekends")
    refusal = Reason.refuse("PF 4.13", "participants.too_many", limit=4, count=5)
    note = Reason.info("PF 4.1", "allowance.minutes_left", minutes_left=30, calls_left=0)
    decision = Decision.combine(Decision.from_reasons([warning, note]), Decision.from_reasons([refusal]))
    assert decision.refusals == (refusal,)
    assert decision.warnings == (warning,)
    assert decision.notes == (note,)
    assert decision.rule_ids == {"PF 4.2", "PF 4.13", "PF 4.1"}
    assert decision.messages == ("PF 4.13: At most 4 people can join a call from outside.",)
    assert decision.find("allowance.minutes_left") is note
    assert decision.find("nothing.here") is None
    assert ALLOWED.allowed
    assert ALLOWED.reasons == ()


def test_reason_params_are_read_only_and_name_fields() -> None:
    reason = Reason.refuse("PF 4.8", "settings.notice_hours", field="notice_hours")
    assert reason.field_name == "notice_hours"
    assert Reason.refuse("PF 4.11", "compact.refused").field_name is None
    with pytest.raises(TypeError):
        reason.params["field"] = "other"  # type: ignore[index]
    # Frozen and hashable despite the mapping of parameters.
    assert len({reason, reason}) == 1
    assert reason.severity is Severity.REFUSE
    assert reason.refuses


def test_messages_render_dates_for_people() -> None:
    reason = Reason.refuse("PF 4.4", "restriction.withheld", review_on=date(2025, 4, 1))
    assert reason.message == (
        "PF 4.4: Video calls are not available at the moment. This will be reviewed by 01 April 2025."
    )
    assert reason.text.startswith("Video calls")


def test_unknown_message_id_or_missing_parameter_is_a_bug() -> None:
    with pytest.raises(KeyError):
        render("no.such.message", {})
    with pytest.raises(KeyError):
        render("participants.too_many", {})
    assert all(text.endswith((".", "?")) for text in MESSAGES.values())


def test_policy_refusal_carries_the_decision() -> None:
    decision = Decision.from_reasons([Reason.refuse("PF 4.11", "compact.refused")])
    error = PolicyRefusal(decision)
    assert error.decision is decision
    assert "PF 4.11" in str(error)


def test_base_facts_name_no_profile() -> None:
    with pytest.raises(NotImplementedError):
        _ = Facts().profile
