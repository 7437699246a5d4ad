"""Background tasks (django.tasks): making a call's recording when it closes, and the periodic tick (retries and
the retention purge), enqueued by ``manage.py clock`` (settings.KINSHIP_PERIODIC_TASKS)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from . import services


@task()
def process_recording(call_id: str) -> str:
    recording = services.recording_process(call_id=call_id)
    return recording.status if recording is not None else "not recorded"


def enqueue_processing(call_id: str) -> None:
    """What kinship.calls runs on commit when a recorded call closes."""
    process_recording.enqueue(str(call_id))


@task()
def recordings_tick() -> dict[str, int]:
    """Retry what failed or was missed (a worker down when the call closed), then purge what is past retention."""
    now = timezone.now()
    queued = 0
    for call_id in services.recordings_to_process(now).values_list("pk", flat=True):
        process_recording.enqueue(str(call_id))
        queued += 1
    return {"queued": queued, **services.recordings_purge_run(now=now)}
