"""The one error booking services raise when they refuse: every reason at once, policy and booking alike.

Policy reasons come from the engine (each cites its rule). Booking has a few reasons of its own that are facts
about the schedule rather than rules of the policies (a full slot, a hold that lapsed); they use the same shape
so a page or the API can list them all in one error summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kinship import policy

#: The English text of booking's own reasons, by code.
MESSAGES: dict[str, str] = {
    "slot.full": "This time is fully booked. Choose another time.",
    "slot.started": "This time has already started. Choose a later time.",
    "slot.legal_reserved": "This time is kept for calls with legal advisers.",
    "slot.channel": "Calls at this time cannot be requested this way.",
    "slot.other_establishment": "This time is at a different establishment from the person in custody.",
    "hold.not_yours": "This time is being held for someone else.",
    "hold.expired": "We could not keep this time for you any longer. Choose a time again.",
    "contact.identity_not_checked": (
        "Staff have not checked {name}'s identity yet. They need to send a photo ID and a photo of themselves "
        "from their account, and wait for staff to check them."
    ),
    "contact.not_linked": "{name} is not linked to this person in custody.",
    "contact.booking_banned": "{name} cannot book calls until {until}.",
    "preferences.too_many": "Choose no more than {most} other times.",
    "preferences.repeated": "Your {which} choice is the same time as an earlier choice. Choose a different time.",
    "preferences.other_establishment": "Your {which} choice is at a different establishment.",
    "preferences.channel": "Calls at your {which} choice of time cannot be requested this way.",
    "preferences.started": "Your {which} choice of time has already started. Choose a later time.",
    "preferences.unavailable": "One of your other choices of time is no longer available. Choose your times again.",
    "preferences.not_an_alternative": "This time is not one of the other times the request named.",
    "preferences.grant_month": (
        "This call uses an extra call grant for its month; it cannot be moved to a time in another month."
    ),
    "participants.repeated": "Each person can only be added to a call once.",
    "resident.released": "This person is no longer in custody here.",
    "resident.already_booked": "This person already has a call at this time.",
    "booking.not_requested": "Only a request waiting for a decision can be approved or rejected.",
    "booking.not_active": "Only a requested or booked call can be cancelled.",
    "booking.not_approved": "Only a booked call can have an outcome recorded.",
    "booking.too_early": "An outcome can only be recorded once the call's time has started.",
    "rejection.explain": "Explain the reason for turning the request down.",
    "cancellation.explain": "Say why the call is cancelled.",
    "review.closed": "This review has already been closed.",
    "review.same_booking": "Link the new booking, not the one that did not take place.",
    "review.other_resident": "The new booking must be for the same person in custody.",
    "grant.no_allowance": "There is no monthly allowance here, so no extra call needs to be granted.",
    "schedule.empty": "There are no sessions to publish.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason something was refused: ``rule_id`` is the citation ("" for booking's own reasons)."""

    rule_id: str
    code: str
    text: str
    field: str | None = None

    @property
    def message(self) -> str:
        return f"{self.rule_id}: {self.text}" if self.rule_id else self.text

    @classmethod
    def from_reason(cls, reason: policy.Reason) -> Problem:
        return cls(rule_id=reason.rule_id, code=reason.code, text=reason.text, field=reason.field_name)

    @classmethod
    def booking(cls, code: str, *, rule_id: str = "", field: str | None = None, **params: object) -> Problem:
        return cls(rule_id=rule_id, code=code, text=MESSAGES[code].format_map(params), field=field)

    def as_json(self) -> dict[str, str | None]:
        return {"rule_id": self.rule_id, "code": self.code, "message": self.message, "field": self.field}


class BookingRefused(Exception):
    """Raised by a booking service that refuses; ``problems`` holds every reason, none left out."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a refusal needs at least one reason")
        super().__init__("; ".join(problem.message for problem in self.problems))

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(problem.message for problem in self.problems)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(problem.code for problem in self.problems)

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(problem.rule_id for problem in self.problems if problem.rule_id)


def problems_from(decision: policy.Decision) -> list[Problem]:
    return [Problem.from_reason(reason) for reason in decision.refusals]
