"""Reads for the records about people. Everything is scoped to one establishment: staff see residents held there
and contacts only through their links or requests there."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from kinship.establishments.models import Establishment

from .models import (
    CompactRecord,
    CompactText,
    Contact,
    ContactLink,
    LinkRequest,
    LinkRequestStatus,
    LinkStatus,
    Resident,
    RiskAssessment,
)


def residents_for(establishment: Establishment, search: str = "") -> QuerySet[Resident]:
    """Residents held at the establishment (not released), searchable by name or identifier, with the number of
    approved contacts annotated (no query per row)."""
    residents = Resident.objects.filter(establishment=establishment, released_at__isnull=True)
    for term in search.split():
        residents = residents.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(identifier__iexact=term)
        )
    return residents.annotate(
        approved_contacts=Count("contact_links", filter=Q(contact_links__status=LinkStatus.APPROVED))
    ).order_by("last_name", "first_name", "identifier")


def resident_for(establishment: Establishment) -> QuerySet[Resident]:
    """Any resident of the establishment (released ones too, for their record)."""
    return Resident.objects.filter(establishment=establishment).select_related("establishment")


def resident_record(establishment: Establishment) -> QuerySet[Resident]:
    """Residents with everything their record page shows, in a fixed number of queries."""
    return resident_for(establishment).prefetch_related(
        Prefetch(
            "compacts",
            queryset=CompactRecord.objects.select_related("text", "explained_by").order_by("-recorded_at"),
        ),
        Prefetch(
            "risk_assessments",
            queryset=RiskAssessment.objects.select_related("assessed_by").order_by("-assessed_at"),
        ),
        Prefetch(
            "contact_links",
            queryset=ContactLink.objects.select_related("contact", "status_changed_by").order_by(
                "status", "contact__last_name", "contact__first_name"
            ),
        ),
    )


def links_for_establishment(establishment: Establishment) -> QuerySet[ContactLink]:
    return ContactLink.objects.filter(resident__establishment=establishment).select_related(
        "resident", "contact", "status_changed_by"
    )


def contacts_for(establishment: Establishment) -> QuerySet[Contact]:
    """Contacts staff here may see: those linked to, or asking to be linked to, someone held here."""
    return Contact.objects.filter(
        Q(links__resident__establishment=establishment) | Q(link_requests__establishment=establishment)
    ).distinct()


def contact_links_here(contact: Contact, establishment: Establishment) -> QuerySet[ContactLink]:
    return (
        ContactLink.objects.filter(contact=contact, resident__establishment=establishment)
        .select_related("resident", "status_changed_by")
        .order_by("resident__last_name")
    )


def contact_link_requests_here(contact: Contact, establishment: Establishment) -> QuerySet[LinkRequest]:
    return LinkRequest.objects.filter(contact=contact, establishment=establishment).select_related(
        "decided_by"
    )


def link_requests_for(
    establishment: Establishment, status: str = LinkRequestStatus.PENDING
) -> QuerySet[LinkRequest]:
    return (
        LinkRequest.objects.filter(establishment=establishment, status=status)
        .select_related("contact", "decided_by", "link__resident")
        .order_by("created_at")
    )


def _match_query(request: LinkRequest) -> Q:
    """Same first and last name (any case) and exactly the same date of birth; or the same identifier."""
    query = Q(
        first_name__iexact=request.resident_first_name.strip(),
        last_name__iexact=request.resident_last_name.strip(),
        date_of_birth=request.resident_date_of_birth,
    )
    if request.resident_identifier.strip():
        query |= Q(identifier__iexact=request.resident_identifier.strip())
    return query


def _matches(resident: Resident, request: LinkRequest) -> bool:
    identifier = request.resident_identifier.strip().lower()
    if identifier and resident.identifier.lower() == identifier:
        return True
    return (
        resident.first_name.lower() == request.resident_first_name.strip().lower()
        and resident.last_name.lower() == request.resident_last_name.strip().lower()
        and resident.date_of_birth == request.resident_date_of_birth
    )


def link_request_candidates(request: LinkRequest) -> list[Resident]:
    """Residents held at the request's establishment who match it. Staff choose among them; the link is never
    made automatically."""
    return list(
        Resident.objects.filter(establishment_id=request.establishment_id, released_at__isnull=True)
        .filter(_match_query(request))
        .order_by(Lower("last_name"), Lower("first_name"))
    )


def candidates_for_requests(
    establishment: Establishment, requests: Iterable[LinkRequest]
) -> dict[object, list[Resident]]:
    """Candidates for many requests at once: one query for the whole page, matched up in memory."""
    requests = list(requests)
    if not requests:
        return {}
    query = Q()
    for request in requests:
        query |= _match_query(request)
    residents = list(
        Resident.objects.filter(establishment=establishment, released_at__isnull=True)
        .filter(query)
        .order_by(Lower("last_name"), Lower("first_name"))
    )
    return {
        request.pk: [resident for resident in residents if _matches(resident, request)]
        for request in requests
    }


def compact_texts(kind: str | None = None) -> QuerySet[CompactText]:
    texts = CompactText.objects.all()
    if kind:
        texts = texts.filter(kind=kind)
    return texts.order_by("kind", "-published_at", "version", "language")
