"""The error call services raise when they refuse: every reason at once, each with its citation where a rule of
POLICY.md is behind it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kinship import policy

#: The English text of the lifecycle's own reasons (facts about the call, not rules of the policies), by code.
MESSAGES: dict[str, str] = {
    "call.illegal_transition": "A call that is {state} cannot be {action}.",
    "call.already_open": "This call is already open.",
    "call.booking_not_approved": "Only a booked call can be opened.",
    "call.not_in_slot": "The call can only be opened during its time.",
    "call.slot_over": "The call's time is over.",
    "call.already_checked_in": "{party} is already checked in.",
    "call.no_room": "The media room for this call does not exist (yet). Mark a technical failure if it cannot be made.",
    "call.adult_check_not_needed": "An adult check is only recorded for calls in immigration detention (DSO 8).",
    "call.pause_reason": "Say why the call is paused.",
    "call.not_early": "The call's time is over: it has simply ended, with nothing to give back.",
    "call.no_fault_note": "Say why the call is ending early, for the family and the review.",
    "call.media": "The media server did not answer: {error}. Try again, or mark a technical failure.",
    "monitoring.terminal_not_monitoring": "This device is not a registered monitoring terminal of this establishment.",
    "monitoring.already_watching": "You are already watching this call.",
    "monitoring.call_over": "This call is over: it cannot be watched live.",
    "monitoring.e_list_watched": "You are watching a call that must be watched alone (E-list).",
    "monitoring.dedicated_watched": "You are watching a call that a restriction says must be watched alone.",
    "monitoring.not_active": "This viewing has already ended.",
}


@dataclass(frozen=True, slots=True)
class CallProblem:
    rule_id: str
    code: str
    text: str
    field: str | None = None

    @property
    def message(self) -> str:
        return f"{self.rule_id}: {self.text}" if self.rule_id else self.text

    @classmethod
    def from_reason(cls, reason: policy.Reason) -> CallProblem:
        return cls(rule_id=reason.rule_id, code=reason.code, text=reason.text, field=reason.field_name)

    @classmethod
    def of(cls, code: str, *, rule_id: str = "", field: str | None = None, **params: object) -> CallProblem:
        return cls(rule_id=rule_id, code=code, text=MESSAGES[code].format_map(params), field=field)


class CallRefused(Exception):
    """Raised by a call service that refuses; ``problems`` holds every reason."""

    def __init__(self, problems: Iterable[CallProblem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a refusal needs at least one reason")
        super().__init__("; ".join(problem.message for problem in self.problems))

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(problem.rule_id for problem in self.problems if problem.rule_id)

    @classmethod
    def from_decision(cls, decision: policy.Decision) -> CallRefused:
        return cls(CallProblem.from_reason(reason) for reason in decision.refusals)
