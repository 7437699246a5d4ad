"""Establishments: which may run the service, their weekly schedule and what they must show contacts
(DSO 1, DSO 3, DSO 7, PF 4.2, PF 4.19).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import time

from kinship.policy.decision import Decision, Reason
from kinship.policy.facts import ScheduleFacts, Session, SettingsFacts
from kinship.policy.registry import rule
from kinship.policy.vocabulary import (
    IMMIGRATION_PROFILES,
    PRISON_PROFILES,
    EstablishmentType,
    Profile,
)

#: DSO 7: "a minimum period of seven hours every day".
DAILY_MINUTES_REQUIRED = 7 * 60
#: PF 4.2 gives no hour; a session still running at 18:00 is taken as an evening session.
EVENING_FROM = time(18, 0)
WEEKEND = frozenset({5, 6})
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Which profiles each type of establishment may have. A non-residential holding room may have none (DSO 1).
TYPE_PROFILES: dict[EstablishmentType, frozenset[Profile]] = {
    EstablishmentType.PRISON: frozenset({Profile.PRISON}),
    EstablishmentType.YOI: frozenset({Profile.PRISON}),
    EstablishmentType.UNDER_18_YOI: frozenset({Profile.YOUTH_CUSTODY}),
    EstablishmentType.SECURE_TRAINING_CENTRE: frozenset({Profile.YOUTH_CUSTODY}),
    EstablishmentType.IRC: IMMIGRATION_PROFILES,
    EstablishmentType.RSTHF: IMMIGRATION_PROFILES,
    EstablishmentType.PDA: IMMIGRATION_PROFILES,
    EstablishmentType.NON_RESIDENTIAL_STHF: frozenset(),
}


def profiles_for_type(establishment_type: EstablishmentType) -> frozenset[Profile]:
    return TYPE_PROFILES[establishment_type]


@rule(
    "DSO 1",
    profiles=IMMIGRATION_PROFILES,
    summary="A non-residential short-term holding facility (holding room) cannot be set up for video calls.",
)
def establishment_type_allowed(establishment_type: EstablishmentType) -> Decision:
    if establishment_type is EstablishmentType.NON_RESIDENTIAL_STHF:
        return Decision.from_reasons([Reason.refuse("DSO 1", "establishment.holding_room", field="type")])
    return Decision.from_reasons([])


@rule(
    "DSO 3",
    profiles=IMMIGRATION_PROFILES,
    summary="Immigration detention has no monthly allowance: detainees have reasonable access, so no allowance "
    "pattern may be set.",
    facts=SettingsFacts,
)
def no_allowance_in_detention(facts: SettingsFacts) -> Iterator[Reason]:
    """Interpretation: "reasonable and regulated access" (DSO 3) sets no monthly cap, so the PF 4.1 pattern is
    refused in the immigration detention profile rather than silently ignored."""
    if facts.settings.allowance_pattern is not None:
        yield Reason.refuse("DSO 3", "settings.no_allowance_in_irc", field="allowance_pattern")


def _minutes_by_day(sessions: tuple[Session, ...]) -> dict[int, int]:
    """Minutes of service per weekday, counting overlapping sessions once."""
    by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for session in sessions:
        start = session.start.hour * 60 + session.start.minute
        by_day[session.weekday].append((start, start + session.minutes))
    totals: dict[int, int] = {}
    for day in range(7):
        covered, reached = 0, 0
        for start, end in sorted(by_day[day]):
            covered += max(0, end - max(start, reached))
            reached = max(reached, end)
        totals[day] = covered
    return totals


@rule(
    "DSO 7",
    profiles=IMMIGRATION_PROFILES,
    summary="The service is available at least seven hours every day; a weekly schedule with a shorter day cannot "
    "be published.",
    facts=ScheduleFacts,
)
def daily_hours(facts: ScheduleFacts) -> Iterator[Reason]:
    for day, minutes in _minutes_by_day(facts.sessions).items():
        if minutes < DAILY_MINUTES_REQUIRED:
            yield Reason.refuse(
                "DSO 7", "schedule.short_day", day=DAY_NAMES[day], hours=minutes // 60, minutes=minutes % 60
            )


@rule("DSO 7")
def schedule_meets_daily_hours(sessions: tuple[Session, ...]) -> Decision:
    """Whether a weekly schedule gives seven hours every day, for the publish workflow."""
    return Decision.from_reasons(
        daily_hours(ScheduleFacts(profile=Profile.IMMIGRATION_DETENTION, sessions=sessions))
    )


@rule(
    "PF 4.2",
    profiles=PRISON_PROFILES,
    summary="Slots come from the establishment's capacity; a schedule with no evening or no weekend sessions gets "
    "a visible warning.",
    facts=ScheduleFacts,
)
def evenings_and_weekends(facts: ScheduleFacts) -> Iterator[Reason]:
    """Interpretation: "with none" is read per kind: a schedule without evening sessions gets one warning, one
    without weekend sessions another. It is a warning, never a refusal: PF 4.2 says "where possible"."""
    if not any(session.end > EVENING_FROM for session in facts.sessions):
        yield Reason.warn("PF 4.2", "schedule.no_evenings", evening_from=EVENING_FROM.strftime("%H:%M"))
    if not any(session.weekday in WEEKEND for session in facts.sessions):
        yield Reason.warn("PF 4.2", "schedule.no_weekends")


@rule(
    "PF 4.19",
    profiles=PRISON_PROFILES,
    summary="The establishment's safer custody hotline is shown to contacts on every page and message about calls.",
    facts=SettingsFacts,
)
def hotline_set(facts: SettingsFacts) -> Iterator[Reason]:
    if not facts.settings.safer_custody_hotline.strip():
        yield Reason.refuse("PF 4.19", "settings.hotline", field="safer_custody_hotline")


@rule("PF 4.19")
def hotline_notice(profile: Profile, hotline: str) -> Reason | None:
    """The note every contact-facing page and message carries (``None`` outside prison profiles or when
    unset)."""
    if profile not in PRISON_PROFILES or not hotline.strip():
        return None
    return Reason.info("PF 4.19", "hotline.notice", hotline=hotline)
