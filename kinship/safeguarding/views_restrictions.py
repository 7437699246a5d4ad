"""Staff pages for restrictions (PF 4.4) and suspensions and appeals (DSO 17, DSO 18), each scoped to one
establishment. Views read through ``selectors_restrictions`` and write through ``services_restrictions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
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
    BannedVisitorAuthorisationForm,
    BanReviewForm,
    ContactBanForm,
    ResidentFindForm,
    RestrictionForm,
    RestrictionReviewForm,
    SuspensionForm,
    SuspensionReviewForm,
    VisitorBanForm,
    add_refusal,
)
from .models import Appeal, AppealDecision, ContactBan, Restriction, Suspension, VisitorBan, VisitorBanKind
from .notices import appeal_decision_pdf, suspension_notice_pdf

READERS = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER})
#: Booking clerks see that a restriction exists for a person (never its rationale).
SUMMARY_READERS = READERS | {Role.BOOKING_CLERK}


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
            "can_decide": Role.GOVERNOR in _roles(request),
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
            restriction = services.restriction_create(
                resident=resident,
                kind=data["kind"],
                ground=data["ground"],
                rationale=data["rationale"],
                necessity_and_proportionality=data["necessity_and_proportionality"],
                review_on=data["review_on"],
                max_participants=data["max_participants"],
                max_call_minutes=data["max_call_minutes"],
                max_calls_per_month=data["max_calls_per_month"],
                dedicated_monitor=data["dedicated_monitor"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"Restriction recorded for {resident.full_name}")
            return redirect("safeguarding-restrictions:restriction", establishment.code, restriction.pk)
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
    *,
    upload: bool = False,
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
            "upload": upload,
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
    form = AppealForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_record(
                suspension=suspension,
                text=form.cleaned_data["text"],
                scan=form.cleaned_data["scan"] or None,
                scan_content_type=form.cleaned_data["scan_content_type"],
                actor=_user(request),
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
        request, establishment, suspension, form, "Record a written appeal", "Record the appeal", upload=True
    )


def _varied_end(suspension: Suspension, data: dict[str, Any]) -> datetime | None:
    """A varied suspension ends on the chosen day at the time of day it was due to end."""
    if data.get("decision") != AppealDecision.VARIED or data.get("varied_end_on") is None:
        return None
    tz = ZoneInfo(suspension.establishment.timezone)
    return datetime.combine(data["varied_end_on"], suspension.ends_at.astimezone(tz).time(), tzinfo=tz)


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
                varied_ends_at=_varied_end(appeal.suspension, form.cleaned_data),
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


@staff_required(*READERS)
def appeal_scan(request: HttpRequest, establishment: Establishment, appeal_id: UUID) -> HttpResponseBase:
    """DSO 18: the uploaded scan of an appeal, from private storage; every opening is audited."""
    appeal = get_object_or_404(
        Appeal.objects.select_related("suspension__establishment"),
        pk=appeal_id,
        suspension__establishment=establishment,
    )
    if not appeal.scan:
        raise Http404("No scan")
    handle = appeal.scan.open("rb")
    services.appeal_scan_opened(appeal=appeal, actor=_user(request))
    response = FileResponse(handle, content_type=appeal.scan_content_type or "application/octet-stream")
    extension = (appeal.scan.name or "scan.bin").rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'inline; filename="appeal-{appeal.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required(*READERS)
def appeal_notice(request: HttpRequest, establishment: Establishment, appeal_id: UUID) -> HttpResponse:
    """DSO 18: the decision notice to the detainee, once the appeal is decided."""
    appeal = get_object_or_404(
        Appeal.objects.select_related("suspension__resident", "suspension__establishment"),
        pk=appeal_id,
        suspension__establishment=establishment,
        decided_at__isnull=False,
    )
    response = HttpResponse(appeal_decision_pdf(appeal), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="appeal-decision-{appeal.pk}.pdf"'
    return response


# --- Restrictions, contact bans and visitor bans one at a time (PF 4.4, 4.10, 4.12, DSO Annex A) ---------------


def _today(establishment: Establishment) -> Any:
    return timezone.localdate(timezone.now(), timezone=ZoneInfo(establishment.timezone))


def _may_review(request: HttpRequest) -> bool:
    return Role.GOVERNOR in _roles(request)


def _review_page(
    request: HttpRequest,
    establishment: Establishment,
    *,
    record: Restriction | ContactBan | VisitorBan,
    form_class: type[BanReviewForm],
    review: Any,
    template: str,
    title: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """A record with its history and, for the governor, its review form (continue, vary where offered, lift)."""
    can_review = _may_review(request) and record.lifted_at is None
    if request.method == "POST" and not can_review:
        raise PermissionDenied
    form = form_class(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            review(form.cleaned_data)
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            outcome = form.cleaned_data["outcome"]
            messages.success(request, "Lifted" if outcome == "lift" else "Review recorded")
            return redirect(request.path)
    return render(
        request,
        template,
        {
            "establishment": establishment,
            "record": record,
            "reviews": selectors.reviews_of(record),
            "form": form,
            "can_review": can_review,
            "title": title,
            "tz": establishment.timezone,
            **(extra or {}),
        },
    )


@staff_required(*READERS)
def restriction_detail(
    request: HttpRequest, establishment: Establishment, restriction_id: UUID
) -> HttpResponse:
    restriction = selectors.restriction_at(establishment, restriction_id)
    if restriction is None:
        raise Http404("No such restriction")

    def review(data: dict[str, Any]) -> None:
        services.restriction_review(
            restriction=restriction,
            outcome=data["outcome"],
            notes=data["notes"],
            next_review_on=data["next_review_on"],
            max_participants=data["max_participants"],
            max_call_minutes=data["max_call_minutes"],
            max_calls_per_month=data["max_calls_per_month"],
            actor=_user(request),
        )

    return _review_page(
        request,
        establishment,
        record=restriction,
        form_class=RestrictionReviewForm,
        review=review,
        template="safeguarding/restrictions/restriction_detail.html",
        title="Restriction of video calls",
    )


@staff_required(Role.GOVERNOR)
def contact_ban_new(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = get_object_or_404(Resident, pk=resident_id, establishment=establishment)
    form = ContactBanForm(_posted(request), contacts=selectors.contacts_of(resident))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ban = services.contact_ban_create(
                resident=resident,
                contact=data["contact"],
                reason=data["reason"],
                review_on=data["review_on"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"{resident.full_name} may not call {ban.contact.full_name}")
            return redirect("safeguarding-restrictions:contact-ban", establishment.code, ban.pk)
    return render(
        request,
        "safeguarding/restrictions/contact_ban_form.html",
        {"establishment": establishment, "resident": resident, "form": form},
    )


@staff_required(*READERS)
def contact_ban_detail(request: HttpRequest, establishment: Establishment, ban_id: UUID) -> HttpResponse:
    ban = selectors.contact_ban_at(establishment, ban_id)
    if ban is None:
        raise Http404("No such ban")

    def review(data: dict[str, Any]) -> None:
        services.contact_ban_review(
            ban=ban,
            outcome=data["outcome"],
            notes=data["notes"],
            next_review_on=data["next_review_on"],
            actor=_user(request),
        )

    return _review_page(
        request,
        establishment,
        record=ban,
        form_class=BanReviewForm,
        review=review,
        template="safeguarding/restrictions/contact_ban_detail.html",
        title="Ban on calling a named person",
    )


@staff_required(Role.GOVERNOR)
def visitor_ban_new(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    """PF 4.12 banned visitor, or DSO Annex A booking ban after a breach (the incident pages link here)."""
    initial = {"kind": request.GET.get("kind", VisitorBanKind.BOOKING)}
    form = VisitorBanForm(_posted(request), initial=initial, contacts=selectors.contacts_at(establishment))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ban = services.visitor_ban_create(
                contact=data["contact"],
                establishment=establishment,
                kind=data["kind"],
                reason=data["reason"],
                until=data["until"],
                review_on=data["review_on"],
                actor=_user(request),
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"{ban.get_kind_display()}: {ban.contact.full_name}")
            return redirect("safeguarding-restrictions:visitor-ban", establishment.code, ban.pk)
    return render(
        request,
        "safeguarding/restrictions/visitor_ban_form.html",
        {"establishment": establishment, "form": form},
    )


@staff_required(*SUMMARY_READERS)
def visitor_ban_detail(request: HttpRequest, establishment: Establishment, ban_id: UUID) -> HttpResponse:
    ban = selectors.visitor_ban_at(establishment, ban_id)
    if ban is None:
        raise Http404("No such ban")

    def review(data: dict[str, Any]) -> None:
        services.visitor_ban_review(
            ban=ban,
            outcome=data["outcome"],
            notes=data["notes"],
            next_review_on=data["next_review_on"],
            actor=_user(request),
        )

    banned_visitor = ban.kind == VisitorBanKind.BANNED_VISITOR
    return _review_page(
        request,
        establishment,
        record=ban,
        form_class=BanReviewForm,
        review=review,
        template="safeguarding/restrictions/visitor_ban_detail.html",
        title=ban.get_kind_display(),
        extra={
            # Booking clerks reach this from the deadlines dashboard: they see the ban, not its reason.
            "can_read": bool(_roles(request) & READERS),
            "banned_visitor": banned_visitor,
            "residents": selectors.residents_linked_to(ban.contact, establishment) if banned_visitor else [],
            "authorisations": selectors.authorisations_for(ban) if banned_visitor else [],
        },
    )


@staff_required(Role.GOVERNOR)
def banned_visitor_authorise(
    request: HttpRequest, establishment: Establishment, resident_id: UUID
) -> HttpResponse:
    """PF 4.12: the responsible operational manager authorises calls between a person and a banned visitor."""
    resident = get_object_or_404(Resident, pk=resident_id, establishment=establishment)
    contacts = selectors.banned_visitors_of(resident, today=_today(establishment))
    initial = {"contact": request.GET.get("contact")} if request.GET.get("contact") else {}
    form = BannedVisitorAuthorisationForm(_posted(request), initial=initial, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            authorisation = services.banned_visitor_authorise(
                resident=resident, contact=data["contact"], reason=data["reason"], actor=_user(request)
            )
        except services.SafeguardingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(
                request, f"Calls between {resident.full_name} and {data['contact'].full_name} authorised"
            )
            return redirect("safeguarding-restrictions:visitor-ban", establishment.code, authorisation.ban_id)
    return render(
        request,
        "safeguarding/restrictions/banned_visitor_form.html",
        {
            "establishment": establishment,
            "resident": resident,
            "form": form,
            "has_choices": contacts.exists(),
        },
    )


@staff_required(*SUMMARY_READERS)
def resident_restrictions(
    request: HttpRequest, establishment: Establishment, resident_id: UUID
) -> HttpResponse:
    """What is in force for one person. Booking clerks see that it exists, not why (the rationale is for
    the governor, security and the compliance manager, on the record's own page)."""
    resident = get_object_or_404(Resident, pk=resident_id, establishment=establishment)
    roles = _roles(request)
    return render(
        request,
        "safeguarding/restrictions/resident_restrictions.html",
        {
            "establishment": establishment,
            "resident": resident,
            "summary": selectors.resident_restrictions(
                resident, now=timezone.now(), today=_today(establishment)
            ),
            "can_read": bool(roles & READERS),
            "can_decide": Role.GOVERNOR in roles,
            "is_irc": establishment.profile == "immigration_detention",
            "tz": establishment.timezone,
        },
    )


@staff_required(*SUMMARY_READERS)
def resident_find(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    """Find a person by prison number or Home Office reference, and go to what is in force for them."""
    form = ResidentFindForm(request.GET if "identifier" in request.GET else None)
    if form.is_bound and form.is_valid():
        resident = Resident.objects.filter(
            establishment=establishment, identifier__iexact=form.cleaned_data["identifier"].strip()
        ).first()
        if resident is not None:
            return redirect(
                reverse("safeguarding-restrictions:resident", args=[establishment.code, resident.pk])
            )
        form.add_error("identifier", "No one here has that prison number or Home Office reference")
    return render(
        request,
        "safeguarding/restrictions/resident_find.html",
        {"establishment": establishment, "form": form},
    )
