"""What the engine answers: a ``Decision`` made of ``Reason``s.

A reason carries a rule id, a message id (``code``) and the parameters of the message, never a finished
sentence: the English text lives in ``messages.py`` so that it can be translated, and the data stays available
to the caller (for example ``minutes_left``). A decision is allowed exactly when none of its reasons refuses;
warnings and notes travel with it so a page can show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from kinship.policy.messages import render

#: What a message parameter may be: plain values a template, a form or a JSON API can use.
type ParamValue = str | int | bool | date | datetime | None


class Severity(StrEnum):
    #: The action may not go ahead.
    REFUSE = "refuse"
    #: The action may go ahead, but someone should see this (PF 4.2 schedule warning, short notice).
    WARN = "warn"
    #: Data for the caller or the reader (minutes left, legal access kept).
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    code: str
    severity: Severity = Severity.REFUSE
    # Excluded from the hash because a mapping is not hashable; compared as usual.
    params: Mapping[str, ParamValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A read-only view so that a frozen reason cannot be changed through its parameters.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @classmethod
    def refuse(cls, rule_id: str, code: str, **params: ParamValue) -> Reason:
        return cls(rule_id, code, Severity.REFUSE, params)

    @classmethod
    def warn(cls, rule_id: str, code: str, **params: ParamValue) -> Reason:
        return cls(rule_id, code, Severity.WARN, params)

    @classmethod
    def info(cls, rule_id: str, code: str, **params: ParamValue) -> Reason:
        return cls(rule_id, code, Severity.INFO, params)

    @property
    def refuses(self) -> bool:
        return self.severity is Severity.REFUSE

    @property
    def field_name(self) -> str | None:
        """The settings or form field the reason is about, when there is one."""
        value = self.params.get("field")
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str:
        """The English sentence, without the citation."""
        return render(self.code, self.params)

    @property
    def message(self) -> str:
        """The English sentence as a person sees it, citing the rule: "PF 4.13: At most 4 people ..."."""
        return f"{self.rule_id}: {self.text}"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        # The one invariant every caller relies on: never "allowed" with a refusing reason, never refused
        # without one.
        if self.allowed == any(reason.refuses for reason in self.reasons):
            raise ValueError("a decision is allowed exactly when none of its reasons refuses")

    @classmethod
    def from_reasons(cls, reasons: Iterable[Reason]) -> Decision:
        collected = tuple(reasons)
        return cls(allowed=not any(reason.refuses for reason in collected), reasons=collected)

    @classmethod
    def combine(cls, *decisions: Decision) -> Decision:
        return cls.from_reasons(reason for decision in decisions for reason in decision.reasons)

    @property
    def refusals(self) -> tuple[Reason, ...]:
        return self._with(Severity.REFUSE)

    @property
    def warnings(self) -> tuple[Reason, ...]:
        return self._with(Severity.WARN)

    @property
    def notes(self) -> tuple[Reason, ...]:
        return self._with(Severity.INFO)

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(reason.rule_id for reason in self.reasons)

    @property
    def messages(self) -> tuple[str, ...]:
        """The refusals as a person reads them, each citing its rule (for a GOV.UK error summary)."""
        return tuple(reason.message for reason in self.refusals)

    def find(self, code: str) -> Reason | None:
        """The first reason with this message id, e.g. ``decision.find("allowance.minutes_left")``."""
        return next((reason for reason in self.reasons if reason.code == code), None)

    def _with(self, severity: Severity) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.severity is severity)


ALLOWED = Decision(allowed=True)


class PolicyRefusal(Exception):
    """Raised by the few pure operations that change a value (e.g. charging the allowance) when policy
    refuses."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("; ".join(decision.messages))
        self.decision = decision
