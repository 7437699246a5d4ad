"""Staff pages for restrictions (PF 4.4) and suspensions and appeals (DSO 17, DSO 18), each scoped to one
establishment. Views read through ``selectors_restrictions`` and write through ``services_restrictions``."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kinship.accounts.models import User
from kinship.core.permissions import staff_required
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.people.models import Resident

from . import selectors_restrictions as selectors
from . import services_restrictions as services
from .forms_restrictions import (
    AppealDecisionForm,
    AppealForm,
    AuthoriseForm,
    RestrictionForm,
    SuspensionForm,
    SuspensionReviewForm,
    add_refusal,
)
from .models import Appeal, Suspension
from .notices import suspension_notice_pdf

READERS = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER})


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _roles(request: HttpRequest) -> frozenset[str]:
    return frozenset(request.staff_roles)  # type: ignore[attr-defined]


def _suspension(establishment: Establishment, suspension_id: UUID) -> Suspension:
    return get_object_or_404(
        Suspension.objects.select_related("resident", "establishment"),
        pk=suspension_id,
        establishment=establishment,
    )


@staff_required(*READERS)
def overview(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now, timezone=establishment_tz(establishment))
    return render(
        request,
        "safeguarding/restrictions/overview.html",
        {
            "establishment": establishment,
            "restrictions": selectors.restrictions_in_force(establishment, now=now),
            "due_restrictions": selectors.restrictions_due_for_review(establishment, today=today, now=now),
            "contact_bans": selectors.contact_bans_in_force(establishment, now=now),
            "visitor_bans": selectors.visitor_bans_in_force(establishment, today=today),
            "suspensions": [
                selectors.suspension_status(item, now=now)
                for item in selectors.suspensions_in_force(establishment, now=now)
            ],
            "appeals": [
                selectors.appeal_status(item, now=now)
                for item in selectors.appeals_awaiting_decision(establishment)
            ],
            "notices": selectors.notices_for(request.user, establishment),
            "tz": establishment.timezone,
        },
    )


def establishment_tz(establishment: Establishment) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(establishment.timezone)


@staff_required(Role.GOVERNOR)
def restriction_new(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = get_object_or_404(Resident, pk=resident_id, establishment=establishment)
    form = RestrictionForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.restriction_create(
                resident=resident,
                kind=data["kind"],
                ground=data["ground"],
                rationale=data["rationale"],
                necessity_and_proportionality=data["necessity_and_proportionality"],
                review_on=data["review_on"],
                max_participants=data["max_participants"],
                max_call_minutes=data["max_call_minutes"],
                dedicated_monitor=data["dedicated_monitor"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"Restriction recorded for {resident.full_name}")
            return redirect("safeguarding-restrictions:overview", establishment=establishment.code)
    return render(
        request,
        "safeguarding/restrictions/restriction_form.html",
        {"establishment": establishment, "resident": resident, "form": form},
    )


@staff_required(Role.GOVERNOR)
def suspension_new(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = get_object_or_404(Resident, pk=resident_id, establishment=establishment)
    form = SuspensionForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            suspension = services.suspension_create(
                resident=resident,
                reason=data["reason"],
                details=data["details"],
                days=data["days"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Suspension recorded. The compliance manager has been told.")
            return redirect(
                "safeguarding-restrictions:suspension",
                establishment=establishment.code,
                suspension_id=suspension.pk,
            )
    return render(
        request,
        "safeguarding/restrictions/suspension_form.html",
        {"establishment": establishment, "resident": resident, "form": form},
    )


@staff_required(*READERS)
def suspension_detail(
    request: HttpRequest, establishment: Establishment, suspension_id: UUID
) -> HttpResponse:
    suspension = _suspension(establishment, suspension_id)
    now = timezone.now()
    roles = _roles(request)
    return render(
        request,
        "safeguarding/restrictions/suspension_detail.html",
        {
            "establishment": establishment,
            "status": selectors.suspension_status(suspension, now=now),
            "suspension": suspension,
            "reviews": suspension.reviews.select_related("reviewed_by"),
            "appeals": [selectors.appeal_status(item, now=now) for item in suspension.appeals.all()],
            "can_authorise": Role.COMPLIANCE_MANAGER in roles,
            "can_decide": Role.GOVERNOR in roles,
            "tz": establishment.timezone,
        },
    )


@staff_required(*READERS)
def suspension_notice(
    request: HttpRequest, establishment: Establishment, suspension_id: UUID
) -> HttpResponse:
    suspension = _suspension(establishment, suspension_id)
    response = HttpResponse(suspension_notice_pdf(suspension), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="suspension-notice-{suspension.pk}.pdf"'
    return response


def _action_page(
    request: HttpRequest,
    establishment: Establishment,
    suspension: Suspension,
    form: Any,
    title: str,
    button: str,
) -> HttpResponse:
    return render(
        request,
        "safeguarding/restrictions/suspension_action.html",
        {
            "establishment": establishment,
            "suspension": suspension,
            "form": form,
            "title": title,
            "button": button,
        },
    )


@staff_required(Role.COMPLIANCE_MANAGER)
def suspension_authorise(
    request: HttpRequest, establishment: Establishment, suspension_id: UUID
) -> HttpResponse:
    suspension = _suspension(establishment, suspension_id)
    form = AuthoriseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.suspension_authorise(
                suspension=suspension, note=form.cleaned_data["note"], actor=_user(request)
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Suspension authorised beyond 7 days")
            return redirect(
                "safeguarding-restrictions:suspension",
                establishment=establishment.code,
                suspension_id=suspension.pk,
            )
    return _action_page(
        request, establishment, suspension, form, "Authorise a suspension over 7 days", "Authorise"
    )


@staff_required(Role.GOVERNOR)
def suspension_review(
    request: HttpRequest, establishment: Establishment, suspension_id: UUID
) -> HttpResponse:
    suspension = _suspension(establishment, suspension_id)
    form = SuspensionReviewForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.suspension_review(
                suspension=suspension,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Review recorded")
            return redirect(
                "safeguarding-restrictions:suspension",
                establishment=establishment.code,
                suspension_id=suspension.pk,
            )
    return _action_page(
        request, establishment, suspension, form, "Review the suspension", "Record the review"
    )


@staff_required(*READERS)
def appeal_new(request: HttpRequest, establishment: Establishment, suspension_id: UUID) -> HttpResponse:
    suspension = _suspension(establishment, suspension_id)
    form = AppealForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_record(
                suspension=suspension, text=form.cleaned_data["text"], actor=_user(request)
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Appeal recorded")
            return redirect(
                "safeguarding-restrictions:suspension",
                establishment=establishment.code,
                suspension_id=suspension.pk,
            )
    return _action_page(
        request, establishment, suspension, form, "Record a written appeal", "Record the appeal"
    )


@staff_required(Role.GOVERNOR)
def appeal_decide(request: HttpRequest, establishment: Establishment, appeal_id: UUID) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("suspension__resident"),
        pk=appeal_id,
        suspension__establishment=establishment,
    )
    form = AppealDecisionForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_decide(
                appeal=appeal,
                decision=form.cleaned_data["decision"],
                reasons=form.cleaned_data["reasons"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Decision recorded")
            return redirect(
                "safeguarding-restrictions:suspension",
                establishment=establishment.code,
                suspension_id=appeal.suspension_id,
            )
    return _action_page(
        request, establishment, appeal.suspension, form, "Decide the appeal", "Record the decision"
    )
