"""Establishment services: settings checked by the policy engine, DSO 1, rooms and terminals, each audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.establishments import selectors, services
from kinship.establishments.models import Establishment, Terminal, TerminalKind, hash_device_secret
from kinship.factories import (
    EstablishmentFactory,
    IrcFactory,
    RoomFactory,
    StaffFactory,
    TerminalFactory,
    staff_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def governor():
    return StaffFactory()


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


# --- Settings ------------------------------------------------------------------------------------------------------


def test_changing_settings_is_audited_with_before_and_after(governor):
    place = EstablishmentFactory()
    services.establishment_update_settings(
        establishment=place,
        actor=governor,
        max_outside_participants=3,
        allowance_pattern="two_30",
        slot_lengths=[30],
    )
    place.refresh_from_db()
    assert place.max_outside_participants == 3
    event = _last("establishment_settings_changed")
    assert event.actor == governor
    assert event.establishment_code == place.code
    assert event.before["max_outside_participants"] == 4
    assert event.after["max_outside_participants"] == 3
    assert event.before["allowance_pattern"] == "one_60"
    assert event.after["allowance_pattern"] == "two_30"
    assert set(event.policy_ids) == {"PF 4.13", "PF 4.1"}


def test_a_setting_the_policy_refuses_is_not_saved_and_cites_the_rule(governor):
    place = EstablishmentFactory()
    with pytest.raises(ValidationError) as refused:
        services.establishment_update_settings(
            establishment=place, actor=governor, max_outside_participants=9
        )
    assert refused.value.message_dict["max_outside_participants"][0].startswith("PF 4.13:")
    place.refresh_from_db()
    assert place.max_outside_participants == 4
    assert not AuditEvent.objects.filter(action="establishment_settings_changed").exists()


def test_every_refused_setting_is_reported_at_once(governor):
    place = EstablishmentFactory()
    with pytest.raises(ValidationError) as refused:
        services.establishment_update_settings(
            establishment=place,
            actor=governor,
            max_outside_participants=0,
            calls_per_monitoring_officer=0,
            safer_custody_hotline="",
            allowance_pattern="two_30",
            slot_lengths=[60],
        )
    errors = refused.value.message_dict
    assert errors["max_outside_participants"][0].startswith("PF 4.13:")
    assert errors["calls_per_monitoring_officer"][0].startswith("PF 4.7:")
    assert errors["safer_custody_hotline"][0].startswith("PF 4.19:")
    assert errors["slot_lengths"][0].startswith("PF 4.1:")


def test_immigration_detention_has_no_allowance_pattern(governor):
    place = IrcFactory()
    assert place.allowance_pattern == ""
    services.establishment_update_settings(
        establishment=place, actor=governor, allowance_pattern="one_60", slot_lengths=[30, 45]
    )
    place.refresh_from_db()
    assert place.allowance_pattern == ""
    assert place.slot_lengths == [30, 45]


def test_immigration_detention_slots_last_30_to_60_minutes(governor):
    with pytest.raises(ValidationError) as refused:
        services.establishment_update_settings(establishment=IrcFactory(), actor=governor, slot_lengths=[20])
    assert refused.value.message_dict["slot_lengths"][0].startswith("DSO Annex A:")


def test_only_settings_can_be_changed_this_way(governor):
    with pytest.raises(TypeError):
        services.establishment_update_settings(
            establishment=EstablishmentFactory(), actor=governor, profile="x"
        )


# --- DSO 1 ---------------------------------------------------------------------------------------------------------


def test_a_holding_room_cannot_be_set_up_through_the_service(governor):
    with pytest.raises(ValidationError) as refused:
        services.establishment_create(
            actor=governor,
            name="Holding room",
            code="HR1",
            profile="immigration_detention",
            type="non_residential_sthf",
        )
    assert refused.value.message_dict["type"][0].startswith("DSO 1:")
    assert not Establishment.objects.filter(code="HR1").exists()


def test_a_holding_room_is_refused_by_the_model_on_every_write_path():
    holding_room = Establishment(
        name="Holding room", code="HR2", profile="immigration_detention", type="non_residential_sthf"
    )
    with pytest.raises(ValidationError) as cleaned:
        holding_room.full_clean()
    assert "DSO 1:" in cleaned.value.message_dict["type"][0]
    with pytest.raises(ValidationError) as saved:
        holding_room.save()
    assert "DSO 1:" in saved.value.message_dict["type"][0]
    assert not Establishment.objects.filter(code="HR2").exists()


def test_setting_up_an_establishment_takes_the_profile_defaults_and_is_audited(governor):
    place = services.establishment_create(
        actor=governor,
        name="HMP New",
        code="nw1",
        profile="prison",
        type="prison",
        safer_custody_hotline="0800 123 456",
    )
    assert place.code == "NW1"
    assert place.max_outside_participants == 4
    assert place.allowance_pattern == "one_60"
    event = _last("establishment_created")
    assert event.after["code"] == "NW1"
    assert event.establishment_code == "NW1"


def test_a_profile_must_fit_the_type(governor):
    with pytest.raises(ValidationError) as refused:
        services.establishment_create(
            actor=governor, name="Odd", code="OD1", profile="prison", type="irc", safer_custody_hotline="1"
        )
    assert "profile" in refused.value.message_dict


# --- Rooms ---------------------------------------------------------------------------------------------------------


def test_rooms_are_added_and_changed_with_an_audit_trail(governor):
    place = EstablishmentFactory()
    room = services.room_create(establishment=place, actor=governor, name="Room A", accessible=False)
    services.room_update(room=room, actor=governor, name="Room A", accessible=True, active=True)
    room.refresh_from_db()
    assert room.accessible
    event = _last("room_changed")
    assert event.before["accessible"] is False
    assert event.after["accessible"] is True
    assert event.policy_ids == ["PF 4.24"]


def test_room_names_are_unique_within_an_establishment(governor):
    place = EstablishmentFactory()
    RoomFactory(establishment=place, name="Room A")
    with pytest.raises(ValidationError) as refused:
        services.room_create(establishment=place, actor=governor, name="room a", accessible=False)
    assert "name" in refused.value.message_dict
    services.room_create(
        establishment=EstablishmentFactory(), actor=governor, name="Room A", accessible=False
    )


# --- Terminals -----------------------------------------------------------------------------------------------------


def _request_with_cookie(secret: str | None, establishment=None):
    request = RequestFactory().get("/")
    if secret is not None:
        request.COOKIES[selectors.TERMINAL_COOKIE_NAME] = secret
    if establishment is not None:
        request.establishment = establishment
    return request


def test_a_registration_code_is_shown_once_and_only_its_hash_is_kept(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    terminal.refresh_from_db()
    assert len(issued.code) == 9
    assert issued.code[4] == "-"
    assert issued.code not in str(Terminal.objects.filter(pk=terminal.pk).values().get())
    assert terminal.registration_code_hash == services.hash_registration_code(issued.code)
    assert terminal.registration_code_expires_at == issued.expires_at
    assert issued.expires_at - timezone.now() <= timedelta(minutes=30)
    event = _last("terminal_registration_code_issued")
    assert issued.code not in str(event.after)
    assert event.policy_ids == ["PF 4.23"]


def test_registering_a_device_binds_a_secret_whose_hash_is_kept(governor):
    terminal = TerminalFactory(kind=TerminalKind.MONITORING)
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    registered = services.terminal_register_device(
        establishment=terminal.establishment, code=issued.code.lower().replace("-", " "), actor=governor
    )
    terminal.refresh_from_db()
    assert registered.terminal == terminal
    assert terminal.device_secret_hash == hash_device_secret(registered.device_secret)
    assert registered.device_secret not in terminal.device_secret_hash
    assert terminal.registered_at is not None
    assert terminal.registration_code_hash == ""
    assert _last("terminal_registered").subject_id == str(terminal.pk)
    request = _request_with_cookie(registered.device_secret)
    assert selectors.terminal_for_request(request) == terminal
    assert selectors.terminal_for_request(request, kind="monitoring") == terminal
    assert selectors.terminal_for_request(request, kind="resident") is None


def test_a_code_works_only_once(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    services.terminal_register_device(establishment=terminal.establishment, code=issued.code, actor=governor)
    with pytest.raises(ValidationError) as refused:
        services.terminal_register_device(
            establishment=terminal.establishment, code=issued.code, actor=governor
        )
    assert refused.value.message_dict["code"][0].startswith("PF 4.23:")


def test_a_code_expires_after_30_minutes(governor):
    terminal = TerminalFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
        traveller.shift(timedelta(minutes=31))
        with pytest.raises(ValidationError):
            services.terminal_register_device(
                establishment=terminal.establishment, code=issued.code, actor=governor
            )
    terminal.refresh_from_db()
    assert terminal.device_secret_hash == ""


def test_a_code_still_works_within_30_minutes(governor):
    terminal = TerminalFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
        traveller.shift(timedelta(minutes=29))
        services.terminal_register_device(
            establishment=terminal.establishment, code=issued.code, actor=governor
        )


def test_a_wrong_code_or_a_code_for_another_establishment_is_refused(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    with pytest.raises(ValidationError):
        services.terminal_register_device(
            establishment=terminal.establishment, code="AAAA-AAAA", actor=governor
        )
    with pytest.raises(ValidationError):
        services.terminal_register_device(
            establishment=EstablishmentFactory(), code=issued.code, actor=governor
        )


def test_a_new_code_cancels_the_last_one_and_re_registering_drops_the_old_device(governor):
    terminal = TerminalFactory()
    first = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    old_device = services.terminal_register_device(
        establishment=terminal.establishment, code=first.code, actor=governor
    )
    second = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    assert selectors.terminal_for_request(_request_with_cookie(old_device.device_secret)) == terminal
    new_device = services.terminal_register_device(
        establishment=terminal.establishment, code=second.code, actor=governor
    )
    assert selectors.terminal_for_request(_request_with_cookie(old_device.device_secret)) is None
    assert selectors.terminal_for_request(_request_with_cookie(new_device.device_secret)) == terminal


def test_a_revoked_terminal_no_longer_matches_its_device(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    device = services.terminal_register_device(
        establishment=terminal.establishment, code=issued.code, actor=governor
    )
    services.terminal_revoke(terminal=terminal, actor=governor, reason="Laptop lost")
    terminal.refresh_from_db()
    assert terminal.revoked_at is not None
    assert terminal.device_secret_hash == ""
    assert selectors.terminal_for_request(_request_with_cookie(device.device_secret)) is None
    event = _last("terminal_revoked")
    assert event.before["revoked_at"] is None
    assert event.after["reason"] == "Laptop lost"
    with pytest.raises(ValidationError):
        services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    with pytest.raises(ValidationError):
        services.terminal_revoke(terminal=terminal, actor=governor, reason="Again")


def test_a_code_issued_before_revoking_cannot_be_used_after(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    services.terminal_revoke(terminal=terminal, actor=governor, reason="Replaced")
    with pytest.raises(ValidationError):
        services.terminal_register_device(
            establishment=terminal.establishment, code=issued.code, actor=governor
        )


def test_terminal_for_request_checks_establishment_and_cookie(governor):
    terminal = TerminalFactory()
    issued = services.terminal_issue_registration_code(terminal=terminal, actor=governor)
    device = services.terminal_register_device(
        establishment=terminal.establishment, code=issued.code, actor=governor
    )
    assert selectors.terminal_for_request(_request_with_cookie(None)) is None
    assert selectors.terminal_for_request(_request_with_cookie("not-the-secret")) is None
    assert (
        selectors.terminal_for_request(_request_with_cookie(device.device_secret, EstablishmentFactory()))
        is None
    )
    assert (
        selectors.terminal_for_request(_request_with_cookie(device.device_secret, terminal.establishment))
        == terminal
    )
    services.terminal_update(terminal=terminal, actor=governor, name=terminal.name, room=None, active=False)
    assert selectors.terminal_for_request(_request_with_cookie(device.device_secret)) is None


def test_terminals_are_added_and_changed_with_an_audit_trail(governor):
    place = EstablishmentFactory()
    room = RoomFactory(establishment=place)
    terminal = services.terminal_create(establishment=place, actor=governor, name="Laptop 1", kind="resident")
    services.terminal_update(terminal=terminal, actor=governor, name="Laptop 1", room=room, active=True)
    event = _last("terminal_changed")
    assert event.before["room"] is None
    assert event.after["room"] == str(room.pk)
    with pytest.raises(ValidationError) as refused:
        services.terminal_update(
            terminal=terminal, actor=governor, name="Laptop 1", room=RoomFactory(), active=True
        )
    assert "room" in refused.value.message_dict


def test_system_administrators_are_recognised_wherever_they_hold_the_role():
    place = EstablishmentFactory()
    assert selectors.user_is_system_administrator(staff_with(Role.SYSTEM_ADMINISTRATOR, place))
    assert not selectors.user_is_system_administrator(staff_with(Role.GOVERNOR, place))
