"""Links to staff pages, offered only to people the linked view would admit.

Each staff view declares its roles (``staff_required``); this reads that declaration back, so a link can never
promise a page that would refuse the person, and no template repeats the role rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.urls import resolve, reverse

from kinship.core.roles import Role


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class LinkSection:
    heading: str
    links: tuple[Link, ...]


def staff_links(
    held: Iterable[Role | str], sections: Sequence[tuple[str, Sequence[tuple[str, str]]]], *args: object
) -> list[LinkSection]:
    """The sections (heading, [(url name, text)]) with only the links whose view admits one of ``held``; sections
    left empty are dropped. ``args`` are the URL arguments shared by every link (the establishment code)."""
    roles = {Role(role) for role in held}
    visible = []
    for heading, items in sections:
        links = []
        for url_name, text in items:
            url = reverse(url_name, args=args)
            if roles & getattr(resolve(url).func, "kinship_roles", frozenset()):
                links.append(Link(text=text, url=url))
        if links:
            visible.append(LinkSection(heading=heading, links=tuple(links)))
    return visible
