"""The call signalling protocol (docs/signalling.md): the messages browsers and Kinship exchange over the
WebSocket at ``/ws/calls/<booking id>/``, their validation, and the group messages that carry call state changes
from the services (any process) to the connected browsers.

Roles: the two parties (``contact``, ``resident``) publish and receive each other's media; an ``observer``
(supervising staff) follows the state only; a ``monitor`` (an authorised monitoring officer at a registered
monitoring terminal, with an open viewing of the call) receives the parties' VIDEO alone and never publishes
(PF 4.21 to PF 4.23).

Everything here but ``notify_*`` is pure. Browsers never talk to the media server: they send SDP and ICE
candidates to Kinship, which owns every media session and handle (``consumers.CallConsumer``). No ``Secret``
(room secret or pin, admin key, admin secret) may leave the server: every outgoing message passes ``outgoing``,
which refuses one anywhere inside it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .media.base import Secret

if TYPE_CHECKING:
    from .models import Call, MonitorViewing

logger = logging.getLogger(__name__)

#: Close codes (4000-4999 are the application's). A refusal is preceded by an ``error`` message saying why.
CLOSE_NOT_IDENTIFIED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_CALL_NOT_OPEN = 4409
#: The call has ended (the ``end`` message says how) or the participant left.
CLOSE_NORMAL = 1000

#: Limits on what a browser may send.
MAX_SDP_CHARS = 100_000
MAX_CANDIDATE_CHARS = 1_000
MAX_PARTICIPANTS = 10

#: The states pushed as ``state`` events; "resumed" is the paused -> live change.
STATE_EVENTS = frozenset({"ready", "live", "paused", "resumed", "ended", "terminated", "failed", "no_show"})
#: Events after which the call is over: ``end`` follows and the socket closes.
FINAL_EVENTS = frozenset({"ended", "terminated", "failed", "no_show"})


class Role(StrEnum):
    CONTACT = "contact"
    RESIDENT = "resident"
    #: Supervising staff: state events only; they neither publish nor receive media through this socket.
    OBSERVER = "observer"
    #: A monitoring officer watching from a registered monitoring terminal (PF 4.21 to PF 4.23): receives the
    #: parties' video streams alone (the media server is asked for no audio at all) and never publishes.
    MONITOR = "monitor"


#: The parties, who publish and receive each other's media.
PARTIES = frozenset({Role.CONTACT, Role.RESIDENT})


def other_party(role: Role) -> Role:
    if role not in PARTIES:
        raise ValueError(f"{role} is not a party to the call")
    return Role.RESIDENT if role == Role.CONTACT else Role.CONTACT


def group_name(call_id: object) -> str:
    """The channel-layer group of one call's sockets."""
    return f"call.{call_id}"


class ProtocolError(Exception):
    """A message the server refuses; becomes an ``error`` message (``code``, ``message`` with the rule cited)."""

    def __init__(self, code: str, text: str, *, rule_id: str = "") -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.rule_id = rule_id

    @property
    def message(self) -> str:
        return f"{self.rule_id}: {self.text}" if self.rule_id else self.text


# --- Client -> server -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Join:
    role: Role
    #: Additional participants present with the lead contact (contact ids), checked against the booking.
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Offer:
    """The browser's offer to publish its camera and microphone."""

    sdp: str


@dataclass(frozen=True)
class Answer:
    """The browser's answer to a subscription's offer."""

    subscription: str
    sdp: str


@dataclass(frozen=True)
class Ice:
    """One ICE candidate for the publisher (``target`` "publisher") or a subscription (its id); ``candidate``
    None says gathering is complete."""

    target: str
    candidate: dict[str, object] | None


@dataclass(frozen=True)
class Leave:
    pass


ClientMessage = Join | Offer | Answer | Ice | Leave


def _text(content: Mapping[str, Any], key: str, *, limit: int) -> str:
    value = content.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("protocol.invalid", f"'{key}' must be a non-empty string.")
    if len(value) > limit:
        raise ProtocolError("protocol.invalid", f"'{key}' is too long.")
    return value


def _sdp(content: Mapping[str, Any]) -> str:
    sdp = _text(content, "sdp", limit=MAX_SDP_CHARS)
    if not sdp.startswith("v=0"):
        raise ProtocolError("protocol.invalid", "'sdp' is not a session description.")
    return sdp


def _candidate(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError("protocol.invalid", "'candidate' must be an object or null.")
    candidate = value.get("candidate")
    mid = value.get("sdpMid")
    index = value.get("sdpMLineIndex")
    if not isinstance(candidate, str) or len(candidate) > MAX_CANDIDATE_CHARS:
        raise ProtocolError("protocol.invalid", "'candidate.candidate' must be a string.")
    if mid is not None and not isinstance(mid, str):
        raise ProtocolError("protocol.invalid", "'candidate.sdpMid' must be a string or null.")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise ProtocolError("protocol.invalid", "'candidate.sdpMLineIndex' must be a number or null.")
    return {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}


def parse(content: object) -> ClientMessage:
    """A browser's message, validated; raises ``ProtocolError``. Unknown keys are ignored."""
    if not isinstance(content, dict):
        raise ProtocolError("protocol.invalid", "A message must be a JSON object.")
    kind = content.get("type")
    if kind == "join":
        role = content.get("role")
        if role not in {r.value for r in Role}:
            raise ProtocolError("protocol.invalid", "'role' must be contact, resident, observer or monitor.")
        participants = content.get("participants", [])
        if not isinstance(participants, list) or not all(isinstance(p, str) for p in participants):
            raise ProtocolError("protocol.invalid", "'participants' must be a list of contact ids.")
        if len(participants) > MAX_PARTICIPANTS:
            raise ProtocolError("protocol.invalid", "Too many participants.")
        return Join(role=Role(role), participants=tuple(dict.fromkeys(participants)))
    if kind == "offer":
        return Offer(sdp=_sdp(content))
    if kind == "answer":
        return Answer(subscription=_text(content, "subscription", limit=100), sdp=_sdp(content))
    if kind == "ice":
        return Ice(target=_text(content, "target", limit=100), candidate=_candidate(content.get("candidate")))
    if kind == "leave":
        return Leave()
    raise ProtocolError("protocol.unknown_type", "Unknown message type.")


def participants_problem(declared: tuple[str, ...], booked: frozenset[str]) -> ProtocolError | None:
    """PF 4.13 and PF 4.14 were decided for the people on the booking: anyone else joining through the lead
    contact's device is refused."""
    unknown = [person for person in declared if person not in booked]
    if unknown:
        return ProtocolError(
            "participants.not_booked",
            "Only the people named on the booking may join the call.",
            rule_id="PF 4.13, PF 4.14",
        )
    return None


# --- Server -> client -----------------------------------------------------------------------------------------------


def _public(value: object, path: str = "message") -> None:
    if isinstance(value, Secret):
        raise TypeError(f"{path} holds a Secret: it must never be sent to a browser")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _public(key, path)
            _public(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _public(item, f"{path}[{index}]")
    elif not isinstance(value, str | int | float | bool | type(None)):
        raise TypeError(f"{path} is a {type(value).__name__}: only JSON values are sent")


def outgoing(message: dict[str, Any]) -> dict[str, Any]:
    """The message, if it is plain JSON with no ``Secret`` anywhere in it; raises ``TypeError`` otherwise."""
    _public(message)
    json.dumps(message)
    return message


def error(problem: ProtocolError) -> dict[str, Any]:
    return {"type": "error", "code": problem.code, "message": problem.message, "rule": problem.rule_id}


def joined(*, role: Role, call_id: str, state: str, starts_at: str, ends_at: str) -> dict[str, Any]:
    return {
        "type": "joined",
        "role": role.value,
        "call": call_id,
        "state": state,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "publish": role in PARTIES,
    }


def answer(sdp: str) -> dict[str, Any]:
    return {"type": "answer", "target": "publisher", "sdp": sdp}


def offer(subscription: str, sdp: str, *, party: Role | None = None) -> dict[str, Any]:
    """A subscription's offer. A monitor's offers name the ``party`` whose video they carry (one subscription per
    party), so the wall can label each picture."""
    message: dict[str, Any] = {"type": "offer", "subscription": subscription, "sdp": sdp}
    if party is not None:
        message["party"] = party.value
    return message


def unsubscribed(subscription: str) -> dict[str, Any]:
    return {"type": "unsubscribed", "subscription": subscription}


def state(event: str, *, at: str) -> dict[str, Any]:
    return {"type": "state", "state": event, "at": at}


def warning(minutes: int, *, ends_at: str) -> dict[str, Any]:
    return {"type": "warning", "minutes": minutes, "ends_at": ends_at}


def end(event: str, *, reason: str) -> dict[str, Any]:
    return {"type": "end", "state": event, "reason": reason}


def viewing_ended(note: str) -> dict[str, Any]:
    """The monitor's viewing is over (stopped on the wall, by other staff, or the socket left): its media is
    gone and the socket closes. The call itself may go on (and pause, PF 4.21, if nobody else watches)."""
    return {"type": "viewing_ended", "note": note}


# --- From the services (any process) to the sockets ----------------------------------------------------------------


def _group_send(call_id: object, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(call_id), outgoing(payload))
    except Exception:  # a push must never undo or break a committed change
        logger.exception("Pushing %s to call %s failed", payload.get("type"), call_id)


def notify_call_state(call: Call, event: str | None = None) -> None:
    """Tell the call's sockets its state changed (services call this from ``transaction.on_commit``).
    ``event`` defaults to the state; a resume says "resumed"."""
    name = event or str(call.state)
    if name not in STATE_EVENTS:
        return
    _group_send(
        call.pk,
        {
            "type": "call.state",
            "state": name,
            "end_reason": str(call.end_reason or ""),
            "at": call.updated_at.isoformat(),
        },
    )


def notify_viewing_ended(viewing: MonitorViewing) -> None:
    """Tell the call's sockets a monitor's viewing ended (``services.monitor_viewing_end`` calls this after the
    commit): that monitor's socket drops its media and closes, wherever the viewing was stopped."""
    _group_send(
        viewing.call_id,
        {"type": "call.viewing", "event": "ended", "viewing": str(viewing.pk), "note": viewing.end_note},
    )


def notify_call_warning(call: Call, minutes: int) -> None:
    """Tell the call's sockets the slot ends in ``minutes`` (5 and 1, from the clock's ``call_warn``)."""
    _group_send(
        call.pk,
        {"type": "call.warning", "minutes": minutes, "ends_at": call.booking.slot.ends_at.isoformat()},
    )
