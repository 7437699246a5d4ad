"""Writing and verifying the audit log.

``audit_record`` must be called inside the transaction that makes the change it records (services wrap both in
one ``transaction.atomic``), so an event exists exactly when its change does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from kinship.core import request_context

from .chain import GENESIS_HASH, event_hash
from .models import AuditChainHead, AuditEvent


def _jsonable(data: Mapping[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what is hashed is exactly what the database gives back later.
    return dict(json.loads(json.dumps(dict(data or {}), default=str, sort_keys=True)))


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "email", "") or getattr(actor, "pk", "") or actor)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    establishment_code: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    policy_ids: Iterable[str] = (),
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (or a new one if there is none)."""
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or str(subject.pk)
    context = request_context.current()
    occurred = (occurred_at or timezone.now()).astimezone(UTC)
    actor_pk = (
        getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    )
    fields: dict[str, Any] = {
        "occurred_at": occurred,
        "actor_label": _actor_label(actor) if actor_pk is not None or actor is None else "anonymous",
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "establishment_code": establishment_code,
        "before": _jsonable(before),
        "after": _jsonable(after),
        "policy_ids": sorted(set(policy_ids)),
        "request_id": context.request_id,
        "ip_address": context.ip_address,
    }
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS_HASH}
        )
        digest = event_hash(prev_hash=head.last_hash, actor_id=actor_pk, **fields)
        event = AuditEvent.objects.create(actor_id=actor_pk, prev_hash=head.last_hash, hash=digest, **fields)
        head.last_hash = digest
        head.last_event_id = event.pk
        head.save(update_fields=["last_hash", "last_event_id"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    problem: str


def audit_verify() -> Iterator[ChainProblem]:
    """Walk the chain from the start and yield every place where it does not hold."""
    expected_prev = GENESIS_HASH
    last_id = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            yield ChainProblem(
                event.pk, "does not follow the event before it (an event was removed or inserted)"
            )
        recomputed = event_hash(
            prev_hash=event.prev_hash,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            establishment_code=event.establishment_code,
            before=event.before,
            after=event.after,
            policy_ids=event.policy_ids,
            request_id=event.request_id,
            ip_address=event.ip_address,
        )
        if recomputed != event.hash:
            yield ChainProblem(event.pk, "its contents were changed after it was written")
        expected_prev = event.hash
        last_id = event.pk
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != expected_prev or head.last_event_id != last_id):
        yield ChainProblem(None, "the newest events were removed (the chain ends before its recorded head)")
