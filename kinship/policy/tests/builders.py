"""Valid baseline facts for each profile. Tests change one thing with ``dataclasses.replace``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from kinship.policy import (
    AccessFacts,
    AllowanceUsage,
    BookingFacts,
    CallFacts,
    Charge,
    CompactRecord,
    Contact,
    Establishment,
    EstablishmentType,
    Monitor,
    Profile,
    Requester,
    Resident,
    RiskAssessment,
    RiskOutcome,
    Role,
    Room,
    Session,
    Slot,
    Staff,
    ViewingFacts,
    profile_defaults,
)
from kinship.policy.time import LONDON

#: A Monday morning in March, before the clocks go forward.
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=LONDON)
HOTLINE = "0800 123 4567"

GOVERNOR = Staff(id="gov", roles=frozenset({Role.GOVERNOR}))
MONITORING_OFFICER = Staff(id="mon", roles=frozenset({Role.MONITORING_OFFICER}))
SUPERVISING_OFFICER = Staff(id="sup", roles=frozenset({Role.SUPERVISING_OFFICER}))
BOOKING_CLERK = Staff(id="clerk", roles=frozenset({Role.BOOKING_CLERK}))
CENTRE_MANAGER = Staff(id="cm", roles=frozenset({Role.CENTRE_MANAGER}))


def establishment(profile: Profile = Profile.PRISON) -> Establishment:
    kind = {
        Profile.PRISON: EstablishmentType.PRISON,
        Profile.YOUTH_CUSTODY: EstablishmentType.UNDER_18_YOI,
        Profile.IMMIGRATION_DETENTION: EstablishmentType.IRC,
    }[profile]
    settings = replace(profile_defaults(profile), safer_custody_hotline=HOTLINE)
    return Establishment(
        id=f"est-{profile.value}", name="HMP Example", profile=profile, type=kind, settings=settings
    )


def prison(**settings: Any) -> Establishment:
    base = establishment(Profile.PRISON)
    return replace(base, settings=replace(base.settings, **settings))


def irc(**settings: Any) -> Establishment:
    base = establishment(Profile.IMMIGRATION_DETENTION)
    return replace(base, settings=replace(base.settings, **settings))


def compact(**changes: Any) -> CompactRecord:
    """A compact explained in English, read and signed a month ago."""
    base = CompactRecord(
        version="2024-03",
        language="en",
        explained_by="officer-1",
        explained_at=NOW - timedelta(days=30),
        read=True,
        signed=True,
    )
    return replace(base, **changes)


def usage_of(*minutes: int) -> AllowanceUsage:
    """Allowance already charged this month: one call per entry."""
    return AllowanceUsage(charges=tuple(Charge(booking_id=f"b{n}", minutes=m) for n, m in enumerate(minutes)))


def resident(**changes: Any) -> Resident:
    """A person with a signed compact and an eligibility assessment that allows access."""
    base = Resident(
        id="r1",
        compact=compact(),
        eligibility_assessment=RiskAssessment(
            outcome=RiskOutcome.ALLOW, assessed_by="security-1", assessed_at=NOW - timedelta(days=30)
        ),
    )
    return replace(base, **changes)


def contact(contact_id: str = "c1", *, born: date = date(1980, 5, 1), **changes: Any) -> Contact:
    base = Contact(
        id=contact_id,
        name=f"Contact {contact_id}",
        date_of_birth=born,
        on_phone_list=True,
        terms_version_accepted="1",
    )
    return replace(base, **changes)


def slot(*, minutes: int = 60, start: datetime | None = None, **changes: Any) -> Slot:
    """Thursday afternoon of the same week, in an ordinary room with one supervising and one monitoring officer."""
    begins = start or datetime(2025, 3, 13, 14, 0, tzinfo=LONDON)
    base = Slot(start=begins, end=begins + timedelta(minutes=minutes), room=Room(id="room-1"))
    return replace(base, **changes)


def access(est: Establishment | None = None, **changes: Any) -> AccessFacts:
    base = AccessFacts(establishment=est or prison(), resident=resident(), now=NOW)
    return replace(base, **changes)


def booking(est: Establishment | None = None, **changes: Any) -> BookingFacts:
    base = BookingFacts(
        establishment=est or prison(),
        resident=resident(),
        now=NOW,
        slot=slot(),
        main_contact=contact(),
        requested_by=Requester.CONTACT,
    )
    return replace(base, **changes)


def monitor(**changes: Any) -> Monitor:
    return replace(Monitor(officer=MONITORING_OFFICER, terminal_registered=True, active=True), **changes)


def call(est: Establishment | None = None, **changes: Any) -> CallFacts:
    """A prison call with an active monitor, or (for an IRC) a call with the adult check recorded."""
    est = est or prison()
    irc_call = est.profile is Profile.IMMIGRATION_DETENTION
    base = CallFacts(
        establishment=est,
        resident=resident(),
        now=NOW,
        slot=slot(),
        main_contact=contact(),
        adult_check_recorded=irc_call,
        monitor=None if irc_call else monitor(),
    )
    return replace(base, **changes)


def viewing(est: Establishment | None = None, **changes: Any) -> ViewingFacts:
    base = ViewingFacts(
        establishment=est or prison(),
        viewer=MONITORING_OFFICER,
        terminal_registered=True,
        purpose="Routine monitoring",
        now=NOW,
    )
    return replace(base, **changes)


def week(start: time, end: time, days: range = range(7)) -> tuple[Session, ...]:
    return tuple(Session(weekday=day, start=start, end=end) for day in days)
