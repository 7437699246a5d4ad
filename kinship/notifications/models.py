"""Messages to contacts about their calls (PF 4.8, PF 4.19), one row per message and channel.

A row is written in the same transaction as the booking change it tells about (so the message exists exactly
when the change does) and is sent by a background task once that transaction has committed. The row then
records what GOV.UK Notify said about it, up to delivery or failure.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kinship.bookings.models import Booking
from kinship.core.models import BaseModel


class Event(models.TextChoices):
    REQUEST_RECEIVED = "request_received", _("Request received")
    APPROVED = "approved", _("Call booked")
    REJECTED = "rejected", _("Request turned down")
    CHANGED = "changed", _("Call changed")
    CANCELLED = "cancelled", _("Call cancelled")
    REMINDER = "reminder", _("Reminder before the call")
    STAFF_NOTICE = "staff_notice", _("Notice to staff")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class Status(models.TextChoices):
    #: Written, waiting for the worker to hand it over.
    QUEUED = "queued", _("Queued")
    #: Handed to GOV.UK Notify, which is sending it.
    SENDING = "sending", _("Sending")
    #: Sent where no delivery receipt will come (the log backend; Notify's international texts).
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    #: Notify refused it, or the provider could not deliver it; ``error``/``notify_status`` say why.
    FAILED = "failed", _("Failed")


#: Statuses after which nothing more will happen to a message.
FINAL_STATUSES: tuple[str, ...] = (Status.SENT, Status.DELIVERED, Status.FAILED)


class Notification(BaseModel):
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    event = models.CharField(max_length=24, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("email address or phone number"), max_length=254)
    template_id = models.CharField(max_length=64, blank=True)
    #: What fills the Notify template: ``subject`` and ``body``, our own words (``messages``).
    personalisation = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    #: Notify's own status word (e.g. "permanent-failure"), kept as Notify gave it.
    notify_status = models.CharField(max_length=32, blank=True)
    notify_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # A reminder goes once per booking and channel, however often the reminder job runs.
            models.UniqueConstraint(
                fields=["booking", "event", "channel"],
                condition=models.Q(event="reminder"),
                name="notification_one_reminder",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="notification_status_submitted")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} by {self.get_channel_display()} ({self.get_status_display()})"
