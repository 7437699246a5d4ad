"""The call lifecycle: every change to a call, in one transaction each, audited with the rules behind it.

    scheduled -> ready -> live <-> paused -> ended | terminated | failed | no_show

Opening a call (the clock, at the slot start) creates the media room through the ``MediaServer`` Protocol,
recorded as ``policy.recording_required`` says (prisons record, PF 1.3; IRCs never, DSO Annex A; legal calls in
IRC are also never monitored, DSO 9). Ending, terminating, failing or a no-show destroy the room. Pausing pauses
the parties' own subscriptions (not the publishers, not the monitors'), so staff still watch while the parties
neither see nor hear each other. Media calls happen inside the transaction: a media error rolls the change back
(except teardown, which a lost node has already done, and which never stops a call from ending).

Every service is keyword-only, takes ``now`` (default: the current time) and raises ``CallRefused`` with every
reason, each citing its rule where there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.audit.services import audit_record
from kinship.bookings import facts as booking_facts
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import Booking, BookingStatus, CallOutcome
from kinship.bookings.services import booking_outcome_record
from kinship.establishments.models import Terminal, TerminalKind
from kinship.policy.time import require_aware
from kinship.recordings.tasks import enqueue_processing
from kinship.safeguarding.services_welfare import incident_create_for_termination

from . import facts
from .errors import CallProblem, CallRefused
from .media.base import MediaError, MediaServer, NoSuchRoom, NoSuchSession, Publisher, Stream, Subscription
from .models import (
    OPEN_STATES,
    RUNNING_STATES,
    Call,
    CallCheckIn,
    CallEndpoint,
    CallParty,
    CallPause,
    CallState,
    EndpointRole,
    EndReason,
    MonitorViewing,
    TerminationReason,
)
from .signalling import notify_call_state, notify_call_warning, notify_viewing_ended

logger = logging.getLogger(__name__)

#: Which state each state may move to. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    CallState.SCHEDULED: frozenset({CallState.READY, CallState.FAILED, CallState.NO_SHOW}),
    CallState.READY: frozenset({CallState.LIVE, CallState.FAILED, CallState.NO_SHOW}),
    CallState.LIVE: frozenset({CallState.PAUSED, CallState.ENDED, CallState.TERMINATED, CallState.FAILED}),
    CallState.PAUSED: frozenset({CallState.LIVE, CallState.ENDED, CallState.TERMINATED, CallState.FAILED}),
}

#: The words used in the refusal of an illegal transition ("A call that is live cannot be started").
ACTIONS: dict[str, str] = {
    CallState.READY: "made ready",
    CallState.LIVE: "started or resumed",
    CallState.PAUSED: "paused",
    CallState.ENDED: "ended",
    CallState.TERMINATED: "terminated",
    CallState.FAILED: "marked as a technical failure",
    CallState.NO_SHOW: "marked as not attended",
}

#: The rules checked before a call goes live (or back to live), by profile, for the audit log.
PRISON_START_RULES = frozenset({"PF 4.21", "PF 4.22", "PF 4.23", "PF 4.7"})
IRC_START_RULES = frozenset({"DSO 8", "DSO 9"})

#: The warnings before the end of the slot (minutes), sent once each.
WARNING_MINUTES = (5, 1)


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    require_aware(moment)
    return moment


def no_show_grace() -> timedelta:
    """How long after the slot starts a call that was never made live is marked as not attended."""
    return timedelta(minutes=int(getattr(settings, "KINSHIP_CALL_NO_SHOW_GRACE_MINUTES", 10)))


def _profile(call: Call) -> policy.Profile:
    return policy.Profile(call.establishment.profile)


def _is_prison(call: Call) -> bool:
    return _profile(call) in policy.PRISON_PROFILES


def _is_irc(call: Call) -> bool:
    return _profile(call) in policy.IMMIGRATION_PROFILES


def _lock(call: Call) -> Call:
    return (
        Call.objects.select_for_update(of=("self",))
        .select_related("booking__slot__room", "booking__resident", "booking__lead_contact", "establishment")
        .get(pk=call.pk)
    )


def _snapshot(call: Call) -> dict[str, Any]:
    return {
        "state": call.state,
        "booking": str(call.booking_id),
        "media_node": call.media_node,
        "janus_room_id": call.janus_room_id,
        "recorded": call.recorded,
        "end_reason": call.end_reason,
        "terminated_reason": call.terminated_reason,
    }


def _audit(
    action: str,
    *,
    call: Call,
    actor: User | None,
    before: dict[str, Any] | None,
    now: datetime,
    policy_ids: Iterable[str] = (),
    **extra: Any,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        subject=call,
        establishment_code=call.establishment.code,
        before=before,
        after={**_snapshot(call), **extra},
        policy_ids=set(policy_ids),
        occurred_at=now,
    )


def _push(call: Call, event: str | None = None) -> None:
    """After the commit, tell the call's connected browsers (signalling) of the change."""
    transaction.on_commit(partial(notify_call_state, call, event), robust=True)


def _require(call: Call, target: str) -> None:
    if target not in TRANSITIONS.get(call.state, frozenset()):
        raise CallRefused(
            [
                CallProblem.of(
                    "call.illegal_transition",
                    state=CallState(call.state).label.lower(),
                    action=ACTIONS[target],
                )
            ]
        )


def _within_slot(call: Call, now: datetime) -> None:
    if now >= call.booking.slot.ends_at:
        raise CallRefused([CallProblem.of("call.slot_over")])


def _refuse_unless(decision: policy.Decision) -> None:
    if not decision.allowed:
        raise CallRefused.from_decision(decision)


def _staff(user: User, call: Call) -> policy.Staff:
    return booking_facts.staff_facts(user, call.establishment)


# --- The media room -------------------------------------------------------------------------------------------------


def recording_for(booking: Booking) -> bool:
    """PF 1.3: prison calls are recorded; DSO Annex A and DSO 9: nothing is recorded in immigration detention."""
    return policy.recording_required(
        policy.Profile(booking.slot.establishment.profile), policy.CallKind(booking.kind)
    )


def _make_room(call: Call, media: MediaServer) -> None:
    record = recording_for(call.booking)
    rec_dir = str(settings.JANUS_RECORDINGS_DIR / str(call.pk)) if record else None
    publishers = max(4, 2 + call.booking.participant_links.count())
    room = media.create_room(call_id=str(call.pk), record=record, rec_dir=rec_dir, publishers=publishers)
    try:
        call.keep_room(room)
        call.save()
    except BaseException:
        media.destroy_room(room)
        raise


def _teardown(call: Call, media: MediaServer, now: datetime) -> str:
    """Destroy the room and forget its sessions. Never refuses: a room the server no longer has is gone already,
    and a node that does not answer took its rooms with it. Returns the media error, if there was one."""
    error = ""
    if call.has_room:
        try:
            media.destroy_room(call.media_room())
        except NoSuchRoom:
            pass
        except MediaError as problem:
            error = str(problem)
            logger.warning("Destroying the room of call %s failed: %s", call.pk, problem)
        call.room_destroyed_at = now
    call.endpoints.filter(ended_at__isnull=True).update(ended_at=now)
    return error


def _subscription(call: Call, endpoint: CallEndpoint) -> Subscription:
    return Subscription(
        room=call.media_room(),
        participant=endpoint.participant,
        session_id=endpoint.session_id,
        handle_id=endpoint.handle_id,
        video_only=endpoint.video_only,
        streams=tuple(
            Stream(feed_id=int(item["feed_id"]), kind=item["kind"], mid=str(item["mid"]))
            for item in endpoint.streams
        ),
        offer_sdp="",
    )


def _parties_media(call: Call, media: MediaServer, now: datetime, *, pause: bool) -> int:
    """Pause (or resume) what each party receives. Monitors' subscriptions and all publishers are untouched, so
    staff go on watching (PF 4.21, DSO 11). Returns the number of subscriptions changed."""
    changed = 0
    endpoints = call.endpoints.filter(is_subscription=True, ended_at__isnull=True).exclude(
        role=EndpointRole.MONITOR
    )
    for endpoint in endpoints:
        subscription = _subscription(call, endpoint)
        try:
            if pause:
                media.pause_subscription(subscription)
            else:
                media.resume_subscription(subscription)
        except NoSuchSession:
            endpoint.ended_at = now
            endpoint.save(update_fields=["ended_at", "updated_at"])
            continue
        except MediaError as problem:
            raise CallRefused([CallProblem.of("call.media", error=str(problem))]) from problem
        changed += 1
    return changed


def call_endpoint_record(
    *, call: Call, role: EndpointRole, endpoint: Publisher | Subscription, now: datetime | None = None
) -> CallEndpoint:
    """Keep a media session Kinship opened for a participant (the signalling layer calls this), so that pause,
    resume and teardown reach it from any process."""
    _now(now)
    with transaction.atomic():
        current = _lock(call)
        if current.state not in OPEN_STATES or not current.has_room:
            raise CallRefused([CallProblem.of("call.no_room")])
        if endpoint.room.room_id != current.janus_room_id:
            raise CallRefused([CallProblem.of("call.no_room")])
        is_subscription = isinstance(endpoint, Subscription)
        return CallEndpoint.objects.create(
            call=current,
            role=role,
            participant=endpoint.participant,
            is_subscription=is_subscription,
            session_id=endpoint.session_id,
            handle_id=endpoint.handle_id,
            feed_id=endpoint.feed_id if isinstance(endpoint, Publisher) else None,
            video_only=endpoint.video_only if isinstance(endpoint, Subscription) else False,
            # A publisher's streams too: a monitor's video-only subscription picks the feed's video mids.
            streams=[
                {"feed_id": stream.feed_id, "kind": stream.kind, "mid": stream.mid}
                for stream in endpoint.streams
            ],
        )


# --- Opening --------------------------------------------------------------------------------------------------------


def call_open(
    *, booking: Booking, media: MediaServer, actor: User | None = None, now: datetime | None = None
) -> Call:
    """The slot has started: make the call and its media room. If the media server cannot make the room now,
    the call is still opened (so people can check in) and the clock tries again; a call whose room never comes
    fails as a technical failure (``calls_tick_run``)."""
    now = _now(now)
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot__establishment", "slot__room")
            .get(pk=booking.pk)
        )
        problems = []
        if Call.objects.filter(booking=locked).exists():
            problems.append(CallProblem.of("call.already_open"))
        if locked.status != BookingStatus.APPROVED:
            problems.append(CallProblem.of("call.booking_not_approved"))
        if not locked.slot.starts_at <= now < locked.slot.ends_at:
            problems.append(CallProblem.of("call.not_in_slot"))
        if problems:
            raise CallRefused(problems)
        call = Call.objects.create(booking=locked, establishment=locked.slot.establishment, opened_at=now)
        media_error = ""
        try:
            _make_room(call, media)
        except MediaError as problem:
            media_error = str(problem)
            logger.warning("No media room for call %s yet: %s", call.pk, problem)
        profile = policy.Profile(locked.slot.establishment.profile)
        rules = {"PF 1.3"} if call.recorded else set()
        if profile in policy.IMMIGRATION_PROFILES:
            rules |= {"DSO Annex A"} | ({"DSO 9"} if locked.kind == "legal" else set())
        _audit(
            "call_opened",
            call=call,
            actor=actor,
            before=None,
            now=now,
            policy_ids=rules,
            media_error=media_error,
        )
    return call


def call_room_retry(*, call: Call, media: MediaServer, now: datetime | None = None) -> Call:
    """Try again to make the room of an open call that has none (the media server was down at the slot start)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        if current.state not in (CallState.SCHEDULED, CallState.READY) or current.janus_room_id is not None:
            return current
        _make_room(current, media)
        _audit(
            "call_room_created",
            call=current,
            actor=None,
            before=None,
            now=now,
            policy_ids={"PF 1.3"} if current.recorded else set(),
        )
    return current


# --- Before the call ------------------------------------------------------------------------------------------------


def call_check_in(*, call: Call, party: CallParty, actor: User, now: datetime | None = None) -> Call:
    """Record the person in custody (checked in by the officer) or the supervising officer (themself) as
    present. With both present the call is ready."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        if current.state not in (CallState.SCHEDULED, CallState.READY):
            _require(current, CallState.READY)
        _within_slot(current, now)
        if current.check_ins.filter(party=party).exists():
            raise CallRefused([CallProblem.of("call.already_checked_in", party=CallParty(party).label)])
        CallCheckIn.objects.create(call=current, party=party, checked_in_by=actor, checked_in_at=now)
        present = set(current.check_ins.values_list("party", flat=True))
        if current.state == CallState.SCHEDULED and present == {CallParty.RESIDENT, CallParty.OFFICER}:
            current.state = CallState.READY
            current.ready_at = now
            current.save(update_fields=["state", "ready_at", "updated_at"])
            _push(current)
        _audit("call_checked_in", call=current, actor=actor, before=before, now=now, party=party)
    return current


def call_adult_check(*, call: Call, actor: User, now: datetime | None = None) -> Call:
    """DSO 8: the supervising officer has seen that the main recipient is an adult (IRC calls only)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        if not _is_irc(current):
            raise CallRefused([CallProblem.of("call.adult_check_not_needed", rule_id="DSO 8")])
        if current.state not in (CallState.SCHEDULED, CallState.READY):
            _require(current, CallState.READY)
        _within_slot(current, now)
        current.adult_check_by = actor
        current.adult_check_at = now
        current.save(update_fields=["adult_check_by", "adult_check_at", "updated_at"])
        _audit(
            "call_adult_check_recorded",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids={"DSO 8"},
        )
    return current


# --- Running --------------------------------------------------------------------------------------------------------


def _run_rules(call: Call) -> frozenset[str]:
    return PRISON_START_RULES if _is_prison(call) else IRC_START_RULES if _is_irc(call) else frozenset()


def call_start(*, call: Call, actor: User, now: datetime | None = None) -> Call:
    """Go live. The rules are decided again now: access (restrictions, suspensions, bans), participants, DSO 8's
    adult check in IRC, and in prisons an active, authorised monitor from a registered terminal (PF 4.21 to 4.23)
    who watches no more than PF 4.7 allows and an E-list call alone (PF 4.22)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        _require(current, CallState.LIVE)
        _within_slot(current, now)
        if not current.has_room:
            raise CallRefused([CallProblem.of("call.no_room")])
        decision = policy.call_may_run(facts.call_facts(current, now=now))
        _refuse_unless(decision)
        current.state = CallState.LIVE
        current.live_at = now
        current.started_by = actor
        current.save(update_fields=["state", "live_at", "started_by", "updated_at"])
        _push(current)
        _audit(
            "call_started",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids=_run_rules(current) | decision.rule_ids,
        )
    return current


def call_pause(
    *,
    call: Call,
    actor: User | None,
    reason: str,
    media: MediaServer,
    policy_id: str = "DSO 11",
    now: datetime | None = None,
) -> Call:
    """The parties stop seeing and hearing each other; staff go on watching (DSO 11; PF 4.21 when monitoring
    stops)."""
    now = _now(now)
    reason = reason.strip()
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        _require(current, CallState.PAUSED)
        if not reason:
            raise CallRefused([CallProblem.of("call.pause_reason", field="reason")])
        CallPause.objects.create(
            call=current, paused_at=now, paused_by=actor, reason=reason, policy_id=policy_id
        )
        paused = _parties_media(current, media, now, pause=True)
        current.state = CallState.PAUSED
        current.save(update_fields=["state", "updated_at"])
        _push(current)
        _audit(
            "call_paused",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids={policy_id} if policy_id else set(),
            reason=reason,
            subscriptions_paused=paused,
        )
    return current


def call_resume(*, call: Call, actor: User, media: MediaServer, now: datetime | None = None) -> Call:
    """Back to live, if the call may run now (in prisons: a monitor is watching again, PF 4.21)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        _require(current, CallState.LIVE)
        _within_slot(current, now)
        decision = policy.call_may_run(facts.call_facts(current, now=now))
        _refuse_unless(decision)
        current.pauses.filter(resumed_at__isnull=True).update(resumed_at=now, resumed_by=actor)
        resumed = _parties_media(current, media, now, pause=False)
        current.state = CallState.LIVE
        current.save(update_fields=["state", "updated_at"])
        _push(current, "resumed")
        _audit(
            "call_resumed",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids=_run_rules(current) | decision.rule_ids,
            subscriptions_resumed=resumed,
        )
    return current


# --- Endings --------------------------------------------------------------------------------------------------------


def _close(
    current: Call,
    *,
    state: CallState,
    end_reason: EndReason,
    actor: User | None,
    media: MediaServer,
    now: datetime,
    note: str = "",
) -> str:
    """The common end of every ending: the state, open pauses and viewings closed, the room destroyed."""
    _require(current, state)
    current.pauses.filter(resumed_at__isnull=True).update(resumed_at=now)
    current.viewings.filter(ended_at__isnull=True).update(ended_at=now, end_note="The call ended")
    media_error = _teardown(current, media, now)
    current.state = state
    current.ended_at = now
    current.ended_by = actor
    current.end_reason = end_reason
    current.end_note = note.strip()
    current.save()
    _push(current)
    if current.recorded:
        # PF 1.3: once the room is gone, the worker turns Janus's raw files into the call's recording.
        transaction.on_commit(partial(enqueue_processing, str(current.pk)), robust=True)
    return media_error


def _outcome(booking: Booking, outcome: CallOutcome, note: str, actor: User | None, now: datetime) -> None:
    try:
        # booking_outcome_record's own audit and ledger accept a system actor (the clock) as None.
        booking_outcome_record(booking=booking, outcome=outcome, note=note, actor=cast(User, actor), now=now)
    except BookingRefused as refusal:
        raise CallRefused(
            CallProblem(rule_id=problem.rule_id, code=problem.code, text=problem.text)
            for problem in refusal.problems
        ) from refusal


def call_end(
    *,
    call: Call,
    actor: User | None,
    media: MediaServer,
    reason: EndReason = EndReason.ENDED_BY_STAFF,
    no_fault: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Call:
    """The call is over (the clock at the slot end, or the officer): the room is destroyed and the booking
    completed.

    ``no_fault``: the officer ends it before its time through nobody's fault (a lockdown, an alarm, staff
    called away). The family loses nothing for it: the booking's minutes are given back (PF 4.1, issue 4), with
    ``note`` saying why. Only before the slot's end; at or after it the call simply ended."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        if no_fault and now >= current.booking.slot.ends_at:
            raise CallRefused([CallProblem.of("call.not_early")])
        if no_fault and not note.strip():
            raise CallRefused([CallProblem.of("call.no_fault_note", field="note")])
        before = _snapshot(current)
        media_error = _close(
            current, state=CallState.ENDED, end_reason=reason, actor=actor, media=media, now=now, note=note
        )
        outcome = CallOutcome.ENDED_EARLY_NO_FAULT if no_fault else CallOutcome.COMPLETED
        _outcome(current.booking, outcome, note, actor, now)
        _audit(
            "call_ended_early_no_fault" if no_fault else "call_ended",
            call=current,
            actor=actor,
            before=before,
            now=now,
            media_error=media_error,
        )
    return current


def call_terminate(
    *,
    call: Call,
    actor: User,
    reason: str,
    details: str,
    body_worn_camera_used: bool,
    media: MediaServer,
    now: datetime | None = None,
) -> Call:
    """DSO 11, DSO 12, DSO 19: supervising staff end the call for a breach or a security risk. The reason is
    recorded and an incident report goes to security, marked for police referral for recording or unlawful
    activity (DSO Annex A), with whether a body-worn camera was used."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        _require(current, CallState.TERMINATED)
        if reason not in TerminationReason.values:
            raise CallRefused(
                [
                    CallProblem(
                        rule_id="DSO 11",
                        code="termination.reason",
                        text="Select the reason for ending the call",
                        field="reason",
                    )
                ]
            )
        decision = policy.termination_allowed(
            facts.termination_facts(
                current,
                actor=_staff(actor, current),
                reason=reason,
                details=details,
                body_worn_camera_used=body_worn_camera_used,
            )
        )
        _refuse_unless(decision)
        media_error = _close(
            current,
            state=CallState.TERMINATED,
            end_reason=EndReason.TERMINATED,
            actor=actor,
            media=media,
            now=now,
        )
        outcome = policy.termination_outcome(policy.TerminationReason(reason))
        incident = incident_create_for_termination(
            booking=current.booking,
            reason=reason,
            details=details.strip(),
            actor=actor,
            body_worn_camera_used=body_worn_camera_used,
        )
        current.terminated_reason = reason
        current.termination_details = details.strip()
        current.body_worn_camera_used = body_worn_camera_used
        current.incident = incident
        current.save(
            update_fields=[
                "terminated_reason",
                "termination_details",
                "body_worn_camera_used",
                "incident",
                "updated_at",
            ]
        )
        _outcome(
            current.booking,
            CallOutcome.COMPLETED,
            f"Ended by staff: {TerminationReason(reason).label}",
            actor,
            now,
        )
        _audit(
            "call_terminated",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids={"DSO 11", "DSO 12", "DSO 19"}
            | ({"DSO Annex A"} if outcome.police_referral else set()),
            incident=str(incident.pk),
            police_referral=outcome.police_referral,
            body_worn_camera_used=body_worn_camera_used,
            media_error=media_error,
        )
    return current


def call_fail(
    *,
    call: Call,
    actor: User | None,
    media: MediaServer,
    reason: EndReason = EndReason.MARKED_TECHNICAL_FAILURE,
    note: str = "",
    now: datetime | None = None,
) -> Call:
    """A technical failure (the media node was lost, no room could be made, or the officer says so): the room is
    destroyed, the minutes are given back (PF 4.1) and the call goes to the review queue for rebooking (PF 4.8)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        media_error = _close(
            current, state=CallState.FAILED, end_reason=reason, actor=actor, media=media, now=now, note=note
        )
        _outcome(
            current.booking, CallOutcome.TECHNICAL_FAILURE, note or str(EndReason(reason).label), actor, now
        )
        _audit(
            "call_failed",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids={"PF 4.1", "PF 4.8"},
            media_error=media_error,
        )
    return current


def call_no_show(
    *,
    call: Call,
    actor: User | None,
    media: MediaServer,
    reason: EndReason = EndReason.MARKED_NO_SHOW,
    note: str = "",
    now: datetime | None = None,
) -> Call:
    """Nobody made the call live (someone failed to attend): the room is destroyed, the minutes stay used and the
    call goes to the review queue (PF 4.8)."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        before = _snapshot(current)
        _require(current, CallState.NO_SHOW)
        present = sorted(current.check_ins.values_list("party", flat=True))
        detail = note.strip() or (
            f"Not started. Checked in: {', '.join(str(CallParty(party).label) for party in present)}."
            if present
            else "Not started. Nobody checked in."
        )
        media_error = _close(
            current,
            state=CallState.NO_SHOW,
            end_reason=reason,
            actor=actor,
            media=media,
            now=now,
            note=detail,
        )
        _outcome(current.booking, CallOutcome.FAILED_TO_ATTEND, detail, actor, now)
        _audit(
            "call_no_show",
            call=current,
            actor=actor,
            before=before,
            now=now,
            policy_ids={"PF 4.8"},
            checked_in=present,
            media_error=media_error,
        )
    return current


def call_warn(*, call: Call, minutes: int, now: datetime | None = None) -> bool:
    """Record the end warning (5 or 1 minutes before the slot ends) once and push it to both
    sides (after the commit, ``signalling.notify_call_warning``). Returns whether it was recorded now."""
    now = _now(now)
    if minutes not in WARNING_MINUTES:
        raise ValueError(f"warnings are sent {WARNING_MINUTES} minutes before the end")
    name = f"warned_{minutes}_at"
    with transaction.atomic():
        current = _lock(call)
        if current.state not in RUNNING_STATES or getattr(current, name) is not None:
            return False
        setattr(current, name, now)
        current.save(update_fields=[name, "updated_at"])
        transaction.on_commit(partial(notify_call_warning, current, minutes), robust=True)
        _audit("call_warning_recorded", call=current, actor=None, before=None, now=now, minutes=minutes)
    return True


# --- Monitoring (PF 4.21 to PF 4.23, PF 4.7, DSO 9) -----------------------------------------------------------------


def _terminal_ok(terminal: Terminal, call: Call) -> bool:
    return (
        terminal.kind == TerminalKind.MONITORING
        and terminal.is_registered
        and terminal.active
        and terminal.establishment_id == call.establishment_id
    )


def _watched_alone_by_restriction(now: datetime) -> Q:
    """Viewings of calls whose person is under a restriction, in force now, that requires a dedicated monitor."""
    return Q(
        call__booking__resident__restrictions__dedicated_monitor=True,
        call__booking__resident__restrictions__starts_at__lte=now,
        call__booking__resident__restrictions__lifted_at__isnull=True,
    ) & (
        Q(call__booking__resident__restrictions__ends_at__isnull=True)
        | Q(call__booking__resident__restrictions__ends_at__gt=now)
    )


def monitor_viewing_start(
    *, call: Call, officer: User, terminal: Terminal, reason: str, now: datetime | None = None
) -> MonitorViewing:
    """An authorised officer starts watching a call from a registered monitoring terminal (PF 4.23), if they
    watch no more than PF 4.7 allows, an E-list call alone and nothing else while they watch one (PF 4.22), and
    never a legal call in IRC (DSO 9). The viewing is logged: who, which call, which terminal, from when, why."""
    now = _now(now)
    with transaction.atomic():
        current = _lock(call)
        problems: list[CallProblem] = []
        if current.state not in OPEN_STATES:
            raise CallRefused([CallProblem.of("monitoring.call_over")])
        if current.viewings.filter(officer=officer, ended_at__isnull=True).exists():
            raise CallRefused([CallProblem.of("monitoring.already_watching")])
        terminal_ok = _terminal_ok(terminal, current)
        if not terminal_ok:
            problems.append(CallProblem.of("monitoring.terminal_not_monitoring", rule_id="PF 4.23"))
        viewer = _staff(officer, current)
        viewing = policy.monitoring_allowed(
            facts.viewing_facts(
                current, viewer=viewer, terminal_registered=terminal_ok, purpose=reason, now=now
            )
        )
        others = MonitorViewing.objects.filter(officer=officer, ended_at__isnull=True).exclude(call=current)
        if others.filter(call__booking__resident__e_list=True).exists():
            problems.append(CallProblem.of("monitoring.e_list_watched", rule_id="PF 4.22"))
        if others.filter(_watched_alone_by_restriction(now)).exists():
            problems.append(CallProblem.of("monitoring.dedicated_watched", rule_id="PF 4.4"))
        monitor = policy.Monitor(
            officer=viewer,
            terminal_registered=terminal_ok,
            active=True,
            other_calls_watched=others.values("call_id").distinct().count(),
        )
        load = policy.call_may_run(facts.call_facts(current, now=now, monitor=monitor))
        # Of everything call_may_run checks, what this viewing itself would break: the officer's load (PF 4.7), a
        # call that must be watched alone (PF 4.22, or a PF 4.4 restriction), legal privacy (DSO 9).
        load_refusals = [
            r
            for r in load.refusals
            if r.rule_id in {"PF 4.7", "PF 4.22", "DSO 9"} or r.code == "restriction.dedicated_monitor"
        ]
        problems += [CallProblem.from_reason(r) for r in viewing.refusals]
        problems += [
            CallProblem.from_reason(r) for r in load_refusals if CallProblem.from_reason(r) not in problems
        ]
        if problems:
            raise CallRefused(problems)
        record = MonitorViewing.objects.create(
            call=current, officer=officer, terminal=terminal, reason=reason.strip(), started_at=now
        )
        audit_record(
            action="monitor_viewing_started",
            actor=officer,
            subject=record,
            establishment_code=current.establishment.code,
            after={"call": str(current.pk), "terminal": str(terminal.pk), "reason": record.reason},
            policy_ids={"PF 4.23", "PF 4.21", "PF 4.7"}
            | ({"PF 4.22"} if current.booking.resident.e_list else set()),
            occurred_at=now,
        )
    return record


def monitor_viewing_end(
    *,
    viewing: MonitorViewing,
    actor: User | None,
    media: MediaServer,
    note: str = "",
    now: datetime | None = None,
) -> MonitorViewing:
    """The officer stops watching. If that leaves a live prison call without an active monitor, the call is
    paused at once (PF 4.21); if it cannot be paused (the media server does not answer), it fails."""
    now = _now(now)
    with transaction.atomic():
        current = MonitorViewing.objects.select_for_update().get(pk=viewing.pk)
        if current.ended_at is not None:
            raise CallRefused([CallProblem.of("monitoring.not_active")])
        current.ended_at = now
        current.end_note = note.strip()[:200]
        current.save(update_fields=["ended_at", "end_note", "updated_at"])
        call = _lock(current.call)
        for endpoint in call.endpoints.filter(
            role=EndpointRole.MONITOR, participant=str(current.officer_id), ended_at__isnull=True
        ):
            if call.has_room:
                try:
                    media.leave(_subscription(call, endpoint))
                except MediaError as problem:
                    logger.warning("Ending monitor session of call %s failed: %s", call.pk, problem)
            endpoint.ended_at = now
            endpoint.save(update_fields=["ended_at", "updated_at"])
        audit_record(
            action="monitor_viewing_ended",
            actor=actor,
            subject=current,
            establishment_code=call.establishment.code,
            after={"call": str(call.pk), "started_at": current.started_at, "ended_at": now},
            policy_ids={"PF 4.23"},
            occurred_at=now,
        )
        # The monitor's socket (if open) drops its media and closes, wherever the viewing was stopped.
        transaction.on_commit(partial(notify_viewing_ended, current), robust=True)
        if call.state == CallState.LIVE:
            decision = policy.call_may_run(facts.call_facts(call, now=now))
            unmonitored = next((r for r in decision.refusals if r.rule_id == "PF 4.21"), None)
            if unmonitored is not None:
                try:
                    call_pause(
                        call=call,
                        actor=None,
                        reason=unmonitored.message,
                        media=media,
                        policy_id="PF 4.21",
                        now=now,
                    )
                except CallRefused:
                    call_fail(
                        call=call,
                        actor=None,
                        media=media,
                        reason=EndReason.MEDIA_NODE_LOST,
                        note="PF 4.21: monitoring stopped and the call could not be paused",
                        now=now,
                    )
    return current


# --- The clock ------------------------------------------------------------------------------------------------------


@dataclass
class TickResult:
    opened: int = 0
    rooms_made: int = 0
    warned: int = 0
    ended: int = 0
    no_shows: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "rooms_made": self.rooms_made,
            "warned": self.warned,
            "ended": self.ended,
            "no_shows": self.no_shows,
            "failed": self.failed,
            "errors": len(self.errors),
        }


def _each(result: TickResult, calls: Iterable[Any], step: Any) -> int:
    done = 0
    for item in calls:
        try:
            step(item)
        except (CallRefused, MediaError) as problem:
            # Another process (or an officer) moved the call first, or the media server is down: the next tick
            # decides again.
            result.errors.append(f"{item.pk}: {problem}")
            logger.info("Call clock skipped %s: %s", item.pk, problem)
        else:
            done += 1
    return done


def calls_tick_run(*, media: MediaServer, now: datetime | None = None) -> TickResult:
    """One pass of the call clock, safe to run every minute and idempotent: each step looks only at calls still
    needing it, and each service refuses a call that has moved on.

    1. Calls on a media node that is no longer healthy fail (technical failure: minutes back, review).
    2. Approved bookings whose slot has started (and not ended) are opened, with their room.
    3. Open calls still without a room get one, or fail once the no-show grace has passed.
    4. Live or paused calls are ended at the slot end.
    5. Live or paused calls are warned 5 minutes and 1 minute before the end, once each.
    6. Calls never made live by the grace time (or the slot end) are marked as not attended."""
    now = _now(now)
    result = TickResult()
    grace = no_show_grace()
    open_calls = Call.objects.filter(state__in=OPEN_STATES).select_related("booking__slot")

    try:
        unhealthy = {status.url for status in media.nodes() if not status.healthy}
    except MediaError as problem:
        unhealthy = set()
        result.errors.append(f"nodes: {problem}")
    lost = open_calls.filter(
        media_node__in=unhealthy, janus_room_id__isnull=False, room_destroyed_at__isnull=True
    )
    result.failed += _each(
        result,
        list(lost),
        lambda call: call_fail(call=call, actor=None, media=media, reason=EndReason.MEDIA_NODE_LOST, now=now),
    )

    starting = Booking.objects.filter(
        status=BookingStatus.APPROVED, slot__starts_at__lte=now, slot__ends_at__gt=now, call__isnull=True
    )
    result.opened += _each(
        result, list(starting), lambda booking: call_open(booking=booking, media=media, now=now)
    )

    roomless = list(open_calls.filter(janus_room_id__isnull=True))
    late = [
        call
        for call in roomless
        if now >= min(call.booking.slot.starts_at + grace, call.booking.slot.ends_at)
    ]
    result.failed += _each(
        result,
        late,
        lambda call: call_fail(call=call, actor=None, media=media, reason=EndReason.NO_ROOM, now=now),
    )
    result.rooms_made += _each(
        result,
        [call for call in roomless if call not in late],
        lambda call: call_room_retry(call=call, media=media, now=now),
    )

    running = Call.objects.filter(state__in=RUNNING_STATES).select_related("booking__slot")
    result.ended += _each(
        result,
        list(running.filter(booking__slot__ends_at__lte=now)),
        lambda call: call_end(call=call, actor=None, media=media, reason=EndReason.COMPLETED, now=now),
    )

    for minutes in WARNING_MINUTES:
        due = running.filter(
            booking__slot__ends_at__gt=now, booking__slot__ends_at__lte=now + timedelta(minutes=minutes)
        ).filter(**{f"warned_{minutes}_at__isnull": True})
        if minutes == 5:
            # Within the last minute the 1-minute warning alone is due: five minutes would be wrong.
            due = due.filter(booking__slot__ends_at__gt=now + timedelta(minutes=1))
        result.warned += sum(1 for call in due if call_warn(call=call, minutes=minutes, now=now))

    waiting = Call.objects.filter(
        state__in=(CallState.SCHEDULED, CallState.READY), janus_room_id__isnull=False
    ).filter(booking__slot__starts_at__lte=now - grace) | Call.objects.filter(
        state__in=(CallState.SCHEDULED, CallState.READY),
        janus_room_id__isnull=False,
        booking__slot__ends_at__lte=now,
    )
    result.no_shows += _each(
        result,
        list(waiting.distinct()),
        lambda call: call_no_show(call=call, actor=None, media=media, reason=EndReason.NO_SHOW, now=now),
    )
    return result


__all__ = [
    "TRANSITIONS",
    "TickResult",
    "call_adult_check",
    "call_check_in",
    "call_end",
    "call_endpoint_record",
    "call_fail",
    "call_no_show",
    "call_open",
    "call_pause",
    "call_resume",
    "call_room_retry",
    "call_start",
    "call_terminate",
    "call_warn",
    "calls_tick_run",
    "monitor_viewing_end",
    "monitor_viewing_start",
]
