"""The safeguarding deadline pass: reminders before a deadline, escalation once it is overdue. Run it often (the
notices go once each); ``--enqueue`` hands the pass to the worker instead of running it here, and ``--every``
repeats it like the notifications clock does."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kinship.safeguarding import deadlines
from kinship.safeguarding.tasks import safeguarding_deadlines_pass


class Command(BaseCommand):
    help = "Send the safeguarding deadline reminders and escalations that are due, once each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="Enqueue the pass for the worker.")
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (at least 10).")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            if options["enqueue"]:
                safeguarding_deadlines_pass.enqueue()
                self.stdout.write("Safeguarding deadline pass enqueued.")
            else:
                result = deadlines.deadlines_run()
                self.stdout.write(
                    f"{result.reminders} reminder(s) and {result.escalations} escalation(s) sent."
                )
            if not options["every"]:
                return
            time.sleep(max(10, options["every"]))
