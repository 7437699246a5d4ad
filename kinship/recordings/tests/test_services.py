"""Making recordings when calls close, and deleting them at the end of their retention period: the states, the
hook in the call lifecycle, idempotence, failures (raw files never lost) and retries, holds (PF 1.3, PF 4.20,
DSO Annex A)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from kinship import policy
from kinship.audit.models import AuditEvent
from kinship.bookings import facts as booking_facts
from kinship.calls import services as call_services
from kinship.calls.models import Call
from kinship.recordings import services
from kinship.recordings.models import Recording, RecordingStatus
from kinship.recordings.tasks import recordings_tick
from kinship.safeguarding.models import IncidentStatus
from kinship.safeguarding.services_welfare import incident_create

from .conftest import NOW, live, raw_files

pytestmark = pytest.mark.django_db

ENDED = NOW + timedelta(minutes=30)


def end(call: Call, place, media, capture) -> Call:
    """End the call and run what its commit enqueues (the test profile runs tasks at once)."""
    with capture(execute=True):
        return call_services.call_end(call=call, actor=place.officer, media=media, now=ENDED)


def actions(recording: Recording) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_id=str(recording.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_pf_1_3_a_prison_call_that_ends_leaves_one_stored_recording_and_no_raw_files(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(prison, fake_media)
    raw = raw_files(call)
    assert Path(call.rec_dir) == settings.JANUS_RECORDINGS_DIR / str(call.pk)

    end(call, prison, fake_media, django_capture_on_commit_callbacks)

    recording = Recording.objects.get(call=call)
    assert recording.status == RecordingStatus.READY
    assert recording.establishment == prison.establishment
    stored = Path(recording.file.path)
    assert stored.is_relative_to(settings.MEDIA_ROOT / "recordings" / prison.establishment.code)
    assert recording.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert recording.size_bytes == stored.stat().st_size
    assert recording.duration_seconds == 1.0
    assert recording.attempts == 1
    assert recording.error == ""
    # PF 4.20: the retention period (90 days by default in prisons) runs from when the call went live.
    establishment = booking_facts.establishment_facts(prison.establishment)
    assert recording.recorded_at == call.live_at
    assert recording.retention_expires_at == policy.retention_expires_at(
        policy.RecordKind.RECORDING, call.live_at, establishment.settings, establishment.timezone
    )
    # 90 local calendar days, at the same local time (the clocks change in between: 90 days less an hour).
    local = establishment.timezone
    assert (
        recording.retention_expires_at.astimezone(local).date()
        - recording.recorded_at.astimezone(local).date()
    ) == timedelta(days=90)
    assert (
        recording.retention_expires_at.astimezone(local).time()
        == recording.recorded_at.astimezone(local).time()
    )
    assert not any(path.exists() for path in raw)
    assert not Path(call.rec_dir).exists()
    assert actions(recording) == ["recording_stored"]


@pytest.mark.parametrize("how", ["terminate", "fail"])
def test_terminated_and_failed_calls_are_processed_too(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks, how
):
    call = live(prison, fake_media)
    raw_files(call)
    with django_capture_on_commit_callbacks(execute=True):
        if how == "terminate":
            call_services.call_terminate(
                call=call,
                actor=prison.officer,
                reason="security_risk",
                details="Passing a note",
                body_worn_camera_used=False,
                media=fake_media,
                now=ENDED,
            )
        else:
            call_services.call_fail(call=call, actor=prison.officer, media=fake_media, now=ENDED)
    assert Recording.objects.get(call=call).status == RecordingStatus.READY


def test_dso_annex_a_an_irc_call_is_never_recorded_and_leaves_nothing(
    irc, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(irc, fake_media)
    assert not call.recorded
    assert call.rec_dir == ""
    end(call, irc, fake_media, django_capture_on_commit_callbacks)
    # Even asked directly, nothing is made: no row, no file, no folder.
    assert services.recording_process(call_id=str(call.pk)) is None
    assert not Recording.objects.exists()
    assert fake_mux.calls == 0
    assert not settings.JANUS_RECORDINGS_DIR.exists() or not any(settings.JANUS_RECORDINGS_DIR.rglob("*"))
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def test_processing_is_idempotent(prison, fake_media, fake_mux, django_capture_on_commit_callbacks):
    call = live(prison, fake_media)
    raw_files(call)
    end(call, prison, fake_media, django_capture_on_commit_callbacks)
    first = Recording.objects.get(call=call)

    again = services.recording_process(call_id=str(call.pk), now=ENDED + timedelta(hours=1))

    assert again is not None
    assert again.pk == first.pk
    assert fake_mux.calls == 1
    again.refresh_from_db()
    assert (again.status, again.attempts, again.sha256, again.file.name) == (
        RecordingStatus.READY,
        1,
        first.sha256,
        first.file.name,
    )
    assert Recording.objects.count() == 1


def test_a_call_still_running_is_not_processed(prison, fake_media, fake_mux):
    call = live(prison, fake_media)
    raw_files(call)
    assert services.recording_process(call_id=str(call.pk)) is None
    assert not Recording.objects.exists()


def test_a_failure_is_kept_on_the_row_the_raw_files_stay_and_a_retry_succeeds(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(prison, fake_media)
    raw = raw_files(call)
    fake_mux.fail = OSError("disk full")

    end(call, prison, fake_media, django_capture_on_commit_callbacks)

    recording = Recording.objects.get(call=call)
    assert recording.status == RecordingStatus.FAILED
    assert recording.error == "OSError: disk full"
    assert not recording.file
    assert all(path.exists() for path in raw)
    # Intermediate files are tidied away; the raw ones are not touched.
    assert not (Path(call.rec_dir) / services.WORK_FOLDER).exists()
    assert actions(recording) == ["recording_failed"]

    # The tick leaves it alone until the retry delay has passed, then tries again.
    fake_mux.fail = None
    soon = recording.processed_at + timedelta(minutes=1)
    assert not services.recordings_to_process(soon).exists()
    later = recording.processed_at + services.RETRY_AFTER
    assert list(services.recordings_to_process(later)) == [call]
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_process(call_id=str(call.pk), now=later)
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    assert recording.attempts == 2
    assert recording.error == ""
    assert not any(path.exists() for path in raw)
    assert actions(recording) == ["recording_failed", "recording_stored"]


def test_retries_stop_after_the_last_attempt(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(prison, fake_media)
    raw_files(call)
    fake_mux.fail = RuntimeError("broken codec")
    end(call, prison, fake_media, django_capture_on_commit_callbacks)
    recording = Recording.objects.get(call=call)
    recording.attempts = services.MAX_ATTEMPTS
    recording.save()
    assert not services.recordings_to_process(ENDED + timedelta(days=1)).exists()


def test_a_run_in_progress_is_not_taken_over_until_it_is_stale(prison, fake_media, fake_mux):
    call = live(prison, fake_media)
    raw_files(call)
    call.state = "ended"
    call.ended_at = ENDED
    call.save()
    Recording.objects.create(
        call=call,
        establishment=call.establishment,
        status=RecordingStatus.PROCESSING,
        processing_started_at=ENDED,
        attempts=1,
        recorded_at=call.live_at,
        retention_expires_at=ENDED + timedelta(days=90),
    )
    services.recording_process(call_id=str(call.pk), now=ENDED + timedelta(minutes=5))
    assert fake_mux.calls == 0
    assert not services.recordings_to_process(ENDED + timedelta(minutes=5)).exists()

    stale = ENDED + services.STALE_AFTER + timedelta(minutes=1)
    assert services.recordings_to_process(stale).count() == 1
    recording = services.recording_process(call_id=str(call.pk), now=stale)
    assert recording is not None
    assert recording.status == RecordingStatus.READY
    assert recording.attempts == 2


def test_a_call_nobody_published_in_leaves_an_empty_recording(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(prison, fake_media)
    end(call, prison, fake_media, django_capture_on_commit_callbacks)
    recording = Recording.objects.get(call=call)
    assert recording.status == RecordingStatus.EMPTY
    assert not recording.file
    assert actions(recording) == ["recording_empty"]


def test_the_tick_picks_up_a_call_whose_processing_was_never_enqueued(prison, fake_media, fake_mux):
    call = live(prison, fake_media)
    raw_files(call)
    # Ended without running its on-commit hook (a worker that was down, say).
    call_services.call_end(call=call, actor=prison.officer, media=fake_media, now=ENDED)
    assert not Recording.objects.exists()
    result = recordings_tick.call()
    assert result["queued"] == 1
    assert Recording.objects.get(call=call).status == RecordingStatus.READY


def test_the_tick_is_a_periodic_task():
    assert "kinship.recordings.tasks.recordings_tick" in settings.KINSHIP_PERIODIC_TASKS


# --- Retention (PF 4.20) --------------------------------------------------------------------------------------------


@pytest.fixture
def stored(prison, fake_media, fake_mux, django_capture_on_commit_callbacks) -> Recording:
    call = live(prison, fake_media)
    raw_files(call)
    end(call, prison, fake_media, django_capture_on_commit_callbacks)
    return Recording.objects.get(call=call)


def test_pf_4_20_a_recording_is_kept_until_its_retention_date(stored, django_capture_on_commit_callbacks):
    before = stored.retention_expires_at - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recordings_purge_run(now=before) == {"deleted": 0, "held": 0}
    stored.refresh_from_db()
    assert stored.status == RecordingStatus.READY
    assert Path(stored.file.path).exists()


def test_pf_4_20_a_recording_past_its_retention_date_is_deleted_and_audited(
    stored, django_capture_on_commit_callbacks
):
    path = Path(stored.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recordings_purge_run(now=stored.retention_expires_at) == {"deleted": 1, "held": 0}
    stored.refresh_from_db()
    assert stored.status == RecordingStatus.DELETED
    assert stored.deleted_at == stored.retention_expires_at
    assert not stored.file
    assert not path.exists()
    event = AuditEvent.objects.get(subject_id=str(stored.pk), action="recording_deleted")
    assert event.policy_ids == ["PF 4.20"]
    assert event.before["sha256"] == stored.sha256
    # Deleting again does nothing.
    assert services.recordings_purge_run(now=stored.retention_expires_at) == {"deleted": 0, "held": 0}


def test_pf_4_20_a_recording_held_for_an_investigation_is_not_deleted_until_it_closes(
    stored, prison, django_capture_on_commit_callbacks
):
    booking = stored.call.booking
    incident = incident_create(
        establishment=prison.establishment,
        resident=booking.resident,
        reason="unlawful_activity",
        details="Passing drugs",
        actor=prison.officer,
        booking=booking,
    )
    assert services.recording_held(stored)
    after = stored.retention_expires_at + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recordings_purge_run(now=after) == {"deleted": 0, "held": 1}
    stored.refresh_from_db()
    assert stored.status == RecordingStatus.READY
    assert Path(stored.file.path).exists()

    incident.status = IncidentStatus.CLOSED
    incident.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recordings_purge_run(now=after) == {"deleted": 1, "held": 0}
    stored.refresh_from_db()
    assert stored.status == RecordingStatus.DELETED


def test_pf_4_20_raw_files_of_a_failed_recording_are_deleted_at_the_end_of_retention_too(
    prison, fake_media, fake_mux, django_capture_on_commit_callbacks
):
    call = live(prison, fake_media)
    raw = raw_files(call)
    fake_mux.fail = OSError("broken")
    end(call, prison, fake_media, django_capture_on_commit_callbacks)
    recording = Recording.objects.get(call=call)
    assert all(path.exists() for path in raw)
    with django_capture_on_commit_callbacks(execute=True):
        services.recordings_purge_run(now=recording.retention_expires_at)
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.DELETED
    assert not Path(call.rec_dir).exists()


def test_only_a_folder_named_after_the_call_is_ever_removed(tmp_path):
    keep = tmp_path / "recordings"
    keep.mkdir()
    (keep / "other-call.mjr").write_bytes(b"MJR00002")
    services._remove_raw(str(keep), "a-call-id")
    assert (keep / "other-call.mjr").exists()
    own = keep / "a-call-id"
    own.mkdir()
    services._remove_raw(str(own), "a-call-id")
    assert not own.exists()
