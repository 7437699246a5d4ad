"""Read-only views of recordings and their playback log for the back office: every change goes through
``services`` (audited), and the back office never streams a recording (that needs a stated reason)."""

from __future__ import annotations

from django.contrib import admin

from kinship.calls.admin import ReadOnly

from .models import Recording, RecordingPlayback


@admin.register(Recording)
class RecordingAdmin(ReadOnly):
    list_display = (
        "call",
        "establishment",
        "status",
        "recorded_at",
        "duration_seconds",
        "retention_expires_at",
    )
    list_filter = ("status", "establishment")
    exclude = ("file",)


@admin.register(RecordingPlayback)
class RecordingPlaybackAdmin(ReadOnly):
    list_display = ("recording", "viewer", "started_at", "terminal", "ip_address")
