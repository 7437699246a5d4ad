"""The pre-call check's WebSocket (``/ws/precheck/``, docs/signalling.md "Pre-call check"): a real test of the path
a call's media will take, before the call.

The browser measures the round trip to Kinship with ``ping``/``pong``; then it sends an offer with its camera and
microphone, and Kinship has the media server create a short-lived, private, never-recorded room on a healthy node
(the same placement as a call), publishes the offer there and answers. Once the media server reports the
browser's WebRTC connection up (ICE and DTLS done), Kinship subscribes the same browser to its own feed, so that
the browser can count the frames that came back through the media server: media arrived there and returned. The
room is destroyed when the browser says ``leave``, when the socket closes, or after ``PRECHECK_SECONDS``.

Who may use it: a signed-in contact (active, email verified, current terms accepted, PF 4.15) who is the lead
contact of an approved or requested call still to come: a room costs the media server something, so it is also
limited to ``PRECHECK_LIMIT`` checks per contact per hour. Nothing secret (room secret, pin) leaves the server:
every message passes ``signalling.outgoing``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache
from django.utils import timezone

from kinship.bookings.models import ACTIVE_STATUSES, Booking

from . import signalling
from .media.base import MediaError, MediaServer, Publisher, Room, Subscription
from .provider import MediaNotConfigured, participant_media_server
from .signalling import ProtocolError
from .threads import db_call, media_call

logger = logging.getLogger(__name__)

#: How long a check may hold a room on the media server.
PRECHECK_SECONDS = 30.0
#: How long the browser's connection to the media server may take to come up.
MEDIA_UP_TIMEOUT = 12.0
#: Checks per contact per hour.
PRECHECK_LIMIT = 12
PRECHECK_WINDOW_SECONDS = 3600
#: The subscription id the browser answers and trickles to (its own feed, back from the media server).
ECHO = "echo"


@dataclass(frozen=True)
class PrecheckRefusal:
    close_code: int
    problem: ProtocolError


def precheck_access(scope: dict[str, Any]) -> PrecheckRefusal | None:
    """None if this socket may run a check; otherwise why not."""
    from kinship.accounts.services import contact_must_accept_terms

    user: Any = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return PrecheckRefusal(
            signalling.CLOSE_NOT_IDENTIFIED, ProtocolError("access.not_identified", "Sign in first.")
        )
    if not getattr(user, "is_contact", False):
        return PrecheckRefusal(
            signalling.CLOSE_FORBIDDEN, ProtocolError("access.forbidden", "This check is for contacts.")
        )
    if user.email_verified_at is None:
        return PrecheckRefusal(
            signalling.CLOSE_FORBIDDEN,
            ProtocolError("access.email_not_verified", "Confirm your email address first."),
        )
    if contact_must_accept_terms(user):
        return PrecheckRefusal(
            signalling.CLOSE_FORBIDDEN,
            ProtocolError(
                "terms.not_accepted", "Accept the current terms and conditions first.", rule_id="PF 4.15"
            ),
        )
    upcoming = Booking.objects.filter(
        lead_contact__user=user, status__in=ACTIVE_STATUSES, slot__ends_at__gt=timezone.now()
    )
    if not upcoming.exists():
        return PrecheckRefusal(
            signalling.CLOSE_FORBIDDEN,
            ProtocolError("precheck.no_call", "You can check your connection when you have a call booked."),
        )
    return None


def precheck_allowance_take(user_id: object) -> bool:
    """Counts one check against the contact's hourly limit; False once it is used up."""
    key = f"kinship:precheck:{user_id}"
    cache.add(key, 0, timeout=PRECHECK_WINDOW_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=PRECHECK_WINDOW_SECONDS)
        used = 1
    return used <= PRECHECK_LIMIT


class PrecheckConsumer(AsyncJsonWebsocketConsumer):
    """One check per socket: at most one room, one publisher and one echo subscription."""

    allowed = False

    async def connect(self) -> None:
        self.room: Room | None = None
        self.publisher: Publisher | None = None
        self.echo: Subscription | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.finished = False
        await self.accept()
        refusal = await db_call(precheck_access)(self.scope)
        if refusal is not None:
            await self.send_json(signalling.error(refusal.problem))
            await self.close(code=refusal.close_code)
            return
        try:
            self.media: MediaServer = await sync_to_async(participant_media_server)()
        except MediaNotConfigured:
            await self.send_json(
                signalling.error(ProtocolError("media.not_configured", "Calls are not available now."))
            )
            await self.close(code=signalling.CLOSE_CALL_NOT_OPEN)
            return
        self.allowed = True
        self._background(self._expire())

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "tasks", ())):
            task.cancel()
        await self._teardown()

    async def send_json(self, content: Any, close: bool = False) -> None:
        await super().send_json(signalling.outgoing(content), close=close)

    def _background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not self.allowed or self.finished:
            return
        try:
            if isinstance(content, dict) and content.get("type") == "ping":
                sequence = content.get("id")
                await self.send_json({"type": "pong", "id": sequence if isinstance(sequence, int) else 0})
                return
            message = signalling.parse(content)
            if isinstance(message, signalling.Offer):
                await self._publish(message.sdp)
            elif isinstance(message, signalling.Answer):
                if self.echo is None or message.subscription != ECHO:
                    raise ProtocolError("protocol.unknown_subscription", "No such subscription.")
                await media_call(self.media.start_subscription)(self.echo, answer_sdp=message.sdp)
            elif isinstance(message, signalling.Ice):
                await self._ice(message)
            elif isinstance(message, signalling.Leave):
                await self._finish("done")
            else:
                raise ProtocolError("protocol.unknown_type", "Unknown message type.")
        except ProtocolError as problem:
            await self.send_json(signalling.error(problem))
        except MediaError as problem:
            logger.warning("Pre-call check media request failed: %s", problem)
            await self.send_json(
                signalling.error(ProtocolError("media.failed", "The video server did not accept the check."))
            )
            await self._finish("failed")

    async def _publish(self, offer_sdp: str) -> None:
        if self.room is not None:
            raise ProtocolError("protocol.already_publishing", "This check has already started.")
        user = self.scope["user"]
        if not await db_call(precheck_allowance_take)(user.pk):
            raise ProtocolError(
                "precheck.limit", "You have checked many times in the last hour. Try again later."
            )
        self.room = await media_call(self.media.create_room)(
            call_id=f"precheck-{uuid.uuid4().hex}", record=False, publishers=1
        )
        self.publisher = await media_call(self.media.join_publisher)(
            self.room, participant="precheck", offer_sdp=offer_sdp
        )
        await self.send_json(signalling.answer(self.publisher.answer_sdp))
        self._background(self._echo_when_up(self.publisher))

    async def _echo_when_up(self, publisher: Publisher) -> None:
        """Once the browser's media is up at the media server, send it back to the same browser."""
        assert self.room is not None
        try:
            await media_call(self.media.wait_for_media)(publisher, timeout=MEDIA_UP_TIMEOUT)
        except MediaError as problem:
            logger.info("Pre-call check media never came up: %s", problem)
            await self.send_json(
                signalling.error(
                    ProtocolError("media.unreachable", "Your video could not reach the video server.")
                )
            )
            await self._finish("failed")
            return
        await self.send_json({"type": "media", "state": "up"})
        try:
            self.echo = await media_call(self.media.subscribe)(
                self.room, participant="precheck-echo", feeds=[publisher], video_only=False
            )
        except MediaError as problem:
            logger.warning("Pre-call check echo failed: %s", problem)
            await self.send_json(
                signalling.error(
                    ProtocolError("media.failed", "The video server did not send your video back.")
                )
            )
            return
        await self.send_json(signalling.offer(ECHO, self.echo.offer_sdp))

    async def _ice(self, message: signalling.Ice) -> None:
        endpoint: Publisher | Subscription | None
        endpoint = self.publisher if message.target == "publisher" else self.echo
        if message.target not in ("publisher", ECHO) or endpoint is None:
            raise ProtocolError("protocol.unknown_subscription", "No such subscription.")
        await media_call(self.media.trickle)(endpoint, message.candidate)

    async def _expire(self) -> None:
        await asyncio.sleep(PRECHECK_SECONDS)
        await self._finish("expired")

    async def _finish(self, how: str) -> None:
        if self.finished:
            return
        self.finished = True
        await self._teardown()
        with contextlib.suppress(Exception):
            await self.send_json({"type": "end", "state": how, "reason": ""})
            await self.close(code=signalling.CLOSE_NORMAL)

    async def _teardown(self) -> None:
        """Destroy the throwaway room and every session in it (the echo subscription included)."""
        room, self.room, self.publisher, self.echo = getattr(self, "room", None), None, None, None
        if room is None:
            return
        try:
            await media_call(self.media.destroy_room)(room)
        except MediaError as problem:
            logger.warning("Destroying pre-call check room %s failed: %s", room.room_id, problem)
