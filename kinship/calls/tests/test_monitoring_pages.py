"""The monitoring wall and the viewing log: the access table (every role, another establishment, contacts,
anonymous people; the wall also only from a registered monitoring terminal, PF 4.23), watching and stopping with
every refusal cited (PF 4.7, PF 4.22, PF 4.4, PF 4.23), what the wall shows and never shows (no audio element, no
secret), and the log's fixed query count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kinship.calls import services
from kinship.calls.models import Call, CallState, MonitorViewing
from kinship.calls.views_monitoring import LOG_READERS, WATCHERS, grid_layout
from kinship.core.roles import Role
from kinship.establishments.models import TerminalKind, hash_device_secret
from kinship.establishments.tests.access import (
    Page,
    World,
    build_world,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.factories import EstablishmentFactory, StaffFactory, TerminalFactory, staff_with
from kinship.policy.rules.calls import MONITORING_ROLES
from kinship.testing import sign_in_with_2fa

from .conftest import Place, monitoring_terminal
from .test_lifecycle import NOW, _dedicated_monitor_restriction, opened, ready, watch

pytestmark = pytest.mark.django_db

DEVICE = "device-secret"  # conftest.monitoring_terminal's
WALL = Page("calls-monitoring:wall", WATCHERS)
LOG = Page("calls-monitoring:log", LOG_READERS)
PAGES = [WALL, LOG]


@pytest.fixture(autouse=True)
def _at_call_time() -> Iterator[None]:
    """The calls of these tests run on 3 March 2027 (conftest.START); restrictions and viewings start "now"."""
    with time_machine.travel(NOW, tick=True):
        yield


def at_terminal(client: Client, user: Any, device: str = DEVICE) -> Client:
    client = sign_in_with_2fa(client, user)
    client.cookies["kinship_terminal"] = device
    return client


def wall_url(place: Place) -> str:
    return reverse("calls-monitoring:wall", args=[place.establishment.code])


# --- Access ---------------------------------------------------------------------------------------------------------


def test_the_watchers_are_the_roles_the_policy_engine_authorises():
    """PF 4.23: the policy engine names who may use the monitoring view; governors alone are not among them."""
    assert {role.value for role in WATCHERS} == {role.value for role in MONITORING_ROLES}
    assert Role.GOVERNOR not in WATCHERS
    assert {Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER} == LOG_READERS


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases([LOG])), ids=case_id)
def test_each_role_is_let_into_the_log_or_refused(client, page, role, allowed):
    check_role(client, page, role, allowed)


def _registered_monitoring_terminal(world: World) -> None:
    TerminalFactory(
        establishment=world.establishment,
        kind=TerminalKind.MONITORING,
        device_secret_hash=hash_device_secret(DEVICE),
        registered_at=timezone.now(),
    )


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases([WALL])), ids=case_id)
def test_each_role_is_let_onto_the_wall_at_a_monitoring_terminal_or_refused(client, page, role, allowed):
    world = build_world()
    _registered_monitoring_terminal(world)
    staff = StaffFactory(roles=[(world.establishment, role)])
    response = at_terminal(client, staff).get(page.url(world))
    assert response.status_code == (200 if allowed else 403), (role, response.status_code)
    assert ("Monitoring wall" in response.content.decode()) is allowed


def test_the_log_refuses_roles_held_elsewhere(client):
    check_role_elsewhere(client, LOG)


def test_the_wall_refuses_roles_held_elsewhere(client):
    world = build_world()
    _registered_monitoring_terminal(world)
    staff = StaffFactory(roles=[(world.elsewhere, role) for role in WATCHERS])
    assert at_terminal(client, staff).get(WALL.url(world)).status_code == 403


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_contacts_are_refused(client, page):
    check_contact(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    check_anonymous(client, page)


def test_pf_4_23_the_wall_opens_only_on_a_registered_monitoring_terminal_of_the_establishment(client, prison):
    elsewhere = monitoring_terminal(EstablishmentFactory())
    elsewhere.device_secret_hash = hash_device_secret("elsewhere-device")
    elsewhere.save()
    revoked = monitoring_terminal(prison.establishment)
    revoked.device_secret_hash = hash_device_secret("revoked-device")
    revoked.revoked_at = timezone.now()
    revoked.save()
    TerminalFactory(
        establishment=prison.establishment,
        kind=TerminalKind.RESIDENT,
        device_secret_hash=hash_device_secret("resident-device"),
        registered_at=timezone.now(),
    )
    for device in ("", "not-registered", "revoked-device", "resident-device", "elsewhere-device"):
        response = at_terminal(Client(), prison.monitor, device).get(wall_url(prison))
        assert response.status_code == 403, device
        page = response.content.decode()
        assert "This device is not a monitoring terminal" in page
        assert "PF 4.23" in page
        assert "How to register a monitoring terminal" in page
        assert (
            "Register this device as a terminal</a>" not in page
        )  # a monitoring officer cannot register one
    assert at_terminal(client, prison.monitor).get(wall_url(prison)).status_code == 200


# --- Watching and stopping ------------------------------------------------------------------------------------------


def watch_on_wall(client: Client, place: Place, call: Call, reason: str = "Routine live monitoring") -> Any:
    return client.post(wall_url(place), {"action": "watch", "call": str(call.pk), "reason": reason})


def test_watching_from_the_wall_logs_the_viewing_and_shows_a_video_tile_without_audio_or_secrets(
    client, prison, fake_media
):
    call = ready(opened(prison, fake_media), prison)
    legal_elsewhere = opened(prison, fake_media)
    client = at_terminal(client, prison.monitor)
    page = client.get(wall_url(prison)).content.decode()
    assert "You are not watching any call." in page
    assert f'value="{call.pk}"' in page
    assert "Nobody watching" in page

    response = watch_on_wall(client, prison, call)
    assert response.status_code == 302
    viewing = MonitorViewing.objects.get(call=call)
    assert (viewing.officer, viewing.terminal, viewing.reason) == (
        prison.monitor,
        prison.terminal,
        "Routine live monitoring",
    )
    page = client.get(wall_url(prison)).content.decode()
    assert f'data-booking="{call.booking_id}"' in page
    assert 'data-playable="true"' in page
    assert "kinship-wall--1" in page
    assert "calls/monitor.js" in page
    assert "<audio" not in page
    room = call.media_room()
    assert room.secret.reveal() not in page
    assert room.pin.reveal() not in page
    assert f'name="call" value="{call.pk}"' not in page  # no second "watch" button for it
    assert f'name="call" value="{legal_elsewhere.pk}"' in page

    watch_on_wall(client, prison, legal_elsewhere)
    assert "kinship-wall--2" in client.get(wall_url(prison)).content.decode()


def test_pf_4_7_pf_4_22_and_pf_4_4_refusals_are_shown_with_their_citations(client, prison, fake_media):
    prison.establishment.calls_per_monitoring_officer = 1
    prison.establishment.save()
    first, second = opened(prison, fake_media), opened(prison, fake_media)
    client = at_terminal(client, prison.monitor)
    watch_on_wall(client, prison, first)

    response = watch_on_wall(client, prison, second)
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert "PF 4.7: A monitoring officer can watch at most 1 calls at once." in page
    assert "<title>Error: " in page

    prison.establishment.calls_per_monitoring_officer = 4
    prison.establishment.save()
    e_list = opened(prison, fake_media, e_list=True)
    page = watch_on_wall(client, prison, e_list).content.decode()
    assert "PF 4.22" in page
    assert "E-list: watched alone (PF 4.22)" in page

    dedicated = opened(prison, fake_media)
    _dedicated_monitor_restriction(dedicated, prison)
    page = watch_on_wall(client, prison, dedicated).content.decode()
    assert "Dedicated monitor (PF 4.4)" in page
    assert "PF 4.4" in page.split("govuk-error-summary__list")[1]
    assert MonitorViewing.objects.filter(officer=prison.monitor).count() == 1


def test_pf_4_23_a_viewing_needs_a_reason(client, prison, fake_media):
    call = opened(prison, fake_media)
    response = watch_on_wall(at_terminal(client, prison.monitor), prison, call, reason="")
    page = response.content.decode()
    assert f'href="#reason-{call.pk}"' in page
    assert "PF 4.23: Say why you are watching this call" in page
    assert "govuk-input--error" in page
    assert not MonitorViewing.objects.exists()


def test_legal_calls_in_immigration_detention_are_not_offered(client, irc, fake_media):
    social = opened(irc, fake_media)
    legal = opened(irc, fake_media, kind="legal")
    page = at_terminal(client, irc.monitor).get(wall_url(irc)).content.decode()
    assert f'value="{social.pk}"' in page
    assert f'value="{legal.pk}"' not in page
    response = watch_on_wall(client, irc, legal)
    assert "DSO 9" in response.content.decode()
    assert not MonitorViewing.objects.filter(call=legal).exists()


def test_stopping_ends_the_viewing_and_says_when_the_call_is_paused(client, prison, fake_media):
    call = ready(opened(prison, fake_media), prison)
    viewing = watch(call, prison)
    services.call_start(call=call, actor=prison.officer, now=NOW)
    client = at_terminal(client, prison.monitor)
    response = client.post(wall_url(prison), {"action": "stop", "viewing": str(viewing.pk)}, follow=True)
    page = response.content.decode()
    assert "You stopped watching the call" in page
    assert "PF 4.21" in page
    viewing.refresh_from_db()
    assert viewing.ended_at is not None
    assert viewing.end_note == "Stopped on the monitoring wall"
    assert Call.objects.get(pk=call.pk).state == CallState.PAUSED
    # Another officer's viewing cannot be stopped from here.
    other = watch(call, prison, officer=staff_with(Role.MONITORING_OFFICER, prison.establishment))
    assert client.post(wall_url(prison), {"action": "stop", "viewing": str(other.pk)}).status_code == 404


def test_the_grid_layout_follows_the_number_of_calls():
    assert [grid_layout(n) for n in range(1, 11)] == ["1", "2", "4", "4", "6", "6", "8", "8", "many", "many"]


# --- The viewing log ------------------------------------------------------------------------------------------------


def _viewings(place: Place, media: Any, count: int) -> None:
    for _ in range(count):
        call = opened(place, media)
        officer = staff_with(Role.MONITORING_OFFICER, place.establishment)
        viewing = services.monitor_viewing_start(
            call=call, officer=officer, terminal=place.terminal, reason="Routine live monitoring"
        )
        services.monitor_viewing_end(viewing=viewing, actor=officer, media=media, note="Finished")


def test_the_log_shows_who_which_call_when_which_terminal_and_why(client, prison, fake_media):
    _viewings(prison, fake_media, 1)
    governor = staff_with(Role.GOVERNOR, prison.establishment)
    page = sign_in_with_2fa(client, governor).get(
        reverse("calls-monitoring:log", args=[prison.establishment.code])
    )
    text = page.content.decode()
    viewing = MonitorViewing.objects.select_related("call__booking", "officer").get()
    for expected in (
        viewing.officer.get_full_name() or viewing.officer.email,
        viewing.call.booking.reference,
        prison.terminal.name,
        "Routine live monitoring",
        "Finished",
    ):
        assert expected in text


def test_the_log_takes_a_fixed_number_of_queries_whatever_it_holds(
    client, prison, fake_media, django_assert_num_queries
):
    governor = staff_with(Role.GOVERNOR, prison.establishment)
    client = sign_in_with_2fa(client, governor)
    url = reverse("calls-monitoring:log", args=[prison.establishment.code])
    _viewings(prison, fake_media, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _viewings(prison, fake_media, 60)  # more than a page
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert "Viewings 1 to 50 of 62" in response.content.decode()
    assert client.get(url, {"page": 2}).status_code == 200
