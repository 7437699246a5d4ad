"""The access table machinery: each staff page with the roles it admits, and the checks every page must pass
(deny by default). kinship/establishments/tests/test_access.py and kinship/people/tests/test_access.py list
their pages; later apps add theirs the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.test import Client
from django.urls import reverse

from kinship.core.roles import Role
from kinship.factories import (
    CompactTextFactory,
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    ResidentFactory,
    RoomFactory,
    StaffFactory,
    TerminalFactory,
)
from kinship.people.models import LinkRequest, LinkStatus
from kinship.testing import sign_in_with_2fa


@dataclass
class World:
    """One establishment with one of everything, and a second establishment to be refused from."""

    establishment: Any
    elsewhere: Any
    resident: Any
    contact: Any
    link: Any
    link_request: Any
    room: Any
    terminal: Any
    compact_text: Any


def build_world() -> World:
    establishment = EstablishmentFactory()
    resident = ResidentFactory(
        establishment=establishment, first_name="Alex", date_of_birth=date(1990, 5, 17)
    )
    contact = ContactFactory()
    return World(
        establishment=establishment,
        elsewhere=EstablishmentFactory(),
        resident=resident,
        contact=contact,
        link=ContactLinkFactory(resident=resident, contact=contact, status=LinkStatus.PENDING, source=""),
        link_request=LinkRequest.objects.create(
            contact=ContactFactory(),
            establishment=establishment,
            resident_first_name=resident.first_name,
            resident_last_name=resident.last_name,
            resident_date_of_birth=resident.date_of_birth,
            relationship="Brother",
        ),
        room=RoomFactory(establishment=establishment),
        terminal=TerminalFactory(establishment=establishment),
        compact_text=CompactTextFactory(),
    )


@dataclass(frozen=True)
class Page:
    """A staff page: its URL name, the roles it admits and how to build its other URL arguments."""

    name: str
    roles: frozenset[Role]
    args: Callable[[World], dict[str, Any]] = field(default=lambda world: {})

    def url(self, world: World, establishment: Any = None) -> str:
        place = establishment if establishment is not None else world.establishment
        return reverse(self.name, kwargs={"establishment": place.code, **self.args(world)})

    def __str__(self) -> str:
        return self.name


def role_cases(pages: Iterable[Page]) -> Iterator[tuple[Page, Role, bool]]:
    """Every page with every role, and whether that role is let in."""
    for page in pages:
        for role in Role:
            yield page, role, role in page.roles


def case_id(value: Any) -> str:
    if isinstance(value, Page):
        return value.name
    if isinstance(value, Role):
        return value.value
    return "allowed" if value else "refused"


def check_role(client: Client, page: Page, role: Role, allowed: bool) -> None:
    world = build_world()
    staff = StaffFactory(roles=[(world.establishment, role)])
    response = sign_in_with_2fa(client, staff).get(page.url(world))
    assert response.status_code == (200 if allowed else 403), (page.name, role, response.status_code)


def check_role_elsewhere(client: Client, page: Page) -> None:
    """Holding every admitted role, but at a different establishment, is no use here."""
    world = build_world()
    staff = StaffFactory(roles=[(world.elsewhere, role) for role in page.roles])
    client = sign_in_with_2fa(client, staff)
    assert client.get(page.url(world, world.elsewhere)).status_code in {200, 404}
    assert client.get(page.url(world)).status_code == 403


def check_contact(client: Client, page: Page) -> None:
    world = build_world()
    client.force_login(world.contact.user)
    assert client.get(page.url(world)).status_code == 403


def check_anonymous(client: Client, page: Page) -> None:
    world = build_world()
    response = client.get(page.url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))
