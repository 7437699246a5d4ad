"""The error recording services raise when they refuse: every reason at once, each with its citation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kinship import policy

#: The English text of this app's own reasons (facts about the recording, not rules of the policies), by code.
MESSAGES: dict[str, str] = {
    "recording.not_playable": "This recording cannot be played: {status}.",
}


@dataclass(frozen=True, slots=True)
class RecordingProblem:
    rule_id: str
    code: str
    text: str
    field: str | None = None

    @property
    def message(self) -> str:
        return f"{self.rule_id}: {self.text}" if self.rule_id else self.text

    @classmethod
    def from_reason(cls, reason: policy.Reason) -> RecordingProblem:
        # The policy engine names the reason field "purpose"; the playback form calls it "reason".
        field = "reason" if reason.field_name == "purpose" else reason.field_name
        return cls(rule_id=reason.rule_id, code=reason.code, text=reason.text, field=field)

    @classmethod
    def of(
        cls, code: str, *, rule_id: str = "", field: str | None = None, **params: object
    ) -> RecordingProblem:
        return cls(rule_id=rule_id, code=code, text=MESSAGES[code].format_map(params), field=field)


class RecordingRefused(Exception):
    """Raised by a recording service that refuses; ``problems`` holds every reason."""

    def __init__(self, problems: Iterable[RecordingProblem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a refusal needs at least one reason")
        super().__init__("; ".join(problem.message for problem in self.problems))
