"""``manage.py clock``: every few minutes, enqueue the periodic tasks for the worker (django.tasks has no scheduler
of its own). The tasks are listed in settings.KINSHIP_PERIODIC_TASKS, so each app adds its own there."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Enqueue the periodic tasks (settings.KINSHIP_PERIODIC_TASKS), once (--once) or every --every seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=300, help="Seconds between passes (default 300).")
        parser.add_argument("--once", action="store_true", help="One pass, then stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        periodic = [import_string(path) for path in settings.KINSHIP_PERIODIC_TASKS]
        while True:
            for task in periodic:
                task.enqueue()
            self.stdout.write(f"{len(periodic)} periodic tasks enqueued.")
            if options["once"]:
                return
            time.sleep(max(10, options["every"]))
