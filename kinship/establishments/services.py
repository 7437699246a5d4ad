"""Writes for establishments, rooms and terminals. Each is one transaction with its audit event.

Validation of settings is the policy engine's (through ``Establishment.clean()``); a refusal is raised as a
``ValidationError`` keyed by field, each message citing its rule, for the form to show.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kinship.audit.services import audit_record

from .models import Establishment, Profile, Room, Terminal, TerminalKind, hash_device_secret

#: The settings an establishment administrator may change, with the rule each one comes from.
SETTINGS_FIELDS: dict[str, str] = {
    "who_may_request": "PF 4.6",
    "allowance_pattern": "PF 4.1",
    "max_outside_participants": "PF 4.13",
    "cancellation_notice_hours": "PF 4.8",
    "calls_per_monitoring_officer": "PF 4.7",
    "slot_lengths": "",
    "safer_custody_hotline": "PF 4.19",
}

#: A one-time registration code is good for this long after it is issued (PF 4.23).
REGISTRATION_CODE_LIFETIME = timedelta(minutes=30)
# No 0/O, 1/I/L: the code is read off one screen and typed on another.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8


def _settings_snapshot(establishment: Establishment) -> dict[str, Any]:
    return {name: getattr(establishment, name) for name in SETTINGS_FIELDS}


def _establishment_snapshot(establishment: Establishment) -> dict[str, Any]:
    return {
        "name": establishment.name,
        "code": establishment.code,
        "profile": establishment.profile,
        "type": establishment.type,
        "timezone": establishment.timezone,
        "active": establishment.active,
        **_settings_snapshot(establishment),
    }


def establishment_create(
    *,
    actor: Any,
    name: str,
    code: str,
    profile: str,
    type: str,
    timezone_name: str = "Europe/London",
    safer_custody_hotline: str = "",
) -> Establishment:
    """Set up a new establishment with its profile's default settings. A non-residential short-term holding
    facility is refused (DSO 1), as is a profile that does not fit the type."""
    with transaction.atomic():
        establishment = Establishment(
            name=name.strip(),
            code=code.strip().upper(),
            profile=profile,
            type=type,
            timezone=timezone_name,
            safer_custody_hotline=safer_custody_hotline.strip(),
        )
        if profile in Profile.values:
            establishment.apply_profile_defaults()
        establishment.full_clean()
        establishment.save()
        audit_record(
            action="establishment_created",
            actor=actor,
            subject=establishment,
            establishment_code=establishment.code,
            after=_establishment_snapshot(establishment),
            policy_ids=["DSO 1"],
        )
    return establishment


def establishment_update_settings(
    *, establishment: Establishment, actor: Any, **changes: Any
) -> Establishment:
    """Change the settings the policies leave to the establishment. Every value is checked by the policy engine;
    nothing is saved unless all of them are allowed."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not an establishment setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = Establishment.objects.select_for_update().get(pk=establishment.pk)
        before = _settings_snapshot(current)
        for name, value in changes.items():
            setattr(current, name, value)
        if current.profile == Profile.IMMIGRATION_DETENTION:
            # No monthly allowance in immigration detention (DSO 3): the pattern does not apply.
            current.allowance_pattern = ""
        current.full_clean()
        current.save()
        after = _settings_snapshot(current)
        audit_record(
            action="establishment_settings_changed",
            actor=actor,
            subject=current,
            establishment_code=current.code,
            before=before,
            after=after,
            policy_ids=[
                rule for name, rule in SETTINGS_FIELDS.items() if rule and before[name] != after[name]
            ],
        )
    return current


# --- Rooms ---------------------------------------------------------------------------------------------------------


def _room_snapshot(room: Room) -> dict[str, Any]:
    return {"name": room.name, "accessible": room.accessible, "active": room.active}


def _check_room_name(*, establishment: Establishment, name: str, room: Room | None = None) -> None:
    others = Room.objects.filter(establishment=establishment, name__iexact=name)
    if room is not None:
        others = others.exclude(pk=room.pk)
    if others.exists():
        raise ValidationError({"name": "There is already a room with this name"})


def room_create(
    *, establishment: Establishment, actor: Any, name: str, accessible: bool, active: bool = True
) -> Room:
    with transaction.atomic():
        _check_room_name(establishment=establishment, name=name.strip())
        room = Room.objects.create(
            establishment=establishment, name=name.strip(), accessible=accessible, active=active
        )
        audit_record(
            action="room_created",
            actor=actor,
            subject=room,
            establishment_code=establishment.code,
            after=_room_snapshot(room),
            policy_ids=["PF 4.24"],
        )
    return room


def room_update(*, room: Room, actor: Any, name: str, accessible: bool, active: bool) -> Room:
    with transaction.atomic():
        current = Room.objects.select_for_update().select_related("establishment").get(pk=room.pk)
        _check_room_name(establishment=current.establishment, name=name.strip(), room=current)
        before = _room_snapshot(current)
        current.name, current.accessible, current.active = name.strip(), accessible, active
        current.save()
        audit_record(
            action="room_changed",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before=before,
            after=_room_snapshot(current),
            policy_ids=["PF 4.24"],
        )
    return current


# --- Terminals -----------------------------------------------------------------------------------------------------


def _terminal_snapshot(terminal: Terminal) -> dict[str, Any]:
    # Hashes are never written to the audit log: they are secrets' stand-ins, not facts about the terminal.
    return {
        "name": terminal.name,
        "kind": terminal.kind,
        "room": str(terminal.room_id) if terminal.room_id else None,
        "active": terminal.active,
        "registered_at": terminal.registered_at,
        "revoked_at": terminal.revoked_at,
    }


def _check_terminal(
    *, establishment: Establishment, name: str, room: Room | None, terminal: Terminal | None = None
) -> None:
    errors: dict[str, str] = {}
    others = Terminal.objects.filter(establishment=establishment, name__iexact=name)
    if terminal is not None:
        others = others.exclude(pk=terminal.pk)
    if others.exists():
        errors["name"] = "There is already a terminal with this name"
    if room is not None and room.establishment_id != establishment.pk:
        errors["room"] = "Choose a room at this establishment"
    if errors:
        raise ValidationError(errors)


def terminal_create(
    *, establishment: Establishment, actor: Any, name: str, kind: str, room: Room | None = None
) -> Terminal:
    if kind not in TerminalKind.values:
        raise ValidationError({"kind": "Select the kind of terminal"})
    with transaction.atomic():
        _check_terminal(establishment=establishment, name=name.strip(), room=room)
        terminal = Terminal.objects.create(
            establishment=establishment, name=name.strip(), kind=kind, room=room
        )
        audit_record(
            action="terminal_created",
            actor=actor,
            subject=terminal,
            establishment_code=establishment.code,
            after=_terminal_snapshot(terminal),
            policy_ids=["PF 4.23"],
        )
    return terminal


def terminal_update(
    *, terminal: Terminal, actor: Any, name: str, room: Room | None, active: bool
) -> Terminal:
    with transaction.atomic():
        current = Terminal.objects.select_for_update().select_related("establishment").get(pk=terminal.pk)
        _check_terminal(establishment=current.establishment, name=name.strip(), room=room, terminal=current)
        before = _terminal_snapshot(current)
        current.name, current.room, current.active = name.strip(), room, active
        current.save()
        audit_record(
            action="terminal_changed",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before=before,
            after=_terminal_snapshot(current),
            policy_ids=["PF 4.23"],
        )
    return current


def terminal_revoke(*, terminal: Terminal, actor: Any, reason: str) -> Terminal:
    """Stop a terminal being used: its device secret and any unused code are forgotten, so the device it was
    registered to no longer counts as this terminal (PF 4.23)."""
    with transaction.atomic():
        current = Terminal.objects.select_for_update().select_related("establishment").get(pk=terminal.pk)
        if current.revoked_at is not None:
            raise ValidationError("This terminal has already been revoked")
        before = _terminal_snapshot(current)
        current.revoked_at = timezone.now()
        current.active = False
        current.device_secret_hash = ""
        current.registration_code_hash = ""
        current.registration_code_expires_at = None
        current.save()
        audit_record(
            action="terminal_revoked",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before=before,
            after={**_terminal_snapshot(current), "reason": reason},
            policy_ids=["PF 4.23"],
        )
    return current


def hash_registration_code(code: str) -> str:
    return hashlib.sha256(normalise_registration_code(code).encode()).hexdigest()


def normalise_registration_code(code: str) -> str:
    """What people type: any case, with or without the hyphen or spaces."""
    return "".join(character for character in code.upper() if character.isalnum())


@dataclass(frozen=True)
class IssuedCode:
    terminal: Terminal
    #: Shown once, to the person who asked for it; only its hash is kept.
    code: str
    expires_at: Any


def terminal_issue_registration_code(*, terminal: Terminal, actor: Any) -> IssuedCode:
    """A one-time code to enter on the device, good for 30 minutes. Issuing a new code cancels the last one."""
    with transaction.atomic():
        current = Terminal.objects.select_for_update().select_related("establishment").get(pk=terminal.pk)
        if current.revoked_at is not None:
            raise ValidationError("This terminal has been revoked. Add a new terminal instead.")
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        code = f"{raw[:4]}-{raw[4:]}"
        current.registration_code_hash = hash_registration_code(code)
        current.registration_code_expires_at = timezone.now() + REGISTRATION_CODE_LIFETIME
        current.save(update_fields=["registration_code_hash", "registration_code_expires_at", "updated_at"])
        audit_record(
            action="terminal_registration_code_issued",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            after={"expires_at": current.registration_code_expires_at},
            policy_ids=["PF 4.23"],
        )
    return IssuedCode(terminal=current, code=code, expires_at=current.registration_code_expires_at)


@dataclass(frozen=True)
class RegisteredDevice:
    terminal: Terminal
    #: Goes into the device's cookie and nowhere else; only its hash is kept.
    device_secret: str


INVALID_CODE_MESSAGE = "PF 4.23: The code is not right or has expired. Ask for a new code and try again."


def terminal_register_device(*, establishment: Establishment, code: str, actor: Any) -> RegisteredDevice:
    """Bind the device the code is typed on to the terminal the code was issued for. The code works once; a
    device registered before to the same terminal stops counting as it (PF 4.23)."""
    digest = hash_registration_code(code)
    with transaction.atomic():
        terminal = (
            Terminal.objects.select_for_update()
            .filter(
                establishment=establishment,
                revoked_at__isnull=True,
                registration_code_hash=digest,
                registration_code_expires_at__gt=timezone.now(),
            )
            .exclude(registration_code_hash="")
            .first()
        )
        if terminal is None or len(normalise_registration_code(code)) != _CODE_LENGTH:
            raise ValidationError({"code": INVALID_CODE_MESSAGE})
        before = _terminal_snapshot(terminal)
        secret = secrets.token_urlsafe(32)
        terminal.device_secret_hash = hash_device_secret(secret)
        terminal.registered_at = timezone.now()
        terminal.registration_code_hash = ""
        terminal.registration_code_expires_at = None
        terminal.save()
        audit_record(
            action="terminal_registered",
            actor=actor,
            subject=terminal,
            establishment_code=establishment.code,
            before=before,
            after=_terminal_snapshot(terminal),
            policy_ids=["PF 4.23"],
        )
    return RegisteredDevice(terminal=terminal, device_secret=secret)
