"""The monthly allowance (PF 4.1) and extra free calls (PF 4.3), in prison profiles.

The allowance is a small ledger of charges per local calendar month. ``charge`` and ``refund`` are the only
ways to change it, so whatever happens (bookings, cancellations, refunds in any order) it never goes below
zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kinship.policy.decision import Decision, PolicyRefusal, Reason
from kinship.policy.facts import AllowanceUsage, BookingFacts, Charge, ExtraCallFacts, SettingsFacts
from kinship.policy.registry import rule
from kinship.policy.vocabulary import (
    PRISON_PROFILES,
    AllowancePattern,
    CallKind,
    ExtraCallReason,
    Funding,
    NonAttendanceCause,
    Profile,
    Role,
)

#: PF 4.1: "up to 60-minutes of secure social video calling per month at public expense".
MONTHLY_MINUTES = 60


@dataclass(frozen=True, slots=True)
class PatternLimits:
    calls: int
    minutes_per_call: int


PATTERN_LIMITS: dict[AllowancePattern, PatternLimits] = {
    AllowancePattern.ONE_60: PatternLimits(calls=1, minutes_per_call=60),
    AllowancePattern.TWO_30: PatternLimits(calls=2, minutes_per_call=30),
}

#: PF 4.1 as POLICY.md reads it: only a technical failure or the establishment's own cancellation gives minutes back.
REFUNDING_CAUSES = frozenset(
    {NonAttendanceCause.TECHNICAL_FAILURE, NonAttendanceCause.CANCELLED_BY_ESTABLISHMENT}
)


@dataclass(frozen=True, slots=True)
class AllowanceLeft:
    minutes: int
    calls: int


def allowance_left(pattern: AllowancePattern, usage: AllowanceUsage) -> AllowanceLeft:
    limits = PATTERN_LIMITS[pattern]
    return AllowanceLeft(minutes=MONTHLY_MINUTES - usage.minutes, calls=limits.calls - usage.calls)


@rule(
    "PF 4.1",
    profiles=PRISON_PROFILES,
    summary="60 minutes a calendar month at public expense: one call of up to 60 minutes or two of up to 30, as "
    "the governor chooses; a booking that would overspend is refused.",
)
def check_allowance(pattern: AllowancePattern, usage: AllowanceUsage, minutes: int) -> tuple[Reason, ...]:
    """Reasons a call of ``minutes`` cannot be charged; otherwise a note of what will be left.

    Interpretation: "per month" is the calendar month in the establishment's timezone, and the month that pays
    is the month of the call (not of the booking). The caller passes the usage of that month
    (``time.month_key(slot.start, tz)``).
    """
    limits = PATTERN_LIMITS[pattern]
    left = allowance_left(pattern, usage)
    reasons: list[Reason] = []
    if minutes > limits.minutes_per_call:
        reasons.append(Reason.refuse("PF 4.1", "allowance.call_too_long", limit=limits.minutes_per_call))
    if left.calls < 1:
        reasons.append(Reason.refuse("PF 4.1", "allowance.no_calls_left", calls=limits.calls))
    elif minutes > left.minutes:
        reasons.append(Reason.refuse("PF 4.1", "allowance.not_enough_minutes", minutes_left=left.minutes))
    if not reasons:
        reasons.append(
            Reason.info(
                "PF 4.1",
                "allowance.minutes_left",
                minutes_left=left.minutes - minutes,
                calls_left=left.calls - 1,
            )
        )
    return tuple(reasons)


@rule("PF 4.1")
def charge(pattern: AllowancePattern, usage: AllowanceUsage, booking_id: str, minutes: int) -> AllowanceUsage:
    """``usage`` with the booking charged; raises ``PolicyRefusal`` when PF 4.1 refuses it."""
    if any(existing.booking_id == booking_id for existing in usage.charges):
        raise ValueError(f"booking {booking_id} is already charged")
    decision = Decision.from_reasons(check_allowance(pattern, usage, minutes))
    if not decision.allowed:
        raise PolicyRefusal(decision)
    return AllowanceUsage(charges=(*usage.charges, Charge(booking_id=booking_id, minutes=minutes)))


@rule("PF 4.1")
def gives_minutes_back(cause: NonAttendanceCause) -> bool:
    """Interpretation: POLICY.md names a technical failure and the establishment's cancellation; a
    cancellation by the person in custody or a contact, or a failure to attend, keeps the minutes spent."""
    return cause in REFUNDING_CAUSES


@rule("PF 4.1")
def refund(usage: AllowanceUsage, booking_id: str, cause: NonAttendanceCause) -> AllowanceUsage:
    """``usage`` with the booking's minutes given back when ``cause`` refunds them; unchanged otherwise."""
    if not gives_minutes_back(cause):
        return usage
    return AllowanceUsage(charges=tuple(item for item in usage.charges if item.booking_id != booking_id))


@rule("PF 4.1", facts=SettingsFacts)
def allowance_pattern_setting(facts: SettingsFacts) -> Iterator[Reason]:
    pattern = facts.settings.allowance_pattern
    if pattern is None:
        yield Reason.refuse("PF 4.1", "settings.allowance_pattern", field="allowance_pattern")
        return
    limit = PATTERN_LIMITS[pattern].minutes_per_call
    lengths = facts.settings.slot_lengths
    if not lengths or any(not 0 < minutes <= limit for minutes in lengths):
        yield Reason.refuse("PF 4.1", "settings.prison_slot_lengths", field="slot_lengths", limit=limit)


@rule("PF 4.1", facts=BookingFacts)
def allowance_covers_booking(facts: BookingFacts) -> Iterator[Reason]:
    """Social calls paid by the allowance only; a slot must be one of the offered lengths."""
    settings = facts.establishment.settings
    if facts.slot.minutes not in settings.slot_lengths:
        yield Reason.refuse("PF 4.1", "booking.slot_length_not_offered", minutes=facts.slot.minutes)
    pattern = settings.allowance_pattern
    if facts.funding is not Funding.ALLOWANCE or facts.call_kind is not CallKind.SOCIAL:
        return
    if pattern is None:
        # Invalid settings (validate_settings refuses them): nothing can be charged until the governor
        # chooses.
        yield Reason.refuse("PF 4.1", "settings.allowance_pattern", field="allowance_pattern")
    else:
        yield from check_allowance(pattern, facts.usage, facts.slot.minutes)


@rule(
    "PF 4.3",
    profiles=PRISON_PROFILES,
    summary="Extra free calls at the governor's discretion for wellbeing or exceptional reasons (as needed in youth "
    "custody), only while this month's capacity still lets everyone have one call.",
    facts=ExtraCallFacts,
)
def extra_call_grant(facts: ExtraCallFacts) -> Iterator[Reason]:
    """Interpretation: the grant itself uses a slot, so after it the slots left must still cover every person
    who has not had a call this month (slots_left - 1 >= residents_without_call). In youth custody any member
    of staff may grant "as and when needed"; the capacity check still applies, as PF 4.3 puts it on every
    extra call."""
    if facts.slots_left_this_month - 1 < facts.residents_without_call:
        yield Reason.refuse(
            "PF 4.3",
            "extra_call.capacity",
            slots_left=facts.slots_left_this_month,
            residents_without_call=facts.residents_without_call,
        )
    if facts.profile is Profile.PRISON:
        if not facts.approver.has(Role.GOVERNOR):
            yield Reason.refuse("PF 4.3", "extra_call.governor_only")
        if facts.reason is ExtraCallReason.AS_NEEDED:
            yield Reason.refuse("PF 4.3", "extra_call.reason_needed", field="reason")
    if facts.reason is ExtraCallReason.OTHER_EXCEPTIONAL and not facts.notes.strip():
        yield Reason.refuse("PF 4.3", "extra_call.explain", field="notes")


@rule("PF 4.3", facts=BookingFacts)
def extra_grant_available(facts: BookingFacts) -> Iterator[Reason]:
    if facts.funding is Funding.EXTRA_GRANT and facts.extra_grants_available < 1:
        yield Reason.refuse("PF 4.3", "extra_call.none_available")
