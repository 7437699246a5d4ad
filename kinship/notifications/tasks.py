"""Background tasks (django.tasks): the worker (`manage.py db_worker`) runs them; tests run them inline."""

from __future__ import annotations

from django.tasks import task

from . import services


@task()
def send_notification(notification_id: str) -> str:
    notification = services.notification_send(notification_id=notification_id)
    return notification.status if notification is not None else "not queued"


@task()
def send_reminders() -> int:
    return services.reminders_send()


@task()
def poll_delivery_status() -> int:
    return services.notifications_poll_status()


@task()
def requeue_notifications() -> int:
    return services.notifications_requeue()
