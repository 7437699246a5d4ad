"""NotifyBackend against the local fake Notify server: signed requests, Notify-shaped answers, delivery status,
failures, and the key kept out of every record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from kinship.bookings.services import booking_request
from kinship.bookings.tests.conftest import Party
from kinship.notifications.backends import NotifyBackend, get_backend
from kinship.notifications.models import Notification, Status
from kinship.notifications.services import MAX_ATTEMPTS, notification_send, notifications_poll_status
from kinship.notifications.testing import FakeNotify

pytestmark = pytest.mark.django_db


def request(party: Party, now: datetime, capture: Callable[..., Any]) -> Any:
    with capture(execute=True):
        return booking_request(
            slot=party.slot, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
        ).booking


def test_sent_through_notify_then_delivered(
    fake_notify: FakeNotify,
    party: Party,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    party.contact.phone = "07700900123"
    party.contact.save()
    booking = request(party, now, django_capture_on_commit_callbacks)
    assert isinstance(get_backend(), NotifyBackend)
    posts = [recorded for recorded in fake_notify.requests if recorded.method == "POST"]
    assert sorted(recorded.path for recorded in posts) == ["/v2/notifications/email", "/v2/notifications/sms"]
    assert {recorded.issuer for recorded in posts} == {fake_notify.service_id}
    email = next(recorded.body for recorded in posts if recorded.path.endswith("email"))
    assert email["email_address"] == party.contact.email
    assert email["template_id"] == "11111111-1111-1111-1111-111111111111"
    assert booking.reference in email["personalisation"]["subject"]
    assert party.establishment.safer_custody_hotline in email["personalisation"]["body"]

    sent = Notification.objects.filter(booking=booking)
    assert {row.status for row in sent} == {Status.SENDING}
    assert all(row.notify_id in fake_notify.sent for row in sent)
    for row in sent:
        fake_notify.set_status(row.notify_id, "delivered" if row.channel == "email" else "permanent-failure")
    assert notifications_poll_status() == 2
    statuses = dict(Notification.objects.filter(booking=booking).values_list("channel", "status"))
    assert statuses == {"email": Status.DELIVERED, "sms": Status.FAILED}
    assert Notification.objects.get(booking=booking, channel="sms").notify_status == "permanent-failure"
    call_command("notifications_poll_status")  # nothing left to ask about, and no error


def test_a_wrong_key_is_refused_and_recorded_without_the_key(
    fake_notify: FakeNotify,
    party: Party,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    wrong = f"kinship_test-{fake_notify.service_id}-00000000-0000-0000-0000-000000000000"
    with override_settings(NOTIFY_API_KEY=wrong):
        booking = request(party, now, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(booking=booking)
    assert fake_notify.rejected_tokens == 1
    assert notification.status == Status.FAILED
    assert "403" in notification.error
    assert wrong[-36:] not in notification.error
    assert fake_notify.secret not in repr(get_backend())


def test_notify_errors_are_retried_then_failed(
    fake_notify: FakeNotify,
    party: Party,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    fake_notify.fail_next = (500, "Exception", "Internal server error")
    booking = request(party, now, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(booking=booking)
    assert (notification.status, notification.attempts) == (Status.QUEUED, 1)
    assert notification_send(notification_id=str(notification.pk)).status == Status.SENDING
    # Sent once: a second hand-over of the same message does nothing.
    assert notification_send(notification_id=str(notification.pk)) is None

    fake_notify.fail_next = (400, "BadRequestError", "Can't send to this recipient using a team-only API key")
    other = Notification.objects.create(booking=booking, event="approved", channel="email", recipient="a@b.c")
    assert notification_send(notification_id=str(other.pk)).status == Status.FAILED

    unreachable = Notification.objects.create(
        booking=booking, event="approved", channel="email", recipient="a@b.c", attempts=MAX_ATTEMPTS - 1
    )
    with override_settings(NOTIFY_BASE_URL="http://127.0.0.1:9"):
        result = notification_send(notification_id=str(unreachable.pk))
    assert result.status == Status.FAILED
    assert "503" in result.error  # the client reports an unreachable server as 503


def test_the_clock_enqueues_the_periodic_tasks(fake_notify: FakeNotify) -> None:
    call_command("clock", "--once")
