"""Reads for establishments, rooms and terminals, and recognising a registered terminal from its cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from kinship.core.roles import Role

from .models import Establishment, Room, Terminal, hash_device_secret

#: The cookie a registered device holds (PF 4.23). Its value is a random secret; the server keeps only the hash.
TERMINAL_COOKIE_NAME = "kinship_terminal"
#: Browsers cap cookie lifetimes at 400 days; a device is re-registered if it ever loses the cookie.
TERMINAL_COOKIE_MAX_AGE = 400 * 24 * 60 * 60


@dataclass(frozen=True)
class EstablishmentRoles:
    establishment: Establishment
    roles: tuple[Role, ...]


def establishments_for_user(user: Any) -> list[EstablishmentRoles]:
    """The establishments where the member of staff holds a role, with the roles they hold there (one query)."""
    from kinship.accounts.models import StaffRole

    grouped: dict[Any, EstablishmentRoles] = {}
    rows = (
        StaffRole.objects.filter(user=user, establishment__active=True)
        .select_related("establishment")
        .order_by("establishment__name", "role")
    )
    for row in rows:
        entry = grouped.get(row.establishment_id)
        role = Role(row.role)
        if entry is None:
            grouped[row.establishment_id] = EstablishmentRoles(row.establishment, (role,))
        else:
            grouped[row.establishment_id] = EstablishmentRoles(entry.establishment, (*entry.roles, role))
    return list(grouped.values())


def user_is_system_administrator(user: Any) -> bool:
    """Holds the system administrator role somewhere: may set up new establishments."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff_member", False):
        return False
    return bool(user.staff_roles.filter(role=Role.SYSTEM_ADMINISTRATOR).exists())


def rooms_for(establishment: Establishment) -> QuerySet[Room]:
    return Room.objects.filter(establishment=establishment).order_by("name")


def terminals_for(establishment: Establishment) -> QuerySet[Terminal]:
    return Terminal.objects.filter(establishment=establishment).select_related("room").order_by("name")


def terminal_for_request(
    request: HttpRequest, kind: str | None = None, establishment: Establishment | None = None
) -> Terminal | None:
    """The registered, active, non-revoked terminal this device is (PF 4.23), or None.

    ``kind`` narrows to resident or monitoring terminals (the monitoring wall asks for ``"monitoring"``);
    ``establishment`` (default: the one the page is about, if any) requires the terminal to belong to it.
    """
    secret = request.COOKIES.get(TERMINAL_COOKIE_NAME, "")
    if not secret:
        return None
    place = establishment if establishment is not None else getattr(request, "establishment", None)
    terminals = Terminal.objects.filter(
        device_secret_hash=hash_device_secret(secret), revoked_at__isnull=True, active=True
    ).select_related("establishment", "room")
    if kind is not None:
        terminals = terminals.filter(kind=kind)
    if place is not None:
        terminals = terminals.filter(establishment=place)
    terminal = terminals.first()
    # The hash lookup found it; compare in constant time anyway, and re-check it is still registered.
    if terminal is None or not terminal.matches_device_secret(secret):
        return None
    return terminal
