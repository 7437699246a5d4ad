"""Records: what is recorded, how long each kind of record is kept, and when it may be opened or deleted
(PF 1.3, PF 4.20, DSO Annex A).

Retention periods are counted in local calendar days from the record's creation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from kinship.policy.decision import Reason
from kinship.policy.facts import DeletionFacts, EstablishmentSettings, SettingsFacts, ViewingFacts
from kinship.policy.registry import rule
from kinship.policy.time import add_calendar_days, utc
from kinship.policy.vocabulary import (
    ALL_PROFILES,
    IMMIGRATION_PROFILES,
    PRISON_PROFILES,
    CallKind,
    Profile,
    RecordKind,
)

#: DSO Annex A: "We will only log the date, the time, and the duration of your call."
IRC_CALL_LOG_FIELDS = ("date", "time", "duration")


def required_record_kinds(profile: Profile) -> tuple[RecordKind, ...]:
    """Kinds of record this profile keeps; immigration detention keeps no recordings (DSO Annex A)."""
    if profile in IMMIGRATION_PROFILES:
        return tuple(kind for kind in RecordKind if kind is not RecordKind.RECORDING)
    return tuple(RecordKind)


@rule(
    "PF 4.20",
    profiles=ALL_PROFILES,
    summary="Personal data is processed under the DPA 2018 and UK GDPR: each kind of record has a retention period "
    "after which it is deleted unless held for an investigation.",
    facts=SettingsFacts,
)
def retention_periods_set(facts: SettingsFacts) -> Iterator[Reason]:
    """Interpretation: the Data Protection Act binds immigration detention as well, so the rule applies to
    every profile although it is a PF paragraph."""
    retention = facts.settings.retention_days
    for kind in required_record_kinds(facts.profile):
        if retention.get(kind, 0) < 1:
            yield Reason.refuse(
                "PF 4.20", "settings.retention", field=f"retention_days.{kind.value}", kind=kind.value
            )


@rule("PF 4.20")
def retention_expires_at(
    kind: RecordKind, created_at: datetime, settings: EstablishmentSettings, tz: ZoneInfo
) -> datetime:
    """When a record's retention period ends: the same local time, that many calendar days later."""
    return add_calendar_days(created_at, settings.retention_days.get(kind, 0), tz)


@rule("PF 4.20", facts=DeletionFacts)
def deletion_allowed(facts: DeletionFacts) -> Iterator[Reason]:
    if facts.held_for_investigation:
        yield Reason.refuse("PF 4.20", "retention.held")
    expires = retention_expires_at(
        facts.kind, facts.created_at, facts.establishment.settings, facts.establishment.timezone
    )
    if utc(facts.now) < utc(expires):
        yield Reason.refuse("PF 4.20", "retention.not_expired", expires_on=expires.date())


@rule(
    "PF 1.3",
    profiles=PRISON_PROFILES,
    summary="Prison calls are intercepted and recorded; recordings are kept for the retention period and opened only "
    "by authorised staff with a reason.",
)
def recording_required(profile: Profile, call_kind: CallKind = CallKind.SOCIAL) -> bool:
    """Every call is recorded in prison profiles (PF 1.3); nothing is recorded in immigration detention (DSO
    Annex A), where legal calls are also private (DSO 9)."""
    return profile in PRISON_PROFILES


@rule("PF 1.3", facts=ViewingFacts)
def recording_within_retention(facts: ViewingFacts) -> Iterator[Reason]:
    """A recording past its retention period should have been deleted; it is not opened, unless an
    investigation holds it."""
    if facts.live or facts.recorded_at is None or facts.held_for_investigation:
        return
    expires = retention_expires_at(
        RecordKind.RECORDING, facts.recorded_at, facts.establishment.settings, facts.establishment.timezone
    )
    if utc(facts.now) >= utc(expires):
        yield Reason.refuse("PF 1.3", "recording.expired")


@rule("DSO Annex A", facts=SettingsFacts)
def no_recordings_kept(facts: SettingsFacts) -> Iterator[Reason]:
    if facts.settings.retention_days.get(RecordKind.RECORDING, 0) != 0:
        yield Reason.refuse("DSO Annex A", "settings.no_recordings_in_irc", field="retention_days.recording")


@rule("DSO Annex A")
def call_log_fields(profile: Profile) -> tuple[str, ...] | None:
    """What an immigration detention call log may hold (date, time, duration); ``None`` where the DSO sets no
    limit."""
    return IRC_CALL_LOG_FIELDS if profile in IMMIGRATION_PROFILES else None
