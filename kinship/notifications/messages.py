"""What we tell contacts, in our own words, one message per event (PF 4.8: cancellations with the reason).

Every message ends with the establishment's safer custody hotline (PF 4.19). Texts are short (one or two SMS
fragments); emails say the same with a subject. GOV.UK Notify templates only place these words
(``((subject))``, ``((body))``), so the wording is reviewed and versioned here with the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from kinship.bookings.models import Booking

from .models import Event


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Wording:
    subject: str
    email: str
    sms: str


WORDING: dict[Event, Wording] = {
    Event.REQUEST_RECEIVED: Wording(
        subject="We have your request for a video call ({reference})",
        email=(
            "Dear {name},\n\n"
            "We have your request for a video call with {resident} at {establishment} on {when}.\n\n"
            "Staff will check it and we will tell you when it is booked or if it cannot go ahead.\n\n"
            "Your reference is {reference}."
        ),
        sms="{establishment}: we have your request for a video call with {resident} on {when}. Ref {reference}.",
    ),
    Event.APPROVED: Wording(
        subject="Your video call is booked ({reference})",
        email=(
            "Dear {name},\n\n"
            "Your video call with {resident} at {establishment} is booked for {when}.\n\n"
            "Sign in 10 minutes before the start to check your camera and microphone.\n\n"
            "Your reference is {reference}."
        ),
        sms="{establishment}: your video call with {resident} is booked for {when}. Ref {reference}.",
    ),
    Event.REJECTED: Wording(
        subject="Your video call request could not be booked ({reference})",
        email=(
            "Dear {name},\n\n"
            "We could not book your video call with {resident} at {establishment} on {when}.\n\n"
            "The reason: {reason}\n\n"
            "You can request another time. Your reference is {reference}."
        ),
        sms="{establishment}: we could not book your video call with {resident} on {when}. "
        "Reason: {reason}. Ref {reference}.",
    ),
    Event.CHANGED: Wording(
        subject="Your video call has a new time ({reference})",
        email=(
            "Dear {name},\n\n"
            "Your video call with {resident} at {establishment} is now on {when}.\n\n"
            "{reason}\n\n"
            "Your reference is {reference}."
        ),
        sms="{establishment}: your video call with {resident} is now on {when}. Ref {reference}.",
    ),
    Event.CANCELLED: Wording(
        subject="Your video call is cancelled ({reference})",
        email=(
            "Dear {name},\n\n"
            "Your video call with {resident} at {establishment} on {when} is cancelled.\n\n"
            "The reason: {reason}\n\n"
            "You can request another time. Your reference is {reference}."
        ),
        sms="{establishment}: your video call with {resident} on {when} is cancelled. "
        "Reason: {reason}. Ref {reference}.",
    ),
    Event.REMINDER: Wording(
        subject="Reminder: your video call is on {when}",
        email=(
            "Dear {name},\n\n"
            "This is a reminder of your video call with {resident} at {establishment} on {when}.\n\n"
            "Sign in 10 minutes before the start to check your camera and microphone.\n\n"
            "Your reference is {reference}."
        ),
        sms="{establishment}: reminder, your video call with {resident} is on {when}. Ref {reference}.",
    ),
}


def hotline_sentence(establishment_name: str, hotline: str) -> str:
    """PF 4.19: the safer custody hotline, on every message about calls."""
    if hotline:
        return (
            f"If you are worried about the safety or wellbeing of someone at {establishment_name}, "
            f"call the safer custody hotline on {hotline}."
        )
    return (
        f"If you are worried about the safety or wellbeing of someone at {establishment_name}, "
        "call the establishment and ask for the safer custody team."
    )


def local_when(moment: datetime, timezone: str) -> str:
    """GOV.UK style: "Wednesday 3 March 2027 at 9am" or "... at 2:30pm", on the establishment's clock."""
    local = moment.astimezone(ZoneInfo(timezone))
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    return f"{local:%A} {local.day} {local:%B %Y} at {clock}"


def reason_for(booking: Booking, event: Event) -> str:
    """The reason the family is told (PF 4.8): the fixed-list reason and the free text staff wrote."""
    if event == Event.REJECTED:
        parts = [booking.get_rejection_reason_display() if booking.rejection_reason else ""]
        parts.append(booking.status_reason)
        return ". ".join(part.rstrip(".") for part in parts if part) + "."
    if event == Event.CANCELLED:
        who = booking.get_cancelled_by_display() if booking.cancelled_by else ""
        text = booking.status_reason.rstrip(".")
        return f"{text} (cancelled by {who.lower()})." if who else f"{text}."
    if event == Event.CHANGED:
        return booking.status_reason
    return ""


def render(*, booking: Booking, event: Event, sms: bool, name: str, reason: str = "") -> Message:
    """The message for ``booking`` and ``event``; ``booking`` comes with its slot, resident and establishment."""
    establishment = booking.slot.establishment
    resident = booking.resident
    values = {
        "name": name,
        "resident": f"{resident.first_name} {resident.last_name}",
        "establishment": establishment.name,
        "when": local_when(booking.slot.starts_at, establishment.timezone),
        "reference": booking.reference,
        "reason": reason or reason_for(booking, event),
    }
    wording = WORDING[event]
    hotline = hotline_sentence(establishment.name, establishment.safer_custody_hotline)
    text = (wording.sms if sms else wording.email).format_map(values)
    separator = " " if sms else "\n\n"
    return Message(subject=wording.subject.format_map(values), body=f"{text}{separator}{hotline}")
