"""Links to staff pages, offered only to people the linked view would admit.

Each staff view declares its roles (``staff_required``); this reads that declaration back, so a link can never
promise a page that would refuse the person, and no template repeats the role rules. A view that also needs a kind
of registered device (``needs_device``: the monitoring wall, PF 4.23) is offered only on such a device.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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


def needs_device[View: Callable[..., Any]](kind: str) -> Callable[[View], View]:
    """Marks a staff view that opens only on a registered device of ``kind`` (it checks that itself): links to it
    are offered only on such a device."""

    def decorate(view: View) -> View:
        view.kinship_device = kind  # type: ignore[attr-defined]
        return view

    return decorate


def staff_links(
    held: Iterable[Role | str],
    sections: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    *args: object,
    devices: Collection[str] = (),
) -> list[LinkSection]:
    """The sections (heading, [(url name, text)]) with only the links whose view admits one of ``held`` (and, for
    a view that ``needs_device``, only when this is such a device: ``devices``); sections left empty are dropped.
    ``args`` are the URL arguments shared by every link (the establishment code)."""
    roles = {Role(role) for role in held}
    visible = []
    for heading, items in sections:
        links = []
        for url_name, text in items:
            url = reverse(url_name, args=args)
            view = resolve(url).func
            device = getattr(view, "kinship_device", None)
            if roles & getattr(view, "kinship_roles", frozenset()) and (device is None or device in devices):
                links.append(Link(text=text, url=url))
        if links:
            visible.append(LinkSection(heading=heading, links=tuple(links)))
    return visible
