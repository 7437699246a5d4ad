"""Ask GOV.UK Notify for the delivery status of the messages it is still sending, and record it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kinship.notifications.services import notifications_poll_status


class Command(BaseCommand):
    help = "Record the delivery status Notify reports for messages still being sent."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = notifications_poll_status()
        self.stdout.write(f"{changed} notification status(es) changed.")
