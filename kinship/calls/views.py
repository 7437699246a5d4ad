"""The supervising officer's pages (roles: supervising officer, governor): the day's calls per room, and a call
page with check-in, the adult check (IRC, DSO 8), start, pause, resume, end, terminate (DSO 11), technical failure
and no-show. Every action is a POST with CSRF; refusals are shown with their citations. Actions that reach the
media server show a clear error page when none is configured (``KINSHIP_MEDIA_SERVER``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.bookings.models import Booking
from kinship.core.permissions import staff_required
from kinship.core.roles import Role
from kinship.establishments.models import Establishment

from . import selectors, services
from .errors import CallRefused
from .forms import CallActionForm, TerminateForm, add_refusal
from .media.base import MediaError, MediaServer
from .models import Call, CallParty, CallState
from .provider import MediaNotConfigured, media_server

#: Who runs calls (issue 5: the supervising officer's pages).
CALL_SUPERVISORS = frozenset({Role.SUPERVISING_OFFICER, Role.GOVERNOR})

#: What each action of the call page says when it has been done.
DONE = {
    "check_in_resident": "The person in custody is checked in",
    "check_in_officer": "You are checked in",
    "adult_check": "The adult check is recorded (DSO 8)",
    "start": "The call is live",
    "pause": "The call is paused: the people on it cannot see or hear each other",
    "resume": "The call is live again",
    "end": "The call has ended",
    "end_no_fault": "The call has ended early, nobody's fault: the minutes are given back",
    "technical_failure": (
        "The call is marked as a technical failure: the minutes are given back and it is queued for rebooking"
    ),
    "no_show": "The call is marked as not attended and queued for review",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _not_configured(request: HttpRequest, establishment: Establishment, problem: Exception) -> HttpResponse:
    return render(
        request,
        "calls/not_configured.html",
        {"establishment": establishment, "problem": str(problem)},
        status=503,
    )


def _call_of(booking: Booking) -> Call | None:
    return Call.objects.filter(booking=booking).select_related("adult_check_by").first()


@staff_required(*CALL_SUPERVISORS)
def day(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    today = timezone.now().astimezone(ZoneInfo(establishment.timezone)).date()
    try:
        shown = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        shown = today
    return render(
        request,
        "calls/day.html",
        {
            "establishment": establishment,
            "tz": establishment.timezone,
            "day": shown,
            "previous": shown - timedelta(days=1),
            "following": shown + timedelta(days=1),
            "rooms": selectors.calls_of_day(establishment, shown),
        },
    )


def _act(action: str, call: Call, form: CallActionForm, actor: User, media: MediaServer) -> None:
    data = form.cleaned_data
    if action == "check_in_resident":
        services.call_check_in(call=call, party=CallParty.RESIDENT, actor=actor)
    elif action == "check_in_officer":
        services.call_check_in(call=call, party=CallParty.OFFICER, actor=actor)
    elif action == "adult_check":
        services.call_adult_check(call=call, actor=actor)
    elif action == "start":
        services.call_start(call=call, actor=actor)
    elif action == "pause":
        services.call_pause(call=call, actor=actor, reason=data["reason"], media=media)
    elif action == "resume":
        services.call_resume(call=call, actor=actor, media=media)
    elif action == "end":
        services.call_end(call=call, actor=actor, media=media)
    elif action == "end_no_fault":
        services.call_end(call=call, actor=actor, media=media, no_fault=True, note=data["note"])
    elif action == "technical_failure":
        services.call_fail(call=call, actor=actor, media=media, note=data["note"])
    elif action == "no_show":
        services.call_no_show(call=call, actor=actor, media=media, note=data["note"])


@staff_required(*CALL_SUPERVISORS)
def call_page(request: HttpRequest, establishment: Establishment, booking_id: UUID) -> HttpResponse:
    booking = get_object_or_404(selectors.booking_for_call_page(establishment), pk=booking_id)
    call = _call_of(booking)
    form = CallActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and call is not None and form.is_valid():
        try:
            media = media_server()
        except MediaNotConfigured as problem:
            return _not_configured(request, establishment, problem)
        action = form.cleaned_data["action"]
        try:
            _act(action, call, form, _user(request), media)
        except CallRefused as refusal:
            add_refusal(form, refusal)
        except MediaError as problem:
            form.add_error(
                None, f"The media server did not answer: {problem}. Try again, or mark a technical failure."
            )
        else:
            messages.success(request, DONE[action])
            return redirect("calls:call", establishment=establishment.code, booking_id=booking.pk)
    call = _call_of(booking)
    return render(request, "calls/call.html", _call_context(request, establishment, booking, call, form))


def _call_context(
    request: HttpRequest, establishment: Establishment, booking: Booking, call: Call | None, form: Any
) -> dict[str, Any]:
    irc = establishment.profile in {profile.value for profile in policy.IMMIGRATION_PROFILES}
    state = call.state if call is not None else ""
    present = set(call.check_ins.values_list("party", flat=True)) if call is not None else set()
    try:
        media_server()
        media_ready = True
    except MediaNotConfigured:
        media_ready = False
    return {
        "establishment": establishment,
        "tz": establishment.timezone,
        "booking": booking,
        "call": call,
        "form": form,
        "irc": irc,
        "media_ready": media_ready,
        "check_ins": call.check_ins.select_related("checked_in_by") if call is not None else [],
        "pauses": call.pauses.all() if call is not None else [],
        "viewings": call.viewings.filter(ended_at__isnull=True).select_related("officer", "terminal")
        if call is not None
        else [],
        "can": {
            "check_in_resident": state in (CallState.SCHEDULED, CallState.READY)
            and CallParty.RESIDENT not in present,
            "check_in_officer": state in (CallState.SCHEDULED, CallState.READY)
            and CallParty.OFFICER not in present,
            "adult_check": irc
            and state in (CallState.SCHEDULED, CallState.READY)
            and call is not None
            and call.adult_check_at is None,
            "start": state == CallState.READY,
            "pause": state == CallState.LIVE,
            "resume": state == CallState.PAUSED,
            "end": state in (CallState.LIVE, CallState.PAUSED),
            "end_no_fault": state in (CallState.LIVE, CallState.PAUSED)
            and timezone.now() < booking.slot.ends_at,
            "terminate": state in (CallState.LIVE, CallState.PAUSED),
            "technical_failure": state
            in (CallState.SCHEDULED, CallState.READY, CallState.LIVE, CallState.PAUSED),
            "no_show": state in (CallState.SCHEDULED, CallState.READY),
        },
    }


@staff_required(*CALL_SUPERVISORS)
def terminate(request: HttpRequest, establishment: Establishment, booking_id: UUID) -> HttpResponse:
    booking = get_object_or_404(selectors.booking_for_call_page(establishment), pk=booking_id)
    call = _call_of(booking)
    form = TerminateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and call is not None and form.is_valid():
        try:
            media = media_server()
        except MediaNotConfigured as problem:
            return _not_configured(request, establishment, problem)
        try:
            services.call_terminate(
                call=call,
                actor=_user(request),
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                body_worn_camera_used=form.cleaned_data["body_worn_camera_used"],
                media=media,
            )
        except CallRefused as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(
                request, "The call has ended and an incident report has gone to the security team"
            )
            return redirect("calls:call", establishment=establishment.code, booking_id=booking.pk)
    return render(
        request,
        "calls/terminate.html",
        {
            "establishment": establishment,
            "tz": establishment.timezone,
            "booking": booking,
            "call": call,
            "form": form,
            "running": call is not None and call.state in (CallState.LIVE, CallState.PAUSED),
        },
    )
