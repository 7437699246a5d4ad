"""Booking: who may ask, when, in which room and slot, with which staff rostered, and what happens when a call
does not take place (PF 4.5, PF 4.6, PF 4.7, PF 4.8, PF 4.22, PF 4.24, DSO 9, DSO Annex A slot lengths).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from math import ceil

from kinship.policy.decision import Decision, Reason
from kinship.policy.facts import BookingFacts, EstablishmentSettings, SettingsFacts
from kinship.policy.registry import rule
from kinship.policy.rules.allowance import PATTERN_LIMITS
from kinship.policy.time import utc
from kinship.policy.vocabulary import (
    IMMIGRATION_PROFILES,
    PRISON_PROFILES,
    CallKind,
    Profile,
    Requester,
    RequestModel,
    SupportNeed,
)

#: DSO Annex A: "Slots should be between 30-60 minutes".
IRC_SLOT_MINUTES = range(30, 61)


@rule(
    "PF 4.6",
    profiles=PRISON_PROFILES,
    summary="Each establishment chooses who may request a call: the person in custody, their contacts, or both.",
    facts=BookingFacts,
)
def requester_allowed(facts: BookingFacts) -> Iterator[Reason]:
    model = facts.establishment.settings.who_may_request
    if model is not RequestModel.BOTH and model.value != facts.requested_by.value:
        only = (
            "booking.requester_resident_only"
            if model is RequestModel.RESIDENT
            else "booking.requester_contact_only"
        )
        yield Reason.refuse("PF 4.6", only)


def monitoring_officers_needed(*, e_list_calls: int, other_calls: int, calls_per_officer: int) -> int:
    """Officers needed to watch these calls at once: one each for E-list calls (PF 4.22), the rest shared."""
    return e_list_calls + ceil(other_calls / calls_per_officer)


@rule(
    "PF 4.7",
    profiles=PRISON_PROFILES,
    summary="A slot is confirmed only while supervising and monitoring staff are rostered; each monitoring officer "
    "watches at most N calls at once (default 4).",
    facts=BookingFacts,
)
def staff_rostered(facts: BookingFacts) -> Iterator[Reason]:
    slot = facts.slot
    needed = monitoring_officers_needed(
        e_list_calls=slot.e_list_calls_booked,
        other_calls=slot.calls_booked + 1,
        calls_per_officer=facts.establishment.settings.calls_per_monitoring_officer,
    )
    if slot.supervising_officers < 1:
        yield Reason.refuse("PF 4.7", "staffing.no_supervisor")
    if slot.monitoring_officers < needed:
        yield Reason.refuse("PF 4.7", "staffing.no_monitor")


@rule("PF 4.7", facts=SettingsFacts)
def calls_per_officer_setting(facts: SettingsFacts) -> Iterator[Reason]:
    if facts.settings.calls_per_monitoring_officer < 1:
        yield Reason.refuse("PF 4.7", "settings.calls_per_officer", field="calls_per_monitoring_officer")


@rule(
    "PF 4.22",
    profiles=PRISON_PROFILES,
    summary="For a person on the escape list (E-list), a monitoring officer watches that call alone.",
    facts=BookingFacts,
)
def e_list_officer_rostered(facts: BookingFacts) -> Iterator[Reason]:
    """At booking: an officer must be free to watch an E-list call and nothing else."""
    if not facts.resident.e_list:
        return
    slot = facts.slot
    needed = monitoring_officers_needed(
        e_list_calls=slot.e_list_calls_booked + 1,
        other_calls=slot.calls_booked,
        calls_per_officer=facts.establishment.settings.calls_per_monitoring_officer,
    )
    if slot.monitoring_officers < needed:
        yield Reason.refuse("PF 4.22", "staffing.e_list")


@rule(
    "PF 4.8",
    profiles=PRISON_PROFILES,
    summary="Every call that does not take place is reviewed and rebooked or closed with a reason; families are "
    "told at once and given N hours' notice where possible (default 24).",
    facts=BookingFacts,
)
def booking_notice(facts: BookingFacts) -> Iterator[Reason]:
    """Interpretation: "sufficient notice to arrange a call" is the notice-hours setting, asked of calls
    booked at the request of the person in custody (the family must be able to arrange to join). A contact who
    asks for a call arranges it themselves, so only a slot that has already started is refused."""
    notice = utc(facts.slot.start) - utc(facts.now)
    if notice <= timedelta(0):
        yield Reason.refuse("PF 4.8", "booking.slot_started")
        return
    hours = facts.establishment.settings.notice_hours
    if facts.requested_by is Requester.RESIDENT and notice < timedelta(hours=hours):
        yield Reason.refuse("PF 4.8", "booking.short_notice", hours=hours)


@rule("PF 4.8", facts=SettingsFacts)
def notice_setting(facts: SettingsFacts) -> Iterator[Reason]:
    if facts.settings.notice_hours < 0:
        yield Reason.refuse("PF 4.8", "settings.notice_hours", field="notice_hours")


@rule("PF 4.8")
def cancellation_notice(slot_start: datetime, now: datetime, settings: EstablishmentSettings) -> Decision:
    """A warning when the establishment cancels with less than the notice it aims to give ("where it can")."""
    if utc(slot_start) - utc(now) < timedelta(hours=settings.notice_hours):
        return Decision.from_reasons(
            [Reason.warn("PF 4.8", "cancellation.short_notice", hours=settings.notice_hours)]
        )
    return Decision.from_reasons([])


@rule("PF 4.8")
def review_closure(*, rebooked: bool, new_booking_id: str | None, reason: str) -> Decision:
    """A review of a call that did not take place closes as rebooked (with the new booking) or not (with why)."""
    if rebooked and not new_booking_id:
        return Decision.from_reasons([Reason.refuse("PF 4.8", "review.new_booking", field="new_booking_id")])
    if not rebooked and not reason.strip():
        return Decision.from_reasons([Reason.refuse("PF 4.8", "review.reason", field="reason")])
    return Decision.from_reasons([])


@rule(
    "PF 4.24",
    profiles=PRISON_PROFILES,
    summary="A person with a physical access need is only booked into an accessible room.",
    facts=BookingFacts,
)
def accessible_room(facts: BookingFacts) -> Iterator[Reason]:
    if SupportNeed.PHYSICAL in facts.resident.support_needs and not facts.slot.room.accessible:
        yield Reason.refuse("PF 4.24", "booking.room_not_accessible")


@rule(
    "PF 4.5",
    profiles=PRISON_PROFILES,
    summary="Support needs (learning or cognitive, hearing, visual, technical) are recorded, and a call is booked "
    "only where that support is available.",
    facts=BookingFacts,
)
def support_available(facts: BookingFacts) -> Iterator[Reason]:
    """Interpretation: a physical need is met by the room (PF 4.24); every other recorded need must be among
    the supports the slot offers, so the person is never booked where the support they need is missing."""
    missing = facts.resident.support_needs - facts.slot.supports - {SupportNeed.PHYSICAL}
    if missing:
        yield Reason.refuse("PF 4.5", "booking.support_missing", needs=", ".join(sorted(missing)))


@rule(
    "DSO 9",
    profiles=IMMIGRATION_PROFILES,
    summary="Calls with legal advisers are in scope in immigration detention: booking priority, and privacy (no "
    "monitoring view, no recording; staff only set up the call).",
    facts=BookingFacts,
)
def legal_call_priority(facts: BookingFacts) -> Iterator[Reason]:
    """A note the booking service uses to let a legal call take precedence over social bookings."""
    if facts.call_kind is CallKind.LEGAL:
        yield Reason.info(
            "DSO 9", "legal.priority", priority=booking_priority(facts.profile, facts.call_kind)
        )


@rule("DSO 9")
def booking_priority(profile: Profile, call_kind: CallKind) -> int:
    """Higher books first: legal calls in immigration detention (DSO 9) outrank everything else."""
    return 1 if profile is Profile.IMMIGRATION_DETENTION and call_kind is CallKind.LEGAL else 0


def _irc_slot_reasons(settings: EstablishmentSettings, minutes: int) -> Iterator[Reason]:
    if minutes not in IRC_SLOT_MINUTES:
        yield Reason.refuse("DSO Annex A", "booking.irc_slot_length", minutes=minutes)
    elif minutes not in settings.slot_lengths:
        yield Reason.refuse("DSO Annex A", "booking.slot_length_not_offered", minutes=minutes)


@rule(
    "DSO Annex A",
    profiles=IMMIGRATION_PROFILES,
    summary="The centre compact: slots of 30 to 60 minutes; no audio or video kept, only date, time and duration "
    "logged; visual supervision only; breaches may end the call and lead to a ban.",
    facts=BookingFacts,
)
def irc_slot_length(facts: BookingFacts) -> Iterator[Reason]:
    yield from _irc_slot_reasons(facts.establishment.settings, facts.slot.minutes)


@rule("DSO Annex A", facts=SettingsFacts)
def irc_slot_length_setting(facts: SettingsFacts) -> Iterator[Reason]:
    lengths = facts.settings.slot_lengths
    if not lengths or any(minutes not in IRC_SLOT_MINUTES for minutes in lengths):
        yield Reason.refuse("DSO Annex A", "settings.irc_slot_lengths", field="slot_lengths")


@rule("DSO Annex A")
def slot_length_allowed(profile: Profile, settings: EstablishmentSettings, minutes: int) -> Decision:
    """Whether a slot of ``minutes`` may be offered: 30 to 60 minutes in immigration detention (DSO Annex A),
    one of the lengths the allowance pattern allows in prisons (PF 4.1)."""
    if profile is Profile.IMMIGRATION_DETENTION:
        return Decision.from_reasons(_irc_slot_reasons(settings, minutes))
    pattern = settings.allowance_pattern
    limit = PATTERN_LIMITS[pattern].minutes_per_call if pattern is not None else 0
    if minutes not in settings.slot_lengths or minutes > limit:
        return Decision.from_reasons(
            [Reason.refuse("PF 4.1", "booking.slot_length_not_offered", minutes=minutes)]
        )
    return Decision.from_reasons([])
