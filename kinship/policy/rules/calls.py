"""Running and supervising calls: starting, going on, monitoring, viewing and ending them.

Owns DSO 8 (adult check), PF 4.21 to PF 4.23 (monitoring), DSO 9 (legal privacy), DSO 11, DSO 12 and DSO 19
(pausing and ending calls), and the call clock (start and end at the slot times, warning before the end).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kinship.policy.decision import Reason
from kinship.policy.facts import CallFacts, Slot, TerminationFacts, ViewingFacts
from kinship.policy.registry import rule
from kinship.policy.time import utc
from kinship.policy.vocabulary import (
    ALL_PROFILES,
    IMMIGRATION_PROFILES,
    PRISON_PROFILES,
    CallKind,
    Role,
    TerminationReason,
)

#: Who may use the monitoring view (PF 4.23: staff authorised for pin phone monitoring).
MONITORING_ROLES = (Role.MONITORING_OFFICER, Role.SECURITY)
#: Who may pause or end a call (DSO 11, DSO 19: supervising staff).
TERMINATING_ROLES = (Role.SUPERVISING_OFFICER, Role.SECURITY)


@rule(
    "DSO 8",
    profiles=IMMIGRATION_PROFILES,
    summary="Before a call starts, the supervising officer records a visual check that the main recipient is an "
    "adult.",
    facts=CallFacts,
)
def adult_check(facts: CallFacts) -> Iterator[Reason]:
    """Children may be present with the main recipient; the check is on the main recipient only."""
    if not facts.adult_check_recorded:
        yield Reason.refuse("DSO 8", "call.adult_check")


@rule(
    "PF 4.21",
    profiles=PRISON_PROFILES,
    summary="Every live call is watched from a monitoring terminal active for the whole call; monitors see video, "
    "never hear audio.",
    facts=CallFacts,
)
def monitor_active(facts: CallFacts) -> Iterator[Reason]:
    """Refused before the call means it cannot start; refused during the call means it is paused."""
    if facts.monitor is None or not facts.monitor.active:
        yield Reason.refuse("PF 4.21", "call.no_monitor")


@dataclass(frozen=True, slots=True)
class MonitorMedia:
    video: bool
    audio: bool


@rule("PF 4.21")
def monitor_media() -> MonitorMedia:
    """What a monitor's subscription asks the media server for: video only, in every profile (PF 4.21 "only
    visual content (not audio)"; DSO Annex A "visually supervised")."""
    return MonitorMedia(video=True, audio=False)


@rule("PF 4.22", facts=CallFacts)
def e_list_watched_alone(facts: CallFacts) -> Iterator[Reason]:
    if facts.resident.e_list and facts.monitor is not None and facts.monitor.other_calls_watched > 0:
        yield Reason.refuse("PF 4.22", "call.e_list_shared_monitor")


@rule("PF 4.7", facts=CallFacts)
def monitor_not_overloaded(facts: CallFacts) -> Iterator[Reason]:
    limit = facts.establishment.settings.calls_per_monitoring_officer
    if facts.monitor is not None and facts.monitor.other_calls_watched + 1 > limit:
        yield Reason.refuse("PF 4.7", "call.monitor_overloaded", limit=limit)


@rule(
    "PF 4.23",
    profiles=PRISON_PROFILES,
    summary="The monitoring view is used only by authorised staff from a registered monitoring terminal, and every "
    "viewing, live or recorded, is logged with who, when and why.",
    facts=CallFacts,
)
def monitor_authorised(facts: CallFacts) -> Iterator[Reason]:
    monitor = facts.monitor
    if monitor is not None and not monitor.terminal_registered:
        yield Reason.refuse("PF 4.23", "monitoring.terminal_not_registered")
    if monitor is not None and not monitor.officer.has(*MONITORING_ROLES):
        yield Reason.refuse("PF 4.23", "monitoring.not_authorised")


@rule("PF 4.23", facts=ViewingFacts)
def viewer_authorised(facts: ViewingFacts) -> Iterator[Reason]:
    if not facts.terminal_registered:
        yield Reason.refuse("PF 4.23", "monitoring.terminal_not_registered")
    if not facts.viewer.has(*MONITORING_ROLES):
        yield Reason.refuse("PF 4.23", "monitoring.not_authorised")
    if not facts.purpose.strip():
        yield Reason.refuse("PF 4.23", "monitoring.purpose", field="purpose")


@rule("DSO 9", facts=CallFacts)
def legal_call_not_monitored(facts: CallFacts) -> Iterator[Reason]:
    if facts.call_kind is CallKind.LEGAL and facts.monitor is not None:
        yield Reason.refuse("DSO 9", "legal.no_monitoring")


@rule("DSO 9", facts=ViewingFacts)
def legal_call_not_viewed(facts: ViewingFacts) -> Iterator[Reason]:
    if facts.call_kind is CallKind.LEGAL:
        yield Reason.refuse("DSO 9", "legal.no_monitoring")


@rule("DSO Annex A", facts=ViewingFacts)
def nothing_recorded_to_view(facts: ViewingFacts) -> Iterator[Reason]:
    """Staff may supervise visually, live; there is no recording to open."""
    if not facts.live:
        yield Reason.refuse("DSO Annex A", "recording.none_in_irc")


@rule(
    "DSO 12",
    profiles=ALL_PROFILES,
    summary="Evidence that a call is being recorded ends it, and the termination is referred to security.",
    facts=CallFacts,
)
def recording_ends_call(facts: CallFacts) -> Iterator[Reason]:
    """Interpretation: the PF defers pausing and ending calls to the Authorised Communications Controls
    framework, which Kinship does not hold; POLICY.md states the DSO rules for all supervising staff, so they
    apply in every profile."""
    if facts.recording_detected:
        yield Reason.refuse("DSO 12", "call.recording_detected")


@dataclass(frozen=True, slots=True)
class TerminationOutcome:
    incident_report: bool
    route_to_security: bool
    police_referral: bool


#: DSO Annex A: evidence of a criminal offence, and evidence of recording, are passed to the police.
POLICE_REFERRAL_REASONS = frozenset(
    {TerminationReason.RECORDING_THE_CALL, TerminationReason.UNLAWFUL_ACTIVITY}
)


@rule("DSO 12")
def termination_outcome(reason: TerminationReason) -> TerminationOutcome:
    """Every termination creates an incident report routed to security (DSO 12, DSO 19); recording and
    unlawful activity are marked for police referral (DSO Annex A)."""
    return TerminationOutcome(
        incident_report=True, route_to_security=True, police_referral=reason in POLICE_REFERRAL_REASONS
    )


@rule(
    "DSO 11",
    profiles=ALL_PROFILES,
    summary="Supervising staff may pause or end a call that breaches the terms (dress, language, sexualised "
    "behaviour, recording, unlawful activity) or risks security; body-worn camera use is recorded.",
    facts=TerminationFacts,
)
def supervising_staff_terminate(facts: TerminationFacts) -> Iterator[Reason]:
    """Interpretation: as for DSO 12, applied in every profile."""
    if not facts.actor.has(*TERMINATING_ROLES):
        yield Reason.refuse("DSO 11", "termination.not_supervising")


@rule(
    "DSO 19",
    profiles=ALL_PROFILES,
    summary="Staff with concerns about a call or the recipient's safety may end it, and must record their "
    "concerns in an incident report for the security team.",
    facts=TerminationFacts,
)
def termination_recorded(facts: TerminationFacts) -> Iterator[Reason]:
    if not facts.details.strip():
        yield Reason.refuse("DSO 19", "termination.details", field="details")


# --- The call clock: no rule id of its own in POLICY.md ("calls start and end at their slot times")
# ---------------


class CallPhase(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    ENDING_SOON = "ending_soon"
    ENDED = "ended"


def call_phase(slot: Slot, now: datetime, *, warning_minutes: int = 5) -> CallPhase:
    """Where a call stands on the clock: both sides are warned ``warning_minutes`` before the slot ends."""
    if utc(now) < utc(slot.start):
        return CallPhase.NOT_STARTED
    if utc(now) >= utc(slot.end):
        return CallPhase.ENDED
    if utc(slot.end) - utc(now) <= timedelta(minutes=warning_minutes):
        return CallPhase.ENDING_SOON
    return CallPhase.RUNNING
