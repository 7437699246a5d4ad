"""``manage.py audit_verify``: check the audit chain; exit 1 and list the problems when it has been tampered with."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kinship.audit.models import AuditEvent
from kinship.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits non-zero if any event was changed, removed or inserted."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(audit_verify())
        for problem in problems:
            where = f"event {problem.event_id}" if problem.event_id is not None else "chain head"
            self.stderr.write(f"{where}: {problem.problem}")
        if problems:
            raise CommandError(f"Audit log failed verification: {len(problems)} problem(s).")
        self.stdout.write(f"Audit log verified: {AuditEvent.objects.count()} events, chain intact.")
