"""Staff pages for the records about people, all scoped to one establishment: residents (list, record, add,
edit), compacts and compact texts, risk assessments, contacts and their links, and the link-request queue."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from kinship.core.permissions import staff_required
from kinship.core.roles import ESTABLISHMENT_ADMINS, RECORD_EDITORS, RECORD_READERS
from kinship.establishments.forms import add_service_errors
from kinship.establishments.models import Establishment, Profile

from . import selectors, services
from .forms import (
    CompactRecordForm,
    CompactTextForm,
    LinkDecisionForm,
    LinkDetailsForm,
    LinkRequestDecisionForm,
    ResidentForm,
    ResidentSearchForm,
    RiskAssessmentForm,
)
from .models import LinkRequestStatus, Resident, SupportNeed

RESIDENTS_PER_PAGE = 25
LINK_REQUESTS_PER_PAGE = 20


def _can_edit(request: HttpRequest) -> bool:
    return bool(request.staff_roles & RECORD_EDITORS)  # type: ignore[attr-defined]


def _page_links(request: HttpRequest, page: Any) -> dict[str, Any]:
    """Previous/next links for the GOV.UK pagination component, keeping the other query parameters."""

    def url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    return {
        "page": page,
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


# --- Residents -----------------------------------------------------------------------------------------------------


@staff_required(*RECORD_READERS)
def residents(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    search = ResidentSearchForm(request.GET or None)
    term = search.cleaned_data["q"].strip() if search.is_valid() else ""
    paginator = Paginator(selectors.residents_for(establishment, term), RESIDENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "people/residents.html",
        {
            "establishment": establishment,
            "search": search,
            "term": term,
            "can_edit": _can_edit(request),
            **_page_links(request, page),
        },
    )


def _resident(establishment: Establishment, resident_id: UUID) -> Resident:
    return get_object_or_404(selectors.resident_for(establishment), pk=resident_id)


@staff_required(*RECORD_READERS)
def resident_detail(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = get_object_or_404(selectors.resident_record(establishment), pk=resident_id)
    services.resident_record_viewed(resident=resident, actor=request.user)
    needs = dict(SupportNeed.choices)
    return render(
        request,
        "people/resident_detail.html",
        {
            "establishment": establishment,
            "resident": resident,
            "support_needs": [needs.get(need, need) for need in resident.support_needs],
            "compacts": list(resident.compacts.all()),
            "assessments": list(resident.risk_assessments.all()),
            "links": list(resident.contact_links.all()),
            "immigration": establishment.profile == Profile.IMMIGRATION_DETENTION,
            "can_edit": _can_edit(request),
            "compact_kind": services.compact_kind_for(establishment),
        },
    )


@staff_required(*RECORD_EDITORS)
def resident_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_create(
                establishment=establishment, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{resident.full_name} has been added")
            return redirect("people:resident", establishment=establishment.code, resident_id=resident.pk)
    return render(
        request, "people/resident_form.html", {"establishment": establishment, "form": form, "resident": None}
    )


@staff_required(*RECORD_EDITORS)
def resident_edit(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = _resident(establishment, resident_id)
    form = ResidentForm.for_resident(resident, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_update(resident=resident, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{resident.full_name}'s details have been saved")
            return redirect("people:resident", establishment=establishment.code, resident_id=resident.pk)
    return render(
        request,
        "people/resident_form.html",
        {"establishment": establishment, "form": form, "resident": resident},
    )


# --- Compacts ------------------------------------------------------------------------------------------------------


@staff_required(*RECORD_EDITORS)
def compact_add(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = _resident(establishment, resident_id)
    kind = services.compact_kind_for(establishment)
    form = CompactRecordForm(request.POST or None, kind=kind, initial={"language": resident.language})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.compact_record(resident=resident, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "The compact has been recorded as signed"
                if record.outcome == "signed"
                else "The refusal has been recorded. They cannot have video calls until they sign (PF 4.11)",
            )
            return redirect("people:resident", establishment=establishment.code, resident_id=resident.pk)
    return render(
        request,
        "people/compact_form.html",
        {
            "establishment": establishment,
            "resident": resident,
            "form": form,
            "kind": kind,
            "has_texts": form.fields["text"].queryset.exists(),  # type: ignore[attr-defined]
            "is_admin": bool(request.staff_roles & ESTABLISHMENT_ADMINS),  # type: ignore[attr-defined]
        },
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def compact_texts(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return render(
        request,
        "people/compact_texts.html",
        {
            "establishment": establishment,
            "texts": selectors.compact_texts(),
            "kind": services.compact_kind_for(establishment),
        },
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def compact_text_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = CompactTextForm(request.POST or None, initial={"kind": services.compact_kind_for(establishment)})
    if request.method == "POST" and form.is_valid():
        try:
            text = services.compact_text_create(
                actor=request.user, establishment=establishment, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{text} has been added")
            return redirect("people:compact-texts", establishment=establishment.code)
    return render(request, "people/compact_text_form.html", {"establishment": establishment, "form": form})


# --- Risk assessments ----------------------------------------------------------------------------------------------


@staff_required(*RECORD_EDITORS)
def risk_assessment_add(
    request: HttpRequest, establishment: Establishment, resident_id: UUID
) -> HttpResponse:
    resident = _resident(establishment, resident_id)
    immigration = establishment.profile == Profile.IMMIGRATION_DETENTION
    form = RiskAssessmentForm(request.POST or None, immigration=immigration)
    if request.method == "POST" and form.is_valid():
        try:
            services.risk_assessment_record(resident=resident, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The risk assessment has been recorded")
            return redirect("people:resident", establishment=establishment.code, resident_id=resident.pk)
    return render(
        request,
        "people/risk_assessment_form.html",
        {"establishment": establishment, "resident": resident, "form": form, "immigration": immigration},
    )


# --- Contacts and links --------------------------------------------------------------------------------------------


def _link(establishment: Establishment, link_id: UUID) -> Any:
    return get_object_or_404(selectors.links_for_establishment(establishment), pk=link_id)


@staff_required(*RECORD_EDITORS)
def link_decide(request: HttpRequest, establishment: Establishment, link_id: UUID) -> HttpResponse:
    link = _link(establishment, link_id)
    form = LinkDecisionForm(request.POST or None, link=link)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.contact_link_decide(
                link=link,
                actor=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                source=form.cleaned_data.get("source") or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{link.contact.full_name} is now {link.get_status_display().lower()}")
            return redirect("people:resident", establishment=establishment.code, resident_id=link.resident_id)
    return render(
        request, "people/link_decide.html", {"establishment": establishment, "link": link, "form": form}
    )


@staff_required(*RECORD_EDITORS)
def link_edit(request: HttpRequest, establishment: Establishment, link_id: UUID) -> HttpResponse:
    link = _link(establishment, link_id)
    form = LinkDetailsForm.for_link(link, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.contact_link_update(link=link, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"The details for {link.contact.full_name} have been saved")
            return redirect("people:resident", establishment=establishment.code, resident_id=link.resident_id)
    return render(
        request, "people/link_edit.html", {"establishment": establishment, "link": link, "form": form}
    )


@staff_required(*RECORD_READERS)
def contact_detail(request: HttpRequest, establishment: Establishment, contact_id: UUID) -> HttpResponse:
    contact = get_object_or_404(selectors.contacts_for(establishment), pk=contact_id)
    return render(
        request,
        "people/contact_detail.html",
        {
            "establishment": establishment,
            "contact": contact,
            "links": list(selectors.contact_links_here(contact, establishment)),
            "link_requests": list(selectors.contact_link_requests_here(contact, establishment)),
            "can_edit": _can_edit(request),
        },
    )


# --- Link requests -------------------------------------------------------------------------------------------------


@staff_required(*RECORD_READERS)
def link_requests(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    status = request.GET.get("status", LinkRequestStatus.PENDING)
    if status not in LinkRequestStatus.values:
        status = LinkRequestStatus.PENDING
    paginator = Paginator(selectors.link_requests_for(establishment, status), LINK_REQUESTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    candidates = selectors.candidates_for_requests(establishment, page.object_list)
    rows = [(link_request, candidates.get(link_request.pk, [])) for link_request in page.object_list]
    return render(
        request,
        "people/link_requests.html",
        {
            "establishment": establishment,
            "rows": rows,
            "status": status,
            "statuses": [
                (
                    value,
                    label,
                    reverse("people:link-requests", args=[establishment.code]) + f"?status={value}",
                )
                for value, label in LinkRequestStatus.choices
            ],
            "can_edit": _can_edit(request),
            **_page_links(request, page),
        },
    )


@staff_required(*RECORD_EDITORS)
def link_request_decide(request: HttpRequest, establishment: Establishment, request_id: UUID) -> HttpResponse:
    link_request = get_object_or_404(
        selectors.link_requests_for(establishment, LinkRequestStatus.PENDING), pk=request_id
    )
    candidates = selectors.link_request_candidates(link_request)
    form = LinkRequestDecisionForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "match":
                resident = form.chosen_resident
                assert resident is not None
                services.link_request_approve(
                    link_request=link_request,
                    resident=resident,
                    actor=request.user,
                    source=data["source"],
                    reason=data["reason"],
                )
                messages.success(
                    request,
                    f"{link_request.contact.full_name} is now an approved contact of {resident.full_name}",
                )
            else:
                services.link_request_not_matched(
                    link_request=link_request, actor=request.user, reason=data["reason"]
                )
                messages.success(request, "The request has been marked as could not be matched")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("people:link-requests", establishment=establishment.code)
    return render(
        request,
        "people/link_request_decide.html",
        {
            "establishment": establishment,
            "link_request": link_request,
            "candidates": candidates,
            "form": form,
        },
    )
