"""Staff pages for incidents (DSO 11, DSO 12, DSO 19), wellbeing follow-ups (PF 4.17, PF 4.18), the history of the
risk and child-safeguarding inputs (PF 4.9, DSO 14, PF 4.16, PF 4.22) and the deadlines dashboard."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kinship.bookings.models import Booking
from kinship.core.permissions import staff_required
from kinship.core.roles import ALL_ROLES, RECORD_EDITORS, RECORD_READERS, Role
from kinship.establishments.forms import add_service_errors
from kinship.establishments.models import Establishment
from kinship.people.models import Resident

from . import deadlines, selectors_welfare, services_welfare
from .forms_welfare import (
    IncidentForm,
    IncidentUpdateForm,
    WellbeingCloseForm,
    WellbeingConcernForm,
    WingForm,
)
from .models import IncidentStatus

#: Who sees incidents (routed to security, DSO 12), reports one by hand, and triages and investigates them.
INCIDENT_READERS = frozenset({Role.SECURITY, Role.GOVERNOR, Role.COMPLIANCE_MANAGER})
INCIDENT_REPORTERS = frozenset(
    {Role.SUPERVISING_OFFICER, Role.MONITORING_OFFICER, Role.SECURITY, Role.GOVERNOR}
)
INCIDENT_HANDLERS = frozenset({Role.SECURITY, Role.GOVERNOR})
#: PF 4.17: any member of staff may record a concern; the wing's list is read and closed by those who look after
#: people on the wings.
WELLBEING_RECORDERS = ALL_ROLES
WELLBEING_READERS = frozenset(
    {
        Role.SUPERVISING_OFFICER,
        Role.MONITORING_OFFICER,
        Role.BOOKING_CLERK,
        Role.SECURITY,
        Role.GOVERNOR,
        Role.COMPLIANCE_MANAGER,
    }
)
WELLBEING_CLOSERS = frozenset({Role.SUPERVISING_OFFICER, Role.SECURITY, Role.GOVERNOR})
RISK_HISTORY_READERS = RECORD_READERS
DASHBOARD_ROLES = deadlines.DASHBOARD_ROLES
LIST_LIMIT = 200


def _roles(request: HttpRequest) -> set[Role]:
    return set(request.staff_roles)  # type: ignore[attr-defined]


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _find_resident(form: Any, establishment: Establishment) -> tuple[Resident | None, Booking | None]:
    resident = Resident.objects.filter(
        establishment=establishment, identifier=form.cleaned_data["identifier"]
    ).first()
    if resident is None:
        form.add_error("identifier", "There is nobody here with this prison number or reference")
        return None, None
    booking = None
    reference = form.cleaned_data["booking_reference"]
    if reference:
        booking = Booking.objects.filter(reference=reference, resident=resident).first()
        if booking is None:
            form.add_error("booking_reference", "There is no call with this reference for this person")
    return resident, booking


def _initial_identifier(request: HttpRequest, establishment: Establishment) -> dict[str, str]:
    resident_id = request.GET.get("resident", "")
    try:
        resident = Resident.objects.filter(establishment=establishment, pk=UUID(resident_id)).first()
    except ValueError:
        resident = None
    return {"identifier": resident.identifier} if resident is not None else {}


# --- Dashboard -----------------------------------------------------------------------------------------------------


def _hours(hours: int) -> str:
    return "less than 1 hour" if hours == 0 else ("1 hour" if hours == 1 else f"{hours} hours")


def _row(item: deadlines.DueItem, now: Any) -> dict[str, Any]:
    """Hours left or overdue, counted as elapsed time (so right across a clock change)."""
    seconds = item.seconds_left(now)
    hours = int(abs(seconds) // 3600)
    overdue = seconds <= 0
    return {
        "item": item,
        "overdue": overdue,
        "soon": not overdue and seconds <= 24 * 3600,
        "time_left": f"{_hours(hours)} overdue" if overdue else f"{_hours(hours)} left",
    }


@staff_required(*DASHBOARD_ROLES)
def deadlines_dashboard(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    now = timezone.now()
    roles = _roles(request)
    items = deadlines.due_items(establishment=establishment, roles=roles, now=now)
    rows = [_row(item, now) for item in items]
    return render(
        request,
        "safeguarding/welfare/deadlines.html",
        {
            "establishment": establishment,
            "rows": rows,
            "overdue": sum(1 for row in rows if row["overdue"]),
            "kinds": deadlines.sources_for(roles),
            "horizon_days": deadlines.DASHBOARD_HORIZON.days,
            "tz": establishment.timezone,
        },
    )


# --- Incidents -----------------------------------------------------------------------------------------------------


@staff_required(*INCIDENT_READERS)
def incidents(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    show_closed = request.GET.get("show") == "all"
    found = (
        selectors_welfare.incidents_for(establishment=establishment)
        if show_closed
        else selectors_welfare.incidents_open(establishment=establishment)
    )
    return render(
        request,
        "safeguarding/welfare/incidents.html",
        {
            "establishment": establishment,
            "incidents": list(found.order_by("-reported_at")[:LIST_LIMIT]),
            "show_closed": show_closed,
            "can_report": bool(_roles(request) & INCIDENT_REPORTERS),
            "tz": establishment.timezone,
        },
    )


@staff_required(*INCIDENT_REPORTERS)
def incident_new(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = IncidentForm(_posted(request), initial=_initial_identifier(request, establishment))
    if request.method == "POST" and form.is_valid():
        resident, booking = _find_resident(form, establishment)
        if resident is not None and not form.errors:
            data = form.cleaned_data
            try:
                incident = services_welfare.incident_create(
                    establishment=establishment,
                    resident=resident,
                    booking=booking,
                    reason=data["reason"],
                    details=data["details"],
                    body_worn_camera_used=data["body_worn_camera_used"],
                    body_worn_camera_reference=data["body_worn_camera_reference"],
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The incident report was sent to the security team")
                if _roles(request) & INCIDENT_READERS:
                    return redirect("safeguarding-welfare:incident", establishment.code, incident.pk)
                return redirect("safeguarding-welfare:incident-new", establishment.code)
    return render(
        request, "safeguarding/welfare/incident_new.html", {"establishment": establishment, "form": form}
    )


#: The restrictions pages where a contact is banned from booking after a breach, in order of preference.
BAN_URL_NAMES = ("safeguarding-restrictions:visitor-ban-new", "safeguarding-restrictions:ban-new")


def _ban_url(establishment: Establishment, incident: Any) -> str:
    """The contact booking ban page of the restrictions part of the app, once it exists (DSO Annex A)."""
    for name in BAN_URL_NAMES:
        try:
            return reverse(name, kwargs={"establishment": establishment.code})
        except NoReverseMatch:
            continue
    return ""


@staff_required(*INCIDENT_READERS)
def incident_detail(request: HttpRequest, establishment: Establishment, incident_id: UUID) -> HttpResponse:
    incident = get_object_or_404(selectors_welfare.incidents_for(establishment=establishment), pk=incident_id)
    return render(
        request,
        "safeguarding/welfare/incident.html",
        {
            "establishment": establishment,
            "incident": incident,
            "history": list(selectors_welfare.incident_history(incident=incident)),
            "can_update": bool(_roles(request) & INCIDENT_HANDLERS)
            and incident.status != IncidentStatus.CLOSED,
            "ban_url": _ban_url(establishment, incident),
            "tz": establishment.timezone,
        },
    )


@staff_required(*INCIDENT_HANDLERS)
def incident_update(request: HttpRequest, establishment: Establishment, incident_id: UUID) -> HttpResponse:
    incident = get_object_or_404(selectors_welfare.incidents_for(establishment=establishment), pk=incident_id)
    if incident.status == IncidentStatus.CLOSED:
        messages.info(request, "This incident is closed")
        return redirect("safeguarding-welfare:incident", establishment.code, incident.pk)
    initial = {
        "status": incident.status,
        "police_referral": incident.police_referral,
        "police_reference": incident.police_reference,
        "body_worn_camera_used": incident.body_worn_camera_used,
        "body_worn_camera_reference": incident.body_worn_camera_reference,
        "ban_considered": incident.ban_considered,
    }
    form = IncidentUpdateForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services_welfare.incident_update(incident=incident, actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The incident was updated")
            return redirect("safeguarding-welfare:incident", establishment.code, incident.pk)
    return render(
        request,
        "safeguarding/welfare/incident_update.html",
        {
            "establishment": establishment,
            "incident": incident,
            "form": form,
            "ban_url": _ban_url(establishment, incident),
        },
    )


# --- Wellbeing -----------------------------------------------------------------------------------------------------


@staff_required(*WELLBEING_READERS)
def wellbeing_list(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    wing = WingForm(request.GET or None)
    location = wing.cleaned_data["location"].strip() if wing.is_valid() else ""
    return render(
        request,
        "safeguarding/welfare/wellbeing_list.html",
        {
            "establishment": establishment,
            "wing": wing,
            "location": location,
            "locations": selectors_welfare.wellbeing_locations(establishment=establishment),
            "follow_ups": list(
                selectors_welfare.wellbeing_open(establishment=establishment, location=location)[:LIST_LIMIT]
            ),
            "now": timezone.now(),
            "tz": establishment.timezone,
        },
    )


@staff_required(*WELLBEING_RECORDERS)
def wellbeing_new(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = WellbeingConcernForm(_posted(request), initial=_initial_identifier(request, establishment))
    if request.method == "POST" and form.is_valid():
        resident, booking = _find_resident(form, establishment)
        if resident is not None and not form.errors:
            try:
                follow_up = services_welfare.wellbeing_concern_record(
                    resident=resident,
                    booking=booking,
                    observation=form.cleaned_data["observation"],
                    acct_referral_noted=form.cleaned_data["acct_referral_noted"],
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"A wellbeing follow-up is open for {resident.full_name}"
                    f"{' on ' + follow_up.location if follow_up.location else ''}",
                )
                if _roles(request) & WELLBEING_READERS:
                    return redirect("safeguarding-welfare:wellbeing", establishment.code, follow_up.pk)
                return redirect("safeguarding-welfare:wellbeing-new", establishment.code)
    return render(
        request, "safeguarding/welfare/wellbeing_new.html", {"establishment": establishment, "form": form}
    )


@staff_required(*WELLBEING_READERS)
def wellbeing_detail(request: HttpRequest, establishment: Establishment, follow_up_id: UUID) -> HttpResponse:
    follow_up = get_object_or_404(
        selectors_welfare.wellbeing_for(establishment=establishment), pk=follow_up_id
    )
    can_close = bool(_roles(request) & WELLBEING_CLOSERS) and follow_up.is_open
    if request.method == "POST" and not can_close:
        raise PermissionDenied
    form = WellbeingCloseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services_welfare.wellbeing_follow_up_close(
                follow_up=follow_up,
                outcome=form.cleaned_data["outcome"],
                acct_opened=form.cleaned_data["acct_opened"] == "yes",
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The wellbeing follow-up is closed")
            return redirect("safeguarding-welfare:wellbeing-list", establishment.code)
    return render(
        request,
        "safeguarding/welfare/wellbeing.html",
        {
            "establishment": establishment,
            "follow_up": follow_up,
            "form": form,
            "can_close": can_close,
            "tz": establishment.timezone,
        },
    )


# --- Risk and child-safeguarding inputs ----------------------------------------------------------------------------

_RISK_FIELDS = {
    "e_list": ("On the escape list (E-list)", "PF 4.22"),
    "pprc": ("Person posing a risk to children", "PF 4.16"),
    "harassment_measures": ("MAPPA, restraining order or harassment measure", "DSO 14"),
    "child_contact_approved": ("On the approved child-contact list", "PF 4.16"),
}


def _risk_changes(events: list[Any], links: dict[str, Any]) -> list[dict[str, Any]]:
    """What each audit event changed among the safeguarding inputs, with who and when."""
    changes = []
    for event in events:
        described = []
        if event.action == "risk_assessment_recorded":
            after = event.after
            described.append(
                (
                    "Eligibility risk assessment"
                    if after.get("kind") == "eligibility"
                    else "Individual risk assessment",
                    "Access allowed" if after.get("outcome") == "allow" else "Access refused",
                    "DSO 14" if after.get("kind") == "individual" else "PF 4.9",
                )
            )
        else:
            for name, (label, rule) in _RISK_FIELDS.items():
                if name in event.after and event.before.get(name) != event.after[name]:
                    if event.action == "resident_created" and not event.after[name]:
                        continue
                    if name == "child_contact_approved":
                        link = links.get(event.subject_id)
                        label = f"{label}: {link.contact.full_name if link else 'a contact'}"
                    described.append((label, "Yes" if event.after[name] else "No", rule))
        for label, value, rule in described:
            changes.append({"event": event, "label": label, "value": value, "rule": rule})
    return changes


@staff_required(*RISK_HISTORY_READERS)
def risk_history(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = get_object_or_404(Resident.objects.filter(establishment=establishment), pk=resident_id)
    links = {str(link.pk): link for link in resident.contact_links.select_related("contact")}
    assessments = list(resident.risk_assessments.select_related("assessed_by"))
    latest: dict[str, Any] = {}
    for assessment in assessments:
        latest.setdefault(assessment.kind, assessment)
    return render(
        request,
        "safeguarding/welfare/risk_history.html",
        {
            "establishment": establishment,
            "resident": resident,
            "latest": latest,
            "links": list(links.values()),
            "changes": _risk_changes(
                list(selectors_welfare.risk_history(resident=resident)[:LIST_LIMIT]), links
            ),
            "can_edit": bool(_roles(request) & RECORD_EDITORS),
            "tz": establishment.timezone,
        },
    )
