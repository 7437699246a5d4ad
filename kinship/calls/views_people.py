"""The people's call pages (issue 5 §4): the contact's pre-call check and call page, and the resident terminal's call
screen. The pages carry no secret: the browser code (``static/calls/call.js``, ``static/calls/precheck.js``) speaks
the signalling protocol of docs/signalling.md over a WebSocket, and Kinship decides everything on the server.

- Contact (``contact_required``, PF 4.15): only the booking's lead contact, who joins for everyone from outside
  (PF 4.13, PF 4.14: the additional people, chosen on the waiting part of the page, must be on the booking). Any
  other booking, a participant's included, is refused exactly like one that does not exist (404).
- Resident terminal (``terminal_required``, PF 4.23): a registered, active resident terminal sees the current and
  next calls of its own room only, and its call screen joins when the supervising officer starts the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kinship.accounts.models import User
from kinship.accounts.selectors import contact_for_user
from kinship.bookings.models import Booking, BookingStatus
from kinship.bookings.selectors_contact import room_calls
from kinship.bookings.views_terminal import terminal_required
from kinship.core.permissions import contact_required
from kinship.establishments.models import Terminal

from .models import FINAL_STATES, Call, CallState

#: What each call state means to the people on the call (the browser code says the same for pushed states).
STATE_TEXT = {
    "": "The call has not opened yet",
    CallState.SCHEDULED: "The call is open. Staff are getting ready",
    CallState.READY: "Everyone is ready. Waiting for the officer to start the call",
    CallState.LIVE: "The call is live",
    CallState.PAUSED: "Staff have paused the call",
    CallState.ENDED: "The call has ended",
    CallState.TERMINATED: "Staff ended the call",
    CallState.FAILED: "The call stopped because of a technical problem",
    CallState.NO_SHOW: "The call did not take place",
}


@dataclass(frozen=True)
class CallScreen:
    """What a call page needs to start the browser code: where the socket is, the slot, and whether the call can
    still be joined (and if not, why)."""

    booking: Booking
    call: Call | None
    socket_path: str
    state: str
    state_text: str
    joinable: bool
    reason: str

    @classmethod
    def of(cls, booking: Booking, now: datetime) -> CallScreen:
        call = Call.objects.filter(booking=booking).only("pk", "state", "booking_id").first()
        state = str(call.state) if call is not None else ""
        reason = ""
        if state in FINAL_STATES:
            reason = STATE_TEXT[state]
        elif booking.status == BookingStatus.REQUESTED:
            reason = "This call has not been approved yet. You can join it once staff approve it"
        elif booking.status != BookingStatus.APPROVED:
            reason = f"This call cannot be joined: it is {booking.get_status_display().lower()}"
        elif booking.slot.ends_at <= now:
            reason = "The time for this call has passed"
        return cls(
            booking=booking,
            call=call,
            socket_path=f"/ws/calls/{booking.pk}/",
            state=state,
            state_text=STATE_TEXT.get(state, ""),
            joinable=not reason,
            reason=reason,
        )


def _lead_booking(request: HttpRequest, reference: str) -> Booking:
    """The booking, only if the signed-in contact is its lead contact; anything else is a 404 like a booking that
    does not exist (a participant joins through the lead contact's device, PF 4.13)."""
    user = request.user
    assert isinstance(user, User)
    contact = contact_for_user(user=user)
    if contact is None:
        raise Http404
    booking = (
        Booking.objects.filter(reference=reference, lead_contact=contact)
        .select_related("slot__establishment", "slot__room", "resident", "lead_contact")
        .prefetch_related("participant_links__contact")
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _context(booking: Booking, now: datetime, **extra: Any) -> dict[str, Any]:
    establishment = booking.slot.establishment
    return {
        "booking": booking,
        "establishment": establishment,
        "tz": establishment.timezone,
        # Whole seconds: every browser parses that form of ISO 8601.
        "server_now": now.replace(microsecond=0).isoformat(),
        **extra,
    }


@contact_required(terms=True)
@require_GET
@never_cache
def contact_check(request: HttpRequest, reference: str) -> HttpResponse:
    """The pre-call check: browser support, camera and microphone, the connection to Kinship and to the media
    server (``consumers_precheck``). Available any time before the call."""
    booking = _lead_booking(request, reference)
    now = timezone.now()
    to_come = booking.is_active and booking.slot.ends_at > now
    return render(request, "calls/people/check.html", _context(booking, now, to_come=to_come))


@contact_required(terms=True)
@require_GET
@never_cache
def contact_call(request: HttpRequest, reference: str) -> HttpResponse:
    """The waiting page and the call page in one document, so that the WebSocket and the camera carry over when
    the officer starts the call: choose who is with you, wait (states are pushed), then the call itself."""
    booking = _lead_booking(request, reference)
    now = timezone.now()
    screen = CallScreen.of(booking, now)
    participants = [link.contact for link in booking.participant_links.all()]
    return render(
        request,
        "calls/people/contact_call.html",
        _context(booking, now, screen=screen, participants=participants),
    )


@terminal_required
@require_GET
def terminal_call(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    """The terminal's call screen: the current and next calls of its own room, joining the current one when the
    officer starts it. A terminal with no room, or a room with no call now, shows what is next and looks again
    every little while."""
    now = timezone.now()
    current, following = room_calls(room=terminal.room, now=now)
    screen = CallScreen.of(current, now) if current is not None else None
    establishment = terminal.establishment
    return render(
        request,
        "calls/people/terminal_call.html",
        {
            "terminal": terminal,
            "establishment": establishment,
            "tz": establishment.timezone,
            "current": current,
            "following": following,
            "screen": screen,
            "server_now": now.replace(microsecond=0).isoformat(),
        },
    )
