"""Reads for incidents, wellbeing follow-ups and the risk inputs' history: querysets with what their pages need
joined, so a list costs the same number of queries however long it grows."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kinship.audit.models import AuditEvent
from kinship.establishments.models import Establishment
from kinship.people.models import Resident

from .models import Incident, IncidentEvent, IncidentStatus, WellbeingFollowUp


def incidents_for(*, establishment: Establishment) -> QuerySet[Incident]:
    return Incident.objects.filter(establishment=establishment).select_related(
        "resident", "booking", "reported_by"
    )


def incidents_open(*, establishment: Establishment) -> QuerySet[Incident]:
    return incidents_for(establishment=establishment).exclude(status=IncidentStatus.CLOSED)


def incident_history(*, incident: Incident) -> QuerySet[IncidentEvent]:
    return (
        IncidentEvent.objects.filter(incident=incident)
        .select_related("actor")
        .order_by("occurred_at", "created_at")
    )


def wellbeing_for(*, establishment: Establishment) -> QuerySet[WellbeingFollowUp]:
    return WellbeingFollowUp.objects.filter(establishment=establishment).select_related(
        "resident", "booking", "recorded_by", "closed_by"
    )


def wellbeing_open(*, establishment: Establishment, location: str = "") -> QuerySet[WellbeingFollowUp]:
    """PF 4.18: the follow-ups still on the list, optionally one wing's, oldest deadline first."""
    found = wellbeing_for(establishment=establishment).filter(closed_at__isnull=True)
    if location:
        found = found.filter(location__iexact=location)
    return found.order_by("due_at")


def wellbeing_locations(*, establishment: Establishment) -> list[str]:
    return sorted(
        set(
            WellbeingFollowUp.objects.filter(establishment=establishment, closed_at__isnull=True)
            .exclude(location="")
            .values_list("location", flat=True)
        )
    )


#: The audit actions that change the safeguarding inputs, and the rules whose history is shown.
RISK_ACTIONS = (
    "resident_created",
    "resident_changed",
    "risk_assessment_recorded",
    "contact_link_changed",
    "contact_link_approved",
)
RISK_RULES = frozenset({"PF 4.9", "DSO 14", "PF 4.16", "PF 4.22"})


def risk_history(*, resident: Resident) -> QuerySet[AuditEvent]:
    """Audit events about the resident or their contact links that may touch PF 4.9, DSO 14, PF 4.16 or PF 4.22,
    newest first; ``risk_changes`` keeps the ones that did."""
    link_ids = [str(pk) for pk in resident.contact_links.values_list("pk", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(subject_type="people.resident", subject_id=str(resident.pk))
            | Q(subject_type="people.contactlink", subject_id__in=link_ids),
            action__in=RISK_ACTIONS,
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )
