"""How an event's hash is computed: SHA-256 over the previous hash and a canonical JSON of the event's fields."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_id: object,
    actor_label: str,
    action: str,
    subject_type: str,
    subject_id: str,
    establishment_code: str,
    before: Any,
    after: Any,
    policy_ids: Any,
    request_id: str,
    ip_address: str,
) -> str:
    payload = _canonical(
        {
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": str(actor_id) if actor_id is not None else None,
            "actor_label": actor_label,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "establishment_code": establishment_code,
            "before": before,
            "after": after,
            "policy_ids": policy_ids,
            "request_id": request_id,
            "ip_address": ip_address,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()
