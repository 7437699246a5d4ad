"""Policy facts for a call, built from the call's models with ``kinship.bookings.facts`` (the one place that
turns bookings, people and establishments into facts). ``now`` is always passed in."""

from __future__ import annotations

from datetime import datetime

from kinship import policy
from kinship.bookings import facts as booking_facts
from kinship.bookings.models import Booking

from .models import Call, MonitorViewing


def active_viewings(call: Call) -> list[MonitorViewing]:
    return list(call.viewings.filter(ended_at__isnull=True).select_related("officer", "terminal"))


def other_calls_watched(viewing: MonitorViewing) -> int:
    """How many other calls this officer is watching at the same time (PF 4.7, PF 4.22)."""
    return (
        MonitorViewing.objects.filter(officer_id=viewing.officer_id, ended_at__isnull=True)
        .exclude(call_id=viewing.call_id)
        .values("call_id")
        .distinct()
        .count()
    )


def monitor_fact(viewing: MonitorViewing, call: Call) -> policy.Monitor:
    return policy.Monitor(
        officer=booking_facts.staff_facts(viewing.officer, call.establishment),
        terminal_registered=viewing.terminal.is_registered
        and viewing.terminal.kind == "monitoring"
        and viewing.terminal.establishment_id == call.establishment_id,
        active=viewing.ended_at is None,
        other_calls_watched=other_calls_watched(viewing),
    )


def best_monitor(call: Call) -> policy.Monitor | None:
    """The monitor the call relies on: of the active viewings, the one whose officer watches fewest other calls
    (so an E-list call counts as watched alone if any officer watches it alone, PF 4.22)."""
    monitors = [monitor_fact(viewing, call) for viewing in active_viewings(call)]
    if not monitors:
        return None
    return min(monitors, key=lambda monitor: monitor.other_calls_watched)


def call_facts(
    call: Call,
    *,
    now: datetime,
    monitor: policy.Monitor | bool | None = True,
    recording_detected: bool = False,
) -> policy.CallFacts:
    """May this call start or go on? ``monitor``: ``True`` (the default) takes the call's active viewings,
    otherwise the given monitor (or ``None``)."""
    booking: Booking = call.booking
    establishment = booking_facts.establishment_facts(call.establishment)
    resident = booking.resident
    contacts = [
        booking.lead_contact,
        *[link.contact for link in booking.participant_links.select_related("contact")],
    ]
    contact_facts = booking_facts.contact_facts(
        contacts, resident=resident, terms_version=establishment.terms_version
    )
    slot = booking.slot
    use = booking_facts.slot_use(slot, now=now, count_holds=False)
    chosen = best_monitor(call) if monitor is True else monitor
    lead, *others = contact_facts
    return policy.CallFacts(
        establishment=establishment,
        resident=booking_facts.resident_facts(resident),
        now=now,
        call_kind=policy.CallKind(booking.kind),
        slot=booking_facts.slot_facts(slot, use),
        main_contact=lead,
        additional_contacts=tuple(others),
        adult_check_recorded=call.adult_check_at is not None,
        monitor=chosen if isinstance(chosen, policy.Monitor) else None,
        recording_detected=recording_detected,
    )


def viewing_facts(
    call: Call, *, viewer: policy.Staff, terminal_registered: bool, purpose: str, now: datetime
) -> policy.ViewingFacts:
    return policy.ViewingFacts(
        establishment=booking_facts.establishment_facts(call.establishment),
        viewer=viewer,
        terminal_registered=terminal_registered,
        purpose=purpose,
        now=now,
        live=True,
        call_kind=policy.CallKind(call.booking.kind),
    )


def termination_facts(
    call: Call, *, actor: policy.Staff, reason: str, details: str, body_worn_camera_used: bool
) -> policy.TerminationFacts:
    return policy.TerminationFacts(
        establishment=booking_facts.establishment_facts(call.establishment),
        actor=actor,
        reason=policy.TerminationReason(reason),
        details=details,
        body_worn_camera_used=body_worn_camera_used,
    )
