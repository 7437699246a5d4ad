"""The media watchdog: a call whose media node died, or whose room vanished, is failed within seconds.

The clock (``calls_tick_run``) runs once a minute, far too seldom for a family looking at a frozen picture. The
watchdog (``manage.py media_watch --every 2``, a Procfile process of its own) probes every node that hosts an open
call (ready, live or paused) with one admin API request, the VideoRoom room list, which answers both questions at
once: is the node alive, and does each call's room still exist? A call is failed (``services.call_fail``: the minutes
go back to the allowance ledger, PF 4.1; the booking goes to the review queue for rebooking, PF 4.8; both sides get
``state`` and ``end`` pushes, across processes when ``REDIS_URL`` is set) when

- its node did not answer ``confirm`` passes in a row (refused, or no answer within ``timeout``), or
- its node answered, but without the call's room, ``confirm`` passes in a row (the node restarted, or the room
  was destroyed behind Kinship's back).

Why a confirmation (two misses by default, two seconds apart): one slow answer from a busy node, or a room list
read in the instant between another process destroying a room and committing the call's end, must not cut a
family's call off for nothing. Two consecutive misses still fail the call within about five seconds of a
``kill -9`` (refused connections are immediate) and within about seven of a hung node (1.5 s timeouts), inside
the ten seconds issue 5 asks for. A node answering with an error (a wrong admin secret or key) is a configuration
problem, not a lost node: it is logged and never fails a call, since the media may be flowing.

Each pass is idempotent: ``call_fail`` refuses a call that has moved on (ended meanwhile, or failed by another
process), and that refusal is only logged. Nodes are probed concurrently, each request bounded, so one hung node
does not delay the others. Scheduled calls (nobody connected yet) are left to the clock, which fails them on an
unhealthy node. Losing a participant's session alone is not a failure: the participant may rejoin within the slot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from django.utils import timezone

from .errors import CallRefused
from .media.base import (
    Endpoint,
    MediaError,
    MediaServer,
    MediaTimeout,
    NodeStatus,
    NodeUnavailable,
    Publisher,
    Room,
    Subscription,
)
from .models import Call, CallState, EndReason
from .services import call_fail

logger = logging.getLogger(__name__)

#: The states in which someone is, or is about to be, on the call: a lost room cuts them off.
WATCHED_STATES: tuple[str, ...] = (CallState.READY, CallState.LIVE, CallState.PAUSED)

#: What the booking's review and the family's booking page say (no server names: those stay in the log).
NODE_LOST_NOTE = "The video server stopped answering during the call."
ROOM_LOST_NOTE = "The video server lost the call's connection."

DEFAULT_CONFIRM = 2
DEFAULT_TIMEOUT = 1.5


@runtime_checkable
class WatchableMedia(Protocol):
    """What the watchdog needs of a media server beyond ``MediaServer``: its nodes and each node's rooms."""

    def node_urls(self) -> list[str]: ...

    def rooms_on(self, node: str, *, timeout: float) -> set[int]:
        """Every room on the node; ``NodeUnavailable`` or ``MediaTimeout`` when it does not answer in time."""
        ...


@dataclass(frozen=True)
class Probe:
    """One node's answer to one pass: ``rooms`` when it answered, else ``lost`` (did not answer) or an error it
    answered with (``rooms`` None and ``lost`` False: nothing is concluded)."""

    node: str
    rooms: frozenset[int] | None
    lost: bool
    error: str = ""


@dataclass
class WatchResult:
    nodes: int = 0
    calls: int = 0
    failed: list[UUID] = field(default_factory=list)
    suspect: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.nodes} nodes, {self.calls} calls watched, {self.suspect} suspect, "
            f"{len(self.failed)} failed, {len(self.errors)} errors"
        )


class _NodeGone:
    """The media server as seen through a node confirmed lost: every request about that node fails at once with
    ``NodeUnavailable`` instead of waiting out a timeout, so failing the call (whose teardown would ask the node
    to destroy the room) is not held up by the node that is gone. Other nodes are asked as usual."""

    def __init__(self, media: MediaServer, node: str) -> None:
        self._media = media
        self._node = node

    def _gone(self, node: str) -> None:
        if node == self._node:
            raise NodeUnavailable(f"{node} was lost (media watchdog); not asked again")

    def nodes(self) -> list[NodeStatus]:
        return self._media.nodes()

    def create_room(
        self, *, call_id: str, record: bool, rec_dir: str | None = None, publishers: int = 4
    ) -> Room:
        return self._media.create_room(call_id=call_id, record=record, rec_dir=rec_dir, publishers=publishers)

    def join_publisher(self, room: Room, *, participant: str, offer_sdp: str) -> Publisher:
        self._gone(room.node)
        return self._media.join_publisher(room, participant=participant, offer_sdp=offer_sdp)

    def wait_for_media(self, endpoint: Endpoint, *, timeout: float = 10.0) -> None:
        self._gone(endpoint.room.node)
        self._media.wait_for_media(endpoint, timeout=timeout)

    def subscribe(
        self, room: Room, *, participant: str, feeds: Sequence[Publisher], video_only: bool
    ) -> Subscription:
        self._gone(room.node)
        return self._media.subscribe(room, participant=participant, feeds=feeds, video_only=video_only)

    def start_subscription(self, subscription: Subscription, *, answer_sdp: str) -> None:
        self._gone(subscription.room.node)
        self._media.start_subscription(subscription, answer_sdp=answer_sdp)

    def trickle(self, endpoint: Endpoint, candidate: dict[str, object] | None) -> None:
        self._gone(endpoint.room.node)
        self._media.trickle(endpoint, candidate)

    def pause_subscription(self, subscription: Subscription) -> None:
        self._gone(subscription.room.node)
        self._media.pause_subscription(subscription)

    def resume_subscription(self, subscription: Subscription) -> None:
        self._gone(subscription.room.node)
        self._media.resume_subscription(subscription)

    def kick(self, room: Room, *, feed_id: int) -> None:
        self._gone(room.node)
        self._media.kick(room, feed_id=feed_id)

    def leave(self, endpoint: Endpoint) -> None:
        self._gone(endpoint.room.node)
        self._media.leave(endpoint)

    def destroy_room(self, room: Room) -> None:
        self._gone(room.node)
        self._media.destroy_room(room)


class MediaWatchdog:
    """Keeps the consecutive misses of each node and each call between passes (``check``); ``run`` repeats."""

    def __init__(
        self, media: MediaServer, *, confirm: int = DEFAULT_CONFIRM, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        if not isinstance(media, WatchableMedia):
            raise TypeError(f"{type(media).__name__} cannot list a node's rooms: the watchdog cannot use it")
        if confirm < 1 or timeout <= 0:
            raise ValueError("confirm must be at least 1 and timeout positive")
        self.media = media
        self.watchable: WatchableMedia = media
        self.confirm = confirm
        self.timeout = timeout
        self.node_misses: dict[str, int] = {}
        self.room_misses: dict[UUID, int] = {}
        self._pool: ThreadPoolExecutor | None = None

    def _probe(self, node: str) -> Probe:
        try:
            return Probe(node, frozenset(self.watchable.rooms_on(node, timeout=self.timeout)), lost=False)
        except (NodeUnavailable, MediaTimeout) as problem:
            return Probe(node, None, lost=True, error=str(problem))
        except MediaError as problem:
            return Probe(node, None, lost=False, error=str(problem))

    def probe(self, nodes: Sequence[str]) -> dict[str, Probe]:
        """Every node at once, each bounded by the timeout, so one hung node does not hold up the others' verdict.
        One node is probed on this thread: the watchdog runs all day, and its cost is part of the control plane's."""
        if len(nodes) <= 1:
            return {node: self._probe(node) for node in nodes}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="media-watch")
        return {probe.node: probe for probe in self._pool.map(self._probe, nodes)}

    def check(self, now: datetime | None = None) -> WatchResult:
        """One pass: probe, count misses, fail the calls whose loss is confirmed."""
        result = WatchResult()
        configured = set(self.watchable.node_urls())
        calls = list(
            Call.objects.filter(
                state__in=WATCHED_STATES, janus_room_id__isnull=False, room_destroyed_at__isnull=True
            ).only("pk", "state", "media_node", "janus_room_id")
        )
        unknown = [call for call in calls if call.media_node not in configured]
        for call in unknown:
            # A node removed from the settings while it hosts a call: not ours to judge; the operator's to fix.
            result.errors.append(f"{call.pk}: its node {call.media_node} is not configured")
        calls = [call for call in calls if call.media_node in configured]
        probes = self.probe(sorted({call.media_node for call in calls}))
        result.nodes, result.calls = len(probes), len(calls)

        for node, probe in probes.items():
            if probe.lost:
                self.node_misses[node] = self.node_misses.get(node, 0) + 1
                logger.warning(
                    "Media node %s did not answer (%d in a row): %s",
                    node,
                    self.node_misses[node],
                    probe.error,
                )
            else:
                self.node_misses.pop(node, None)
                if probe.error:
                    result.errors.append(f"{node}: {probe.error}")
                    logger.error("Media node %s answered the watchdog with an error: %s", node, probe.error)
        for node in set(self.node_misses) - set(probes):
            del self.node_misses[node]  # no open call there any more

        due: list[tuple[Call, str, bool]] = []
        for call in calls:
            probe = probes[call.media_node]
            if probe.lost:
                self.room_misses.pop(call.pk, None)
                result.suspect += 1
                if self.node_misses[call.media_node] >= self.confirm:
                    due.append((call, NODE_LOST_NOTE, True))
            elif probe.rooms is None:
                continue  # the node answered with an error: nothing is known about the room
            elif call.janus_room_id in probe.rooms:
                self.room_misses.pop(call.pk, None)
            else:
                self.room_misses[call.pk] = self.room_misses.get(call.pk, 0) + 1
                result.suspect += 1
                logger.warning(
                    "The room of call %s is missing from %s (%d in a row)",
                    call.pk,
                    call.media_node,
                    self.room_misses[call.pk],
                )
                if self.room_misses[call.pk] >= self.confirm:
                    due.append((call, ROOM_LOST_NOTE, False))
        watched = {call.pk for call in calls}
        for call_id in set(self.room_misses) - watched:
            del self.room_misses[call_id]

        moment = now or timezone.now()
        for call, note, node_lost in due:
            media: MediaServer = _NodeGone(self.media, call.media_node) if node_lost else self.media
            try:
                call_fail(
                    call=call,
                    actor=None,
                    media=media,
                    reason=EndReason.MEDIA_NODE_LOST,
                    note=note,
                    now=moment,
                )
            except (CallRefused, MediaError) as problem:
                # Ended, or failed by another process, since it was read: the call has moved on.
                result.errors.append(f"{call.pk}: {problem}")
                logger.info("Media watchdog left call %s: %s", call.pk, problem)
            else:
                result.failed.append(call.pk)
                logger.warning("Call %s failed: %s (%s)", call.pk, note, call.media_node)
            self.room_misses.pop(call.pk, None)
        return result

    def run(self, *, every: float, stop: threading.Event, passes: int | None = None) -> int:
        """Check every ``every`` seconds on a fixed cadence (a slow pass does not push the next one back further
        than its own length) until ``stop`` is set or ``passes`` are done. Returns the number of calls failed.
        A pass that raises (the database away for a moment) is logged and the next one tries again."""
        from django.db import connection

        failed, done = 0, 0
        next_at = time.monotonic()
        while not stop.is_set() and (passes is None or done < passes):
            try:
                failed += len(self.check().failed)
            except Exception:
                logger.exception("Media watchdog pass failed")
                # The database connection is kept between passes (opening one every two seconds costs more than
                # the pass); after an error it is dropped, and the next pass opens a fresh one.
                if not connection.in_atomic_block:
                    connection.close()
            done += 1
            next_at = max(next_at + every, time.monotonic())
            if passes is not None and done >= passes:
                break
            stop.wait(max(0.0, next_at - time.monotonic()))
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        return failed


__all__ = ["WATCHED_STATES", "MediaWatchdog", "Probe", "WatchResult", "WatchableMedia"]
