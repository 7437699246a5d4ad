"""Contact pages for calls: requesting a call (person, time, who else joins, check answers), the contact's calls,
a call's page, cancelling with a reason, and a calendar file for each call.

Every page is the signed-in contact's own (``contact_required(terms=True)``, PF 4.15): a booking the contact is
not on gives 404. The request's answers live in the session until it is sent; the chosen time is held
(``slot_hold``) while the contact finishes, and every reason the request would be refused is shown, with its
citation, before it is sent (``selectors_contact.request_problems``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from kinship import policy
from kinship.accounts.models import User
from kinship.accounts.selectors import contact_for_user
from kinship.core.permissions import contact_required
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, ContactLink

from . import selectors_contact as selectors
from . import services
from .errors import BookingRefused, Problem
from .facts import timezone_of
from .forms_contact import CancelForm, ParticipantsForm, PersonForm, SlotForm
from .models import Booking, BookingStatus, CancelledBy, RequestChannel, Slot, SlotHold

#: The session key holding the request being made: resident, slot, hold and participant ids.
SESSION_KEY = "kinship_call_request"
CHANNEL = RequestChannel.CONTACT


# --- Helpers
# ------------------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _contact(request: HttpRequest) -> Contact:
    contact = contact_for_user(user=_user(request))
    if contact is None:
        raise Http404
    return contact


def _state(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY) or {})


def _save_state(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state


def _release_hold(state: dict[str, Any]) -> None:
    hold = selectors.hold_for(hold_id=state.get("hold"))
    if hold is not None:
        services.slot_hold_release(hold=hold)
    state.pop("hold", None)
    state.pop("slot", None)
    state.pop("alternatives", None)


def _link(contact: Contact, state: dict[str, Any]) -> ContactLink | None:
    resident_id = state.get("resident")
    return selectors.link_for_contact(contact=contact, resident_id=resident_id) if resident_id else None


def _closed_reason() -> str:
    """PF 4.6's explanation of who may request where contacts may not."""
    return policy.Reason.refuse("PF 4.6", "booking.requester_resident_only").message


def _render_closed(request: HttpRequest, link: ContactLink) -> HttpResponse:
    return render(
        request,
        "bookings/contact/request_closed.html",
        {
            "link": link,
            "establishment": link.resident.establishment,
            "reason": _closed_reason(),
        },
    )


def _problem_items(problems: list[Problem]) -> list[str]:
    return [problem.message for problem in problems]


# --- Requesting a call
# --------------------------------------------------------------------------------------------


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def request_person(request: HttpRequest) -> HttpResponse:
    """Step 1: the person in custody, from the contact's approved links."""
    contact = _contact(request)
    links = list(selectors.links_for_contact(contact=contact))
    state = _state(request)
    choices = [
        (str(link.resident_id), f"{link.resident.full_name}, {link.resident.establishment.name}")
        for link in links
    ]
    initial = {"resident": state.get("resident")} if state.get("resident") else None
    form = PersonForm(request.POST if request.method == "POST" else None, choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = next(link for link in links if str(link.resident_id) == form.cleaned_data["resident"])
        if not selectors.channel_open(chosen.resident.establishment, CHANNEL):
            return _render_closed(request, chosen)
        if state.get("resident") != str(chosen.resident_id):
            _release_hold(state)
            state = {"resident": str(chosen.resident_id), "participants": []}
            _save_state(request, state)
        return redirect("bookings-contact:request-time")
    return render(request, "bookings/contact/request_person.html", {"form": form, "links": links})


def _slot_choices(days: list[selectors.Day], tz: Any) -> list[tuple[str, str]]:
    return [
        (
            str(slot.pk),
            f"{timezone.localtime(slot.starts_at, tz):%A %-d %B}, "
            f"{timezone.localtime(slot.starts_at, tz):%H:%M} to {timezone.localtime(slot.ends_at, tz):%H:%M}",
        )
        for day in days
        for slot in day.slots
    ]


def _days_with(
    days: list[selectors.Day], held: Slot | None, establishment: Establishment
) -> list[selectors.Day]:
    """The offered days, with the contact's own held time kept in them (it takes the place it would show)."""
    if held is None or any(slot.pk == held.pk for day in days for slot in day.slots):
        return days
    tz = timezone_of(establishment)
    slots = sorted([held, *(slot for day in days for slot in day.slots)], key=lambda slot: slot.starts_at)
    grouped: dict[Any, list[Slot]] = {}
    for slot in slots:
        grouped.setdefault(timezone.localtime(slot.starts_at, tz).date(), []).append(slot)
    return [selectors.Day(day=day, slots=items) for day, items in grouped.items()]


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def request_time(request: HttpRequest) -> HttpResponse:
    """Step 2: a time; choosing one holds it for the establishment's hold minutes."""
    contact = _contact(request)
    state = _state(request)
    link = _link(contact, state)
    if link is None:
        return redirect("bookings-contact:request-person")
    establishment = link.resident.establishment
    if not selectors.channel_open(establishment, CHANNEL):
        return _render_closed(request, link)
    now = timezone.now()
    hold = selectors.hold_for(hold_id=state.get("hold"))
    live_hold = hold if selectors.hold_is_live(hold, now) else None
    days = _days_with(
        selectors.slots_by_day(establishment=establishment, channel=CHANNEL, now=now),
        live_hold.slot if live_hold is not None else None,
        establishment,
    )
    tz = timezone_of(establishment)
    chosen = [state.get("slot"), *state.get("alternatives", [])]
    initial = dict(zip(("slot", "second", "third"), chosen, strict=False)) if state.get("slot") else None
    form = SlotForm(
        request.POST if request.method == "POST" else None, choices=_slot_choices(days, tz), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        slot_id = form.cleaned_data["slot"]
        if live_hold is not None and str(live_hold.slot_id) == slot_id:
            state["alternatives"] = form.alternatives
            _save_state(request, state)
            return redirect("bookings-contact:request-participants")
        slot = selectors.slot_for(establishment=establishment, slot_id=slot_id)
        assert slot is not None  # it was one of the choices
        _release_hold(state)
        try:
            new_hold = services.slot_hold(slot=slot, held_by=_user(request), resident=link.resident, now=now)
        except BookingRefused as refused:
            for problem in refused.problems:
                form.add_error("slot", problem.message)
            _save_state(request, state)
        else:
            state.update({"slot": str(slot.pk), "hold": str(new_hold.pk), "alternatives": form.alternatives})
            _save_state(request, state)
            return redirect("bookings-contact:request-participants")
    radios = _radios(form, days, tz)
    context = {
        "form": form,
        "preference_fields": [form["second"], form["third"]],
        "link": link,
        "days": radios,
        "hold": live_hold,
        "tz": establishment.timezone,
        "expired": hold is not None and live_hold is None,
    }
    return render(request, "bookings/contact/request_time.html", context)


def _radios(form: SlotForm, days: list[selectors.Day], tz: Any) -> list[dict[str, Any]]:
    """The radios of the time field, grouped under their local day, with ids matching the error summary."""
    field = form["slot"]
    chosen = str(field.value() or "")
    base = field.auto_id
    grouped: list[dict[str, Any]] = []
    index = 0
    for day in days:
        items = []
        for slot in day.slots:
            items.append(
                {
                    "id": base if index == 0 else f"{base}_{index}",
                    "value": str(slot.pk),
                    "checked": chosen == str(slot.pk),
                    "starts": timezone.localtime(slot.starts_at, tz),
                    "ends": timezone.localtime(slot.ends_at, tz),
                    "room": slot.room.name,
                }
            )
            index += 1
        grouped.append({"day": day.day, "items": items})
    return grouped


def _chosen(
    request: HttpRequest, contact: Contact, state: dict[str, Any]
) -> tuple[ContactLink | None, Slot | None, SlotHold | None]:
    link = _link(contact, state)
    if link is None:
        return None, None, None
    slot = (
        selectors.slot_for(establishment=link.resident.establishment, slot_id=state["slot"])
        if state.get("slot")
        else None
    )
    return link, slot, selectors.hold_for(hold_id=state.get("hold"))


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def request_participants(request: HttpRequest) -> HttpResponse:
    """Step 3: other approved contacts of the same person who will join (PF 4.12 to PF 4.16)."""
    contact = _contact(request)
    state = _state(request)
    link, slot, hold = _chosen(request, contact, state)
    if link is None:
        return redirect("bookings-contact:request-person")
    if slot is None:
        return redirect("bookings-contact:request-time")
    others = list(selectors.other_contacts_of(resident=link.resident, lead=contact))
    choices = [
        (str(other.contact_id), f"{other.contact.full_name} ({other.relationship})") for other in others
    ]
    form = ParticipantsForm(
        request.POST if request.method == "POST" else None,
        choices=choices,
        initial={"participants": state.get("participants", [])},
    )
    if request.method == "POST" and form.is_valid():
        state["participants"] = list(form.cleaned_data["participants"])
        _save_state(request, state)
        return redirect("bookings-contact:request-check")
    context = {
        "form": form,
        "link": link,
        "others": others,
        "hold": hold if selectors.hold_is_live(hold, timezone.now()) else None,
        "tz": link.resident.establishment.timezone,
        "limit": link.resident.establishment.max_outside_participants,
    }
    return render(request, "bookings/contact/request_participants.html", context)


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def request_check(request: HttpRequest) -> HttpResponse:
    """Step 4: check the answers; every reason the request cannot be made is listed here, before it is sent."""
    contact = _contact(request)
    state = _state(request)
    link, slot, hold = _chosen(request, contact, state)
    if link is None:
        return redirect("bookings-contact:request-person")
    if slot is None:
        return redirect("bookings-contact:request-time")
    resident = link.resident
    if not selectors.channel_open(resident.establishment, CHANNEL):
        return _render_closed(request, link)
    others = {
        str(other.contact_id): other.contact
        for other in selectors.other_contacts_of(resident=resident, lead=contact)
    }
    participants = [others[pk] for pk in state.get("participants", []) if pk in others]
    now = timezone.now()
    alternatives, problems = _alternatives(slot, state, now)
    first_choice = selectors.request_problems(
        slot=slot,
        resident=resident,
        lead_contact=contact,
        participants=participants,
        channel=CHANNEL,
        hold=hold,
        actor_id=_user(request).pk,
        now=now,
    )
    # A first choice that is full (its hold lapsed or not) leaves the alternatives to try: the request may be
    # sent, and the service books the first of them with a place (or refuses, listing every choice's reasons).
    first_full = bool(alternatives) and selectors.only_full(first_choice)
    problems += [] if first_full else first_choice
    if request.method == "POST" and not problems:
        try:
            result = services.booking_request(
                slot=slot,
                resident=resident,
                lead_contact=contact,
                participants=participants,
                channel=CHANNEL,
                actor=_user(request),
                hold=hold,
                alternatives=alternatives,
                now=now,
            )
        except BookingRefused as refused:
            problems = list(refused.problems)
        else:
            request.session.pop(SESSION_KEY, None)
            return redirect("bookings-contact:request-sent", reference=result.booking.reference)
    context = {
        "link": link,
        "resident": resident,
        "establishment": resident.establishment,
        "slot": slot,
        "alternatives": alternatives,
        "participants": participants,
        "hold": hold if selectors.hold_is_live(hold, now) else None,
        "hold_expired": any(problem.code == "hold.expired" for problem in problems),
        "problems": _problem_items(problems),
        "first_full": first_full and not problems,
        "tz": resident.establishment.timezone,
    }
    return render(request, "bookings/contact/request_check.html", context)


def _alternatives(slot: Slot, state: dict[str, Any], now: datetime) -> tuple[list[Slot], list[Problem]]:
    """The second and third choices kept in the session, and what is wrong with them (one gone from the
    schedule, or refused by ``services.alternative_problems``), so the check lists it before sending."""
    found = [
        selectors.slot_for(establishment=slot.establishment, slot_id=slot_id)
        for slot_id in state.get("alternatives", [])
    ]
    alternatives = [alternative for alternative in found if alternative is not None]
    problems = (
        [Problem.booking("preferences.unavailable", field="slot")] if len(alternatives) < len(found) else []
    )
    if alternatives:
        problems += services.alternative_problems(
            slot=slot, alternatives=alternatives, channel=CHANNEL, now=now
        )
    return alternatives, problems


@contact_required(terms=True)
@require_GET
def request_sent(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking(request, reference)
    return render(
        request,
        "bookings/contact/request_sent.html",
        _booking_context(booking, preference=selectors.preference_used(booking=booking)),
    )


# --- The contact's calls
# ------------------------------------------------------------------------------------------


def _booking(request: HttpRequest, reference: str) -> Booking:
    return get_object_or_404(selectors.booking_for_contact(contact=_contact(request), reference=reference))


def _booking_context(booking: Booking, **extra: Any) -> dict[str, Any]:
    establishment = booking.slot.establishment
    return {
        "booking": booking,
        "establishment": establishment,
        "tz": establishment.timezone,
        "participants": [link.contact for link in booking.participant_links.all()],
        **extra,
    }


@contact_required(terms=True)
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    contact = _contact(request)
    now = timezone.now()
    context = {
        "upcoming": selectors.bookings_upcoming_for_contact(contact=contact, now=now),
        "past": selectors.bookings_past_for_contact(contact=contact, now=now)[:50],
        "can_request": selectors.links_for_contact(contact=contact).exists(),
    }
    return render(request, "bookings/contact/calls.html", context)


@contact_required(terms=True)
@require_GET
def call_detail(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking(request, reference)
    contact = _contact(request)
    can_cancel = (
        booking.is_active and booking.lead_contact_id == contact.pk and booking.slot.ends_at > timezone.now()
    )
    return render(
        request, "bookings/contact/call_detail.html", _booking_context(booking, can_cancel=can_cancel)
    )


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def call_cancel(request: HttpRequest, reference: str) -> HttpResponse:
    """Cancel with a reason, then confirm (PF 4.8). Only the contact who booked the call may cancel it."""
    booking = _booking(request, reference)
    contact = _contact(request)
    if booking.lead_contact_id != contact.pk or not booking.is_active:
        messages.info(request, "This call cannot be cancelled here")
        return redirect("bookings-contact:detail", reference=booking.reference)
    form = CancelForm(request.POST if request.method == "POST" else None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"] == "yes":
            try:
                services.booking_cancel(
                    booking=booking,
                    cancelled_by=CancelledBy.CONTACT,
                    reason=form.cleaned_data["reason"],
                    actor=_user(request),
                )
            except BookingRefused as refused:
                for problem in refused.problems:
                    form.add_error("reason" if problem.field == "reason" else None, problem.message)
            else:
                messages.success(request, f"Call {booking.reference} has been cancelled")
                return redirect("bookings-contact:detail", reference=booking.reference)
        else:
            confirming = True
    template = "bookings/contact/cancel_confirm.html" if confirming else "bookings/contact/cancel.html"
    return render(request, template, _booking_context(booking, form=form))


# --- Calendar file
# ------------------------------------------------------------------------------------------------


def _ical_escape(text: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon, comma and line breaks are escaped in TEXT values."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ical_fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are folded (CRLF and a space), never inside a character."""
    parts: list[str] = []
    current = ""
    limit = 75
    for character in line:
        if len((current + character).encode()) > limit:
            parts.append(current)
            current = character
            limit = 74  # the leading space of a continuation line counts
        else:
            current += character
    parts.append(current)
    return "\r\n ".join(parts)


def _ical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


_ICAL_STATUS = {
    BookingStatus.APPROVED: "CONFIRMED",
    BookingStatus.REQUESTED: "TENTATIVE",
}


def calendar_text(booking: Booking, *, now: datetime) -> str:
    """The booking as an iCalendar file (RFC 5545): one event, times in UTC, the hotline in the description."""
    establishment = booking.slot.establishment
    local = timezone.localtime(booking.slot.starts_at, timezone_of(establishment))
    description = (
        f"Video call with {booking.resident.full_name} at {establishment.name} on {local:%A %-d %B %Y} at "
        f"{local:%H:%M} ({establishment.timezone}).\n"
        f"Booking reference: {booking.reference}. Status: {booking.get_status_display()}.\n"
    )
    if establishment.safer_custody_hotline:
        description += (
            "Worried about someone in custody? Call the safer custody hotline on "
            f"{establishment.safer_custody_hotline} (PF 4.19)."
        )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kinship//Video calls//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{booking.reference}@kinship",
        f"DTSTAMP:{_ical_time(now)}",
        f"DTSTART:{_ical_time(booking.slot.starts_at)}",
        f"DTEND:{_ical_time(booking.slot.ends_at)}",
        f"SUMMARY:{_ical_escape(f'Video call with {booking.resident.full_name}')}",
        f"DESCRIPTION:{_ical_escape(description.strip())}",
        f"LOCATION:{_ical_escape(f'Kinship video call, {establishment.name}')}",
        f"STATUS:{_ICAL_STATUS.get(BookingStatus(booking.status), 'CANCELLED')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ical_fold(line) + "\r\n" for line in lines)


@contact_required(terms=True)
@require_GET
def call_calendar(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking(request, reference)
    response = HttpResponse(
        calendar_text(booking, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="call-{booking.reference}.ics"'
    return response
