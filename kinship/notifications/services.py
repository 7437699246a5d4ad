"""Writes for notifications: queue the messages about a booking, send one, record what Notify says about it,
queue reminders.

Sending never happens inside a booking's transaction: ``booking_notify`` writes the messages as rows in the
caller's transaction (the change and its messages commit together, or neither does) and asks for them to be
sent once it commits (``transaction.on_commit``). The task that sends claims a row first, so a message is
handed to Notify at most once even when two workers race for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from kinship.audit.services import audit_record
from kinship.bookings.models import Booking, BookingStatus
from kinship.people.models import Contact

from . import messages
from .backends import NotificationBackend, SendFailed, get_backend
from .models import FINAL_STATUSES, Channel, Event, Notification, Status

logger = logging.getLogger(__name__)

#: Attempts at handing a message to Notify before it is recorded as failed.
MAX_ATTEMPTS = 5
#: How far ahead the reminder goes out.
REMINDER_WINDOW = timedelta(hours=24)
#: Delivery receipts are asked for this long after sending (Notify keeps them for 7 days).
RECEIPT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Address:
    channel: Channel
    recipient: str


def addresses_of(contact: Contact) -> list[Address]:
    """Email and/or mobile number, from the contact record or else their account."""
    user = contact.user if contact.user_id else None
    email = contact.email or (user.email if user is not None else "")
    phone = contact.phone or (user.phone if user is not None else "")
    found = []
    if email:
        found.append(Address(Channel.EMAIL, email))
    if phone:
        found.append(Address(Channel.SMS, phone))
    return found


def _template_id(channel: Channel) -> str:
    return settings.NOTIFY_EMAIL_TEMPLATE_ID if channel == Channel.EMAIL else settings.NOTIFY_SMS_TEMPLATE_ID


def enqueue_sending(ids: Iterable[str]) -> None:
    """Hand notifications to the worker; call it from transaction.on_commit, never inside the transaction."""
    from .tasks import send_notification

    for notification_id in ids:
        try:
            send_notification.enqueue(notification_id)
        except Exception:
            # The row stays queued; the clock hands it over on its next pass.
            logger.exception("Could not enqueue notification %s", notification_id)


def booking_notify(*, booking: Booking, event: Event, reason: str = "") -> list[Notification]:
    """Write the messages about ``booking`` for its lead contact, in the caller's transaction, and have them sent
    when it commits. Called by the booking services, which audit the change the messages tell about.

    The lead contact is told (they made or hold the booking); other participants hear from them, which keeps
    messages away from children joining a call (PF 4.14)."""
    contact = Contact.objects.select_related("user").get(pk=booking.lead_contact_id)
    rows = []
    for address in addresses_of(contact):
        message = messages.render(
            booking=booking,
            event=event,
            sms=address.channel == Channel.SMS,
            name=contact.first_name,
            reason=reason,
        )
        rows.append(
            Notification(
                booking=booking,
                event=event,
                channel=address.channel,
                recipient=address.recipient,
                template_id=_template_id(address.channel),
                personalisation={"subject": message.subject, "body": message.body},
            )
        )
    if not rows:
        logger.info("Booking %s: the lead contact has no email or phone, nothing to send", booking.reference)
        return []
    created = Notification.objects.bulk_create(rows)
    transaction.on_commit(partial(enqueue_sending, [str(row.pk) for row in created]), robust=True)
    return created


def notification_send(
    *, notification_id: str, backend: NotificationBackend | None = None, now: datetime | None = None
) -> Notification | None:
    """Hand one queued message to the backend and record its answer. Returns ``None`` when the message was not
    queued any more (already sent, or taken by another worker)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Notification.objects.filter(pk=notification_id, status=Status.QUEUED).update(
            status=Status.SENDING, attempts=F("attempts") + 1, submitted_at=now, updated_at=now
        )
    if not claimed:
        return None
    notification = Notification.objects.get(pk=notification_id)
    backend = backend or get_backend()
    try:
        receipt = backend.send(
            channel=Channel(notification.channel),
            recipient=notification.recipient,
            template_id=notification.template_id,
            personalisation=notification.personalisation,
            reference=str(notification.pk),
        )
    except SendFailed as failure:
        again = failure.retry and notification.attempts < MAX_ATTEMPTS
        notification.status = Status.QUEUED if again else Status.FAILED
        notification.error = str(failure)
        notification.completed_at = None if again else timezone.now()
        notification.save(update_fields=["status", "error", "completed_at", "updated_at"])
        logger.warning("Notification %s not sent (%s)", notification.pk, failure)
        return notification
    notification.notify_id = receipt.notify_id
    notification.status = receipt.status
    notification.notify_status = receipt.notify_status
    notification.error = ""
    notification.completed_at = timezone.now() if receipt.status in FINAL_STATUSES else None
    notification.save(
        update_fields=["notify_id", "status", "notify_status", "error", "completed_at", "updated_at"]
    )
    return notification


def notifications_poll_status(
    *, backend: NotificationBackend | None = None, now: datetime | None = None, limit: int = 500
) -> int:
    """Ask Notify about messages it is still sending and record their status (delivered, failed...).
    Returns how many changed."""
    now = now or timezone.now()
    backend = backend or get_backend()
    pending = list(
        Notification.objects.filter(
            status=Status.SENDING, submitted_at__gte=now - RECEIPT_WINDOW, notify_id__gt=""
        ).order_by(F("status_checked_at").asc(nulls_first=True))[:limit]
    )
    changed = 0
    for notification in pending:
        try:
            receipt = backend.status(notification.notify_id)
        except SendFailed as failure:
            logger.warning("Status of notification %s unknown (%s)", notification.pk, failure)
            continue
        notification.status_checked_at = now
        fields = ["status_checked_at", "updated_at"]
        if receipt.notify_status != notification.notify_status or receipt.status != notification.status:
            changed += 1
            notification.status = receipt.status
            notification.notify_status = receipt.notify_status
            fields += ["status", "notify_status"]
            if receipt.status in FINAL_STATUSES:
                notification.completed_at = now
                fields.append("completed_at")
        notification.save(update_fields=fields)
    return changed


def notifications_requeue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Hand over again the messages still queued (a retryable failure, or a lost enqueue) a minute or more
    after they were written. Returns how many were enqueued."""
    now = now or timezone.now()
    ids = [
        str(pk)
        for pk in Notification.objects.filter(
            status=Status.QUEUED, updated_at__lte=now - timedelta(minutes=1)
        ).values_list("pk", flat=True)[:limit]
    ]
    enqueue_sending(ids)
    return len(ids)


def reminders_send(*, now: datetime | None = None) -> int:
    """Queue a reminder for every approved call starting within the next 24 hours that has had none; each call
    gets one, however often this runs (a unique constraint backs the check). Returns how many calls."""
    now = now or timezone.now()
    reminded = Notification.objects.filter(booking=OuterRef("pk"), event=Event.REMINDER)
    due = (
        Booking.objects.filter(
            status=BookingStatus.APPROVED,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + REMINDER_WINDOW,
        )
        .exclude(Exists(reminded))
        .select_related("slot__establishment", "resident")
        .order_by("slot__starts_at")
    )
    references = []
    with transaction.atomic():
        for booking in due:
            try:
                with transaction.atomic():
                    if booking_notify(booking=booking, event=Event.REMINDER):
                        references.append(booking.reference)
            except IntegrityError:
                continue  # another run reminded this call a moment ago
        if references:
            audit_record(
                action="reminders_queued",
                after={"bookings": references, "window_hours": 24},
                policy_ids=["PF 4.19"],
                occurred_at=now,
            )
    return len(references)
