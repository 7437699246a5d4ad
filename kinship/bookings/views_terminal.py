"""Resident terminal pages (PF 4.23): only on a device registered as an active resident terminal.

``/terminal/`` shows the current and next calls in the terminal's room and lets a person identify themselves
with their identifier and PIN (rate limited per terminal, audited). Once identified they see their upcoming
calls and the minutes left this month and, where the establishment lets residents request (PF 4.6), can request
a call with one of their approved contacts. The person's session on the terminal ends on "Finish" or after
``IDLE_MINUTES`` without activity. No staff or contact sign-in is used or looked at on a terminal.

The staff page that sets a person's PIN lives here too, under ``staff-pin/``, for booking staff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kinship.accounts.models import User
from kinship.core.permissions import mark, staff_required
from kinship.core.roles import RECORD_EDITORS
from kinship.establishments.models import Establishment, Terminal, TerminalKind
from kinship.establishments.selectors import terminal_for_request
from kinship.people.models import Contact, Resident

from . import selectors, services, services_contact
from . import selectors_contact as contact_selectors
from .errors import BookingRefused, Problem
from .facts import month_key, timezone_of
from .forms_contact import PinSetForm, PinSignInForm, ResidentRequestForm
from .models import BookingStatus, RequestChannel, Slot

#: The session key holding who is identified on this terminal, on which terminal, and when last active.
SESSION_KEY = "kinship_terminal_resident"
IDLE_MINUTES = 5
CHANNEL = RequestChannel.RESIDENT

type TerminalView = Callable[..., HttpResponseBase]


def terminal_required(view: TerminalView) -> TerminalView:
    """Only on a registered, active, unrevoked resident terminal (PF 4.23); anything else is refused (403).

    The terminal is passed to the view as ``terminal``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        terminal = terminal_for_request(request, kind=TerminalKind.RESIDENT)
        if terminal is None:
            return render(request, "bookings/terminal/not_registered.html", status=403)
        return view(request, *args, terminal=terminal, **kwargs)

    return mark("terminal")(never_cache(wrapper))


def _end(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def _identified(request: HttpRequest, terminal: Terminal, now: datetime) -> Resident | None:
    """The person identified on this terminal, unless they finished, moved terminal, or were idle too long."""
    state = request.session.get(SESSION_KEY)
    if not state:
        return None
    seen = datetime.fromisoformat(state["seen"])
    if state.get("terminal") != str(terminal.pk) or now - seen > timedelta(minutes=IDLE_MINUTES):
        _end(request)
        messages.info(request, f"You were signed out after {IDLE_MINUTES} minutes without using the terminal")
        return None
    resident = contact_selectors.resident_for_terminal(
        establishment=terminal.establishment, resident_id=state["resident"]
    )
    if resident is None:
        _end(request)
        return None
    state["seen"] = now.isoformat()
    request.session[SESSION_KEY] = state
    return resident


def _base(terminal: Terminal, **extra: Any) -> dict[str, Any]:
    return {
        "terminal": terminal,
        "establishment": terminal.establishment,
        "tz": terminal.establishment.timezone,
        **extra,
    }


@terminal_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    """The room's calls now and next, and identifying with an identifier and PIN."""
    now = timezone.now()
    if _identified(request, terminal, now) is not None:
        return redirect("bookings-terminal:me")
    form = PinSignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        check = services_contact.terminal_pin_check(
            terminal=terminal, identifier=form.cleaned_data["identifier"], pin=form.cleaned_data["pin"]
        )
        if check.outcome == services_contact.PinOutcome.ACCEPTED and check.resident is not None:
            request.session.cycle_key()
            request.session[SESSION_KEY] = {
                "resident": str(check.resident.pk),
                "terminal": str(terminal.pk),
                "seen": now.isoformat(),
            }
            return redirect("bookings-terminal:me")
        if check.outcome == services_contact.PinOutcome.LOCKED:
            form.add_error(
                None,
                "PF 4.23: There have been too many tries on this terminal. Wait 15 minutes, or ask an officer "
                "for help",
            )
        else:
            form.add_error(
                "pin", "The number or PIN is not right. Check them and try again, or ask an officer"
            )
    current, following = contact_selectors.room_calls(room=terminal.room, now=now)
    return render(
        request,
        "bookings/terminal/home.html",
        _base(terminal, form=form, current=current, following=following),
    )


def _allowance(resident: Resident, now: datetime) -> Any:
    return selectors.allowance_left_for(resident=resident, month=month_key(now, resident.establishment))


@terminal_required
@require_http_methods(["GET"])
def me(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    now = timezone.now()
    resident = _identified(request, terminal, now)
    if resident is None:
        return redirect("bookings-terminal:home")
    context = _base(
        terminal,
        resident=resident,
        upcoming=contact_selectors.upcoming_for_resident(resident=resident, now=now),
        allowance=_allowance(resident, now),
        can_request=contact_selectors.channel_open(resident.establishment, CHANNEL),
        idle_minutes=IDLE_MINUTES,
    )
    return render(request, "bookings/terminal/me.html", context)


@terminal_required
@require_http_methods(["GET", "POST"])
def request_call(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    """A person asks for a call with one of their approved contacts in a free time; every reason it cannot be
    made is shown before it is sent (first press: check; second press: send)."""
    now = timezone.now()
    resident = _identified(request, terminal, now)
    if resident is None:
        return redirect("bookings-terminal:home")
    establishment = resident.establishment
    if not contact_selectors.channel_open(establishment, CHANNEL):
        return render(request, "bookings/terminal/request_closed.html", _base(terminal, resident=resident))
    tz = timezone_of(establishment)
    links = list(contact_selectors.contacts_for_resident(resident=resident))
    contacts: dict[str, Contact] = {str(link.contact_id): link.contact for link in links}
    days = contact_selectors.slots_by_day(establishment=establishment, channel=CHANNEL, now=now)
    shown = {str(slot.pk): slot for day in days for slot in day.slots}
    slots = shown | (
        _taken_since(establishment, request.POST, shown, now) if request.method == "POST" else {}
    )
    form = ResidentRequestForm(
        request.POST if request.method == "POST" else None,
        contact_choices=[
            (pk, f"{link.contact.full_name} ({link.relationship})")
            for pk, link in zip(contacts, links, strict=True)
        ],
        slot_choices=[
            (
                pk,
                f"{timezone.localtime(slot.starts_at, tz):%A %-d %B, %H:%M} to "
                f"{timezone.localtime(slot.ends_at, tz):%H:%M}{'' if pk in shown else ' (no longer free)'}",
            )
            for pk, slot in slots.items()
        ],
    )
    problems: list[Problem] = []
    checked = False
    alternatives: list[Slot] = []
    first_full = False
    if request.method == "POST" and form.is_valid():
        contact = contacts[form.cleaned_data["contact"]]
        slot = slots[form.cleaned_data["slot"]]
        alternatives = [slots[pk] for pk in form.alternatives]
        first_choice = contact_selectors.request_problems(
            slot=slot, resident=resident, lead_contact=contact, channel=CHANNEL, now=now
        )
        # As on the contact's pages: a first choice that is full leaves the other choices to try.
        first_full = bool(alternatives) and contact_selectors.only_full(first_choice)
        problems = [] if first_full else first_choice
        if alternatives:
            problems += services.alternative_problems(
                slot=slot, alternatives=alternatives, channel=CHANNEL, now=now
            )
        if not problems and form.cleaned_data["confirm"] == "yes":
            try:
                result = services.booking_request(
                    slot=slot,
                    resident=resident,
                    lead_contact=contact,
                    channel=CHANNEL,
                    actor=None,
                    alternatives=alternatives,
                    now=now,
                )
            except BookingRefused as refused:
                problems = list(refused.problems)
            else:
                booked = result.booking.status == BookingStatus.APPROVED
                which = {2: " (your second choice)", 3: " (your third choice)"}.get(result.preference, "")
                messages.success(
                    request,
                    f"Your request has been sent. Reference {result.booking.reference}: "
                    f"{'booked' if booked else 'waiting for staff to approve it'}{which}",
                )
                return redirect("bookings-terminal:me")
        checked = not problems
    context = _base(
        terminal,
        resident=resident,
        form=form,
        problems=[problem.message for problem in problems],
        checked=checked,
        has_contacts=bool(contacts),
        has_slots=bool(slots),
        chosen_contact=contacts.get(str(form["contact"].value() or "")),
        chosen_slot=slots.get(str(form["slot"].value() or "")),
        alternatives=alternatives,
        first_full=first_full and checked,
    )
    return render(request, "bookings/terminal/request.html", context)


def _taken_since(
    establishment: Establishment, data: Any, shown: dict[str, Slot], now: datetime
) -> dict[str, Slot]:
    """Times the person chose that have filled up since the page was shown. They stay valid answers, so the
    request can fall back to the person's other choices, or be refused with its reason (PF 4.2), instead of a
    bare "no longer available" that loses the choice."""
    found: dict[str, Slot] = {}
    for name in ("slot", "second", "third"):
        value = str(data.get(name, ""))
        if not value or value in shown:
            continue
        try:
            slot_id = UUID(value)
        except ValueError:
            continue
        slot = contact_selectors.slot_for(establishment=establishment, slot_id=slot_id)
        if slot is not None and slot.starts_at > now and slot.open_to(CHANNEL) and not slot.legal_reserved:
            found[value] = slot
    return found


@terminal_required
@require_POST
def finish(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    _end(request)
    messages.success(request, "You have finished. Your details are no longer on the screen")
    return redirect("bookings-terminal:home")


# --- Staff: setting a person's PIN
# -------------------------------------------------------------------------------------------


@staff_required(*RECORD_EDITORS)
@require_http_methods(["GET", "POST"])
def staff_pin(request: HttpRequest, establishment: Establishment, resident_id: UUID) -> HttpResponse:
    resident = contact_selectors.resident_for_terminal(establishment=establishment, resident_id=resident_id)
    if resident is None:
        raise Http404
    form = PinSetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services_contact.resident_pin_set(
            resident=resident, pin=form.cleaned_data["pin"], actor=cast(User, request.user)
        )
        messages.success(request, f"The terminal PIN for {resident.full_name} has been set")
        return redirect("people:resident", establishment=establishment.code, resident_id=resident.pk)
    return render(
        request,
        "bookings/terminal/staff_pin.html",
        {"form": form, "establishment": establishment, "resident": resident},
    )
