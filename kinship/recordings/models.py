"""Recordings of prison calls (PF 1.3) and the log of every playback (PF 4.23).

A ``Recording`` is made for each recorded call when it closes (``services.recording_process``, run by the worker):
Janus's raw files in the call's ``rec_dir`` become one WebM under the private media storage (``MEDIA_ROOT``,
outside the web root, never given a public URL), with its SHA-256, size, duration and the date its retention
period ends (PF 4.20). Immigration detention calls are never recorded (DSO Annex A), so they never have one.

The row outlives the file: when the retention purge deletes the file it keeps the row (status ``deleted``), so the
playback log keeps pointing at something and the deletion can be seen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.calls.models import Call
from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment, Terminal


class RecordingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    PROCESSING = "processing", _("Being processed")
    READY = "ready", _("Ready to play")
    FAILED = "failed", _("Processing failed (raw files kept)")
    EMPTY = "empty", _("Nothing was recorded")
    DELETED = "deleted", _("Deleted at the end of its retention period")


def recording_path(instance: Recording, filename: str) -> str:
    # One fixed name per call: a retried processing run replaces the file rather than adding another.
    return f"recordings/{instance.establishment.code}/{instance.call_id}.webm"


class Recording(BaseModel):
    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="recording")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="recordings")
    status = models.CharField(max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.PENDING)

    file = models.FileField(upload_to=recording_path, blank=True, max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    #: Who appears in the picture, left to right (from the call's endpoints), for the page.
    participants = models.JSONField(default=list, blank=True)

    #: When the call went live (or opened): the start of the retention period (PF 4.20).
    recorded_at = models.DateTimeField()
    retention_expires_at = models.DateTimeField()

    attempts = models.PositiveIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["establishment", "-recorded_at"], name="recording_establishment"),
            models.Index(fields=["status", "retention_expires_at"], name="recording_retention"),
        ]

    def __str__(self) -> str:
        return f"Recording of {self.call_id} ({self.status})"

    @property
    def playable(self) -> bool:
        return self.status == RecordingStatus.READY and bool(self.file)


class RecordingPlayback(BaseModel):
    """PF 1.3, PF 4.23: who opened which recording, when, why, from which registered terminal and address."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="playbacks")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField()
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Playback of {self.recording_id} by {self.viewer_id}"
