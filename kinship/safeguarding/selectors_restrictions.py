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
from kinship.people.models import Contact, Resident
from kinship.policy.rules.safeguarding import (
    appeal_decision_due,
    appeal_overdue,
    next_review_due,
    review_overdue,
    suspension_needs_authorisation,
)
from kinship.policy.time import utc

from .models import (
    Appeal,
    BannedVisitorAuthorisation,
    ComplianceNotice,
    ContactBan,
    DecisionReview,
    Restriction,
    Suspension,
    VisitorBan,
    VisitorBanKind,
)


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


# --- Records one at a time, and what a booking clerk may see ------------------------------------------------------


def restriction_at(establishment: Establishment, restriction_id: Any) -> Restriction | None:
    return (
        Restriction.objects.filter(establishment=establishment, pk=restriction_id)
        .select_related("resident", "decided_by", "lifted_by")
        .first()
    )


def contact_ban_at(establishment: Establishment, ban_id: Any) -> ContactBan | None:
    return (
        ContactBan.objects.filter(establishment=establishment, pk=ban_id)
        .select_related("resident", "contact", "decided_by", "lifted_by")
        .first()
    )


def visitor_ban_at(establishment: Establishment, ban_id: Any) -> VisitorBan | None:
    return (
        VisitorBan.objects.filter(establishment=establishment, pk=ban_id)
        .select_related("contact", "decided_by", "lifted_by")
        .first()
    )


def reviews_of(record: Restriction | ContactBan | VisitorBan) -> QuerySet[DecisionReview]:
    return record.reviews.select_related("reviewed_by").order_by("-reviewed_at")


def contacts_of(resident: Resident) -> QuerySet[Contact]:
    """The contacts linked to a person in custody (any status): those a contact ban can name."""
    return Contact.objects.filter(links__resident=resident).distinct().order_by("last_name", "first_name")


def contacts_at(establishment: Establishment) -> QuerySet[Contact]:
    """Contacts linked to anyone held at the establishment: those it can ban as visitors or from booking."""
    return (
        Contact.objects.filter(links__resident__establishment=establishment)
        .distinct()
        .order_by("last_name", "first_name")
    )


def banned_visitors_of(resident: Resident, *, today: date) -> QuerySet[Contact]:
    """PF 4.12: the resident's contacts banned as visitors here today."""
    banned = VisitorBan.objects.filter(
        establishment_id=resident.establishment_id,
        kind=VisitorBanKind.BANNED_VISITOR,
        lifted_at__isnull=True,
        until__gte=today,
    ).values("contact_id")
    return contacts_of(resident).filter(pk__in=banned)


def residents_linked_to(contact: Contact, establishment: Establishment) -> QuerySet[Resident]:
    return (
        Resident.objects.filter(establishment=establishment, contact_links__contact=contact)
        .distinct()
        .order_by("last_name", "first_name")
    )


def authorisations_for(ban: VisitorBan) -> QuerySet[BannedVisitorAuthorisation]:
    return ban.authorisations.select_related("resident", "authorised_by").order_by("-authorised_at")


@dataclass(frozen=True, slots=True)
class ResidentRestrictions:
    """What is in force for one person, without the rationale: what a booking clerk needs to know."""

    restrictions: list[Restriction]
    contact_bans: list[ContactBan]
    suspensions: list[Suspension]
    visitor_bans: list[VisitorBan]

    @property
    def any(self) -> bool:
        return bool(self.restrictions or self.contact_bans or self.suspensions or self.visitor_bans)


def resident_restrictions(resident: Resident, *, now: datetime, today: date) -> ResidentRestrictions:
    establishment = resident.establishment
    return ResidentRestrictions(
        restrictions=list(restrictions_in_force(establishment, now=now).filter(resident=resident)),
        contact_bans=list(contact_bans_in_force(establishment, now=now).filter(resident=resident)),
        suspensions=list(suspensions_in_force(establishment, now=now).filter(resident=resident)),
        visitor_bans=list(
            visitor_bans_in_force(establishment, today=today).filter(
                contact__in=Contact.objects.filter(links__resident=resident)
            )
        ),
    )
