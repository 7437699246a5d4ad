"""The call signalling WebSocket (``/ws/calls/<booking id>/``, protocol in docs/signalling.md).

Kinship owns every media session: the browser sends its offer, answers and ICE candidates here, and this consumer
publishes and subscribes for it through the ``MediaServer`` (the synchronous client runs outside the event loop,
``sync_to_async(thread_sensitive=False)``; the ORM and services through ``database_sync_to_async``, also off the
shared thread: ``threads.db_call``). Every media session opened is recorded as a ``CallEndpoint``
(``services.call_endpoint_record``) so that pause, resume and teardown reach it from any process, and is closed
when the participant leaves or the socket drops.

Who may connect: the booking's lead contact (signed in, email verified, current terms accepted, PF 4.15); the
resident side only from a registered, active resident terminal in the call's room (PF 4.23 device registration);
supervising staff of the establishment (with their second factor) to follow the state only; a monitor: staff
authorised for the monitoring view (``views_monitoring.WATCHERS``, as the policy engine says, PF 4.23) with their
second factor, at a registered monitoring terminal of the establishment (its device cookie), holding an open
``MonitorViewing`` of this call on that terminal (started on the monitoring wall), and only where the policy
engine allows viewing the call (never a legal call in immigration detention, DSO 9). The call must be open.
Parties receive each other's media only while the call is live: the subscription is made when the call goes live
(or at join or publish time if it already is), and the services pause and resume it. A monitor receives each
party's VIDEO alone (a video-only subscription: the media server offers no audio m-line and sends no audio packet,
PF 4.21) from the moment the feed is up, whatever the state: pausing stops the parties, never the monitor. When the
monitor leaves or the socket drops, its subscriptions are closed and its viewing ended (``services.
monitor_viewing_end``, which pauses a live prison call left without a monitor, PF 4.21); when the viewing is ended
elsewhere (the wall's "stop watching", other staff), the services tell this socket, which closes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.bookings import facts as booking_facts
from kinship.bookings.models import Booking
from kinship.establishments.models import TerminalKind
from kinship.establishments.selectors import terminal_for_request

from . import facts, services, signalling
from .errors import CallRefused
from .media.base import MediaError, MediaServer, NoSuchFeed, Publisher, Room, Stream, Subscription
from .models import Call, CallEndpoint, CallState, EndpointRole, MonitorViewing
from .provider import MediaNotConfigured, participant_media_server
from .signalling import ProtocolError, Role
from .threads import db_call, media_call
from .views import CALL_SUPERVISORS
from .views_monitoring import WATCHERS

logger = logging.getLogger(__name__)

#: How long the consumer waits for a publisher's WebRTC connection before giving up on announcing its feed.
MEDIA_UP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Access:
    """Who this socket may join as (role -> participant id), for which call."""

    call_id: UUID
    roles: dict[Role, str]
    booked_participants: frozenset[str] = frozenset()
    #: The monitor's open viewing of this call (``Role.MONITOR`` only).
    viewing_id: UUID | None = None
    #: Why a role this browser asked about was refused, said when it tries to join in that role.
    refusals: dict[Role, ProtocolError] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    close_code: int
    problem: ProtocolError


def _otp_verified(scope: dict[str, Any], user: Any) -> bool:
    if not settings.KINSHIP_REQUIRE_STAFF_2FA:
        return True
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    session = scope.get("session")
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk


def _monitor_viewing(request: HttpRequest, user: Any, booking: Booking) -> UUID | ProtocolError:
    """The open viewing that lets this member of staff watch this call from this device, or why not (PF 4.23:
    a registered monitoring terminal of the establishment and a logged viewing; the policy engine on who may view
    which call, e.g. DSO 9)."""
    establishment = booking.slot.establishment
    terminal = terminal_for_request(request, kind=TerminalKind.MONITORING, establishment=establishment)
    if terminal is None:
        return ProtocolError(
            "access.monitoring_terminal",
            "Calls are watched only from a registered monitoring terminal of this establishment.",
            rule_id="PF 4.23",
        )
    viewing = (
        MonitorViewing.objects.select_related("call__establishment", "call__booking")
        .filter(call__booking=booking, officer=user, terminal=terminal, ended_at__isnull=True)
        .first()
    )
    if viewing is None:
        return ProtocolError(
            "access.no_viewing", "Start watching this call on the monitoring wall first.", rule_id="PF 4.23"
        )
    decision = policy.monitoring_allowed(
        facts.viewing_facts(
            viewing.call,
            viewer=booking_facts.staff_facts(user, establishment),
            terminal_registered=True,
            purpose=viewing.reason,
            now=timezone.now(),
        )
    )
    if not decision.allowed:
        first = decision.refusals[0]
        return ProtocolError(first.code, first.text, rule_id=first.rule_id)
    return viewing.pk


def access_for(scope: dict[str, Any], booking_id: UUID) -> Access | Refusal:
    """Who the connecting browser is to this booking's call, or why it is refused. A booking the browser has no
    part in is refused exactly as one that does not exist."""
    from kinship.accounts.services import contact_must_accept_terms

    user: Any = scope.get("user")
    signed_in = bool(user is not None and user.is_authenticated and user.is_active)
    cookies = scope.get("cookies") or {}
    booking = (
        Booking.objects.select_related("slot__establishment", "slot__room", "lead_contact")
        .filter(pk=booking_id)
        .first()
    )
    roles: dict[Role, str] = {}
    refusals: dict[Role, ProtocolError] = {}
    viewing_id: UUID | None = None
    problem = ProtocolError("access.forbidden", "You cannot join this call.")
    if booking is not None:
        establishment = booking.slot.establishment
        request = HttpRequest()
        request.COOKIES = dict(cookies)
        held = (
            user.roles_at(establishment)
            if signed_in and getattr(user, "is_staff_member", False) and _otp_verified(scope, user)
            else set()
        )
        if signed_in and getattr(user, "is_contact", False) and booking.lead_contact.user_id == user.pk:
            if user.email_verified_at is None:
                problem = ProtocolError("access.email_not_verified", "Confirm your email address first.")
            elif contact_must_accept_terms(user):
                problem = ProtocolError(
                    "terms.not_accepted", "Accept the current terms and conditions first.", rule_id="PF 4.15"
                )
            else:
                roles[Role.CONTACT] = str(booking.lead_contact_id)
        elif held & CALL_SUPERVISORS:
            roles[Role.OBSERVER] = str(user.pk)
        if held & WATCHERS:
            watching = _monitor_viewing(request, user, booking)
            if isinstance(watching, ProtocolError):
                refusals[Role.MONITOR] = problem = watching
            else:
                roles[Role.MONITOR] = str(user.pk)
                viewing_id = watching
        terminal = terminal_for_request(request, kind=TerminalKind.RESIDENT, establishment=establishment)
        if terminal is not None and terminal.room_id is not None and terminal.room_id == booking.slot.room_id:
            roles[Role.RESIDENT] = str(terminal.pk)
        elif terminal is not None:
            problem = ProtocolError(
                "access.terminal_room",
                "This terminal is not in the room of this call.",
                rule_id="PF 4.23",
            )
    if not roles:
        code = signalling.CLOSE_FORBIDDEN if signed_in or cookies else signalling.CLOSE_NOT_IDENTIFIED
        if code == signalling.CLOSE_NOT_IDENTIFIED:
            problem = ProtocolError("access.not_identified", "Sign in, or use a registered terminal.")
        return Refusal(code, problem)
    assert booking is not None
    call = Call.objects.filter(booking=booking).only("pk", "state").first()
    if call is None or not call.is_open:
        return Refusal(
            signalling.CLOSE_CALL_NOT_OPEN, ProtocolError("call.not_open", "This call is not open.")
        )
    booked = frozenset(str(pk) for pk in booking.participant_links.values_list("contact_id", flat=True))
    return Access(
        call_id=call.pk, roles=roles, booked_participants=booked, viewing_id=viewing_id, refusals=refusals
    )


def _call(call_id: UUID) -> Call:
    return Call.objects.select_related("booking__slot").get(pk=call_id)


def _publishers_of(call_id: UUID, role: Role) -> list[CallEndpoint]:
    return list(
        CallEndpoint.objects.filter(
            call_id=call_id, role=role.value, is_subscription=False, ended_at__isnull=True
        )
    )


def _call_and_room(call_id: UUID) -> tuple[Call, Room | None]:
    """The call and, when it is open with a room, that room (secrets decrypted server-side): one trip to the
    database thread instead of two on the join path."""
    call = _call(call_id)
    return call, call.media_room() if call.is_open and call.has_room else None


def _party_plan(
    call_id: UUID, other: Role, known: frozenset[int]
) -> tuple[Call, Room, list[CallEndpoint]] | None:
    """What a party still has to subscribe to: the other party's publishers that are up and not yet received,
    with the room; ``None`` when the call is not live (or has no room) or there is nothing new."""
    call = _call(call_id)
    if call.state != CallState.LIVE or not call.has_room:
        return None
    fresh = [e for e in _publishers_of(call_id, other) if e.feed_id is not None and e.feed_id not in known]
    return (call, call.media_room(), fresh) if fresh else None


def _record_subscription(
    call: Call, role: EndpointRole, subscription: Subscription
) -> tuple[CallEndpoint, bool]:
    """Record a subscription and say whether the call is paused now (paused between the plan and the record:
    the pause did not see this subscription, so the caller pauses it)."""
    endpoint = services.call_endpoint_record(call=call, role=role, endpoint=subscription)
    state = Call.objects.filter(pk=call.pk).values_list("state", flat=True).get()
    return endpoint, state == CallState.PAUSED


def _viewing_open(viewing_id: UUID | None) -> bool:
    return (
        viewing_id is not None
        and MonitorViewing.objects.filter(pk=viewing_id, ended_at__isnull=True).exists()
    )


def _end_viewing(viewing_id: UUID, officer_id: str, media: MediaServer) -> None:
    """The monitor's socket has gone: its viewing ends (which pauses a live prison call that no one else
    watches, PF 4.21). Already ended (the wall's "stop watching", the call's end) is fine."""
    viewing = MonitorViewing.objects.filter(pk=viewing_id, ended_at__isnull=True).first()
    if viewing is None:
        return
    try:
        services.monitor_viewing_end(
            viewing=viewing,
            actor=User.objects.get(pk=officer_id),
            media=media,
            note="The monitoring screen was closed",
        )
    except CallRefused as refusal:
        logger.info("Ending viewing %s: %s", viewing_id, refusal)


def _end_endpoints(ids: list[UUID]) -> None:
    CallEndpoint.objects.filter(pk__in=ids, ended_at__isnull=True).update(
        ended_at=timezone.now(), updated_at=timezone.now()
    )


def _feed(room: Any, endpoint: CallEndpoint) -> Publisher:
    """A party's publisher as the media server knows it, from its record (with its streams, which a video-only
    subscription picks the video mids from)."""
    return Publisher(
        room=room,
        participant=endpoint.participant,
        session_id=endpoint.session_id,
        handle_id=endpoint.handle_id,
        feed_id=cast(int, endpoint.feed_id),
        answer_sdp="",
        streams=tuple(
            Stream(feed_id=int(item["feed_id"]), kind=item["kind"], mid=str(item["mid"]))
            for item in endpoint.streams
        ),
    )


@dataclass
class _Subscribed:
    subscription: Subscription
    feed_ids: frozenset[int]


@dataclass
class _Media:
    """The media sessions this socket opened."""

    publisher: Publisher | None = None
    publisher_endpoint: UUID | None = None
    subscriptions: dict[str, _Subscribed] = field(default_factory=dict)

    def feeds(self) -> set[int]:
        return {feed for item in self.subscriptions.values() for feed in item.feed_ids}


class CallConsumer(AsyncJsonWebsocketConsumer):
    access: Access | None = None
    role: Role | None = None
    participant: str = ""

    # --- Connection -------------------------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.media_state = _Media()
        self.group = ""
        self.tasks: set[asyncio.Task[None]] = set()
        await self.accept()
        booking_id = self.scope["url_route"]["kwargs"]["booking_id"]
        result = await db_call(access_for)(self.scope, booking_id)
        if isinstance(result, Refusal):
            await self.send_json(signalling.error(result.problem))
            await self.close(code=result.close_code)
            return
        try:
            self.media: MediaServer = await sync_to_async(participant_media_server)()
        except MediaNotConfigured:
            await self.send_json(
                signalling.error(ProtocolError("media.not_configured", "Calls are not available now."))
            )
            await self.close(code=signalling.CLOSE_CALL_NOT_OPEN)
            return
        self.access = result
        self.group = signalling.group_name(result.call_id)

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "tasks", ())):
            task.cancel()
        if self.access is not None:
            await self._teardown()
        if getattr(self, "group", "") and self.role is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_json(self, content: Any, close: bool = False) -> None:
        await super().send_json(signalling.outgoing(content), close=close)

    async def _error(self, problem: ProtocolError) -> None:
        await self.send_json(signalling.error(problem))

    # --- Browser -> Kinship -----------------------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.access is None:
            return
        try:
            message = signalling.parse(content)
            if isinstance(message, signalling.Join):
                await self._join(message)
            elif self.role is None:
                raise ProtocolError("protocol.join_first", "Join the call first.")
            elif isinstance(message, signalling.Leave):
                await self._teardown()
                await self.close(code=signalling.CLOSE_NORMAL)
            elif self.role == Role.OBSERVER:
                raise ProtocolError("protocol.observer", "Staff following the call do not send media here.")
            elif isinstance(message, signalling.Offer):
                if self.role == Role.MONITOR:
                    raise ProtocolError(
                        "protocol.monitor",
                        "Monitors receive video only: they never send media.",
                        rule_id="PF 4.21",
                    )
                await self._publish(message)
            elif isinstance(message, signalling.Answer):
                await self._answer(message)
            elif isinstance(message, signalling.Ice):
                await self._ice(message)
        except ProtocolError as problem:
            await self._error(problem)
        except CallRefused as refusal:
            first = refusal.problems[0]
            await self._error(ProtocolError(first.code, first.text, rule_id=first.rule_id))
        except MediaError as problem:
            logger.warning("Media request for call %s failed: %s", self.access.call_id, problem)
            await self._error(
                ProtocolError("media.failed", "The media server did not accept that. Try joining again.")
            )

    async def _join(self, message: signalling.Join) -> None:
        assert self.access is not None
        if self.role is not None:
            raise ProtocolError("protocol.already_joined", "You have already joined.")
        if message.role not in self.access.roles:
            raise self.access.refusals.get(
                message.role, ProtocolError("access.role", f"You cannot join as {message.role.value}.")
            )
        if message.role == Role.CONTACT:
            problem = signalling.participants_problem(message.participants, self.access.booked_participants)
            if problem is not None:
                raise problem
        elif message.participants:
            raise ProtocolError("protocol.invalid", "Only the lead contact names participants.")
        call = await db_call(_call)(self.access.call_id)
        if not call.is_open:
            raise ProtocolError("call.not_open", "This call is not open.")
        if message.role == Role.MONITOR and not await db_call(_viewing_open)(self.access.viewing_id):
            raise ProtocolError(
                "access.no_viewing",
                "Start watching this call on the monitoring wall first.",
                rule_id="PF 4.23",
            )
        self.role = message.role
        # A monitor's media sessions carry the officer's id: ``services.monitor_viewing_end`` finds them by it.
        self.participant = (
            self.access.roles[message.role]
            if message.role == Role.MONITOR
            else f"{message.role.value}-{self.access.roles[message.role]}"
        )
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(
            signalling.joined(
                role=message.role,
                call_id=str(call.pk),
                state=str(call.state),
                starts_at=call.booking.slot.starts_at.isoformat(),
                ends_at=call.booking.slot.ends_at.isoformat(),
            )
        )
        if self.role in signalling.PARTIES and call.state == CallState.LIVE:
            await self._subscribe_other()
        elif self.role == Role.MONITOR:
            await self._subscribe_monitor()

    async def _publish(self, message: signalling.Offer) -> None:
        assert self.access is not None
        assert self.role is not None
        if self.media_state.publisher is not None:
            raise ProtocolError(
                "protocol.already_publishing", "You are already sending; leave and join again."
            )
        call, room = await db_call(_call_and_room)(self.access.call_id)
        if room is None:
            raise ProtocolError("call.no_room", "The call is not ready yet.")
        publisher = await media_call(self.media.join_publisher)(
            room, participant=self.participant, offer_sdp=message.sdp
        )
        try:
            endpoint = await db_call(services.call_endpoint_record)(
                call=call, role=EndpointRole(self.role.value), endpoint=publisher
            )
        except CallRefused:
            await media_call(self.media.leave)(publisher)
            raise
        self.media_state.publisher = publisher
        self.media_state.publisher_endpoint = endpoint.pk
        await self.send_json(signalling.answer(publisher.answer_sdp))
        task = asyncio.create_task(self._announce_when_up(publisher))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _announce_when_up(self, publisher: Publisher) -> None:
        """Once the publisher's media is up, tell the other party's socket to subscribe to it (in the background:
        the browser's ICE candidates must keep flowing meanwhile)."""
        try:
            await media_call(self.media.wait_for_media)(publisher, timeout=MEDIA_UP_TIMEOUT)
        except MediaError as problem:
            logger.info("Publisher of %s never came up: %s", self.participant, problem)
            return
        assert self.role is not None
        await self.channel_layer.group_send(
            self.group,
            {"type": "call.feed", "event": "up", "role": self.role.value, "feed": publisher.feed_id},
        )

    async def _answer(self, message: signalling.Answer) -> None:
        item = self.media_state.subscriptions.get(message.subscription)
        if item is None:
            raise ProtocolError("protocol.unknown_subscription", "No such subscription.")
        await media_call(self.media.start_subscription)(item.subscription, answer_sdp=message.sdp)

    async def _ice(self, message: signalling.Ice) -> None:
        if message.target == "publisher":
            if self.media_state.publisher is None:
                raise ProtocolError("protocol.not_publishing", "Send an offer first.")
            endpoint: Publisher | Subscription = self.media_state.publisher
        else:
            item = self.media_state.subscriptions.get(message.target)
            if item is None:
                raise ProtocolError("protocol.unknown_subscription", "No such subscription.")
            endpoint = item.subscription
        await media_call(self.media.trickle)(endpoint, message.candidate)

    # --- Media sessions -------------------------------------------------------------------------------------------

    async def _subscribe_other(self) -> None:
        """Subscribe this party to the other party's feeds that are up and not yet received (live calls only)."""
        assert self.access is not None
        assert self.role in signalling.PARTIES
        plan = await db_call(_party_plan)(
            self.access.call_id, signalling.other_party(self.role), frozenset(self.media_state.feeds())
        )
        if plan is None:
            return
        call, room, fresh = plan
        feeds = [_feed(room, e) for e in fresh]
        subscription = await media_call(self.media.subscribe)(
            room, participant=self.participant, feeds=feeds, video_only=False
        )
        try:
            endpoint, paused = await db_call(_record_subscription)(
                call, EndpointRole(self.role.value), subscription
            )
        except CallRefused:
            await media_call(self.media.leave)(subscription)
            return
        key = str(endpoint.pk)
        self.media_state.subscriptions[key] = _Subscribed(
            subscription, frozenset(cast(int, e.feed_id) for e in fresh)
        )
        if paused:
            # Paused between the plan and the record: the pause did not see this subscription.
            await media_call(self.media.pause_subscription)(subscription)
        await self.send_json(signalling.offer(key, subscription.offer_sdp))

    async def _subscribe_monitor(self) -> None:
        """Subscribe the monitor to the VIDEO alone of each party feed that is up and not yet received, one
        subscription per party (so the wall can label each picture), in any open state: a paused call is still
        watched. A feed not up yet is skipped; its "up" event brings it."""
        assert self.access is not None
        assert self.role == Role.MONITOR
        call, room = await db_call(_call_and_room)(self.access.call_id)
        if room is None:
            return
        for party in (Role.RESIDENT, Role.CONTACT):
            for published in await db_call(_publishers_of)(self.access.call_id, party):
                if published.feed_id is None or published.feed_id in self.media_state.feeds():
                    continue
                feed = _feed(room, published)
                try:
                    subscription = await media_call(self.media.subscribe)(
                        room, participant=self.participant, feeds=[feed], video_only=True
                    )
                except NoSuchFeed as problem:
                    logger.info(
                        "Monitor of call %s cannot see feed %s yet: %s", call.pk, feed.feed_id, problem
                    )
                    continue
                try:
                    endpoint = await db_call(services.call_endpoint_record)(
                        call=call, role=EndpointRole.MONITOR, endpoint=subscription
                    )
                except CallRefused:
                    await media_call(self.media.leave)(subscription)
                    return
                key = str(endpoint.pk)
                self.media_state.subscriptions[key] = _Subscribed(subscription, frozenset({feed.feed_id}))
                await self.send_json(signalling.offer(key, subscription.offer_sdp, party=party))

    async def _drop(self, key: str) -> None:
        item = self.media_state.subscriptions.pop(key)
        await self._leave_quietly(item.subscription)
        await db_call(_end_endpoints)([UUID(key)])

    async def _leave_quietly(self, endpoint: Publisher | Subscription) -> None:
        try:
            await media_call(self.media.leave)(endpoint)
        except MediaError as problem:
            logger.info("Leaving %s's media session failed: %s", self.participant, problem)

    async def _teardown(self) -> None:
        """Close every media session this socket opened and tell the other party the feed is gone; a monitor's
        viewing ends with its socket (PF 4.21: the services pause the call if nobody else watches)."""
        for key in list(self.media_state.subscriptions):
            await self._drop(key)
        if self.role == Role.MONITOR and self.access is not None and self.access.viewing_id is not None:
            viewing_id, self.access = self.access.viewing_id, None
            await db_call(_end_viewing)(viewing_id, self.participant, self.media)
        publisher = self.media_state.publisher
        if publisher is not None and self.media_state.publisher_endpoint is not None:
            self.media_state.publisher = None
            await self._leave_quietly(publisher)
            await db_call(_end_endpoints)([self.media_state.publisher_endpoint])
            self.media_state.publisher_endpoint = None
            if self.role is not None:
                await self.channel_layer.group_send(
                    self.group,
                    {
                        "type": "call.feed",
                        "event": "down",
                        "role": self.role.value,
                        "feed": publisher.feed_id,
                    },
                )

    # --- Group events (other sockets, the services) -----------------------------------------------------------------

    async def call_feed(self, event: dict[str, Any]) -> None:
        if self.role not in signalling.PARTIES | {Role.MONITOR} or event.get("role") == self.role:
            return
        if event.get("event") == "up":
            try:
                if self.role == Role.MONITOR:
                    await self._subscribe_monitor()
                else:
                    await self._subscribe_other()
            except MediaError as problem:  # a group event must not end the consumer
                logger.warning("Subscribing %s failed: %s", self.participant, problem)
                await self._error(ProtocolError("media.failed", "A video could not be connected."))
        elif event.get("event") == "down":
            for key, item in list(self.media_state.subscriptions.items()):
                if event.get("feed") in item.feed_ids:
                    await self._drop(key)
                    await self.send_json(signalling.unsubscribed(key))

    async def call_state(self, event: dict[str, Any]) -> None:
        name = str(event["state"])
        await self.send_json(signalling.state(name, at=str(event.get("at", ""))))
        if name in signalling.FINAL_EVENTS:
            # The services destroyed the room and ended every endpoint: nothing is left to close.
            self.media_state = _Media()
            await self.send_json(signalling.end(name, reason=str(event.get("end_reason", ""))))
            await self.close(code=signalling.CLOSE_NORMAL)
        elif name in {"live", "resumed"} and self.role in signalling.PARTIES:
            try:
                await self._subscribe_other()
            except MediaError as problem:
                logger.warning("Subscribing %s failed: %s", self.participant, problem)
                await self._error(
                    ProtocolError("media.failed", "The other side's video could not be connected.")
                )

    async def call_viewing(self, event: dict[str, Any]) -> None:
        """A viewing ended (services): if it is this monitor's, its media is already closed; say so and close."""
        if (
            self.role != Role.MONITOR
            or self.access is None
            or event.get("event") != "ended"
            or event.get("viewing") != str(self.access.viewing_id)
        ):
            return
        for key in list(self.media_state.subscriptions):
            await self._drop(key)
        self.access = None  # nothing left to tear down when the socket closes
        await self.send_json(signalling.viewing_ended(str(event.get("note", ""))))
        await self.close(code=signalling.CLOSE_NORMAL)

    async def call_warning(self, event: dict[str, Any]) -> None:
        await self.send_json(signalling.warning(int(event["minutes"]), ends_at=str(event["ends_at"])))
