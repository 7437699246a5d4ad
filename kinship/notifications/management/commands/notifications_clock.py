"""The notifications clock: every few minutes it enqueues the periodic tasks for the worker to run (reminders,
delivery receipts, messages still queued). django.tasks has no scheduler of its own; the Procfile runs this."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kinship.notifications.tasks import poll_delivery_status, requeue_notifications, send_reminders


class Command(BaseCommand):
    help = "Enqueue the periodic notification tasks, once (--once) or every --every seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=300, help="Seconds between passes (default 300).")
        parser.add_argument("--once", action="store_true", help="One pass, then stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for periodic in (requeue_notifications, send_reminders, poll_delivery_status):
                periodic.enqueue()
            self.stdout.write("Periodic notification tasks enqueued.")
            if options["once"]:
                return
            time.sleep(max(10, options["every"]))
