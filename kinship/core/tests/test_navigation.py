"""Staff links are offered only to the roles the linked page admits."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kinship.core.navigation import staff_links
from kinship.core.roles import Role
from kinship.establishments.models import TerminalKind, hash_device_secret
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import EstablishmentFactory, TerminalFactory, staff_with

pytestmark = pytest.mark.django_db

SECTIONS = [
    ("Records", [("people:residents", "People in custody"), ("establishments:rooms", "Rooms")]),
    ("Calls", [("bookings-staff:schedule", "Schedule")]),
]


def test_links_follow_each_views_own_roles() -> None:
    sections = staff_links({Role.BOOKING_CLERK}, SECTIONS, "EX1")
    assert [(s.heading, [link.text for link in s.links]) for s in sections] == [
        ("Records", ["People in custody"])
    ]


def test_sections_with_nothing_to_offer_are_dropped() -> None:
    assert staff_links({Role.MONITORING_OFFICER}, SECTIONS, "EX1") == []


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_link_on_the_overview_opens_for_the_person_it_is_shown_to(staff_client, role: Role) -> None:
    establishment = EstablishmentFactory()
    client: Client = staff_client(staff_with(role, establishment))
    page = client.get(reverse("establishments:overview", args=[establishment.code]))
    for section in page.context["link_sections"]:
        for link in section.links:
            assert client.get(link.url).status_code == 200, (role, link.url)


def test_the_monitoring_wall_is_offered_only_on_a_monitoring_terminal(staff_client) -> None:
    """PF 4.23: the wall opens only on a registered monitoring terminal, so the link is offered only there (and
    elsewhere the page says where it opens)."""
    establishment = EstablishmentFactory()
    client: Client = staff_client(staff_with(Role.MONITORING_OFFICER, establishment))
    overview = reverse("establishments:overview", args=[establishment.code])
    wall = reverse("calls-monitoring:wall", args=[establishment.code])
    elsewhere = client.get(overview).content.decode()
    assert wall not in elsewhere
    assert "The monitoring wall opens only on a registered monitoring terminal (PF 4.23)." in elsewhere
    TerminalFactory(
        establishment=establishment,
        kind=TerminalKind.MONITORING,
        device_secret_hash=hash_device_secret("monitoring-device"),
        registered_at=timezone.now(),
    )
    client.cookies[TERMINAL_COOKIE_NAME] = "monitoring-device"
    at_terminal = client.get(overview).content.decode()
    assert f'href="{wall}"' in at_terminal
    assert "opens only on a registered monitoring terminal" not in at_terminal
    assert client.get(wall).status_code == 200
