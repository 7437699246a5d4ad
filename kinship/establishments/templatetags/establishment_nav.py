"""``{% establishment_nav "section" %}``: the MoJ sub-navigation across an establishment's staff pages, showing
only the sections the signed-in person's roles there allow."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from kinship.core.roles import ESTABLISHMENT_ADMINS, RECORD_EDITORS, RECORD_READERS

register = template.Library()

_SECTIONS: list[tuple[str, str, str, frozenset[Any] | None]] = [
    ("overview", "Overview", "establishments:overview", None),
    ("residents", "People in custody", "people:residents", RECORD_READERS),
    ("link-requests", "Link requests", "people:link-requests", RECORD_READERS),
    ("rooms", "Rooms", "establishments:rooms", ESTABLISHMENT_ADMINS),
    ("terminals", "Terminals", "establishments:terminals", ESTABLISHMENT_ADMINS),
    ("compact-texts", "Compact texts", "people:compact-texts", ESTABLISHMENT_ADMINS),
]


@register.inclusion_tag("establishments/_nav.html", takes_context=True)
def establishment_nav(context: template.Context, current: str = "") -> dict[str, Any]:
    request = context["request"]
    establishment = getattr(request, "establishment", None)
    roles: set[Any] = getattr(request, "staff_roles", set())
    links = []
    if establishment is not None:
        for key, label, url_name, allowed in _SECTIONS:
            if allowed is None or roles & allowed:
                links.append((label, reverse(url_name, args=[establishment.code]), key == current))
    return {"links": links}


@register.filter
def has_any_role(roles: Any, group: str) -> bool:
    """``{% if request.staff_roles|has_any_role:"editors" %}``: whether the person may edit records here."""
    groups = {"readers": RECORD_READERS, "editors": RECORD_EDITORS, "admins": ESTABLISHMENT_ADMINS}
    return bool(set(roles or ()) & groups[group])
