"""Queue a reminder for every approved call in the next 24 hours that has had none (run it often)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kinship.notifications.services import reminders_send


class Command(BaseCommand):
    help = "Queue reminders for approved calls starting within the next 24 hours, once per call."

    def handle(self, *args: Any, **options: Any) -> None:
        count = reminders_send()
        self.stdout.write(f"Reminders queued for {count} call(s).")
