"""The call lifecycle against the in-memory media server: every transition and refusal, with its citation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kinship.audit.models import AuditEvent
from kinship.bookings.models import AllowanceEntry, BookingReview, BookingStatus, LedgerReason
from kinship.calls import services
from kinship.calls.errors import CallRefused
from kinship.calls.media.fake import FakeMediaServer
from kinship.calls.models import Call, CallParty, CallState, EndpointRole, EndReason
from kinship.core.roles import Role
from kinship.factories import staff_with
from kinship.safeguarding.models import Incident, RestrictionKind, Rule34Ground

from .conftest import END, START, Place, book, monitoring_terminal

pytestmark = pytest.mark.django_db

NOW = START + timedelta(minutes=1)


def opened(place: Place, media: FakeMediaServer, **kwargs) -> Call:
    return services.call_open(booking=book(place.establishment, **kwargs), media=media, now=START)


def ready(call: Call, place: Place) -> Call:
    services.call_check_in(call=call, party=CallParty.RESIDENT, actor=place.officer, now=NOW)
    return services.call_check_in(call=call, party=CallParty.OFFICER, actor=place.officer, now=NOW)


def watch(call: Call, place: Place, officer=None):
    return services.monitor_viewing_start(
        call=call,
        officer=officer or place.monitor,
        terminal=place.terminal,
        reason="Routine monitoring",
        now=NOW,
    )


def live(place: Place, media: FakeMediaServer, **kwargs) -> Call:
    call = ready(opened(place, media, **kwargs), place)
    if call.establishment.profile == "immigration_detention":
        services.call_adult_check(call=call, actor=place.officer, now=NOW)
    else:
        watch(call, place)
    return services.call_start(call=call, actor=place.officer, now=NOW)


def rules_of(refusal: pytest.ExceptionInfo[CallRefused]) -> set[str]:
    return set(refusal.value.rule_ids)


def actions(call: Call) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_id=str(call.pk)).order_by("id").values_list("action", flat=True)
    )


# --- Opening and the room ------------------------------------------------------------------------------------------


def test_a_prison_call_opens_with_a_recorded_room_whose_secrets_are_encrypted(prison, fake_media):
    call = opened(prison, fake_media)
    assert call.state == CallState.SCHEDULED
    room = fake_media.rooms[call.janus_room_id].room
    assert room.record is True
    assert call.recorded is True
    assert room.rec_dir
    assert room.rec_dir.endswith(str(call.pk))
    assert call.media_room().secret == room.secret
    assert call.media_room().pin == room.pin
    assert room.secret.reveal() not in call.room_secret_encrypted
    assert room.pin.reveal() not in call.room_pin_encrypted
    event = AuditEvent.objects.get(subject_id=str(call.pk), action="call_opened")
    assert "PF 1.3" in event.policy_ids
    assert room.secret.reveal() not in str(event.after)


@pytest.mark.parametrize("kind", ["social", "legal"])
def test_an_irc_call_is_never_recorded(irc, fake_media, kind):
    call = opened(irc, fake_media, kind=kind)
    assert fake_media.rooms[call.janus_room_id].room.record is False
    assert call.recorded is False
    assert call.rec_dir == ""


def test_a_call_opens_once_and_only_in_its_slot(prison, fake_media):
    booking = book(prison.establishment)
    with pytest.raises(CallRefused, match="only be opened during its time"):
        services.call_open(booking=booking, media=fake_media, now=START - timedelta(minutes=1))
    services.call_open(booking=booking, media=fake_media, now=START)
    with pytest.raises(CallRefused, match="already open"):
        services.call_open(booking=booking, media=fake_media, now=NOW)
    assert len(fake_media.rooms) == 1


def test_a_call_opens_without_a_room_when_no_node_is_healthy_and_gets_one_later(prison, fake_media):
    fake_media.healthy["fake://node-1"] = False
    call = opened(prison, fake_media)
    assert call.janus_room_id is None
    fake_media.healthy["fake://node-1"] = True
    call = services.call_room_retry(call=call, media=fake_media, now=NOW)
    assert call.janus_room_id in fake_media.rooms


# --- Check-in and start --------------------------------------------------------------------------------------------


def test_checking_in_both_sides_makes_the_call_ready(prison, fake_media):
    call = opened(prison, fake_media)
    call = services.call_check_in(call=call, party=CallParty.RESIDENT, actor=prison.officer, now=NOW)
    assert call.state == CallState.SCHEDULED
    with pytest.raises(CallRefused, match="already checked in"):
        services.call_check_in(call=call, party=CallParty.RESIDENT, actor=prison.officer, now=NOW)
    call = services.call_check_in(call=call, party=CallParty.OFFICER, actor=prison.officer, now=NOW)
    assert call.state == CallState.READY
    assert call.ready_at == NOW
    assert actions(call) == ["call_opened", "call_checked_in", "call_checked_in"]


def test_a_call_cannot_start_before_it_is_ready(prison, fake_media):
    call = opened(prison, fake_media)
    watch(call, prison)
    with pytest.raises(CallRefused, match="open, waiting for check-in cannot be started"):
        services.call_start(call=call, actor=prison.officer, now=NOW)


def test_pf_4_21_a_prison_call_does_not_start_without_an_active_monitor(prison, fake_media):
    call = ready(opened(prison, fake_media), prison)
    with pytest.raises(CallRefused) as refusal:
        services.call_start(call=call, actor=prison.officer, now=NOW)
    assert rules_of(refusal) == {"PF 4.21"}
    watch(call, prison)
    call = services.call_start(call=call, actor=prison.officer, now=NOW)
    assert call.state == CallState.LIVE
    assert call.live_at == NOW
    assert "PF 4.21" in AuditEvent.objects.get(subject_id=str(call.pk), action="call_started").policy_ids


def test_dso_8_an_irc_call_does_not_start_without_the_adult_check(irc, fake_media):
    call = ready(opened(irc, fake_media), irc)
    with pytest.raises(CallRefused) as refusal:
        services.call_start(call=call, actor=irc.officer, now=NOW)
    assert rules_of(refusal) == {"DSO 8"}
    services.call_adult_check(call=call, actor=irc.officer, now=NOW)
    call = services.call_start(call=call, actor=irc.officer, now=NOW)
    assert call.state == CallState.LIVE
    assert call.adult_check_by == irc.officer
    assert (
        "DSO 8"
        in AuditEvent.objects.get(subject_id=str(call.pk), action="call_adult_check_recorded").policy_ids
    )


def test_the_adult_check_is_only_for_irc_calls(prison, fake_media):
    call = opened(prison, fake_media)
    with pytest.raises(CallRefused) as refusal:
        services.call_adult_check(call=call, actor=prison.officer, now=NOW)
    assert rules_of(refusal) == {"DSO 8"}


# --- Monitoring ----------------------------------------------------------------------------------------------------


def test_pf_4_21_a_monitor_stopping_pauses_a_live_prison_call(prison, fake_media):
    call = live(prison, fake_media)
    viewing = call.viewings.get()
    services.monitor_viewing_end(
        viewing=viewing, actor=prison.monitor, media=fake_media, now=NOW + timedelta(minutes=5)
    )
    call.refresh_from_db()
    assert call.state == CallState.PAUSED
    pause = call.pauses.get()
    assert pause.policy_id == "PF 4.21"
    assert pause.paused_by is None
    viewing.refresh_from_db()
    assert viewing.ended_at == NOW + timedelta(minutes=5)
    with pytest.raises(CallRefused) as refusal:
        services.call_resume(
            call=call, actor=prison.officer, media=fake_media, now=NOW + timedelta(minutes=6)
        )
    assert rules_of(refusal) == {"PF 4.21"}
    other = staff_with(Role.MONITORING_OFFICER, prison.establishment)
    services.monitor_viewing_start(
        call=call,
        officer=other,
        terminal=prison.terminal,
        reason="Taking over",
        now=NOW + timedelta(minutes=6),
    )
    call = services.call_resume(
        call=call, actor=prison.officer, media=fake_media, now=NOW + timedelta(minutes=7)
    )
    assert call.state == CallState.LIVE
    assert call.pauses.get().resumed_at == NOW + timedelta(minutes=7)
    assert actions(call)[-2:] == ["call_paused", "call_resumed"]


def test_pf_4_22_an_officer_watching_an_e_list_call_watches_nothing_else(prison, fake_media):
    e_list_call = ready(opened(prison, fake_media, e_list=True), prison)
    other_call = opened(prison, fake_media)
    watch(e_list_call, prison)
    with pytest.raises(CallRefused) as refusal:
        watch(other_call, prison)
    assert rules_of(refusal) == {"PF 4.22"}


def test_pf_4_22_an_officer_already_watching_a_call_cannot_take_an_e_list_call(prison, fake_media):
    other_call = opened(prison, fake_media)
    e_list_call = opened(prison, fake_media, e_list=True)
    watch(other_call, prison)
    with pytest.raises(CallRefused) as refusal:
        watch(e_list_call, prison)
    assert "PF 4.22" in rules_of(refusal)


def _dedicated_monitor_restriction(call: Call, place: Place) -> None:
    from kinship.safeguarding.services_restrictions import restriction_create

    restriction_create(
        resident=call.booking.resident,
        kind=RestrictionKind.LIMIT,
        ground=Rule34Ground.PRISON_SECURITY_GOOD_ORDER,
        rationale="Arranging to pass items during calls.",
        necessity_and_proportionality="A dedicated officer is the least restrictive way to manage it.",
        review_on=(START + timedelta(days=28)).date(),
        dedicated_monitor=True,
        actor=staff_with(Role.GOVERNOR, place.establishment),
        now=START - timedelta(days=1),
    )


def test_pf_4_4_a_restriction_can_require_a_dedicated_monitor_both_ways(prison, fake_media):
    dedicated = opened(prison, fake_media)
    _dedicated_monitor_restriction(dedicated, prison)
    other_call = opened(prison, fake_media)
    watch(dedicated, prison)
    with pytest.raises(CallRefused) as refusal:
        watch(other_call, prison)
    assert rules_of(refusal) == {"PF 4.4"}

    second_officer = staff_with(Role.MONITORING_OFFICER, prison.establishment)
    watch(other_call, prison, officer=second_officer)
    third = opened(prison, fake_media)
    _dedicated_monitor_restriction(third, prison)
    with pytest.raises(CallRefused) as refusal:
        watch(third, prison, officer=second_officer)
    assert "PF 4.4" in rules_of(refusal)


def test_pf_4_7_an_officer_watches_at_most_the_set_number_of_calls(prison, fake_media):
    prison.establishment.calls_per_monitoring_officer = 2
    prison.establishment.save()
    calls = [opened(prison, fake_media) for _ in range(3)]
    watch(calls[0], prison)
    watch(calls[1], prison)
    with pytest.raises(CallRefused) as refusal:
        watch(calls[2], prison)
    assert rules_of(refusal) == {"PF 4.7"}


def test_pf_4_23_monitoring_needs_a_registered_monitoring_terminal_and_the_role(prison, fake_media):
    call = opened(prison, fake_media)
    with pytest.raises(CallRefused) as refusal:
        services.monitor_viewing_start(
            call=call,
            officer=prison.monitor,
            terminal=monitoring_terminal(prison.establishment, registered=False),
            reason="Routine",
            now=NOW,
        )
    assert rules_of(refusal) == {"PF 4.23"}
    with pytest.raises(CallRefused) as refusal:
        watch(call, prison, officer=prison.officer)
    assert rules_of(refusal) == {"PF 4.23"}


def test_dso_9_a_legal_call_in_irc_is_never_monitored(irc, fake_media):
    call = opened(irc, fake_media, kind="legal")
    with pytest.raises(CallRefused) as refusal:
        watch(call, irc)
    assert "DSO 9" in rules_of(refusal)
    assert not call.viewings.exists()


def test_viewings_are_logged(prison, fake_media):
    call = opened(prison, fake_media)
    viewing = watch(call, prison)
    assert (viewing.officer, viewing.terminal, viewing.started_at, viewing.reason) == (
        prison.monitor,
        prison.terminal,
        NOW,
        "Routine monitoring",
    )
    event = AuditEvent.objects.get(action="monitor_viewing_started", subject_id=str(viewing.pk))
    assert "PF 4.23" in event.policy_ids


# --- Pause at the media level --------------------------------------------------------------------------------------

OFFER = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"


def test_pause_stops_what_the_parties_receive_while_the_monitor_still_sees(prison, fake_media):
    call = live(prison, fake_media)
    room = call.media_room()
    resident = fake_media.join_publisher(room, participant="resident", offer_sdp=OFFER)
    contact = fake_media.join_publisher(room, participant="contact", offer_sdp=OFFER)
    to_contact = fake_media.subscribe(room, participant="contact", feeds=[resident], video_only=False)
    to_monitor = fake_media.subscribe(
        room, participant=str(prison.monitor.pk), feeds=[resident, contact], video_only=True
    )
    for subscription in (to_contact, to_monitor):
        fake_media.start_subscription(subscription, answer_sdp="v=0")
    services.call_endpoint_record(call=call, role=EndpointRole.CONTACT, endpoint=to_contact, now=NOW)
    services.call_endpoint_record(call=call, role=EndpointRole.MONITOR, endpoint=to_monitor, now=NOW)
    assert fake_media.delivering(to_contact) == {"audio", "video"}

    services.call_pause(
        call=call, actor=prison.officer, reason="Inappropriate gesture", media=fake_media, now=NOW
    )
    assert fake_media.delivering(to_contact) == set()
    assert fake_media.delivering(to_monitor) == {"video"}
    assert "DSO 11" in AuditEvent.objects.get(subject_id=str(call.pk), action="call_paused").policy_ids

    services.call_resume(call=call, actor=prison.officer, media=fake_media, now=NOW + timedelta(minutes=1))
    assert fake_media.delivering(to_contact) == {"audio", "video"}


def test_a_pause_needs_a_reason_and_a_live_call(prison, fake_media):
    call = live(prison, fake_media)
    with pytest.raises(CallRefused, match="Say why"):
        services.call_pause(call=call, actor=prison.officer, reason=" ", media=fake_media, now=NOW)
    services.call_pause(call=call, actor=prison.officer, reason="Noise", media=fake_media, now=NOW)
    with pytest.raises(CallRefused, match="paused cannot be paused"):
        services.call_pause(call=call, actor=prison.officer, reason="Again", media=fake_media, now=NOW)


# --- Endings -------------------------------------------------------------------------------------------------------


def _charge(call: Call) -> None:
    AllowanceEntry.objects.create(
        resident=call.booking.resident,
        month="2027-03",
        minutes=-60,
        reason=LedgerReason.BOOKING,
        booking=call.booking,
    )


def _balance(call: Call) -> int:
    return sum(AllowanceEntry.objects.filter(booking=call.booking).values_list("minutes", flat=True))


def test_ending_destroys_the_room_and_completes_the_booking(prison, fake_media):
    call = live(prison, fake_media)
    room_id = call.janus_room_id
    call = services.call_end(
        call=call, actor=prison.officer, media=fake_media, now=NOW + timedelta(minutes=30)
    )
    assert call.state == CallState.ENDED
    assert call.end_reason == EndReason.ENDED_BY_STAFF
    assert room_id in fake_media.destroyed
    assert call.room_destroyed_at is not None
    assert not call.viewings.filter(ended_at__isnull=True).exists()
    call.booking.refresh_from_db()
    assert call.booking.status == BookingStatus.COMPLETED
    with pytest.raises(CallRefused, match="ended cannot be started"):
        services.call_start(call=call, actor=prison.officer, now=NOW)


def test_a_call_ended_early_through_nobodys_fault_gives_the_minutes_back(prison, fake_media):
    call = live(prison, fake_media)
    _charge(call)
    assert _balance(call) == -60
    with pytest.raises(CallRefused, match="Say why the call is ending early"):
        services.call_end(call=call, actor=prison.officer, media=fake_media, no_fault=True, now=NOW)
    call = services.call_end(
        call=call, actor=prison.officer, media=fake_media, no_fault=True, note="Wing lockdown", now=NOW
    )
    assert call.state == CallState.ENDED
    assert call.end_note == "Wing lockdown"
    assert _balance(call) == 0
    credit = AllowanceEntry.objects.get(booking=call.booking, minutes__gt=0)
    assert credit.reason == LedgerReason.ENDED_EARLY_NO_FAULT
    call.booking.refresh_from_db()
    assert call.booking.status == BookingStatus.COMPLETED
    assert call.booking.status_reason == "Wing lockdown"
    assert "call_ended_early_no_fault" in actions(call)


def test_a_call_whose_time_is_over_cannot_end_early(prison, fake_media):
    call = live(prison, fake_media)
    with pytest.raises(CallRefused, match="time is over"):
        services.call_end(
            call=call, actor=prison.officer, media=fake_media, no_fault=True, note="Late", now=END
        )
    call.refresh_from_db()
    assert call.state == CallState.LIVE


def test_a_scheduled_call_cannot_be_ended(prison, fake_media):
    call = opened(prison, fake_media)
    with pytest.raises(CallRefused, match="cannot be ended"):
        services.call_end(call=call, actor=prison.officer, media=fake_media, now=NOW)


@pytest.mark.parametrize(
    ("reason", "police"), [("recording_the_call", True), ("unlawful_activity", True), ("dress", False)]
)
def test_termination_records_the_reason_and_an_incident_with_police_referral_where_due(
    prison, fake_media, reason, police
):
    call = live(prison, fake_media)
    call = services.call_terminate(
        call=call,
        actor=prison.officer,
        reason=reason,
        details="What happened",
        body_worn_camera_used=True,
        media=fake_media,
        now=NOW,
    )
    assert call.state == CallState.TERMINATED
    assert call.terminated_reason == reason
    incident = Incident.objects.get(booking=call.booking)
    assert call.incident == incident
    assert incident.police_referral is police
    assert incident.body_worn_camera_used is True
    assert call.janus_room_id in fake_media.destroyed
    event = AuditEvent.objects.get(subject_id=str(call.pk), action="call_terminated")
    assert {"DSO 11", "DSO 12", "DSO 19"} <= set(event.policy_ids)
    assert ("DSO Annex A" in event.policy_ids) is police


def test_termination_needs_details_and_supervising_staff(prison, fake_media):
    call = live(prison, fake_media)
    with pytest.raises(CallRefused) as refusal:
        services.call_terminate(
            call=call,
            actor=prison.officer,
            reason="dress",
            details="",
            body_worn_camera_used=False,
            media=fake_media,
            now=NOW,
        )
    assert rules_of(refusal) == {"DSO 19"}
    governor = staff_with(Role.GOVERNOR, prison.establishment)
    with pytest.raises(CallRefused) as refusal:
        services.call_terminate(
            call=call,
            actor=governor,
            reason="dress",
            details="Seen",
            body_worn_camera_used=False,
            media=fake_media,
            now=NOW,
        )
    assert rules_of(refusal) == {"DSO 11"}
    assert not Incident.objects.exists()
    call.refresh_from_db()
    assert call.state == CallState.LIVE


def test_a_technical_failure_gives_the_minutes_back_and_opens_a_review(prison, fake_media):
    call = live(prison, fake_media)
    _charge(call)
    call = services.call_fail(call=call, actor=prison.officer, media=fake_media, now=NOW)
    assert call.state == CallState.FAILED
    assert _balance(call) == 0
    assert BookingReview.objects.get(booking=call.booking).cause == "technical_failure"
    assert call.janus_room_id in fake_media.destroyed
    assert {"PF 4.1", "PF 4.8"} <= set(
        AuditEvent.objects.get(subject_id=str(call.pk), action="call_failed").policy_ids
    )


def test_a_no_show_keeps_the_minutes_and_opens_a_review(prison, fake_media):
    call = opened(prison, fake_media)
    _charge(call)
    call = services.call_no_show(call=call, actor=prison.officer, media=fake_media, now=NOW)
    assert call.state == CallState.NO_SHOW
    assert _balance(call) == -60
    assert BookingReview.objects.get(booking=call.booking).cause == "failed_to_attend"
    call.booking.refresh_from_db()
    assert call.booking.status == BookingStatus.NO_SHOW


def test_a_live_call_cannot_be_marked_as_a_no_show(prison, fake_media):
    call = live(prison, fake_media)
    with pytest.raises(CallRefused, match="cannot be marked as not attended"):
        services.call_no_show(call=call, actor=prison.officer, media=fake_media, now=NOW)


def test_the_transitions_are_the_ones_of_the_issue():
    assert services.TRANSITIONS[CallState.SCHEDULED] == {CallState.READY, CallState.FAILED, CallState.NO_SHOW}
    assert CallState.LIVE in services.TRANSITIONS[CallState.PAUSED]
    assert all(state not in services.TRANSITIONS for state in (CallState.ENDED, CallState.TERMINATED))
    assert timedelta(hours=1) == END - START
