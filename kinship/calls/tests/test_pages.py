"""The supervising officer's call pages: the access table, what they show and do, and the day list's fixed
query count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kinship.bookings.models import Booking, BookingStatus, RequestChannel
from kinship.bookings.references import new_reference
from kinship.bookings.tests.factories import SlotFactory
from kinship.calls import services
from kinship.calls.models import Call, CallState
from kinship.calls.provider import media_server_reset
from kinship.calls.views import CALL_SUPERVISORS
from kinship.core.roles import Role
from kinship.establishments.tests.access import (
    Page,
    World,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.safeguarding.models import Incident

from .conftest import START, book

pytestmark = pytest.mark.django_db


def _booking(world: World) -> dict[str, Any]:
    booking = Booking.objects.create(
        reference=new_reference(),
        slot=SlotFactory(establishment=world.establishment, room=world.room),
        resident=world.resident,
        lead_contact=world.contact,
        requested_by=RequestChannel.CONTACT,
        requested_at=timezone.now(),
        status=BookingStatus.APPROVED,
    )
    return {"booking_id": booking.pk}


PAGES = [
    Page("calls:day", CALL_SUPERVISORS),
    Page("calls:call", CALL_SUPERVISORS, _booking),
    Page("calls:terminate", CALL_SUPERVISORS, _booking),
]


def test_the_roles_are_the_ones_the_brief_names():
    assert {Role.SUPERVISING_OFFICER, Role.GOVERNOR} == CALL_SUPERVISORS


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PAGES)), ids=case_id)
def test_each_role_is_let_in_or_refused(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_a_role_at_another_establishment_is_refused(client, page):
    check_role_elsewhere(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_contacts_are_refused(client, page):
    check_contact(client, page)


@pytest.mark.parametrize("page", PAGES, ids=case_id)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    check_anonymous(client, page)


# --- Behaviour -----------------------------------------------------------------------------------------------------


def _call_url(call_or_booking: Any) -> str:
    booking = call_or_booking.booking if isinstance(call_or_booking, Call) else call_or_booking
    return reverse(
        "calls:call", kwargs={"establishment": booking.slot.establishment.code, "booking_id": booking.pk}
    )


def _post(client, url: str, **data: str):
    return client.post(url, data)


def test_the_day_list_costs_the_same_queries_for_2_or_12_calls(staff_client, prison, fake_media):
    client = staff_client(prison.officer)
    url = reverse("calls:day", kwargs={"establishment": prison.establishment.code}) + "?date=2027-03-03"

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    for index in range(2):
        services.call_open(
            booking=book(prison.establishment, start=START + timedelta(hours=index)),
            media=fake_media,
            now=START + timedelta(hours=index),
        )
    few = count()
    for index in range(2, 12):
        book(prison.establishment, start=START + timedelta(hours=index))
    assert count() == few
    assert "Open, waiting for check-in" in client.get(url).content.decode()


def test_an_officer_runs_a_prison_call_from_the_call_page(staff_client, prison, fake_media):
    call = services.call_open(booking=book(prison.establishment), media=fake_media, now=START)
    url = _call_url(call)
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        client = staff_client(prison.officer)
        assert _post(client, url, action="check_in_resident").status_code == 302
        assert _post(client, url, action="check_in_officer").status_code == 302
        refused = _post(client, url, action="start")
        assert refused.status_code == 200
        assert (
            "PF 4.21: The call cannot go on without an active monitoring terminal."
            in refused.content.decode()
        )
        services.monitor_viewing_start(
            call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine"
        )
        assert _post(client, url, action="start").status_code == 302
        call.refresh_from_db()
        assert call.state == CallState.LIVE
        empty = _post(client, url, action="pause", reason="")
        assert "Say why the call is paused" in empty.content.decode()
        assert _post(client, url, action="pause", reason="Noise").status_code == 302
        assert _post(client, url, action="resume").status_code == 302
        page = client.get(url).content.decode()
        assert call.media_room().secret.reveal() not in page
        assert call.media_room().pin.reveal() not in page
        assert _post(client, url, action="end").status_code == 302
    call.refresh_from_db()
    assert call.state == CallState.ENDED


def test_terminating_from_the_page_creates_the_incident(staff_client, prison, fake_media):
    call = services.call_open(booking=book(prison.establishment), media=fake_media, now=START)
    services.call_check_in(call=call, party="resident", actor=prison.officer, now=START)
    services.call_check_in(call=call, party="officer", actor=prison.officer, now=START)
    services.monitor_viewing_start(
        call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine", now=START
    )
    services.call_start(call=call, actor=prison.officer, now=START)
    url = reverse(
        "calls:terminate", kwargs={"establishment": prison.establishment.code, "booking_id": call.booking_id}
    )
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        client = staff_client(prison.officer)
        missing = client.post(url, {"reason": "recording_the_call", "details": ""})
        assert "DSO 19: Record what happened" in missing.content.decode()
        done = client.post(
            url, {"reason": "recording_the_call", "details": "Phone held up", "body_worn_camera_used": "on"}
        )
    assert done.status_code == 302
    incident = Incident.objects.get(booking=call.booking)
    assert incident.police_referral
    assert incident.body_worn_camera_used
    call.refresh_from_db()
    assert call.state == CallState.TERMINATED


def test_an_officer_ends_a_call_early_through_nobodys_fault_from_the_page(staff_client, prison, fake_media):
    call = services.call_open(booking=book(prison.establishment), media=fake_media, now=START)
    services.call_check_in(call=call, party="resident", actor=prison.officer, now=START)
    services.call_check_in(call=call, party="officer", actor=prison.officer, now=START)
    services.monitor_viewing_start(
        call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine", now=START
    )
    services.call_start(call=call, actor=prison.officer, now=START)
    url = _call_url(call)
    with time_machine.travel(START + timedelta(minutes=20), tick=False):
        client = staff_client(prison.officer)
        assert "End the call early, through nobody's fault" in client.get(url).content.decode()
        missing = _post(client, url, action="end_no_fault", note="")
        assert "Say why the call is ending early" in missing.content.decode()
        done = _post(client, url, action="end_no_fault", note="Fire alarm on the wing")
    assert done.status_code == 302
    call.refresh_from_db()
    assert call.state == CallState.ENDED
    assert call.end_note == "Fire alarm on the wing"
    call.booking.refresh_from_db()
    assert call.booking.status_reason == "Fire alarm on the wing"


def test_a_clear_error_page_when_media_is_not_configured(staff_client, prison, fake_media, settings):
    call = services.call_open(booking=book(prison.establishment), media=fake_media, now=START)
    settings.KINSHIP_MEDIA_SERVER = ""
    media_server_reset()
    client = staff_client(prison.officer)
    assert "media server is not configured" in client.get(_call_url(call)).content.decode()
    response = _post(client, _call_url(call), action="check_in_resident")
    assert response.status_code == 503
    assert "Video calls are not available" in response.content.decode()


def test_actions_need_csrf(prison, fake_media, client):
    from django.test import Client

    from kinship.testing import sign_in_with_2fa

    call = services.call_open(booking=book(prison.establishment), media=fake_media, now=START)
    strict = sign_in_with_2fa(Client(enforce_csrf_checks=True), prison.officer)
    assert strict.post(_call_url(call), {"action": "check_in_resident"}).status_code == 403
