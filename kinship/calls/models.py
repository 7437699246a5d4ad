"""Calls: an approved booking coming to life (issue 5, second slice: the call lifecycle).

A ``Call`` is created when the clock opens the booking's slot (``services.call_open``), one per booking, and then
moves through its states only through ``services``:

    scheduled -> ready (resident and supervising officer checked in) -> [IRC: adult check, DSO 8]
              -> live (prison: with an active monitor viewing, PF 4.21) -> paused <-> live
              -> ended | terminated | failed | no_show

The room's secret and pin are needed by every Kinship process that acts on the room (pause, teardown), so they
are stored with the call, encrypted at rest (``crypto``: Fernet with a key derived from ``SECRET_KEY``); they
leave the model only as ``media.base.Secret`` values (``Call.media_room()``), which cannot be rendered, printed,
pickled or JSON-encoded.
The lead may rotate ``SECRET_KEY`` only between calls: a room opened under the old key cannot be acted on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.bookings.models import Booking
from kinship.core.models import BaseModel
from kinship.establishments.models import Establishment, Terminal

from .crypto import decrypt, encrypt
from .media.base import Room, Secret


class CallState(models.TextChoices):
    SCHEDULED = "scheduled", _("Open, waiting for check-in")
    READY = "ready", _("Ready to start")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")
    TERMINATED = "terminated", _("Terminated by staff")
    FAILED = "failed", _("Failed (technical problem)")
    NO_SHOW = "no_show", _("Did not take place")


#: States a call can still move on from; the others are final.
OPEN_STATES: tuple[str, ...] = (CallState.SCHEDULED, CallState.READY, CallState.LIVE, CallState.PAUSED)
#: States in which media flows (or is paused) between the parties.
RUNNING_STATES: tuple[str, ...] = (CallState.LIVE, CallState.PAUSED)
FINAL_STATES: tuple[str, ...] = (CallState.ENDED, CallState.TERMINATED, CallState.FAILED, CallState.NO_SHOW)


class EndReason(models.TextChoices):
    COMPLETED = "completed", _("Ended at the end of its time")
    ENDED_BY_STAFF = "ended_by_staff", _("Ended by the supervising officer")
    TERMINATED = "terminated", _("Terminated for a breach or a security risk (DSO 11)")
    MEDIA_NODE_LOST = "media_node_lost", _("The media server was lost")
    NO_ROOM = "no_room", _("No media room could be created")
    MARKED_TECHNICAL_FAILURE = "marked_technical_failure", _("Staff marked a technical failure")
    NO_SHOW = "no_show", _("Nobody started the call in time")
    MARKED_NO_SHOW = "marked_no_show", _("Staff marked that someone did not attend")


class TerminationReason(models.TextChoices):
    """DSO Annex A's list, and a security risk (DSO 11); values match ``kinship.policy.TerminationReason``."""

    DRESS = "dress", _("Inappropriate dress")
    FOUL_OR_ABUSIVE_LANGUAGE = "foul_or_abusive_language", _("Foul or abusive language")
    SEXUALISED_BEHAVIOUR = "sexualised_behaviour", _("Sexualised behaviour")
    RECORDING_THE_CALL = "recording_the_call", _("Recording the call")
    UNLAWFUL_ACTIVITY = "unlawful_activity", _("Unlawful activity")
    SECURITY_RISK = "security_risk", _("Security risk")
    OTHER = "other", _("Other")


class Call(BaseModel):
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="call")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="calls")
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.SCHEDULED)

    # Placement and the media room (kinship/calls/media). Empty until the room exists.
    media_node = models.CharField(max_length=300, blank=True)
    janus_room_id = models.BigIntegerField(null=True, blank=True)
    room_secret_encrypted = models.TextField(blank=True, editable=False)
    room_pin_encrypted = models.TextField(blank=True, editable=False)
    recorded = models.BooleanField(default=False, help_text=_("PF 1.3: prison calls are recorded."))
    rec_dir = models.CharField(max_length=500, blank=True)
    room_destroyed_at = models.DateTimeField(null=True, blank=True)

    opened_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    adult_check_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adult_check_at = models.DateTimeField(null=True, blank=True)
    live_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    end_note = models.TextField(blank=True)

    terminated_reason = models.CharField(max_length=32, choices=TerminationReason.choices, blank=True)
    termination_details = models.TextField(blank=True)
    body_worn_camera_used = models.BooleanField(default=False)
    incident = models.ForeignKey(
        "safeguarding.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    warned_5_at = models.DateTimeField(_("5-minute warning sent"), null=True, blank=True)
    warned_1_at = models.DateTimeField(_("1-minute warning sent"), null=True, blank=True)

    class Meta:
        ordering = ["opened_at"]
        indexes = [models.Index(fields=["establishment", "state"], name="call_establishment_state")]

    def __str__(self) -> str:
        return f"Call for {self.booking_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def has_room(self) -> bool:
        return self.janus_room_id is not None and self.room_destroyed_at is None

    def keep_room(self, room: Room) -> None:
        """Record the room the media server made (the secret and pin encrypted)."""
        self.media_node = room.node
        self.janus_room_id = room.room_id
        self.recorded = room.record
        self.rec_dir = room.rec_dir or ""
        self.room_secret_encrypted = encrypt(room.secret.reveal())
        self.room_pin_encrypted = encrypt(room.pin.reveal())

    def media_room(self) -> Room:
        """The room as the media server knows it; only for ``MediaServer`` calls."""
        if self.janus_room_id is None:
            raise ValueError("this call has no media room")
        return Room(
            node=self.media_node,
            room_id=self.janus_room_id,
            call_id=str(self.pk),
            record=self.recorded,
            rec_dir=self.rec_dir or None,
            secret=Secret(decrypt(self.room_secret_encrypted)),
            pin=Secret(decrypt(self.room_pin_encrypted)),
        )


class CallParty(models.TextChoices):
    RESIDENT = "resident", _("Person in custody")
    OFFICER = "officer", _("Supervising officer")


class CallCheckIn(BaseModel):
    """Someone present for the call: the person in custody at the terminal, the supervising officer in the room."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="check_ins")
    party = models.CharField(max_length=16, choices=CallParty.choices)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField()

    class Meta:
        ordering = ["checked_in_at"]
        constraints = [models.UniqueConstraint(fields=["call", "party"], name="call_checkin_once_per_party")]

    def __str__(self) -> str:
        return f"{self.get_party_display()} checked in"


class CallPause(BaseModel):
    """One interval during which the parties could not see or hear each other (DSO 11, PF 4.21)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="pauses")
    paused_at = models.DateTimeField()
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    policy_id = models.CharField(max_length=20, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["paused_at"]

    def __str__(self) -> str:
        return f"Paused at {self.paused_at:%H:%M}"


class EndpointRole(models.TextChoices):
    RESIDENT = "resident", _("Person in custody")
    CONTACT = "contact", _("Contact")
    MONITOR = "monitor", _("Monitor")


class CallEndpoint(BaseModel):
    """A media-server session Kinship owns for one participant of a call, kept so that any process can pause,
    resume or end it. The signalling layer records them (``services.call_endpoint_record``)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="endpoints")
    role = models.CharField(max_length=16, choices=EndpointRole.choices)
    participant = models.CharField(max_length=100)
    is_subscription = models.BooleanField()
    session_id = models.BigIntegerField()
    handle_id = models.BigIntegerField()
    feed_id = models.BigIntegerField(null=True, blank=True)
    video_only = models.BooleanField(default=False)
    #: The subscription's streams: [{"feed_id": ..., "kind": "audio"|"video", "mid": "0"}].
    streams = models.JSONField(default=list, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.role} {'subscription' if self.is_subscription else 'publisher'}"


class MonitorViewing(BaseModel):
    """PF 4.23: who watched which call, from which registered monitoring terminal, from when to when and why."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="viewings")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["officer", "ended_at"], name="viewing_officer_open")]

    def __str__(self) -> str:
        return f"Viewing of {self.call_id} by {self.officer_id}"

    @property
    def active(self) -> bool:
        return self.ended_at is None
