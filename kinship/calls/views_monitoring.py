"""The monitoring wall and the viewing log (issue 5 §5; PF 4.7, PF 4.21 to PF 4.23, PF 4.4, DSO 9).

The wall is for staff authorised for the monitoring view and works only on a registered monitoring terminal of the
establishment (its device cookie, PF 4.23); on any other device it explains why and how to register one. It lists
the open calls the officer may watch, each with a "watch" button (a POST that starts a logged ``MonitorViewing``
with its reason, ``services.monitor_viewing_start``, which refuses with every reason cited: PF 4.7, PF 4.22, PF 4.4,
DSO 9), and shows the watched calls in a grid. The video comes over the call signalling WebSocket as a ``monitor``
(docs/signalling.md): Kinship subscribes the monitor to the parties' video streams alone, so not one audio packet
reaches the terminal (PF 4.21); the page has no audio element at all. Stopping (the button, the socket closing)
ends the viewing, which pauses a live prison call left without a monitor (PF 4.21, in the services).

Who watches is the policy engine's choice (``kinship.policy`` ``MONITORING_ROLES``: "staff authorised for pin phone
monitoring", PF 4.23): monitoring officers and security staff. Governors and centre managers are not let in for
holding that role alone: they oversee the viewing log, with security and compliance managers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from kinship import policy
from kinship.accounts.models import User
from kinship.core.navigation import needs_device
from kinship.core.permissions import staff_required
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, TerminalKind
from kinship.establishments.selectors import terminal_for_request
from kinship.establishments.views import TERMINAL_REGISTRARS
from kinship.safeguarding.models import Restriction

from . import services
from .errors import CallRefused
from .models import OPEN_STATES, Call, CallState, MonitorViewing
from .provider import MediaNotConfigured, media_server

#: Who may watch calls: the roles the policy engine authorises for the monitoring view (PF 4.23).
WATCHERS = frozenset({Role.MONITORING_OFFICER, Role.SECURITY})
#: Who may read the viewing log (PF 4.23 "each viewing is logged"): oversight, not watching.
LOG_READERS = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER})
#: Viewings per page of the log.
LOG_PAGE_SIZE = 50
#: The reason offered for a routine viewing (PF 4.23 asks for one; the officer may change it).
ROUTINE_REASON = "Routine live monitoring (PF 4.21)"


class WatchForm(forms.Form):
    call = forms.UUIDField()
    reason = forms.CharField(
        max_length=500,
        error_messages={"required": "PF 4.23: Say why you are watching this call"},
    )


class StopForm(forms.Form):
    viewing = forms.UUIDField()


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def grid_layout(count: int) -> str:
    """The wall's layout class for ``count`` tiles: 1, 2, 4 (3 or 4), 6 (5 or 6), 8 (7 or 8), then "many"."""
    for size in (1, 2, 4, 6, 8):
        if count <= size:
            return str(size)
    return "many"


def _dedicated(now: datetime) -> Exists:
    """A restriction in force now says the person's calls need a dedicated monitor (PF 4.4)."""
    return Exists(
        Restriction.objects.filter(
            resident=OuterRef("booking__resident"),
            dedicated_monitor=True,
            starts_at__lte=now,
            lifted_at__isnull=True,
        ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


def watchable_calls(establishment: Establishment, officer: User, now: datetime) -> QuerySet[Call]:
    """The establishment's open calls the officer is not watching yet, with how many monitors watch each.
    Legal calls in immigration detention are never shown (DSO 9); the service refuses them anyway."""
    calls = Call.objects.filter(establishment=establishment, state__in=OPEN_STATES).exclude(
        Exists(MonitorViewing.objects.filter(call=OuterRef("pk"), officer=officer, ended_at__isnull=True))
    )
    if policy.Profile(establishment.profile) in policy.IMMIGRATION_PROFILES:
        calls = calls.exclude(booking__kind="legal")
    return (
        calls.select_related("booking__slot__room", "booking__resident")
        .annotate(
            monitors=Count("viewings", filter=Q(viewings__ended_at__isnull=True)),
            dedicated=_dedicated(now),
        )
        .order_by("booking__slot__starts_at", "booking__slot__room__name")
    )


def watched_viewings(establishment: Establishment, officer: User) -> QuerySet[MonitorViewing]:
    return (
        MonitorViewing.objects.filter(
            officer=officer, ended_at__isnull=True, call__establishment=establishment
        )
        .select_related("call__booking__slot__room", "call__booking__resident", "terminal")
        .order_by("started_at")
    )


@dataclass
class Refusals:
    """What the wall shows after a refused action: the error summary's items (target, message) and, for the
    reason field of one call's row, its own message."""

    items: list[tuple[str, str]]
    call_id: UUID | None = None
    reason_error: str = ""


def _watch(request: HttpRequest, establishment: Establishment, terminal: Any) -> Refusals | None:
    form = WatchForm(request.POST)
    if not form.is_valid():
        call_id = form.cleaned_data.get("call")
        message = "; ".join(str(e) for e in form.errors.get("reason", [])) or "Choose a call to watch"
        return Refusals([(f"#reason-{call_id}" if call_id else "", message)], call_id, message)
    call = get_object_or_404(Call, pk=form.cleaned_data["call"], establishment=establishment)
    try:
        services.monitor_viewing_start(
            call=call, officer=_user(request), terminal=terminal, reason=form.cleaned_data["reason"]
        )
    except CallRefused as refusal:
        reason_error = "; ".join(p.message for p in refusal.problems if p.field == "purpose")
        return Refusals(
            [
                (f"#reason-{call.pk}" if problem.field == "purpose" else "", problem.message)
                for problem in refusal.problems
            ],
            call.pk,
            reason_error,
        )
    messages.success(request, f"You are watching the call in {call.booking.slot.room.name}")
    return None


def _stop(request: HttpRequest, establishment: Establishment) -> Refusals | HttpResponse | None:
    form = StopForm(request.POST)
    if not form.is_valid():
        return Refusals([("", "Choose a call to stop watching")])
    viewing = get_object_or_404(
        MonitorViewing.objects.select_related("call__booking__slot__room"),
        pk=form.cleaned_data["viewing"],
        officer=_user(request),
        call__establishment=establishment,
    )
    try:
        media = media_server()
    except MediaNotConfigured as problem:
        return render(
            request,
            "calls/not_configured.html",
            {"establishment": establishment, "problem": str(problem)},
            status=503,
        )
    try:
        services.monitor_viewing_end(
            viewing=viewing, actor=_user(request), media=media, note="Stopped on the monitoring wall"
        )
    except CallRefused as refusal:
        return Refusals([("", problem.message) for problem in refusal.problems])
    call = Call.objects.only("state").get(pk=viewing.call_id)
    text = f"You stopped watching the call in {viewing.call.booking.slot.room.name}"
    if call.state == CallState.PAUSED:
        text += ". PF 4.21: nobody else was watching, so the call is paused until a monitor watches it"
    messages.success(request, text)
    return None


@needs_device(TerminalKind.MONITORING)
@staff_required(*WATCHERS)
@never_cache
def wall(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    terminal = terminal_for_request(request, kind=TerminalKind.MONITORING)
    if terminal is None:
        held: set[Role] = getattr(request, "staff_roles", set())
        return render(
            request,
            "calls/monitoring/not_a_terminal.html",
            {"establishment": establishment, "can_register": bool(held & TERMINAL_REGISTRARS)},
            status=403,
        )
    refusals: Refusals | None = None
    if request.method == "POST":
        action = request.POST.get("action")
        outcome = (
            _watch(request, establishment, terminal)
            if action == "watch"
            else _stop(request, establishment)
            if action == "stop"
            else Refusals([("", "Choose what to do")])
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is None:
            return redirect("calls-monitoring:wall", establishment=establishment.code)
        refusals = outcome
    officer = _user(request)
    now = timezone.now()
    watched = list(watched_viewings(establishment, officer))
    for viewing in watched:
        left = (viewing.call.booking.slot.ends_at - now).total_seconds()
        viewing.minutes_left = max(0, math.ceil(left / 60))  # type: ignore[attr-defined]
    return render(
        request,
        "calls/monitoring/wall.html",
        {
            "establishment": establishment,
            "tz": establishment.timezone,
            "terminal": terminal,
            "watched": watched,
            "layout": grid_layout(len(watched)),
            "calls": list(watchable_calls(establishment, officer, now)),
            "limit": establishment.calls_per_monitoring_officer,
            "routine_reason": ROUTINE_REASON,
            "can_read_log": bool(getattr(request, "staff_roles", set()) & LOG_READERS),
            "refusals": refusals,
            "posted_reason": request.POST.get("reason", "") if refusals is not None else "",
        },
        status=200,
    )


@staff_required(*LOG_READERS)
def viewing_log(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    """Every viewing at this establishment (PF 4.23): who, which call, from when to when, which terminal, why.
    A fixed number of queries whatever the page holds."""
    viewings = (
        MonitorViewing.objects.filter(call__establishment=establishment)
        .select_related("officer", "terminal", "call__booking__slot__room", "call__booking__resident")
        .order_by("-started_at", "-pk")
    )
    page = Paginator(viewings, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "calls/monitoring/log.html",
        {"establishment": establishment, "tz": establishment.timezone, "page": page},
    )
