"""Staff booking pages, each scoped to one establishment: the schedule editor, the daily and weekly board, the
request queue and decision, requests on a person's behalf, the review queue (PF 4.8), staff cancellations,
allowance and extra-call grants (PF 4.1, PF 4.3), the printable daily list, and recording a release or transfer.

Views are thin: they read through ``selectors_staff`` and write through ``services`` and ``services_staff``;
every refusal is shown with all its reasons and their citations, and what the person entered is kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.core.permissions import staff_required
from kinship.core.roles import ESTABLISHMENT_ADMINS, RECORD_EDITORS, Role
from kinship.establishments.forms import add_service_errors
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, Resident
from kinship.people.selectors import resident_for, residents_for

from . import facts as booking_facts
from . import selectors_staff as selectors
from . import services, services_staff
from .errors import BookingRefused, Problem
from .forms_staff import (
    CancelForm,
    ClosedDateForm,
    GrantForm,
    RejectForm,
    ResidentMoveForm,
    ReviewCloseForm,
    RosterForm,
    SessionForm,
    StaffRequestForm,
    add_refusal,
)
from .models import (
    ACTIVE_STATUSES,
    Booking,
    ExtraCallReason,
    RejectionReason,
    RequestChannel,
    SessionTemplate,
)

#: Who sees the board of slots and bookings and the printable daily list.
BOARD_READERS = frozenset({Role.BOOKING_CLERK, Role.SUPERVISING_OFFICER, Role.GOVERNOR, Role.SECURITY})
#: Who decides requests, closes reviews, cancels for the establishment and reads allowances.
BOOKING_DECIDERS = frozenset({Role.BOOKING_CLERK, Role.GOVERNOR})
#: Who sees the booking list of people in custody: deciders, and record editors who record a release.
RESIDENT_BOOKERS = BOOKING_DECIDERS | RECORD_EDITORS
SCHEDULE_EDITORS = ESTABLISHMENT_ADMINS
RESIDENTS_PER_PAGE = 25


def _now() -> datetime:
    return timezone.now()


def _user(request: HttpRequest) -> User:
    # staff_required has let only a signed-in member of staff this far.
    return cast(User, request.user)


def _posted(request: HttpRequest) -> Any:
    """The submitted data of a POST (even an empty one, so an empty form shows its errors), else ``None``."""
    return request.POST if request.method == "POST" else None


def _roles(request: HttpRequest) -> frozenset[str]:
    return frozenset(request.staff_roles)  # type: ignore[attr-defined]


def _day_param(request: HttpRequest, name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default


#: The booking sections of an establishment, and who sees each in the sub-navigation.
SECTIONS: list[tuple[str, str, str, frozenset[Role]]] = [
    ("day", "Today's calls", "bookings-staff:day", BOARD_READERS),
    ("week", "Week", "bookings-staff:week", BOARD_READERS),
    ("requests", "Requests", "bookings-staff:requests", BOOKING_DECIDERS),
    ("reviews", "Reviews", "bookings-staff:reviews", BOOKING_DECIDERS),
    ("residents", "People", "bookings-staff:residents", RESIDENT_BOOKERS),
    ("daily-list", "Daily list", "bookings-staff:daily-list", BOARD_READERS),
    ("schedule", "Schedule", "bookings-staff:schedule", SCHEDULE_EDITORS),
]


def _context(request: HttpRequest, establishment: Establishment, **values: Any) -> dict[str, Any]:
    roles = _roles(request)
    return {
        "establishment": establishment,
        "tz": establishment.timezone,
        "sections": [
            (key, label, reverse(name, args=[establishment.code]))
            for key, label, name, allowed in SECTIONS
            if roles & allowed
        ],
        **values,
    }


# --- Schedule editor -----------------------------------------------------------------------------------------------


@staff_required(*SCHEDULE_EDITORS)
def schedule(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return render(
        request,
        "bookings/staff/schedule.html",
        _context(request, establishment, schedule=selectors.schedule_for(establishment, now=_now())),
    )


def _session_values(form: SessionForm) -> services_staff.SessionValues:
    data = form.cleaned_data
    channels = set(data["channels"])
    return services_staff.SessionValues(
        room=data["room"],
        weekday=data["weekday"],
        start=data["start"],
        end=data["end"],
        slot_minutes=data["slot_minutes"],
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        open_to_residents="residents" in channels,
        open_to_contacts="contacts" in channels,
        open_to_staff="staff" in channels,
        legal_reserved=data["legal_reserved"],
    )


def _session_initial(template: SessionTemplate | None, establishment: Establishment) -> dict[str, Any]:
    if template is None:
        return {
            "channels": ["residents", "contacts", "staff"],
            "valid_from": selectors.local_today(establishment, _now()),
            "slot_minutes": (establishment.slot_lengths or [30])[0],
        }
    return {
        "room": template.room_id,
        "weekday": template.weekday,
        "start": f"{template.start:%H:%M}",
        "end": f"{template.end:%H:%M}",
        "slot_minutes": template.slot_minutes,
        "valid_from": template.valid_from,
        "valid_to": template.valid_to,
        "channels": [
            name
            for name, on in (
                ("residents", template.open_to_residents),
                ("contacts", template.open_to_contacts),
                ("staff", template.open_to_staff),
            )
            if on
        ],
        "legal_reserved": template.legal_reserved,
    }


def _session_form(
    request: HttpRequest, establishment: Establishment, template: SessionTemplate | None
) -> HttpResponse:
    form = SessionForm(
        _posted(request), establishment=establishment, initial=_session_initial(template, establishment)
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved, reviews = services_staff.session_template_save(
                establishment=establishment,
                values=_session_values(form),
                actor=_user(request),
                template=template,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            flagged = f" {len(reviews)} booking(s) were flagged for review." if reviews else ""
            messages.success(
                request, f"The session {saved} has been saved. Publish the schedule to use it.{flagged}"
            )
            return redirect("bookings-staff:schedule", establishment=establishment.code)
    return render(
        request,
        "bookings/staff/session_form.html",
        _context(request, establishment, form=form, template=template),
    )


@staff_required(*SCHEDULE_EDITORS)
def session_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return _session_form(request, establishment, None)


@staff_required(*SCHEDULE_EDITORS)
def session_edit(request: HttpRequest, establishment: Establishment, session_id: UUID) -> HttpResponse:
    template = get_object_or_404(SessionTemplate, establishment=establishment, pk=session_id)
    return _session_form(request, establishment, template)


@staff_required(*SCHEDULE_EDITORS)
def session_delete(request: HttpRequest, establishment: Establishment, session_id: UUID) -> HttpResponse:
    template = get_object_or_404(
        SessionTemplate.objects.select_related("room"), establishment=establishment, pk=session_id
    )
    if request.method == "POST":
        reviews = services_staff.session_template_delete(template=template, actor=_user(request))
        flagged = f" {len(reviews)} booking(s) were flagged for review." if reviews else ""
        messages.success(request, f"The session has been removed.{flagged}")
        return redirect("bookings-staff:schedule", establishment=establishment.code)
    return render(
        request, "bookings/staff/session_delete.html", _context(request, establishment, template=template)
    )


@staff_required(*SCHEDULE_EDITORS)
def closed_date_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = ClosedDateForm(_posted(request), establishment=establishment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            closed, reviews = services_staff.closed_date_add(
                establishment=establishment,
                day=data["day"],
                room=data["room"],
                reason=data["reason"],
                actor=_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            flagged = (
                f" {len(reviews)} booking(s) that day were flagged for review (PF 4.8)." if reviews else ""
            )
            messages.success(request, f"{closed.date:%-d %B %Y} is closed for calls.{flagged}")
            return redirect("bookings-staff:schedule", establishment=establishment.code)
    return render(
        request, "bookings/staff/closed_date_form.html", _context(request, establishment, form=form)
    )


@staff_required(*SCHEDULE_EDITORS)
def roster_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = RosterForm(
        _posted(request),
        establishment=establishment,
        initial={"day": selectors.local_today(establishment, _now()), "start": "09:00", "end": "17:00"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services_staff.roster_entry_add(
                establishment=establishment,
                values=services_staff.RosterValues(
                    room=data["room"],
                    day=data["day"],
                    start=data["start"],
                    end=data["end"],
                    supervising_officers=data["supervising_officers"],
                    monitoring_officers=data["monitoring_officers"],
                ),
                actor=_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The staff have been rostered and that day's places brought up to date")
            return redirect("bookings-staff:schedule", establishment=establishment.code)
    return render(request, "bookings/staff/roster_form.html", _context(request, establishment, form=form))


@staff_required(*SCHEDULE_EDITORS)
def schedule_publish(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = forms.Form(_posted(request))
    current = selectors.schedule_for(establishment, now=_now())
    if request.method == "POST" and form.is_valid():
        try:
            published = services_staff.schedule_publish_and_generate(
                establishment=establishment, actor=_user(request)
            )
        except BookingRefused as refusal:
            add_refusal(form, refusal)
        else:
            for warning in published.decision.warnings:
                messages.warning(request, warning.message)
            messages.success(
                request,
                f"The schedule is published. {published.generated.created} new times are open for booking "
                f"over the next {published.days} days.",
            )
            return redirect("bookings-staff:schedule", establishment=establishment.code)
    return render(
        request,
        "bookings/staff/publish.html",
        _context(
            request, establishment, form=form, schedule=current, days=services_staff.ROLLING_WINDOW_DAYS
        ),
    )


# --- Daily and weekly board ----------------------------------------------------------------------------------------


@staff_required(*BOARD_READERS)
def day_view(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    now = _now()
    day = _day_param(request, "date", selectors.local_today(establishment, now))
    days = selectors.board(establishment, first=day, days=1, now=now)
    return render(
        request,
        "bookings/staff/day.html",
        _context(
            request,
            establishment,
            day=days[0],
            previous=day - timedelta(days=1),
            following=day + timedelta(days=1),
            can_cancel=bool(_roles(request) & BOOKING_DECIDERS),
            active=ACTIVE_STATUSES,
        ),
    )


@staff_required(*BOARD_READERS)
def week_view(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    now = _now()
    today = selectors.local_today(establishment, now)
    first = _day_param(request, "start", today - timedelta(days=today.weekday()))
    return render(
        request,
        "bookings/staff/week.html",
        _context(
            request,
            establishment,
            days=selectors.board(establishment, first=first, days=7, now=now),
            first=first,
            last=first + timedelta(days=6),
            previous=first - timedelta(days=7),
            following=first + timedelta(days=7),
        ),
    )


# --- Request queue -------------------------------------------------------------------------------------------------


@staff_required(*BOOKING_DECIDERS)
def request_queue(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return render(
        request,
        "bookings/staff/requests.html",
        _context(request, establishment, bookings=list(selectors.request_queue(establishment))),
    )


@staff_required(*BOOKING_DECIDERS)
def request_decide(request: HttpRequest, establishment: Establishment, booking_id: UUID) -> HttpResponse:
    booking = get_object_or_404(selectors.booking_for_staff(establishment), pk=booking_id)
    approve_form = forms.Form(request.POST if request.POST.get("action") == "approve" else None)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    preferences = list(selectors.preferences_of(booking))
    move_form = forms.Form(request.POST if request.POST.get("action") == "move" else None)
    if move_form.is_bound and move_form.is_valid():
        preference = next(
            (item for item in preferences if str(item.slot_id) == request.POST.get("slot")), None
        )
        if preference is None:
            move_form.add_error(None, Problem.booking("preferences.not_an_alternative").message)
        else:
            try:
                services.booking_move_to_preference(
                    booking=booking, slot=preference.slot, actor=_user(request)
                )
            except BookingRefused as refusal:
                add_refusal(move_form, refusal)
            else:
                which = "second" if preference.rank == 2 else "third"
                messages.success(
                    request, f"Call {booking.reference} is approved for its {which} choice of time"
                )
                return redirect("bookings-staff:requests", establishment=establishment.code)
    if approve_form.is_bound and approve_form.is_valid():
        try:
            services.booking_approve(booking=booking, actor=_user(request))
        except BookingRefused as refusal:
            add_refusal(approve_form, refusal)
        else:
            messages.success(request, f"Call {booking.reference} is approved")
            return redirect("bookings-staff:requests", establishment=establishment.code)
    if reject_form.is_bound and reject_form.is_valid():
        try:
            services.booking_reject(
                booking=booking,
                reason=RejectionReason(reject_form.cleaned_data["reason"]),
                text=reject_form.cleaned_data["text"],
                actor=_user(request),
            )
        except BookingRefused as refusal:
            add_refusal(reject_form, refusal)
        else:
            messages.success(request, f"Request {booking.reference} is turned down")
            return redirect("bookings-staff:requests", establishment=establishment.code)
    booking = get_object_or_404(selectors.booking_for_staff(establishment), pk=booking_id)
    return render(
        request,
        "bookings/staff/request_decide.html",
        _context(
            request,
            establishment,
            file=selectors.request_file(booking, now=_now()),
            preferences=[item for item in preferences if item.slot_id != booking.slot_id],
            approve_form=approve_form,
            move_form=move_form,
            reject_form=reject_form,
            form=approve_form if approve_form.is_bound else reject_form,
        ),
    )


def _resident(establishment: Establishment, resident_id: UUID) -> Resident:
    return get_object_or_404(resident_for(establishment), pk=resident_id)


@staff_required(*BOOKING_DECIDERS)
def request_new(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    """Staff request a call on a person's behalf. "Check" shows every reason it would be refused before anything
    is sent; "Send" makes the request (which is decided again, with the same reasons)."""
    resident = _resident(establishment, resident_id)
    now = _now()
    slots = list(selectors.staff_requestable_slots(establishment, now=now))
    links = list(selectors.approved_links(resident))
    form = StaffRequestForm(
        _posted(request), slots=slots, links=links, tz=booking_facts.timezone_of(establishment)
    )
    checked: services_staff.RequestCheck | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_id = {str(slot.pk): slot for slot in slots}
        contacts = {str(link.contact_id): link.contact for link in links}
        lead: Contact = contacts[data["lead_contact"]]
        participants = [contacts[pk] for pk in data["participants"] if pk != data["lead_contact"]]
        arguments: dict[str, Any] = {
            "slot": by_id[data["slot"]],
            "resident": resident,
            "lead_contact": lead,
            "participants": participants,
            "kind": data["kind"],
            "channel": RequestChannel.STAFF,
            "actor": request.user,
            "use_extra_grant": data["use_extra_grant"],
            "alternatives": [by_id[pk] for pk in form.alternatives],
        }
        if request.POST.get("action") == "send":
            try:
                result = services.booking_request(**arguments)
            except BookingRefused as refusal:
                add_refusal(form, refusal)
            else:
                which = {2: " (the second choice)", 3: " (the third choice)"}.get(result.preference, "")
                messages.success(
                    request,
                    f"Call {result.booking.reference} is {result.booking.get_status_display().lower()}{which}",
                )
                return redirect(
                    "bookings-staff:allowance", establishment=establishment.code, resident_id=resident.pk
                )
        else:
            checked = services_staff.booking_request_check(**arguments)
            for problem in checked.problems:
                form.add_error(problem.field if problem.field in form.fields else None, problem.message)
    return render(
        request,
        "bookings/staff/request_new.html",
        _context(
            request, establishment, resident=resident, form=form, checked=checked, has_slots=bool(slots)
        ),
    )


# --- Review queue and cancellations --------------------------------------------------------------------------------


@staff_required(*BOOKING_DECIDERS)
def review_queue(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    reviews = list(selectors.review_queue(establishment))
    return render(
        request,
        "bookings/staff/reviews.html",
        _context(
            request,
            establishment,
            reviews=[(review, review.get_cause_display()) for review in reviews],
        ),
    )


@staff_required(*BOOKING_DECIDERS)
def review_close(request: HttpRequest, establishment: Establishment, review_id: UUID) -> HttpResponse:
    review = get_object_or_404(selectors.review_for(establishment), pk=review_id)
    now = _now()
    form = ReviewCloseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new_booking: Booking | None = None
        if data["outcome"] == "rebooked":
            new_booking = selectors.booking_by_reference_for(establishment, data["new_booking"])
            if new_booking is None:
                form.add_error("new_booking", "There is no booking here with this reference")
        if not form.errors:
            try:
                services.booking_review_close(
                    review=review,
                    new_booking=new_booking,
                    reason=data["reason"] if new_booking is None else data["reason"] or "Rebooked",
                    actor=_user(request),
                )
            except BookingRefused as refusal:
                add_refusal(form, refusal)
            else:
                messages.success(request, f"The review of {review.booking.reference} is closed")
                return redirect("bookings-staff:reviews", establishment=establishment.code)
    return render(
        request,
        "bookings/staff/review_close.html",
        _context(
            request,
            establishment,
            review=review,
            cause=review.get_cause_display(),
            flagged=review.cause in services_staff.CircumstanceChange.values,
            booking_active=review.booking.status in ACTIVE_STATUSES,
            candidates=list(selectors.rebooking_candidates(review, now=now)),
            form=form,
        ),
    )


@staff_required(*BOOKING_DECIDERS)
def booking_cancel(request: HttpRequest, establishment: Establishment, booking_id: UUID) -> HttpResponse:
    booking = get_object_or_404(selectors.booking_for_staff(establishment), pk=booking_id)
    now = _now()
    notice = policy.cancellation_notice(booking.slot.starts_at, now, establishment.policy_settings())
    form = CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = services_staff.booking_cancel_by_establishment(
                booking=booking, reason=form.cleaned_data["reason"], actor=_user(request)
            )
        except BookingRefused as refusal:
            add_refusal(form, refusal)
        else:
            for warning in result.decision.warnings:
                messages.warning(request, warning.message)
            messages.success(
                request, f"Call {booking.reference} is cancelled and the family will be told why"
            )
            return redirect("bookings-staff:reviews", establishment=establishment.code)
    return render(
        request,
        "bookings/staff/cancel.html",
        _context(
            request,
            establishment,
            booking=booking,
            form=form,
            warnings=[Problem.from_reason(reason) for reason in notice.warnings],
            active=booking.status in ACTIVE_STATUSES,
        ),
    )


# --- People: allowance, grants, release or transfer ---------------------------------------------------------------


@staff_required(*RESIDENT_BOOKERS)
def residents(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:100]
    page = Paginator(residents_for(establishment, term), RESIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    roles = _roles(request)
    return render(
        request,
        "bookings/staff/residents.html",
        _context(
            request,
            establishment,
            page=page,
            term=term,
            can_book=bool(roles & BOOKING_DECIDERS),
            can_move=bool(roles & RECORD_EDITORS),
        ),
    )


def _month_param(request: HttpRequest, establishment: Establishment, now: datetime) -> str:
    month = request.GET.get("month", "")
    try:
        datetime.strptime(month, "%Y-%m")  # noqa: DTZ007 - a calendar month, not an instant
    except ValueError:
        return booking_facts.month_key(now, establishment)
    return month


def _month_shift(month: str, step: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@staff_required(*BOOKING_DECIDERS)
def allowance(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = _resident(establishment, resident_id)
    now = _now()
    month = _month_param(request, establishment, now)
    return render(
        request,
        "bookings/staff/allowance.html",
        _context(
            request,
            establishment,
            resident=resident,
            ledger=selectors.ledger_for(resident, month=month),
            month_label=datetime.strptime(month, "%Y-%m").strftime("%B %Y"),  # noqa: DTZ007 - a calendar month
            previous=_month_shift(month, -1),
            following=_month_shift(month, 1),
            prison=policy.Profile(establishment.profile) in policy.PRISON_PROFILES,
            upcoming=list(
                Booking.objects.filter(
                    resident=resident, slot__starts_at__gte=now, status__in=ACTIVE_STATUSES
                )
                .select_related("slot__room", "lead_contact")
                .order_by("slot__starts_at")
            ),
        ),
    )


@staff_required(*BOOKING_DECIDERS)
def grant_add(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    """Extra call (PF 4.3). The engine decides who may grant (a governor in prisons; staff as needed in youth
    custody) and refuses when this month's places would not leave everyone a call."""
    resident = _resident(establishment, resident_id)
    youth = establishment.profile == "youth_custody"
    form = GrantForm(_posted(request), initial={"reason": ExtraCallReason.AS_NEEDED if youth else None})
    if not youth:
        form.fields["reason"].choices = [  # type: ignore[attr-defined]
            choice for choice in ExtraCallReason.choices if choice[0] != ExtraCallReason.AS_NEEDED
        ]
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.extra_call_grant(
                resident=resident,
                reason=ExtraCallReason(form.cleaned_data["reason"]),
                notes=form.cleaned_data["notes"],
                approver=_user(request),
            )
        except BookingRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"An extra call is granted to {resident.full_name} for {grant.month}")
            return redirect(
                "bookings-staff:allowance", establishment=establishment.code, resident_id=resident.pk
            )
    return render(
        request,
        "bookings/staff/grant_form.html",
        _context(
            request,
            establishment,
            resident=resident,
            form=form,
            governor_only=not youth and Role.GOVERNOR not in _roles(request),
        ),
    )


@staff_required(*RECORD_EDITORS)
def resident_move(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = _resident(establishment, resident_id)
    form = ResidentMoveForm(_posted(request), establishment=establishment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved, reviews = services_staff.resident_release_or_transfer(
                resident=resident,
                kind=data["kind"],
                note=data["note"],
                to_establishment=data["to_establishment"],
                actor=_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{moved.full_name}'s {'release' if moved.released_at else 'transfer'} is recorded. "
                f"{len(reviews)} future call(s) were flagged for review (PF 4.8).",
            )
            return redirect("bookings-staff:residents", establishment=establishment.code)
    return render(
        request,
        "bookings/staff/resident_move.html",
        _context(request, establishment, resident=resident, form=form),
    )


# --- Printable daily list ------------------------------------------------------------------------------------------


@staff_required(*BOARD_READERS)
def daily_list(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    day = _day_param(request, "date", selectors.local_today(establishment, _now()))
    places = selectors.locations(establishment)
    location = request.GET.get("location", "")
    if location not in places:
        location = ""
    return render(
        request,
        "bookings/staff/daily_list.html",
        _context(
            request,
            establishment,
            day=day,
            location=location,
            locations=places,
            people=selectors.daily_list(establishment, day=day, location=location),
        ),
    )
