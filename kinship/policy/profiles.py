"""Profiles: the defaults each profile starts from, and settings validation against what the policies allow.

The profile fixes which rules apply (each rule lists its profiles in the registry); the settings hold the
numbers the texts leave to the establishment. ``validate_settings`` runs the settings checks of every rule
that applies, so each reason names the field a form attaches it to.
"""

from __future__ import annotations

from types import MappingProxyType

from kinship.policy.decision import Reason
from kinship.policy.engine import evaluate
from kinship.policy.facts import EstablishmentSettings, SettingsFacts
from kinship.policy.rules.establishment import establishment_type_allowed, profiles_for_type
from kinship.policy.vocabulary import AllowancePattern, Profile, RecordKind, RequestModel

# Starting points only: the data protection officer sets the real periods (PF 4.20). Days.
_PRISON_RETENTION = MappingProxyType(
    {
        RecordKind.RECORDING: 90,
        RecordKind.CALL_LOG: 365,
        RecordKind.BOOKING: 365,
        RecordKind.INCIDENT: 6 * 365,
        RecordKind.VIEWING_LOG: 2 * 365,
        RecordKind.COMPACT: 2 * 365,
        RecordKind.WELLBEING: 6 * 365,
        RecordKind.CONTACT_ACCOUNT: 2 * 365,
    }
)
# DSO Annex A: no audio or video is kept in immigration detention.
_IMMIGRATION_RETENTION = MappingProxyType({**_PRISON_RETENTION, RecordKind.RECORDING: 0})

_DEFAULTS: dict[Profile, EstablishmentSettings] = {
    Profile.PRISON: EstablishmentSettings(
        who_may_request=RequestModel.BOTH,
        allowance_pattern=AllowancePattern.ONE_60,
        slot_lengths=(30, 60),
        retention_days=_PRISON_RETENTION,
    ),
    Profile.YOUTH_CUSTODY: EstablishmentSettings(
        who_may_request=RequestModel.BOTH,
        allowance_pattern=AllowancePattern.ONE_60,
        slot_lengths=(30, 60),
        retention_days=_PRISON_RETENTION,
    ),
    Profile.IMMIGRATION_DETENTION: EstablishmentSettings(
        who_may_request=RequestModel.BOTH,
        allowance_pattern=None,
        slot_lengths=(30, 60),
        retention_days=_IMMIGRATION_RETENTION,
    ),
}


def profile_defaults(profile: Profile) -> EstablishmentSettings:
    """The settings a new establishment of ``profile`` starts with.

    The safer custody hotline (PF 4.19) is left empty: it is the establishment's own number, so prison
    settings are not valid until it is entered.
    """
    return _DEFAULTS[profile]


def validate_settings(profile: Profile, settings: EstablishmentSettings) -> list[Reason]:
    """Every reason these settings are not allowed under ``profile``; each names its field
    (``reason.field_name``)."""
    return list(evaluate(SettingsFacts(profile=profile, settings=settings)).refusals)


__all__ = ["establishment_type_allowed", "profile_defaults", "profiles_for_type", "validate_settings"]
