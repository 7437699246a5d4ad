"""Reads for restrictions, bans, suspensions and appeals: querysets, plus the deadline arithmetic the policy
engine owns (``next_review_due``, ``review_overdue``, ``appeal_decision_due``) applied to records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from kinship import policy
from kinship.bookings import facts as booking_facts
from kinship.establishments.models import Establishment
from kinship.people.models import Resident
from kinship.policy.rules.safeguarding import (
    appeal_decision_due,
    appeal_overdue,
    next_review_due,
    review_overdue,
    suspension_needs_authorisation,
)
from kinship.policy.time import utc

from .models import Appeal, ComplianceNotice, ContactBan, Restriction, Suspension, VisitorBan


def _open(now: datetime) -> Q:
    return Q(lifted_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def restrictions_in_force(establishment: Establishment, *, now: datetime) -> QuerySet[Restriction]:
    return (
        Restriction.objects.filter(establishment=establishment)
        .filter(_open(now))
        .select_related("resident", "decided_by")
        .order_by("review_on")
    )


def restrictions_due_for_review(
    establishment: Establishment, *, today: date, now: datetime
) -> QuerySet[Restriction]:
    return restrictions_in_force(establishment, now=now).filter(review_on__lte=today)


def contact_bans_in_force(establishment: Establishment, *, now: datetime) -> QuerySet[ContactBan]:
    return (
        ContactBan.objects.filter(establishment=establishment)
        .filter(_open(now))
        .select_related("resident", "contact")
        .order_by("review_on")
    )


def visitor_bans_in_force(establishment: Establishment, *, today: date) -> QuerySet[VisitorBan]:
    return (
        VisitorBan.objects.filter(establishment=establishment, lifted_at__isnull=True, until__gte=today)
        .select_related("contact")
        .order_by("review_on")
    )


def suspensions_in_force(establishment: Establishment, *, now: datetime) -> QuerySet[Suspension]:
    return (
        Suspension.objects.filter(establishment=establishment, lifted_at__isnull=True, ends_at__gt=now)
        .select_related("resident", "decided_by", "authorised_by")
        .prefetch_related("reviews")
        .order_by("starts_at")
    )


def appeals_awaiting_decision(establishment: Establishment) -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(suspension__establishment=establishment, decided_at__isnull=True)
        .select_related("suspension__resident")
        .order_by("submitted_at")
    )


def notices_for(user: Any, establishment: Establishment) -> QuerySet[ComplianceNotice]:
    return ComplianceNotice.objects.filter(recipient=user, establishment=establishment).select_related(
        "suspension__resident"
    )


def resident_records(resident: Resident) -> dict[str, QuerySet[Any]]:
    return {
        "restrictions": Restriction.objects.filter(resident=resident).order_by("-starts_at"),
        "contact_bans": ContactBan.objects.filter(resident=resident).select_related("contact"),
        "suspensions": Suspension.objects.filter(resident=resident).order_by("-starts_at"),
    }


@dataclass(frozen=True, slots=True)
class SuspensionStatus:
    """What the pages show about a suspension: its effective end, authorisation and the weekly review."""

    suspension: Suspension
    needs_authorisation: bool
    authorised: bool
    effective_end: datetime | None
    review_due: datetime | None
    review_overdue: bool


def suspension_status(suspension: Suspension, *, now: datetime) -> SuspensionStatus:
    tz = ZoneInfo(suspension.establishment.timezone)
    fact = booking_facts.suspension_fact(suspension, tz)
    full = policy.Suspension(
        reason=fact.reason,
        decided_by=fact.decided_by,
        start=fact.start,
        end=suspension.lifted_at or suspension.ends_at,
        compliance_authorised_by=fact.compliance_authorised_by,
        reviews=fact.reviews,
    )
    needs = suspension_needs_authorisation(full, tz)
    # Weekly reviews follow the suspension as authorised; unauthorised, it ends at day 7 and needs none.
    reviewed = full if suspension.authorised_at is not None else fact
    return SuspensionStatus(
        suspension=suspension,
        needs_authorisation=needs,
        authorised=suspension.authorised_at is not None,
        effective_end=fact.end,
        review_due=next_review_due(reviewed, tz) if suspension.lifted_at is None else None,
        review_overdue=suspension.lifted_at is None and review_overdue(reviewed, tz, now),
    )


@dataclass(frozen=True, slots=True)
class AppealStatus:
    appeal: Appeal
    due: datetime
    hours_left: int
    overdue: bool


def appeal_status(appeal: Appeal, *, now: datetime) -> AppealStatus:
    tz = ZoneInfo(appeal.suspension.establishment.timezone)
    fact = policy.Appeal(submitted_at=appeal.submitted_at, decided_at=appeal.decided_at)
    resident = policy.Resident(
        id=str(appeal.suspension.resident_id), imminent_removal_directions=appeal.imminent_removal_directions
    )
    due = appeal_decision_due(fact, resident, tz)
    # Elapsed time: subtracting two London times directly would count wall-clock hours across a change.
    seconds = (utc(due) - utc(now)).total_seconds()
    return AppealStatus(
        appeal=appeal,
        due=due,
        hours_left=max(0, int(seconds // 3600)),
        overdue=appeal_overdue(fact, resident, tz, now),
    )
