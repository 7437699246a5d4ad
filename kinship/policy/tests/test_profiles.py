"""Profiles, their defaults, and settings validated against what the policies allow."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kinship.policy import (
    AllowancePattern,
    EstablishmentType,
    Profile,
    RecordKind,
    establishment_type_allowed,
    profile_defaults,
    validate_settings,
)


@pytest.mark.parametrize("profile", list(Profile))
def test_defaults_are_valid_once_the_hotline_is_entered(profile: Profile) -> None:
    defaults = profile_defaults(profile)
    assert validate_settings(profile, replace(defaults, safer_custody_hotline="0800 000 000")) == []


def test_prison_defaults_need_the_establishments_hotline() -> None:
    reasons = validate_settings(Profile.PRISON, profile_defaults(Profile.PRISON))
    assert [(reason.rule_id, reason.field_name) for reason in reasons] == [
        ("PF 4.19", "safer_custody_hotline")
    ]


def test_default_numbers() -> None:
    prison = profile_defaults(Profile.PRISON)
    assert prison.max_outside_participants == 4
    assert prison.notice_hours == 24
    assert prison.calls_per_monitoring_officer == 4
    assert prison.allowance_pattern is AllowancePattern.ONE_60
    irc = profile_defaults(Profile.IMMIGRATION_DETENTION)
    assert irc.allowance_pattern is None
    assert irc.retention_days[RecordKind.RECORDING] == 0


@pytest.mark.parametrize("minutes", [20, 90])
def test_irc_slots_of_20_or_90_minutes_are_invalid(minutes: int) -> None:
    settings = replace(profile_defaults(Profile.IMMIGRATION_DETENTION), slot_lengths=(30, minutes))
    reasons = validate_settings(Profile.IMMIGRATION_DETENTION, settings)
    assert [(reason.rule_id, reason.field_name) for reason in reasons] == [("DSO Annex A", "slot_lengths")]
    assert reasons[0].message == "DSO Annex A: Every slot length must be between 30 and 60 minutes."


def test_every_failed_field_is_reported() -> None:
    settings = replace(
        profile_defaults(Profile.PRISON),
        max_outside_participants=0,
        notice_hours=-1,
        calls_per_monitoring_officer=0,
        slot_lengths=(),
        retention_days={},
    )
    fields = {reason.field_name for reason in validate_settings(Profile.PRISON, settings)}
    assert {
        "max_outside_participants",
        "notice_hours",
        "calls_per_monitoring_officer",
        "slot_lengths",
        "safer_custody_hotline",
        "retention_days.recording",
    } <= fields


def test_settings_are_frozen_with_a_read_only_retention_mapping() -> None:
    settings = profile_defaults(Profile.PRISON)
    with pytest.raises(TypeError):
        settings.retention_days[RecordKind.RECORDING] = 1  # type: ignore[index]
    assert hash(settings) == hash(replace(settings))


def test_holding_rooms_cannot_be_set_up() -> None:
    refused = establishment_type_allowed(EstablishmentType.NON_RESIDENTIAL_STHF)
    assert refused.messages == ("DSO 1: Video calls cannot be set up in a non-residential holding room.",)
    assert all(
        establishment_type_allowed(kind).allowed
        for kind in EstablishmentType
        if kind is not EstablishmentType.NON_RESIDENTIAL_STHF
    )
