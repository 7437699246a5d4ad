"""``manage.py media_watch --every 2``: the media watchdog (``kinship.calls.watchdog``), a process of its own in
the Procfile. It fails, within seconds, every open call whose media node died or whose room vanished; the clock,
which runs once a minute, would take far longer. Without a configured media server it says so and idles (the
Procfile stops every process when one exits)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kinship.calls.provider import MediaNotConfigured, media_server
from kinship.calls.watchdog import DEFAULT_CONFIRM, DEFAULT_TIMEOUT, MediaWatchdog


class Command(BaseCommand):
    help = "Fail open calls whose media node or room is lost, checking every --every seconds (or --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=2.0, help="Seconds between passes (default 2).")
        parser.add_argument(
            "--confirm",
            type=int,
            default=DEFAULT_CONFIRM,
            help=f"Misses in a row before a call is failed (default {DEFAULT_CONFIRM}).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT,
            help=f"Seconds a node has to answer each probe (default {DEFAULT_TIMEOUT}).",
        )
        parser.add_argument("--once", action="store_true", help="One pass, then stop.")
        parser.add_argument("--passes", type=int, default=None, help="Stop after this many passes.")

    def handle(self, *args: Any, **options: Any) -> None:
        every: float = options["every"]
        if not 0.5 <= every <= 60:
            raise CommandError("--every must be between 0.5 and 60 seconds.")
        passes: int | None = 1 if options["once"] else options["passes"]
        stop = threading.Event()
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if main else None
        try:
            self._watch(options, every=every, passes=passes, stop=stop)
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)

    def _watch(
        self, options: dict[str, Any], *, every: float, passes: int | None, stop: threading.Event
    ) -> None:
        try:
            media = media_server()
        except MediaNotConfigured as problem:
            self.stderr.write(f"Media watchdog idle: {problem}")
            if passes is None:
                stop.wait()
            return
        try:
            watchdog = MediaWatchdog(media, confirm=options["confirm"], timeout=options["timeout"])
        except (TypeError, ValueError) as problem:
            raise CommandError(str(problem)) from problem
        self.stdout.write(
            f"Media watchdog: every {every:g} s, a call fails after {watchdog.confirm} misses in a row "
            f"({watchdog.timeout:g} s to answer)."
        )
        try:
            failed = watchdog.run(every=every, stop=stop, passes=passes)
        except KeyboardInterrupt:
            return
        self.stdout.write(f"Media watchdog stopped; {failed} calls failed.")
