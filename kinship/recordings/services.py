"""Writes for recordings: making one from a closed call's raw files, opening one for playback, and deleting those
past their retention period.

- ``recording_process`` (the worker, enqueued when a recorded call closes) is idempotent: it claims the row, does
  the slow work outside any transaction, and records the outcome. A finished recording is never redone; a failure
  is kept on the row (status ``failed``, the error) with the raw files untouched, and ``recordings_tick_run`` tries
  again later. Raw files are removed only after the WebM is stored, its checksum verified and the row committed.
- ``recording_playback_start``: PF 1.3 and PF 4.23 through the policy engine (authorised role, registered
  monitoring terminal, a stated reason, within retention unless held); the playback is logged and audited.
- ``recordings_purge_run``: PF 4.20, each deletion asked of the policy engine (held for an investigation: kept).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import User
from kinship.audit.services import audit_record
from kinship.bookings import facts as booking_facts
from kinship.calls.models import FINAL_STATES, Call, CallEndpoint, EndpointRole
from kinship.establishments.models import Terminal, TerminalKind
from kinship.safeguarding.models import Incident, IncidentStatus

from . import mux
from .errors import RecordingProblem, RecordingRefused
from .models import Recording, RecordingPlayback, RecordingStatus, recording_path

logger = logging.getLogger(__name__)

#: Failed processing is retried by the periodic tick this many times in all, no more often than RETRY_AFTER.
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=10)
#: A run that claimed a recording this long ago and never finished (its worker died) may be taken over.
STALE_AFTER = timedelta(hours=2)
#: How long a stated reason lets its viewer stream the recording (one sitting).
PLAYBACK_GRANT = timedelta(hours=4)
#: Intermediate files (converted tracks, the WebM before it is stored) live in this sub-folder of the raw folder.
WORK_FOLDER = "kinship-work"

DONE_STATES = (RecordingStatus.READY, RecordingStatus.EMPTY, RecordingStatus.DELETED)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def recorded_start(call: Call) -> datetime:
    """The retention period runs from when the call went live (or opened, if it never did)."""
    return call.live_at or call.opened_at


def retention_expires_at(call: Call, recorded_at: datetime) -> datetime:
    """PF 4.20: the establishment's retention period for recordings, in local calendar days."""
    establishment = booking_facts.establishment_facts(call.establishment)
    return policy.retention_expires_at(
        policy.RecordKind.RECORDING, recorded_at, establishment.settings, establishment.timezone
    )


def open_investigation() -> Q:
    """Recordings whose call has an incident that is not closed: held for an investigation (PF 4.20)."""
    return Q(
        Exists(
            Incident.objects.filter(booking_id=OuterRef("call__booking_id")).exclude(
                status=IncidentStatus.CLOSED
            )
        )
    )


def recording_held(recording: Recording) -> bool:
    return Recording.objects.filter(pk=recording.pk).filter(open_investigation()).exists()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(partial(stream.read, 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _stored_sha256(recording: Recording, name: str) -> str:
    digest = hashlib.sha256()
    with recording.file.storage.open(name, "rb") as stream:
        for block in iter(partial(stream.read, 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_raw(folder: str, call_id: Any) -> None:
    """Remove a call's raw folder (after commit). A failure is logged: the raw files are only extra copies now.
    Only a folder named after the call is removed, whatever ``rec_dir`` says: never a parent by mistake."""
    if not folder:
        return
    if Path(folder).name != str(call_id):
        logger.error("Not removing %s: it is not the raw folder of call %s", folder, call_id)
        return
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as problem:
        logger.warning("Removing the raw recordings in %s failed: %s", folder, problem)


def _labels(call: Call) -> tuple[dict[int, str], list[str]]:
    """Each published feed's participant (the person in custody first, then contacts in the order they joined)
    and the names shown for them, left to right."""
    publishers = [
        endpoint
        for endpoint in CallEndpoint.objects.filter(call=call, is_subscription=False, feed_id__isnull=False)
        if endpoint.role != EndpointRole.MONITOR
    ]
    publishers.sort(key=lambda endpoint: (endpoint.role != EndpointRole.RESIDENT, endpoint.created_at))
    names: dict[str, str] = {}
    contacts = 0
    for endpoint in publishers:
        if endpoint.participant in names:
            continue
        if endpoint.role == EndpointRole.RESIDENT:
            names[endpoint.participant] = "Person in custody"
        else:
            contacts += 1
            names[endpoint.participant] = "Contact" if contacts == 1 else f"Contact {contacts}"
    labels = {
        int(endpoint.feed_id): names[endpoint.participant] for endpoint in publishers if endpoint.feed_id
    }
    return labels, list(dict.fromkeys(names.values()))


# --- Processing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    recording: Recording
    call: Call


def _claim(call_id: str, now: datetime) -> tuple[Recording | None, _Claim | None]:
    """Take the recording for processing, creating its row the first time. Returns the row and, if this run is
    to do the work, the claim; a recording already done, or being done by a live run, is left alone."""
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("establishment", "booking")
            .filter(pk=call_id)
            .first()
        )
        if call is None or not call.recorded or call.state not in FINAL_STATES:
            # DSO Annex A: an unrecorded call (immigration detention) never has a recording, not even a row.
            return None, None
        recording = Recording.objects.select_for_update(of=("self",)).filter(call=call).first()
        if recording is None:
            recorded_at = recorded_start(call)
            recording = Recording.objects.create(
                call=call,
                establishment=call.establishment,
                recorded_at=recorded_at,
                retention_expires_at=retention_expires_at(call, recorded_at),
            )
        if recording.status in DONE_STATES:
            if recording.status != RecordingStatus.DELETED:
                transaction.on_commit(partial(_remove_raw, call.rec_dir, call.pk), robust=True)
            return recording, None
        if (
            recording.status == RecordingStatus.PROCESSING
            and recording.processing_started_at is not None
            and recording.processing_started_at > now - STALE_AFTER
        ):
            return recording, None
        recording.status = RecordingStatus.PROCESSING
        recording.attempts += 1
        recording.processing_started_at = now
        recording.save(update_fields=["status", "attempts", "processing_started_at", "updated_at"])
    return recording, _Claim(recording=recording, call=call)


def _audit(action: str, recording: Recording, now: datetime, actor: Any = None, **after: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        subject=recording,
        establishment_code=recording.establishment.code,
        after={"call": str(recording.call_id), "status": recording.status, **after},
        policy_ids={"PF 1.3", "PF 4.20"},
        occurred_at=now,
    )


def _finish(recording: Recording, now: datetime, **fields: Any) -> Recording:
    with transaction.atomic():
        current = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("establishment")
            .get(pk=recording.pk)
        )
        for name, value in fields.items():
            setattr(current, name, value)
        current.processed_at = now
        current.save()
        if current.status == RecordingStatus.FAILED:
            _audit("recording_failed", current, now, error=current.error, attempts=current.attempts)
        else:
            _audit(
                "recording_stored" if current.status == RecordingStatus.READY else "recording_empty",
                current,
                now,
                sha256=current.sha256,
                size_bytes=current.size_bytes,
                duration_seconds=current.duration_seconds,
                retention_expires_at=current.retention_expires_at.isoformat(),
            )
            transaction.on_commit(partial(_remove_raw, current.call.rec_dir, current.call_id), robust=True)
    return current


def _store(recording: Recording, result: mux.MuxResult) -> tuple[str, str, int]:
    """Copy the WebM into the private storage and check the stored copy's checksum; returns its name,
    checksum and size."""
    digest = _sha256(result.path)
    size = result.path.stat().st_size
    storage = recording.file.storage
    name = recording_path(recording, result.path.name)
    if storage.exists(name):
        storage.delete(name)  # left by an earlier run that failed after storing it
    with result.path.open("rb") as stream:
        saved = storage.save(name, File(stream, name=result.path.name))
    if _stored_sha256(recording, saved) != digest:
        storage.delete(saved)
        raise mux.MuxError("the stored copy does not match its checksum")
    return saved, digest, size


def recording_process(*, call_id: str, now: datetime | None = None) -> Recording | None:
    """Make the call's recording from its raw files (PF 1.3): convert with janus-pp-rec, compose into one WebM,
    store it with its checksum, duration, size and retention date, then remove the raw files. Safe to run again
    at any time: it does nothing for an unrecorded call or a finished recording."""
    now = _now(now)
    recording, claim = _claim(call_id, now)
    if claim is None:
        return recording
    call = claim.call
    raw = Path(call.rec_dir) if call.rec_dir else None
    work = raw / WORK_FOLDER if raw is not None else None
    stored = ""
    try:
        labels, names = _labels(call)
        result = None
        if raw is not None and work is not None and raw.is_dir():
            shutil.rmtree(work, ignore_errors=True)
            result = mux.mux_folder(raw, work, work / "recording.webm", labels)
        if result is None:
            return _finish(claim.recording, now, status=RecordingStatus.EMPTY, error="")
        stored, digest, size = _store(claim.recording, result)
        return _finish(
            claim.recording,
            now,
            status=RecordingStatus.READY,
            file=stored,
            sha256=digest,
            size_bytes=size,
            duration_seconds=round(result.duration_seconds, 3),
            participants=names or [f"Participant {n + 1}" for n in range(len(labels))],
            error="",
        )
    # Whatever went wrong (a codec, the disk, the database) is recorded on the row for staff and retried; the
    # raw files stay where they are.
    except Exception as problem:
        logger.exception("Processing the recording of call %s failed", call.pk)
        if stored:
            claim.recording.file.storage.delete(stored)
        return _finish(
            claim.recording,
            now,
            status=RecordingStatus.FAILED,
            error=f"{type(problem).__name__}: {problem}"[:2000],
        )
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


# --- Playback -------------------------------------------------------------------------------------------------------


def recording_playback_start(
    *,
    recording: Recording,
    viewer: User,
    terminal: Terminal | None,
    reason: str,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> RecordingPlayback:
    """PF 1.3, PF 4.23: an authorised member of staff, at a registered monitoring terminal of the establishment,
    states why they open the recording; refused with every reason otherwise. The playback is logged and audited
    in one transaction."""
    now = _now(now)
    with transaction.atomic():
        current = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("establishment", "call__booking")
            .get(pk=recording.pk)
        )
        problems: list[RecordingProblem] = []
        terminal_ok = (
            terminal is not None
            and terminal.kind == TerminalKind.MONITORING
            and terminal.is_registered
            and terminal.active
            and terminal.establishment_id == current.establishment_id
        )
        if not current.playable:
            problems.append(
                RecordingProblem.of("recording.not_playable", status=current.get_status_display())
            )
        decision = policy.monitoring_allowed(
            policy.ViewingFacts(
                establishment=booking_facts.establishment_facts(current.establishment),
                viewer=booking_facts.staff_facts(viewer, current.establishment),
                terminal_registered=terminal_ok,
                purpose=reason,
                now=now,
                live=False,
                call_kind=policy.CallKind(current.call.booking.kind),
                recorded_at=current.recorded_at,
                held_for_investigation=recording_held(current),
            )
        )
        problems += [RecordingProblem.from_reason(reason) for reason in decision.refusals]
        if problems:
            raise RecordingRefused(problems)
        assert terminal is not None
        playback = RecordingPlayback.objects.create(
            recording=current,
            viewer=viewer,
            reason=reason.strip(),
            started_at=now,
            terminal=terminal,
            ip_address=ip_address or None,
        )
        audit_record(
            action="recording_played",
            actor=viewer,
            subject=playback,
            establishment_code=current.establishment.code,
            after={
                "recording": str(current.pk),
                "call": str(current.call_id),
                "reason": playback.reason,
                "terminal": str(terminal.pk),
                "ip_address": playback.ip_address or "",
            },
            policy_ids={"PF 1.3", "PF 4.23"},
            occurred_at=now,
        )
    return playback


def playback_current(
    playback: RecordingPlayback, *, viewer: User, terminal: Terminal | None, now: datetime
) -> bool:
    """May this playback's file be streamed now: the same person, at the same terminal, within the sitting, and
    the recording still there."""
    return (
        playback.viewer_id == viewer.pk
        and terminal is not None
        and playback.terminal_id == terminal.pk
        and playback.started_at > now - PLAYBACK_GRANT
        and playback.recording.playable
    )


# --- The periodic work ----------------------------------------------------------------------------------------------


def recordings_to_process(now: datetime) -> QuerySet[Call]:
    """Recorded calls that are over and whose recording is missing, failed (and due a retry) or abandoned."""
    retry = Q(recording__status=RecordingStatus.FAILED, recording__attempts__lt=MAX_ATTEMPTS) & Q(
        recording__processed_at__lte=now - RETRY_AFTER
    )
    abandoned = Q(
        recording__status=RecordingStatus.PROCESSING, recording__processing_started_at__lte=now - STALE_AFTER
    )
    waiting = Q(recording__isnull=True) | Q(recording__status=RecordingStatus.PENDING)
    return Call.objects.filter(recorded=True, state__in=FINAL_STATES).filter(waiting | retry | abandoned)


def recordings_purge_run(*, now: datetime | None = None) -> dict[str, int]:
    """PF 4.20: delete each recording (and any raw files left) past its retention period, unless the policy
    engine says it is held for an investigation. Each deletion is audited; the row stays, marked deleted."""
    now = _now(now)
    counts = {"deleted": 0, "held": 0}
    due = (
        Recording.objects.filter(retention_expires_at__lte=now)
        .exclude(status=RecordingStatus.DELETED)
        .exclude(status=RecordingStatus.PROCESSING)
        .select_related("establishment", "call")
        .annotate(held=open_investigation())
    )
    for recording in due:
        decision = policy.deletion_allowed(
            policy.DeletionFacts(
                establishment=booking_facts.establishment_facts(recording.establishment),
                kind=policy.RecordKind.RECORDING,
                created_at=recording.recorded_at,
                now=now,
                held_for_investigation=bool(recording.held),
            )
        )
        if not decision.allowed:
            counts["held"] += 1
            continue
        with transaction.atomic():
            current = (
                Recording.objects.select_for_update(of=("self",))
                .select_related("establishment", "call")
                .get(pk=recording.pk)
            )
            if current.status in (RecordingStatus.DELETED, RecordingStatus.PROCESSING):
                continue
            before = {"status": current.status, "sha256": current.sha256, "file": current.file.name}
            name = current.file.name
            current.status = RecordingStatus.DELETED
            current.file = ""
            current.deleted_at = now
            current.save()
            audit_record(
                action="recording_deleted",
                subject=current,
                establishment_code=current.establishment.code,
                before=before,
                after={
                    "status": current.status,
                    "retention_expires_at": current.retention_expires_at.isoformat(),
                },
                policy_ids={"PF 4.20"},
                occurred_at=now,
            )
            storage = current.file.storage
            if name:
                transaction.on_commit(partial(storage.delete, name), robust=True)
            transaction.on_commit(partial(_remove_raw, current.call.rec_dir, current.call_id), robust=True)
        counts["deleted"] += 1
    return counts
