"""Establishment pages end to end: settings errors with citations, setting up (DSO 1), terminal registration."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.establishments import selectors
from kinship.establishments.models import Establishment, Terminal
from kinship.factories import EstablishmentFactory, IrcFactory, RoomFactory, StaffFactory, TerminalFactory
from kinship.testing import sign_in_with_2fa

pytestmark = pytest.mark.django_db

SETTINGS = {
    "who_may_request": "both",
    "allowance_pattern": "one_60",
    "max_outside_participants": "4",
    "cancellation_notice_hours": "24",
    "calls_per_monitoring_officer": "4",
    "slot_lengths": "30, 60",
    "safer_custody_hotline": "0800 000 0001",
}


@pytest.fixture
def place():
    return EstablishmentFactory()


@pytest.fixture
def governor(client, place):
    user = StaffFactory(roles=[(place, Role.GOVERNOR)])
    sign_in_with_2fa(client, user)
    return user


def test_the_overview_shows_the_settings_with_their_rule_ids(client, place, governor):
    page = client.get(reverse("establishments:overview", args=[place.code])).content.decode()
    for rule in ("PF 4.6", "PF 4.1", "PF 4.13", "PF 4.8", "PF 4.7", "PF 4.19"):
        assert rule in page
    assert place.safer_custody_hotline in page
    assert reverse("establishments:settings", args=[place.code]) in page
    assert reverse("establishments:terminals", args=[place.code]) in page


def test_the_overview_links_only_to_pages_the_roles_allow(client, place):
    sign_in_with_2fa(client, StaffFactory(roles=[(place, Role.MONITORING_OFFICER)]))
    page = client.get(reverse("establishments:overview", args=[place.code])).content.decode()
    assert reverse("establishments:settings", args=[place.code]) not in page
    assert reverse("people:residents", args=[place.code]) not in page


def test_saving_settings(client, place, governor):
    response = client.post(
        reverse("establishments:settings", args=[place.code]),
        {**SETTINGS, "max_outside_participants": "3", "slot_lengths": "60, 30, 30"},
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.max_outside_participants == 3
    assert place.slot_lengths == [30, 60]
    assert AuditEvent.objects.filter(action="establishment_settings_changed", actor=governor).exists()


def test_a_refused_setting_is_shown_with_its_citation_and_what_was_entered_is_kept(client, place, governor):
    response = client.post(
        reverse("establishments:settings", args=[place.code]),
        {
            **SETTINGS,
            "max_outside_participants": "7",
            "safer_custody_hotline": "",
            "cancellation_notice_hours": "48",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#id_max_outside_participants">PF 4.13:' in page
    assert 'href="#id_safer_custody_hotline">PF 4.19:' in page
    assert re.search(r'id="id_max_outside_participants"[^>]*value="7"', page)
    assert re.search(r'id="id_cancellation_notice_hours"[^>]*value="48"', page)
    assert "<title>Error: Change settings - HMP" in page
    place.refresh_from_db()
    assert place.max_outside_participants == 4


def test_a_setting_that_is_not_a_number_is_explained(client, place, governor):
    response = client.post(
        reverse("establishments:settings", args=[place.code]), {**SETTINGS, "slot_lengths": "half an hour"}
    )
    assert "Enter call lengths as whole numbers of minutes" in response.content.decode()


def test_immigration_detention_settings_have_no_allowance_question(client):
    irc = IrcFactory()
    sign_in_with_2fa(client, StaffFactory(roles=[(irc, Role.GOVERNOR)]))
    page = client.get(reverse("establishments:settings", args=[irc.code])).content.decode()
    assert "allowance_pattern" not in page
    overview = client.get(reverse("establishments:overview", args=[irc.code])).content.decode()
    assert "DSO 3" in overview


# --- Setting up an establishment (DSO 1) ---------------------------------------------------------------------------


@pytest.fixture
def sysadmin(client):
    user = StaffFactory(roles=[(EstablishmentFactory(), Role.SYSTEM_ADMINISTRATOR)])
    sign_in_with_2fa(client, user)
    return user


NEW = {
    "name": "HMP Newtown",
    "code": "NTN",
    "type": "prison",
    "profile": "prison",
    "timezone": "Europe/London",
    "safer_custody_hotline": "0800 111 222",
}


def test_a_system_administrator_sets_up_an_establishment(client, sysadmin):
    response = client.post(reverse("establishments:create"), NEW)
    assert response.status_code == 302
    created = Establishment.objects.get(code="NTN")
    assert created.max_outside_participants == 4
    assert AuditEvent.objects.filter(action="establishment_created", actor=sysadmin).exists()


def test_the_form_refuses_a_holding_room_with_dso_1(client, sysadmin):
    response = client.post(
        reverse("establishments:create"),
        {**NEW, "type": "non_residential_sthf", "profile": "immigration_detention"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_type">DSO 1: Video calls cannot be set up in a non-residential holding room.' in page
    assert not Establishment.objects.filter(code="NTN").exists()


def test_the_form_keeps_a_mismatched_profile_out(client, sysadmin):
    response = client.post(reverse("establishments:create"), {**NEW, "type": "irc"})
    assert 'href="#id_profile"' in response.content.decode()
    assert not Establishment.objects.filter(code="NTN").exists()


@pytest.fixture
def superuser_client(client):
    from kinship.accounts.models import User

    user = User.objects.create_superuser("root@example.org", "a long enough password")
    sign_in_with_2fa(client, user)
    return client


def test_the_back_office_refuses_a_holding_room_with_dso_1(superuser_client):
    response = superuser_client.post(
        reverse("admin:establishments_establishment_add"),
        {
            "name": "Holding room",
            "code": "HR9",
            "profile": "immigration_detention",
            "type": "non_residential_sthf",
            "timezone": "Europe/London",
            "rooms-TOTAL_FORMS": "0",
            "rooms-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "DSO 1:" in response.content.decode()
    assert not Establishment.objects.filter(code="HR9").exists()


def test_the_back_office_sets_up_an_establishment_with_the_profile_defaults(superuser_client):
    response = superuser_client.post(
        reverse("admin:establishments_establishment_add"),
        {
            "name": "Example IRC",
            "code": "XIR",
            "profile": "immigration_detention",
            "type": "irc",
            "timezone": "Europe/London",
            "active": "on",
            "rooms-TOTAL_FORMS": "0",
            "rooms-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Establishment.objects.get(code="XIR")
    assert created.slot_lengths == [30, 60]
    assert AuditEvent.objects.filter(action="establishment_created_in_back_office").exists()


def test_the_back_office_never_shows_terminal_secrets(superuser_client):
    terminal = TerminalFactory(device_secret_hash="f" * 64, registration_code_hash="e" * 64)
    page = superuser_client.get(
        reverse("admin:establishments_terminal_change", args=[terminal.pk])
    ).content.decode()
    assert "f" * 64 not in page
    assert "e" * 64 not in page


# --- Rooms and terminals through the pages ------------------------------------------------------------------------


def test_adding_and_changing_a_room(client, place, governor):
    client.post(reverse("establishments:room-add", args=[place.code]), {"name": "Room 1", "active": "on"})
    room = place.rooms.get()
    assert not room.accessible
    client.post(
        reverse("establishments:room-edit", args=[place.code, room.pk]),
        {"name": "Room 1", "accessible": "on", "active": "on"},
    )
    room.refresh_from_db()
    assert room.accessible
    page = client.get(reverse("establishments:rooms", args=[place.code])).content.decode()
    assert "Room 1" in page


def test_a_room_elsewhere_cannot_be_edited_from_here(client, place, governor):
    room = RoomFactory()
    assert client.get(reverse("establishments:room-edit", args=[place.code, room.pk])).status_code == 404


def test_registering_a_device_through_the_pages(client, place, governor):
    client.post(
        reverse("establishments:terminal-add", args=[place.code]), {"name": "Monitor 1", "kind": "monitoring"}
    )
    terminal = Terminal.objects.get(establishment=place, name="Monitor 1")
    confirm = client.get(reverse("establishments:terminal-code", args=[place.code, terminal.pk]))
    assert "Issue code" in confirm.content.decode()
    terminal.refresh_from_db()
    assert terminal.registration_code_hash == ""

    issued = client.post(reverse("establishments:terminal-code", args=[place.code, terminal.pk]))
    assert "no-store" in issued["Cache-Control"] or "no-cache" in issued["Cache-Control"]
    found = re.search(r"<strong>([A-Z2-9]{4}-[A-Z2-9]{4})</strong>", issued.content.decode())
    assert found is not None
    code = found.group(1)

    wrong = client.post(reverse("establishments:terminal-register", args=[place.code]), {"code": "ZZZZ-ZZZZ"})
    assert "PF 4.23: The code is not right or has expired" in wrong.content.decode()
    assert selectors.TERMINAL_COOKIE_NAME not in wrong.cookies

    registered = client.post(reverse("establishments:terminal-register", args=[place.code]), {"code": code})
    assert registered.status_code == 302
    cookie = registered.cookies[selectors.TERMINAL_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert int(cookie["max-age"]) >= 365 * 24 * 60 * 60
    terminal.refresh_from_db()
    assert terminal.matches_device_secret(cookie.value)
    assert cookie.value not in terminal.device_secret_hash

    this_device = client.get(reverse("establishments:terminal-registered", args=[place.code]))
    assert "Monitor 1" in this_device.content.decode()

    again = client.post(reverse("establishments:terminal-register", args=[place.code]), {"code": code})
    assert "PF 4.23" in again.content.decode()

    client.post(
        reverse("establishments:terminal-revoke", args=[place.code, terminal.pk]), {"reason": "Stolen"}
    )
    after = client.get(reverse("establishments:terminal-registered", args=[place.code])).content.decode()
    assert "is not registered as a terminal" in after


@pytest.mark.parametrize("secure", [True, False])
def test_the_device_cookie_is_secure_when_session_cookies_are(client, place, governor, secure):
    from kinship.establishments import services

    issued = services.terminal_issue_registration_code(
        terminal=TerminalFactory(establishment=place), actor=governor
    )
    with override_settings(SESSION_COOKIE_SECURE=secure):
        response = client.post(
            reverse("establishments:terminal-register", args=[place.code]), {"code": issued.code}
        )
    assert bool(response.cookies[selectors.TERMINAL_COOKIE_NAME]["secure"]) is secure


def test_a_supervising_officer_may_register_a_device_but_not_issue_codes(client, place):
    from kinship.establishments import services

    officer = StaffFactory(roles=[(place, Role.SUPERVISING_OFFICER)])
    terminal = TerminalFactory(establishment=place)
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=StaffFactory())
    sign_in_with_2fa(client, officer)
    assert (
        client.post(reverse("establishments:terminal-code", args=[place.code, terminal.pk])).status_code
        == 403
    )
    response = client.post(
        reverse("establishments:terminal-register", args=[place.code]), {"code": issued.code}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="terminal_registered").actor == officer
