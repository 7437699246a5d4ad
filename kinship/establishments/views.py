"""Staff pages for establishments: the staff home, an establishment's overview and settings, its rooms and its
terminals, and registering a device as a terminal (PF 4.23)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.views.decorators.cache import never_cache

from kinship.core.navigation import staff_links
from kinship.core.permissions import staff_any_establishment, staff_required
from kinship.core.roles import ESTABLISHMENT_ADMINS, Role

from . import selectors, services
from .forms import (
    EstablishmentCreateForm,
    EstablishmentSettingsForm,
    RegisterDeviceForm,
    RevokeTerminalForm,
    RoomForm,
    TerminalForm,
    add_service_errors,
)
from .models import Establishment, Profile, Terminal, TerminalKind
from .selectors import terminal_for_request

#: Who may register a device as a terminal: those who manage terminals, and the supervising officers who set up
#: the calling rooms. Either way the person must be signed in (with 2FA) at that establishment and hold a
#: one-time code an establishment administrator issued in the last 30 minutes.
TERMINAL_REGISTRARS = ESTABLISHMENT_ADMINS | {Role.SUPERVISING_OFFICER}

SETTINGS_ROWS: list[tuple[str, str]] = [
    ("who_may_request", "Who may ask for a call"),
    ("allowance_pattern", "Monthly allowance"),
    ("max_outside_participants", "Most people joining from outside"),
    ("cancellation_notice_hours", "Notice of cancellation"),
    ("calls_per_monitoring_officer", "Calls each monitoring officer may watch"),
    ("slot_lengths", "Call lengths offered"),
    ("safer_custody_hotline", "Safer custody hotline"),
]


@staff_any_establishment
def mine(request: HttpRequest) -> HttpResponse:
    """Where staff land after signing in: their establishments and the roles they hold at each."""
    return render(
        request,
        "establishments/mine.html",
        {
            "places": selectors.establishments_for_user(request.user),
            "can_create": selectors.user_is_system_administrator(request.user),
        },
    )


@staff_any_establishment
def create(request: HttpRequest) -> HttpResponse:
    """Set up a new establishment: for system administrators only (DSO 1 refuses holding rooms)."""
    if not selectors.user_is_system_administrator(request.user):
        raise PermissionDenied
    form = EstablishmentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            establishment = services.establishment_create(
                actor=request.user,
                name=data["name"],
                code=data["code"],
                profile=data["profile"],
                type=data["type"],
                timezone_name=data["timezone"],
                safer_custody_hotline=data["safer_custody_hotline"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{establishment.name} has been set up")
            return redirect("establishments:mine")
    return render(request, "establishments/create.html", {"form": form})


def _settings_rows(establishment: Establishment) -> list[tuple[str, str, str]]:
    rows = []
    for name, label in SETTINGS_ROWS:
        rule = services.SETTINGS_FIELDS[name]
        if name == "allowance_pattern":
            if establishment.profile == Profile.IMMIGRATION_DETENTION:
                rows.append((label, "No set allowance: reasonable access", "DSO 3"))
                continue
            value = establishment.get_allowance_pattern_display()
        elif name == "who_may_request":
            value = establishment.get_who_may_request_display()
        elif name == "cancellation_notice_hours":
            value = f"{establishment.cancellation_notice_hours} hours"
        elif name == "slot_lengths":
            value = ", ".join(f"{length} minutes" for length in establishment.slot_lengths)
        elif name == "safer_custody_hotline":
            value = establishment.safer_custody_hotline or "Not set"
        else:
            value = str(getattr(establishment, name))
        rows.append((label, value, rule))
    return rows


# What the overview offers; each link shows only to roles its page admits (kinship.core.navigation).
OVERVIEW_LINKS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Records",
        [
            ("people:residents", "People in custody"),
            ("people:link-requests", "Requests from contacts to be linked"),
            ("people:resident-add", "Add a person in custody"),
            ("accounts:identity-queue", "Identity checks"),
            ("establishments:settings", "Change settings"),
            ("establishments:rooms", "Rooms"),
            ("establishments:terminals", "Terminals"),
            ("people:compact-texts", "Compact texts"),
            ("establishments:terminal-register", "Register this device as a terminal"),
        ],
    ),
    (
        "Calls",
        [
            ("bookings-staff:day", "Today's calls"),
            ("calls:day", "Calls today"),
            ("bookings-staff:week", "This week's calls"),
            ("bookings-staff:daily-list", "Printable daily list for a wing"),
            ("bookings-staff:requests", "Requests for calls"),
            ("bookings-staff:reviews", "Calls to review"),
            ("bookings-staff:residents", "Calls for people in custody"),
            ("bookings-staff:schedule", "Schedule"),
            ("calls-monitoring:wall", "Monitoring wall"),
            ("calls-monitoring:log", "Monitoring viewing log"),
            ("recordings:list", "Call recordings"),
        ],
    ),
    (
        "Safeguarding",
        [
            ("safeguarding-welfare:deadlines", "Deadlines due and overdue"),
            ("safeguarding-restrictions:overview", "Restrictions, bans, suspensions and appeals"),
            ("safeguarding-welfare:incidents", "Incidents"),
            ("safeguarding-welfare:incident-new", "Report an incident"),
            ("safeguarding-welfare:wellbeing-list", "Wellbeing follow-ups"),
            ("safeguarding-welfare:wellbeing-new", "Record a wellbeing concern"),
        ],
    ),
]


def _view_roles(url_name: str, *args: object) -> frozenset[Role]:
    """The roles a view declares it admits (read back from ``staff_required``, as the links are)."""
    return frozenset(getattr(resolve(reverse(url_name, args=args)).func, "kinship_roles", frozenset()))


@staff_required(*Role)
def overview(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    roles = request.staff_roles  # type: ignore[attr-defined]
    at_monitoring_terminal = (
        terminal_for_request(request, kind=TerminalKind.MONITORING, establishment=establishment) is not None
    )
    return render(
        request,
        "establishments/overview.html",
        {
            "establishment": establishment,
            "settings_rows": _settings_rows(establishment),
            "role_labels": [Role(role).label for role in sorted(roles)],
            "is_admin": bool(roles & ESTABLISHMENT_ADMINS),
            "link_sections": staff_links(
                roles,
                OVERVIEW_LINKS,
                establishment.code,
                devices={TerminalKind.MONITORING} if at_monitoring_terminal else set(),
            ),
            # PF 4.23: the monitoring wall opens only on a registered monitoring terminal; say so where it is not.
            "monitoring_elsewhere": not at_monitoring_terminal
            and bool(roles & _view_roles("calls-monitoring:wall", establishment.code)),
        },
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def edit_settings(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = EstablishmentSettingsForm(request.POST or None, establishment=establishment)
    if request.method == "POST" and form.is_valid():
        try:
            services.establishment_update_settings(
                establishment=establishment, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The settings have been saved")
            return redirect("establishments:overview", establishment=establishment.code)
    return render(request, "establishments/settings.html", {"establishment": establishment, "form": form})


# --- Rooms ---------------------------------------------------------------------------------------------------------


@staff_required(*ESTABLISHMENT_ADMINS)
def rooms(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return render(
        request,
        "establishments/rooms.html",
        {"establishment": establishment, "rooms": selectors.rooms_for(establishment)},
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def room_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(establishment=establishment, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{room.name} has been added")
            return redirect("establishments:rooms", establishment=establishment.code)
    return render(
        request, "establishments/room_form.html", {"establishment": establishment, "form": form, "room": None}
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def room_edit(request: HttpRequest, establishment: Establishment, room_id: UUID) -> HttpResponse:
    room = get_object_or_404(selectors.rooms_for(establishment), pk=room_id)
    form = RoomForm.for_room(room, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_update(room=room, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{room.name} has been saved")
            return redirect("establishments:rooms", establishment=establishment.code)
    return render(
        request, "establishments/room_form.html", {"establishment": establishment, "form": form, "room": room}
    )


# --- Terminals -----------------------------------------------------------------------------------------------------


def _terminal(establishment: Establishment, terminal_id: UUID) -> Terminal:
    return get_object_or_404(selectors.terminals_for(establishment), pk=terminal_id)


@staff_required(*ESTABLISHMENT_ADMINS)
def terminals(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    return render(
        request,
        "establishments/terminals.html",
        {
            "establishment": establishment,
            "terminals": selectors.terminals_for(establishment),
            "this_device": selectors.terminal_for_request(request),
        },
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def terminal_add(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    form = TerminalForm(request.POST or None, establishment=establishment)
    if request.method == "POST" and form.is_valid():
        try:
            terminal = services.terminal_create(
                establishment=establishment, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{terminal.name} has been added. Issue a code to register its device.")
            return redirect("establishments:terminals", establishment=establishment.code)
    return render(
        request,
        "establishments/terminal_form.html",
        {"establishment": establishment, "form": form, "terminal": None},
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def terminal_edit(request: HttpRequest, establishment: Establishment, terminal_id: UUID) -> HttpResponse:
    terminal = _terminal(establishment, terminal_id)
    initial = {"name": terminal.name, "room": terminal.room_id, "active": terminal.active}
    form = TerminalForm(request.POST or None, establishment=establishment, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            terminal = services.terminal_update(terminal=terminal, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{terminal.name} has been saved")
            return redirect("establishments:terminals", establishment=establishment.code)
    return render(
        request,
        "establishments/terminal_form.html",
        {"establishment": establishment, "form": form, "terminal": terminal},
    )


@staff_required(*ESTABLISHMENT_ADMINS)
def terminal_revoke(request: HttpRequest, establishment: Establishment, terminal_id: UUID) -> HttpResponse:
    terminal = _terminal(establishment, terminal_id)
    if terminal.revoked_at is not None:
        messages.info(request, f"{terminal.name} has already been revoked")
        return redirect("establishments:terminals", establishment=establishment.code)
    form = RevokeTerminalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.terminal_revoke(
                terminal=terminal, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{terminal.name} has been revoked")
            return redirect("establishments:terminals", establishment=establishment.code)
    return render(
        request,
        "establishments/terminal_revoke.html",
        {"establishment": establishment, "form": form, "terminal": terminal},
    )


@staff_required(*ESTABLISHMENT_ADMINS)
@never_cache
def terminal_issue_code(
    request: HttpRequest, establishment: Establishment, terminal_id: UUID
) -> HttpResponse:
    """GET asks to confirm; POST issues the code and shows it once (never stored, never cached)."""
    terminal = _terminal(establishment, terminal_id)
    context: dict[str, Any] = {"establishment": establishment, "terminal": terminal, "issued": None}
    if terminal.revoked_at is not None:
        messages.info(request, f"{terminal.name} has been revoked. Add a new terminal instead.")
        return redirect("establishments:terminals", establishment=establishment.code)
    if request.method == "POST":
        context["issued"] = services.terminal_issue_registration_code(terminal=terminal, actor=request.user)
    return render(request, "establishments/terminal_code.html", context)


@staff_required(*TERMINAL_REGISTRARS)
@never_cache
def terminal_register(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    """Opened ON the device: the one-time code binds this browser to the terminal with a long-lived, HttpOnly,
    SameSite=Strict cookie holding a random secret (PF 4.23)."""
    form = RegisterDeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registered = services.terminal_register_device(
                establishment=establishment, code=form.cleaned_data["code"], actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"This device is now registered as {registered.terminal.name}")
            response = redirect("establishments:terminal-registered", establishment=establishment.code)
            response.set_cookie(
                selectors.TERMINAL_COOKIE_NAME,
                registered.device_secret,
                max_age=selectors.TERMINAL_COOKIE_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Strict",
            )
            return response
    return render(
        request, "establishments/terminal_register.html", {"establishment": establishment, "form": form}
    )


@staff_required(*TERMINAL_REGISTRARS)
def terminal_registered(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    """Which terminal this device is, if any: the check after registering, and whenever in doubt."""
    return render(
        request,
        "establishments/terminal_registered.html",
        {"establishment": establishment, "terminal": selectors.terminal_for_request(request)},
    )
