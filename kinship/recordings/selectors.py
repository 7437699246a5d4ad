"""Reads for recordings: an establishment's recordings with everything their list shows, in a fixed number of
queries whatever the number of rows."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from kinship.establishments.models import Establishment

from .models import Recording, RecordingPlayback
from .services import open_investigation


def recordings_at(establishment: Establishment) -> QuerySet[Recording]:
    """Newest first, with the call's people and slot, whether an investigation holds it, and how often it was
    played."""
    return (
        Recording.objects.filter(establishment=establishment)
        .select_related("call__booking__resident", "call__booking__lead_contact", "call__booking__slot")
        .annotate(held=open_investigation(), playback_count=Count("playbacks"))
        .order_by("-recorded_at")
    )


def playbacks_of(recording: Recording) -> QuerySet[RecordingPlayback]:
    return RecordingPlayback.objects.filter(recording=recording).select_related("viewer", "terminal")
