"""Booking services write the messages in their transaction and send them only once it commits; the log
backend is the default; reminders go once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.bookings.models import BookingSettings, CancelledBy, RejectionReason
from kinship.bookings.services import booking_approve, booking_cancel, booking_reject, booking_request
from kinship.bookings.tests.conftest import Party
from kinship.bookings.tests.factories import SlotFactory
from kinship.notifications.backends import LogBackend, get_backend
from kinship.notifications.models import Channel, Event, Notification, Status
from kinship.notifications.services import reminders_send

pytestmark = pytest.mark.django_db


def request(party: Party, now: datetime) -> Any:
    return booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel="contact",
        actor=party.contact.user,
        now=now,
    ).booking


def test_log_backend_is_the_default() -> None:
    assert isinstance(get_backend(), LogBackend)


def test_nothing_is_sent_before_the_commit(
    party: Party, now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        booking = request(party, now)
    notification = Notification.objects.get(booking=booking)
    assert notification.status == Status.QUEUED
    assert notification.event == Event.REQUEST_RECEIVED
    assert notification.channel == Channel.EMAIL
    assert notification.recipient == party.contact.email
    assert len(callbacks) == 1
    callbacks[0]()
    notification.refresh_from_db()
    assert notification.status == Status.SENT


def test_a_rolled_back_booking_sends_nothing(
    party: Party, now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                request(party, now)
                raise Undo
        except Undo:
            pass
    assert callbacks == []
    assert not Notification.objects.exists()


def test_every_decision_tells_the_family(
    party: Party, now: datetime, clerk: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    party.contact.phone = "07700900123"
    party.contact.save()
    with django_capture_on_commit_callbacks(execute=True):
        booking = request(party, now)
    with django_capture_on_commit_callbacks(execute=True):
        booking_approve(booking=booking, actor=clerk, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(
            booking=booking, cancelled_by=CancelledBy.ESTABLISHMENT, reason="Lockdown", actor=clerk, now=now
        )
    events = list(Notification.objects.filter(booking=booking).values_list("event", "channel", "status"))
    assert sorted(events) == sorted(
        (event, channel, Status.SENT)
        for event in (Event.REQUEST_RECEIVED, Event.APPROVED, Event.CANCELLED)
        for channel in (Channel.EMAIL, Channel.SMS)
    )
    cancelled = Notification.objects.get(booking=booking, event=Event.CANCELLED, channel=Channel.EMAIL)
    assert "Lockdown" in cancelled.personalisation["body"]


def test_rejection_and_auto_approval(
    party: Party, now: datetime, clerk: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        booking = request(party, now)
        booking_reject(booking=booking, reason=RejectionReason.NO_STAFF, text="Short", actor=clerk, now=now)
    assert Notification.objects.filter(event=Event.REJECTED).count() == 1
    BookingSettings.objects.create(establishment=party.establishment, auto_approve=True)
    party.slot = SlotFactory(establishment=party.establishment)
    with django_capture_on_commit_callbacks(execute=True):
        auto = request(party, now)
    assert list(Notification.objects.filter(booking=auto).values_list("event", flat=True)) == [Event.APPROVED]


def approved_booking(party: Party, clerk: Any, starts_in: timedelta) -> Any:
    start = timezone.now() + starts_in
    party.slot.starts_at = start
    party.slot.ends_at = start + timedelta(hours=1)
    party.slot.save()
    now = timezone.now()
    booking = request(party, now)
    booking_approve(booking=booking, actor=clerk, now=now)
    return booking


def test_reminders_go_once_within_24_hours(
    party: Party, clerk: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    soon = approved_booking(party, clerk, timedelta(hours=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 1
        assert reminders_send() == 0
    reminder = Notification.objects.get(booking=soon, event=Event.REMINDER)
    assert reminder.status == Status.SENT
    assert AuditEvent.objects.filter(action="reminders_queued").count() == 1


def test_no_reminder_for_later_or_unapproved_calls(party: Party, clerk: Any, now: datetime) -> None:
    approved_booking(party, clerk, timedelta(hours=30))
    assert reminders_send() == 0
    call_command("send_reminders")
    assert not Notification.objects.filter(event=Event.REMINDER).exists()
