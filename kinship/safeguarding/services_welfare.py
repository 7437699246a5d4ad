"""Writes for incidents (DSO 11, DSO 12, DSO 19, DSO Annex A) and wellbeing follow-ups (PF 4.17, PF 4.18), and
the staff emails they and the deadline pass send.

Each service is keyword-only, runs in one ``transaction.atomic``, asks the policy engine where it has a rule,
and records one audit event (with the rule ids) in the same transaction. Emails are rows in the notifications
table written in that transaction and handed to the worker once it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import StaffRole
from kinship.audit.services import audit_record
from kinship.bookings.facts import establishment_facts
from kinship.bookings.models import Booking
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.notifications.models import Channel, Event, Notification
from kinship.notifications.services import enqueue_sending
from kinship.people.models import Resident

from .models import Incident, IncidentEvent, IncidentReason, IncidentSource, IncidentStatus, WellbeingFollowUp

#: Interpretation (no number in the texts): security triage an incident report within 24 hours, and the wing
#: follows up a wellbeing concern within 24 hours. Both are elapsed hours (``kinship.policy.time``).
INCIDENT_TRIAGE_HOURS = 24
WELLBEING_FOLLOW_UP_HOURS = 24

#: Notification ``event`` of the staff emails (incident routing, deadline reminders and escalations).
STAFF_INCIDENT_EVENT = Event.STAFF_NOTICE
STAFF_DEADLINE_EVENT = Event.STAFF_NOTICE


class SafeguardingRefused(ValidationError):
    """A policy refusal, each reason on its field where it names one, with its citation."""

    @classmethod
    def from_decision(cls, decision: policy.Decision) -> SafeguardingRefused:
        by_field: dict[str, list[str]] = {}
        for reason in decision.reasons:
            if reason.refuses:
                by_field.setdefault(reason.field_name or "__all__", []).append(reason.message)
        return cls(by_field)


def _staff(actor: Any, establishment: Establishment) -> policy.Staff:
    roles = actor.roles_at(establishment) if hasattr(actor, "roles_at") else set()
    return policy.Staff(id=str(actor.pk), roles=frozenset(policy.Role(role.value) for role in roles))


# --- Staff emails --------------------------------------------------------------------------------------------------


def staff_emails(*, establishment: Establishment, roles: Iterable[Role]) -> list[str]:
    """The email addresses of the active staff holding any of ``roles`` at ``establishment``."""
    return sorted(
        set(
            StaffRole.objects.filter(
                establishment=establishment, role__in=[str(role) for role in roles], user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def staff_email_queue(
    *, recipients: Iterable[str], event: str, subject: str, body: str
) -> list[Notification]:
    """Write one email per recipient in the caller's transaction; they are sent once it commits."""
    rows = [
        Notification(
            booking=None,
            event=event,
            channel=Channel.EMAIL,
            recipient=recipient,
            template_id=settings.NOTIFY_EMAIL_TEMPLATE_ID,
            personalisation={"subject": subject, "body": body},
        )
        for recipient in recipients
    ]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    transaction.on_commit(partial(enqueue_sending, [str(row.pk) for row in created]), robust=True)
    return created


# --- Incidents -----------------------------------------------------------------------------------------------------


def _incident_snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "status": incident.status,
        "reason": incident.reason,
        "police_referral": incident.police_referral,
        "police_reference": incident.police_reference,
        "body_worn_camera_used": incident.body_worn_camera_used,
        "body_worn_camera_reference": incident.body_worn_camera_reference,
        "ban_considered": incident.ban_considered,
    }


def incident_create(
    *,
    establishment: Establishment,
    resident: Resident,
    reason: str,
    details: str,
    actor: Any,
    booking: Booking | None = None,
    source: str = IncidentSource.MANUAL,
    body_worn_camera_used: bool = False,
    body_worn_camera_reference: str = "",
    now: datetime | None = None,
) -> Incident:
    """Record an incident report and route it to the security team (DSO 12, DSO 19): the establishment's
    security staff are emailed. Recording and unlawful activity are marked for police referral (DSO Annex A,
    ``termination_outcome``)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if reason not in IncidentReason.values:
        errors["reason"] = "DSO 11: Select the reason"
    if not details.strip():
        errors["details"] = "DSO 19: Enter what happened"
    if resident.establishment_id != establishment.pk:
        errors["resident"] = "The person in custody is not at this establishment"
    if booking is not None and booking.resident_id != resident.pk:
        errors["booking"] = "The call is not one of this person's calls"
    if body_worn_camera_reference.strip() and not body_worn_camera_used:
        errors["body_worn_camera_used"] = (
            "DSO 11: Say that a body-worn camera was used to give a footage reference"
        )
    if errors:
        raise ValidationError(errors)
    outcome = policy.termination_outcome(policy.TerminationReason(reason))
    with transaction.atomic():
        incident = Incident.objects.create(
            establishment=establishment,
            resident=resident,
            booking=booking,
            source=source,
            reason=reason,
            details=details.strip(),
            reported_by=actor,
            reported_at=now,
            status=IncidentStatus.OPEN,
            police_referral=outcome.police_referral,
            police_referral_required=outcome.police_referral,
            body_worn_camera_used=body_worn_camera_used,
            body_worn_camera_reference=body_worn_camera_reference.strip(),
        )
        IncidentEvent.objects.create(
            incident=incident, status=IncidentStatus.OPEN, note="Reported", actor=actor, occurred_at=now
        )
        rules = ["DSO 12", "DSO 19"]
        if source == IncidentSource.TERMINATION:
            rules.append("DSO 11")
        if outcome.police_referral:
            rules.append("DSO Annex A")
        audit_record(
            action="incident_created",
            actor=actor,
            subject=incident,
            establishment_code=establishment.code,
            after={**_incident_snapshot(incident), "resident": str(resident.pk), "source": source},
            policy_ids=rules,
            occurred_at=now,
        )
        if outcome.route_to_security:
            staff_email_queue(
                recipients=staff_emails(establishment=establishment, roles=[Role.SECURITY]),
                event=STAFF_INCIDENT_EVENT,
                subject=f"Incident report for security: {incident.get_reason_display()}",
                body=(
                    f"An incident report was recorded at {establishment.name} for {resident.full_name} "
                    f"({resident.identifier}): {incident.get_reason_display()}."
                    + (" It is marked for police referral (DSO Annex A)." if outcome.police_referral else "")
                    + f"\n\nTriage it in Kinship within {INCIDENT_TRIAGE_HOURS} hours (DSO 12, DSO 19)."
                ),
            )
    return incident


def incident_create_for_termination(
    *, booking: Booking, reason: str, details: str, actor: Any, body_worn_camera_used: bool = False
) -> Incident:
    """DSO 12: every termination creates an incident report routed to security. Called by call termination, in
    its transaction."""
    return incident_create(
        establishment=booking.slot.establishment,
        resident=booking.resident,
        booking=booking,
        reason=reason,
        details=details,
        actor=actor,
        source=IncidentSource.TERMINATION,
        body_worn_camera_used=body_worn_camera_used,
    )


#: Where an incident may go next. Closed is final: its history is complete.
INCIDENT_TRANSITIONS: dict[str, set[str]] = {
    IncidentStatus.OPEN: {
        IncidentStatus.UNDER_INVESTIGATION,
        IncidentStatus.REFERRED_TO_POLICE,
        IncidentStatus.CLOSED,
    },
    IncidentStatus.UNDER_INVESTIGATION: {IncidentStatus.REFERRED_TO_POLICE, IncidentStatus.CLOSED},
    IncidentStatus.REFERRED_TO_POLICE: {IncidentStatus.UNDER_INVESTIGATION, IncidentStatus.CLOSED},
    IncidentStatus.CLOSED: set(),
}


def incident_update(
    *,
    incident: Incident,
    actor: Any,
    status: str,
    note: str,
    police_referral: bool,
    police_reference: str,
    body_worn_camera_used: bool,
    body_worn_camera_reference: str,
    ban_considered: bool,
    now: datetime | None = None,
) -> Incident:
    """Security's triage and investigation: a new status (kept in the history), the police referral and its
    reference, the body-worn camera footage reference, and whether a booking ban was considered."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    police_reference = police_reference.strip()
    body_worn_camera_reference = body_worn_camera_reference.strip()
    if status not in IncidentStatus.values:
        errors["status"] = "Select the status"
    if status == IncidentStatus.REFERRED_TO_POLICE and not (police_referral and police_reference):
        errors["police_reference"] = "DSO Annex A: Enter the police reference of the referral"
    if police_reference and not police_referral:
        errors["police_referral"] = "DSO Annex A: Mark the incident for police referral to give a reference"
    if body_worn_camera_reference and not body_worn_camera_used:
        errors["body_worn_camera_used"] = (
            "DSO 11: Say that a body-worn camera was used to give a footage reference"
        )
    if status == IncidentStatus.CLOSED and not note.strip():
        errors["note"] = "Enter the outcome of the incident"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Incident.objects.select_for_update().select_related("establishment").get(pk=incident.pk)
        if current.status == IncidentStatus.CLOSED:
            raise ValidationError("This incident is closed: it cannot be changed")
        if status != current.status and status not in INCIDENT_TRANSITIONS[current.status]:
            raise ValidationError({"status": "The incident cannot move to this status from where it is"})
        if current.police_referral_required and not police_referral:
            raise ValidationError(
                {
                    "police_referral": "DSO Annex A: Recording and unlawful activity are always referred to police"
                }
            )
        before = _incident_snapshot(current)
        current.status = status
        current.police_referral = police_referral
        current.police_reference = police_reference
        current.body_worn_camera_used = body_worn_camera_used
        current.body_worn_camera_reference = body_worn_camera_reference
        current.ban_considered = ban_considered
        if status == IncidentStatus.CLOSED:
            current.closed_at = now
        current.save()
        after = _incident_snapshot(current)
        if before["status"] != status or note.strip():
            IncidentEvent.objects.create(
                incident=current, status=status, note=note.strip(), actor=actor, occurred_at=now
            )
        rules = {"DSO 12", "DSO 19"}
        if before["police_referral"] != police_referral or before["police_reference"] != police_reference:
            rules.add("DSO Annex A")
        if before["ban_considered"] != ban_considered:
            rules.add("DSO Annex A")
        if before["body_worn_camera_reference"] != body_worn_camera_reference:
            rules.add("DSO 11")
        audit_record(
            action="incident_closed" if status == IncidentStatus.CLOSED else "incident_updated",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before={key: value for key, value in before.items() if after[key] != value},
            after={
                **{key: value for key, value in after.items() if before[key] != value},
                **({"note": note.strip()} if note.strip() else {}),
            },
            policy_ids=sorted(rules),
            occurred_at=now,
        )
    return current


# --- Wellbeing -----------------------------------------------------------------------------------------------------


def wellbeing_concern_record(
    *,
    resident: Resident,
    observation: str,
    actor: Any,
    booking: Booking | None = None,
    acct_referral_noted: bool = False,
    now: datetime | None = None,
) -> WellbeingFollowUp:
    """PF 4.17: any member of staff records that a call seems to have affected the person badly; a follow-up
    opens on the list of the person's wing (PF 4.18)."""
    now = now or timezone.now()
    establishment = resident.establishment
    if booking is not None and booking.resident_id != resident.pk:
        raise ValidationError({"booking": "The call is not one of this person's calls"})
    decision = policy.wellbeing_concern_allowed(
        policy.WellbeingConcernFacts(
            establishment=establishment_facts(establishment),
            actor=_staff(actor, establishment),
            observation=observation,
        )
    )
    if not decision.allowed:
        raise SafeguardingRefused.from_decision(decision)
    if not observation.strip():
        # Immigration detention has no PF 4.17 rule; an empty record helps nobody there either.
        raise ValidationError({"observation": "Enter what you saw"})
    with transaction.atomic():
        follow_up = WellbeingFollowUp.objects.create(
            establishment=establishment,
            resident=resident,
            booking=booking,
            location=resident.location,
            observation=observation.strip(),
            acct_referral_noted=acct_referral_noted,
            recorded_by=actor,
            recorded_at=now,
            due_at=now + timedelta(hours=WELLBEING_FOLLOW_UP_HOURS),
        )
        audit_record(
            action="wellbeing_concern_recorded",
            actor=actor,
            subject=follow_up,
            establishment_code=establishment.code,
            after={
                "resident": str(resident.pk),
                "location": follow_up.location,
                "booking": booking.reference if booking is not None else "",
                "acct_referral_noted": acct_referral_noted,
            },
            policy_ids=["PF 4.17", "PF 4.18"],
            occurred_at=now,
        )
    return follow_up


def wellbeing_follow_up_close(
    *,
    follow_up: WellbeingFollowUp,
    outcome: str,
    acct_opened: bool | None,
    actor: Any,
    now: datetime | None = None,
) -> WellbeingFollowUp:
    """PF 4.18: the follow-up leaves the wing's list only when closed with an outcome and a decision on an
    ACCT referral."""
    now = now or timezone.now()
    establishment = follow_up.establishment
    decision = policy.wellbeing_closure_allowed(
        policy.WellbeingClosureFacts(
            establishment=establishment_facts(establishment),
            actor=_staff(actor, establishment),
            outcome=outcome,
            acct_opened=acct_opened,
        )
    )
    if not decision.allowed:
        raise SafeguardingRefused.from_decision(decision)
    if not outcome.strip() or acct_opened is None:
        raise ValidationError(
            {
                **({"outcome": "Enter the outcome"} if not outcome.strip() else {}),
                **({"acct_opened": "Say whether an ACCT was opened"} if acct_opened is None else {}),
            }
        )
    with transaction.atomic():
        current = WellbeingFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if current.closed_at is not None:
            raise ValidationError("This follow-up is already closed")
        current.outcome = outcome.strip()
        current.acct_opened = acct_opened
        current.closed_by = actor
        current.closed_at = now
        current.save()
        audit_record(
            action="wellbeing_follow_up_closed",
            actor=actor,
            subject=current,
            establishment_code=establishment.code,
            after={"outcome": current.outcome, "acct_opened": acct_opened},
            policy_ids=["PF 4.18"],
            occurred_at=now,
        )
    return current
