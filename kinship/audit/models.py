"""The audit log: append-only, hash-chained events, one per decision or change.

Each event stores the hash of the one before it, and its own hash covers every field it holds. Editing or
deleting an event, or inserting one out of order, breaks the chain and ``manage.py audit_verify`` says where.
The model refuses updates and deletes; database triggers (see the migrations) refuse them too, so nobody can edit
the log through the app, the admin or a stray ORM call.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the event still says who acted after the account is gone (and the hash stays valid).
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    establishment_code = models.CharField(max_length=20, blank=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    policy_ids = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """One row holding the newest hash. Writers lock it (SELECT ... FOR UPDATE) so events chain in order even
    when many processes write at once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Audit chain head at event {self.last_event_id}"
