"""The call clock: opens, warns, ends and marks no-shows once each across a run of ticks, one a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from kinship.audit.models import AuditEvent
from kinship.bookings.models import BookingStatus
from kinship.calls import services
from kinship.calls.models import Call, CallParty, CallState, EndReason
from kinship.calls.tasks import calls_tick

from .conftest import END, START, book

pytestmark = pytest.mark.django_db


def run(media, start, end):
    moment = start
    totals: dict[str, int] = {}
    while moment <= end:
        for key, value in services.calls_tick_run(media=media, now=moment).as_dict().items():
            totals[key] = totals.get(key, 0) + value
        moment += timedelta(minutes=1)
    return totals


def test_the_clock_opens_warns_and_ends_a_call_once_each(prison, fake_media):
    booking = book(prison.establishment)
    totals = run(fake_media, START - timedelta(minutes=2), START + timedelta(minutes=1))
    call = Call.objects.get(booking=booking)
    assert totals["opened"] == 1
    assert call.opened_at == START
    assert call.janus_room_id in fake_media.rooms
    services.call_check_in(call=call, party=CallParty.RESIDENT, actor=prison.officer, now=START)
    services.call_check_in(call=call, party=CallParty.OFFICER, actor=prison.officer, now=START)
    services.monitor_viewing_start(
        call=call, officer=prison.monitor, terminal=prison.terminal, reason="Routine", now=START
    )
    services.call_start(call=call, actor=prison.officer, now=START + timedelta(minutes=2))

    totals = run(fake_media, START + timedelta(minutes=2), END + timedelta(minutes=3))
    call.refresh_from_db()
    assert totals["warned"] == 2
    assert totals["ended"] == 1
    assert totals["opened"] == 0
    assert totals["no_shows"] == 0
    assert call.warned_5_at == END - timedelta(minutes=5)
    assert call.warned_1_at == END - timedelta(minutes=1)
    assert call.state == CallState.ENDED
    assert call.end_reason == EndReason.COMPLETED
    assert call.ended_at == END
    assert call.janus_room_id in fake_media.destroyed
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    warnings = AuditEvent.objects.filter(subject_id=str(call.pk), action="call_warning_recorded")
    assert sorted(event.after["minutes"] for event in warnings) == [1, 5]
    assert AuditEvent.objects.filter(subject_id=str(call.pk), action="call_ended").count() == 1


def test_a_call_never_made_live_is_a_no_show_once_after_the_grace_time(prison, fake_media, settings):
    settings.KINSHIP_CALL_NO_SHOW_GRACE_MINUTES = 10
    booking = book(prison.establishment)
    totals = run(fake_media, START, START + timedelta(minutes=20))
    call = Call.objects.get(booking=booking)
    assert totals["no_shows"] == 1
    assert totals["warned"] == 0
    assert call.state == CallState.NO_SHOW
    assert call.ended_at == START + timedelta(minutes=10)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW


def test_losing_the_media_node_fails_the_call(prison, fake_media):
    booking = book(prison.establishment)
    run(fake_media, START, START)
    fake_media.healthy["fake://node-1"] = False
    totals = run(fake_media, START + timedelta(minutes=1), START + timedelta(minutes=3))
    call = Call.objects.get(booking=booking)
    assert totals["failed"] == 1
    assert call.state == CallState.FAILED
    assert call.end_reason == EndReason.MEDIA_NODE_LOST
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED


def test_a_call_whose_room_never_comes_fails_at_the_grace_time(prison, fake_media, settings):
    settings.KINSHIP_CALL_NO_SHOW_GRACE_MINUTES = 5
    fake_media.healthy["fake://node-1"] = False
    booking = book(prison.establishment)
    totals = run(fake_media, START, START + timedelta(minutes=8))
    call = Call.objects.get(booking=booking)
    assert totals["opened"] == 1
    assert totals["failed"] == 1
    assert call.state == CallState.FAILED
    assert call.end_reason == EndReason.NO_ROOM


def test_the_task_runs_the_clock_with_the_configured_media_server(prison, fake_media):
    booking = book(prison.establishment)
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        result = calls_tick.call()
    assert result["opened"] == 1
    assert Call.objects.get(booking=booking).janus_room_id in fake_media.rooms


def test_the_task_says_when_media_is_not_configured(settings):
    from kinship.calls.provider import media_server_reset

    settings.KINSHIP_MEDIA_SERVER = ""
    media_server_reset()
    assert "not configured" in calls_tick.call()["skipped"]


def test_the_clock_is_listed_for_manage_py_clock(settings):
    assert "kinship.calls.tasks.calls_tick" in settings.KINSHIP_PERIODIC_TASKS
