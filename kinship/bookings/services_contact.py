"""Writes for the resident terminal: setting a person's terminal PIN (staff) and checking it on a registered
resident terminal (PF 4.23), rate limited per terminal and audited.

A PIN is kept only as a hash made by Django's password hashers. A terminal is a shared device in a calling
room, so attempts are counted per terminal: after ``PIN_ATTEMPT_LIMIT`` attempts in ``PIN_WINDOW_SECONDS`` the
terminal refuses every attempt until the window ends, and the first refusal is audited once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from kinship.accounts import ratelimit
from kinship.accounts.models import User
from kinship.audit.services import audit_record
from kinship.establishments.models import Terminal
from kinship.people.models import Resident

from .selectors_contact import resident_at

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
PIN_ATTEMPT_LIMIT = 5
PIN_WINDOW_SECONDS = 15 * 60
_RATE_BUCKET = "terminal-pin"
# Checked against when no person matches, so a wrong identifier takes as long as a wrong PIN.
_DUMMY_HASH = make_password("00000000")


class PinError(ValueError):
    """The PIN staff typed is not one a terminal accepts."""


def resident_pin_set(*, resident: Resident, pin: str, actor: User, now: datetime | None = None) -> Resident:
    """Set or reset a person's terminal PIN: 4 to 8 digits, stored hashed. The PIN itself is never logged."""
    if not PIN_PATTERN.match(pin):
        raise PinError("Enter a PIN of 4 to 8 numbers")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Resident.objects.select_for_update().select_related("establishment").get(pk=resident.pk)
        had_pin = bool(locked.pin_hash)
        locked.pin_hash = make_password(pin)
        locked.pin_set_at = now
        locked.save(update_fields=["pin_hash", "pin_set_at", "updated_at"])
        audit_record(
            action="resident_pin_reset" if had_pin else "resident_pin_set",
            actor=actor,
            subject=locked,
            establishment_code=locked.establishment.code,
            after={"pin_set_at": now},
            policy_ids=["PF 4.23"],
            occurred_at=now,
        )
    return locked


class PinOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class PinCheck:
    outcome: PinOutcome
    resident: Resident | None = None


def terminal_pin_check(*, terminal: Terminal, identifier: str, pin: str) -> PinCheck:
    """A person identifying themselves on a resident terminal with their identifier and PIN.

    Every attempt is audited against the terminal (the person is named only when they were recognised). Wrong
    identifiers, wrong PINs and people with no PIN set all get the same answer."""
    attempt = ratelimit.hit(
        bucket=_RATE_BUCKET, key=str(terminal.pk), limit=PIN_ATTEMPT_LIMIT, window_seconds=PIN_WINDOW_SECONDS
    )
    if attempt.exceeded:
        if attempt.first_over:
            audit_record(
                action="terminal_pin_rate_limited",
                subject=terminal,
                establishment_code=terminal.establishment.code,
                after={"attempts": attempt.count, "window_seconds": PIN_WINDOW_SECONDS},
                policy_ids=["PF 4.23"],
            )
        return PinCheck(outcome=PinOutcome.LOCKED)
    resident = resident_at(establishment=terminal.establishment, identifier=identifier)
    stored = resident.pin_hash if resident is not None and resident.pin_hash else _DUMMY_HASH
    matches = check_password(pin, stored) and resident is not None and bool(resident.pin_hash)
    audit_record(
        action="terminal_pin_accepted" if matches else "terminal_pin_refused",
        subject=terminal,
        establishment_code=terminal.establishment.code,
        after={"resident": str(resident.pk) if matches and resident is not None else None},
        policy_ids=["PF 4.23"],
    )
    if not matches or resident is None:
        return PinCheck(outcome=PinOutcome.WRONG)
    ratelimit.reset(bucket=_RATE_BUCKET, key=str(terminal.pk))
    return PinCheck(outcome=PinOutcome.ACCEPTED, resident=resident)
