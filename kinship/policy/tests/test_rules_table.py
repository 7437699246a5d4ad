"""One table, every rule: for each rule id, cases where that rule alone objects and cases where it allows.

"Objects" means refuses, or warns for the rules that only warn (PF 4.2). A rule whose checks are deleted fails its
objecting cases; the meta-tests fail if a registered rule, or a rule id in POLICY.md, has no case of either kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from kinship.policy import (
    AllowancePattern,
    CallKind,
    ContactAccessFacts,
    ContactBan,
    Decision,
    DeletionFacts,
    EstablishmentType,
    ExtraCallFacts,
    ExtraCallReason,
    Funding,
    HarassmentControl,
    Profile,
    RecordKind,
    Requester,
    RequestModel,
    Restriction,
    RestrictionFacts,
    RestrictionKind,
    RiskAssessment,
    RiskOutcome,
    Room,
    Rule34Ground,
    ScheduleFacts,
    SettingsFacts,
    Severity,
    Staff,
    SupportNeed,
    Suspension,
    SuspensionFacts,
    SuspensionReason,
    TerminationFacts,
    TerminationReason,
    WellbeingClosureFacts,
    WellbeingConcernFacts,
    all_rules,
    establishment_type_allowed,
    evaluate,
    profile_defaults,
)
from kinship.policy.tests import builders as b

POLICY_MD = Path(__file__).resolve().parents[4] / "shared" / "POLICY.md"
POLICY_ID = re.compile(r"\b(PF \d+\.\d+|DSO \d+(?![\d/])|DSO Annex A)")


@dataclass(frozen=True)
class Case:
    rule_id: str
    name: str
    decide: Callable[[], Decision]
    objects: bool


CASES: list[Case] = []


def objects(rule_id: str, name: str, decide: Callable[[], Decision]) -> None:
    CASES.append(Case(rule_id, name, decide, objects=True))


def allows(rule_id: str, name: str, decide: Callable[[], Decision]) -> None:
    CASES.append(Case(rule_id, name, decide, objects=False))


def settings_of(profile: Profile, **changes: Any) -> Decision:
    base = replace(profile_defaults(profile), safer_custody_hotline=b.HOTLINE)
    return evaluate(SettingsFacts(profile=profile, settings=replace(base, **changes)))


def ban(contact_id: str, end: datetime | None = None) -> ContactBan:
    return ContactBan(
        contact_id=contact_id,
        decided_by="gov",
        start=b.NOW - timedelta(days=1),
        review_on=date(2025, 4, 1),
        end=end,
    )


def restriction(kind: RestrictionKind = RestrictionKind.WITHHOLD, **changes: Any) -> Restriction:
    base = Restriction(
        kind=kind,
        ground=Rule34Ground.CRIME,
        rationale="Intelligence of planned conveyance",
        decided_by="gov",
        start=b.NOW - timedelta(days=1),
        review_on=date(2025, 4, 1),
    )
    return replace(base, **changes)


def suspension(days: int | None = 3, **changes: Any) -> Suspension:
    start = b.NOW - timedelta(days=1)
    base = Suspension(
        reason=SuspensionReason.SECURITY,
        decided_by="cm",
        start=start,
        end=None if days is None else start + timedelta(days=days),
    )
    return replace(base, **changes)


def extra_call(**changes: Any) -> Decision:
    base = ExtraCallFacts(
        establishment=b.prison(),
        approver=b.GOVERNOR,
        reason=ExtraCallReason.RESIDENT_WELLBEING,
        notes="",
        slots_left_this_month=11,
        residents_without_call=10,
    )
    return evaluate(replace(base, **changes))


def termination(**changes: Any) -> Decision:
    base = TerminationFacts(
        establishment=b.irc(),
        actor=b.SUPERVISING_OFFICER,
        reason=TerminationReason.DRESS,
        details="Caller in underwear after a warning",
    )
    return evaluate(replace(base, **changes))


def deletion(**changes: Any) -> Decision:
    base = DeletionFacts(
        establishment=b.prison(), kind=RecordKind.CALL_LOG, created_at=b.NOW - timedelta(days=400), now=b.NOW
    )
    return evaluate(replace(base, **changes))


def restriction_record(**changes: Any) -> Decision:
    return evaluate(
        RestrictionFacts(establishment=b.prison(), restriction=restriction(**changes), decided_by=b.GOVERNOR)
    )


def suspension_decision(decided_by: Staff = b.CENTRE_MANAGER, **changes: Any) -> Decision:
    return evaluate(
        SuspensionFacts(establishment=b.irc(), suspension=suspension(**changes), decided_by=decided_by)
    )


OTHER_CONTACTS = tuple(b.contact(f"c{number}") for number in range(2, 5))
CHILD = b.contact("child", born=date(2015, 6, 1))

# --- PF 1.3 -------------------------------------------------------------------------------------------------------
objects(
    "PF 1.3",
    "recording past retention",
    lambda: evaluate(b.viewing(live=False, recorded_at=b.NOW - timedelta(days=100))),
)
allows(
    "PF 1.3",
    "recording within retention",
    lambda: evaluate(b.viewing(live=False, recorded_at=b.NOW - timedelta(days=10))),
)
allows(
    "PF 1.3",
    "old recording held for an investigation",
    lambda: evaluate(
        b.viewing(live=False, recorded_at=b.NOW - timedelta(days=100), held_for_investigation=True)
    ),
)
# --- PF 4.1 -------------------------------------------------------------------------------------------------------
objects("PF 4.1", "month's minutes used", lambda: evaluate(b.booking(usage=b.usage_of(60))))
objects(
    "PF 4.1",
    "30-minute pattern, 60-minute call",
    lambda: evaluate(
        b.booking(
            b.prison(allowance_pattern=AllowancePattern.TWO_30, slot_lengths=(30,)), slot=b.slot(minutes=60)
        )
    ),
)
objects("PF 4.1", "slot length not offered", lambda: evaluate(b.booking(slot=b.slot(minutes=45))))
objects(
    "PF 4.1", "no allowance pattern chosen", lambda: evaluate(b.booking(b.prison(allowance_pattern=None)))
)
objects("PF 4.1", "settings without a pattern", lambda: settings_of(Profile.PRISON, allowance_pattern=None))
objects(
    "PF 4.1",
    "settings with a 60-minute slot on the 30-minute pattern",
    lambda: settings_of(Profile.PRISON, allowance_pattern=AllowancePattern.TWO_30),
)
allows("PF 4.1", "first call of the month", lambda: evaluate(b.booking()))
allows(
    "PF 4.1",
    "second 30-minute call",
    lambda: evaluate(
        b.booking(
            b.prison(allowance_pattern=AllowancePattern.TWO_30, slot_lengths=(30,)),
            slot=b.slot(minutes=30),
            usage=b.usage_of(30),
        )
    ),
)
allows(
    "PF 4.1",
    "extra call does not use the allowance",
    lambda: evaluate(b.booking(usage=b.usage_of(60), funding=Funding.EXTRA_GRANT, extra_grants_available=1)),
)
# --- PF 4.2 -------------------------------------------------------------------------------------------------------
objects(
    "PF 4.2",
    "weekday daytime only",
    lambda: evaluate(
        ScheduleFacts(profile=Profile.PRISON, sessions=b.week(time(9, 0), time(17, 0), range(5)))
    ),
)
allows(
    "PF 4.2",
    "evenings and weekends",
    lambda: evaluate(ScheduleFacts(profile=Profile.PRISON, sessions=b.week(time(14, 0), time(19, 0)))),
)
# --- PF 4.3 -------------------------------------------------------------------------------------------------------
objects("PF 4.3", "capacity would not cover everyone", lambda: extra_call(slots_left_this_month=10))
objects("PF 4.3", "not a governor", lambda: extra_call(approver=b.BOOKING_CLERK))
objects("PF 4.3", "as-needed is for youth custody", lambda: extra_call(reason=ExtraCallReason.AS_NEEDED))
objects(
    "PF 4.3", "exceptional reason unexplained", lambda: extra_call(reason=ExtraCallReason.OTHER_EXCEPTIONAL)
)
objects("PF 4.3", "no grant to book with", lambda: evaluate(b.booking(funding=Funding.EXTRA_GRANT)))
allows("PF 4.3", "governor, wellbeing, capacity", lambda: extra_call())
allows(
    "PF 4.3",
    "youth custody, staff, as needed",
    lambda: extra_call(
        establishment=b.establishment(Profile.YOUTH_CUSTODY),
        approver=b.BOOKING_CLERK,
        reason=ExtraCallReason.AS_NEEDED,
    ),
)
allows(
    "PF 4.3",
    "exceptional reason explained",
    lambda: extra_call(reason=ExtraCallReason.OTHER_EXCEPTIONAL, notes="Father in hospice"),
)
# --- PF 4.4 -------------------------------------------------------------------------------------------------------
objects(
    "PF 4.4",
    "access withheld",
    lambda: evaluate(b.access(resident=b.resident(restrictions=(restriction(),)))),
)
objects(
    "PF 4.4",
    "participants limited",
    lambda: evaluate(
        b.booking(
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, max_participants=1),)),
            additional_contacts=OTHER_CONTACTS[:1],
        )
    ),
)
objects(
    "PF 4.4",
    "call length limited",
    lambda: evaluate(
        b.booking(
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, max_call_minutes=30),))
        )
    ),
)
objects(
    "PF 4.4",
    "calls a month limited",
    lambda: evaluate(
        b.booking(
            b.prison(allowance_pattern=AllowancePattern.TWO_30, slot_lengths=(30,)),
            slot=b.slot(minutes=30),
            usage=b.usage_of(30),
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, max_calls_per_month=1),)),
        )
    ),
)
objects(
    "PF 4.4",
    "dedicated monitor shared",
    lambda: evaluate(
        b.call(
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, dedicated_monitor=True),)),
            monitor=b.monitor(other_calls_watched=1),
        )
    ),
)
objects(
    "PF 4.4",
    "record by a clerk",
    lambda: evaluate(
        RestrictionFacts(establishment=b.prison(), restriction=restriction(), decided_by=b.BOOKING_CLERK)
    ),
)
objects("PF 4.4", "record without rationale", lambda: restriction_record(rationale=" "))
objects("PF 4.4", "review before start", lambda: restriction_record(review_on=date(2025, 3, 1)))
objects("PF 4.4", "ends before it starts", lambda: restriction_record(end=b.NOW - timedelta(days=2)))
objects("PF 4.4", "limit of nothing", lambda: restriction_record(kind=RestrictionKind.LIMIT))
allows(
    "PF 4.4",
    "restriction ended",
    lambda: evaluate(
        b.access(resident=b.resident(restrictions=(restriction(end=b.NOW - timedelta(hours=1)),)))
    ),
)
allows(
    "PF 4.4",
    "limits respected",
    lambda: evaluate(
        b.booking(
            resident=b.resident(
                restrictions=(restriction(RestrictionKind.LIMIT, max_participants=1, max_call_minutes=60),)
            )
        )
    ),
)
allows(
    "PF 4.4",
    "first call of a limited month",
    lambda: evaluate(
        b.booking(
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, max_calls_per_month=1),))
        )
    ),
)
allows(
    "PF 4.4",
    "dedicated monitor watching alone",
    lambda: evaluate(
        b.call(
            resident=b.resident(restrictions=(restriction(RestrictionKind.LIMIT, dedicated_monitor=True),))
        )
    ),
)
allows(
    "PF 4.4",
    "complete record",
    lambda: restriction_record(
        kind=RestrictionKind.LIMIT, max_call_minutes=30, end=b.NOW + timedelta(days=30)
    ),
)
# --- PF 4.5, PF 4.24 ----------------------------------------------------------------------------------------------
objects(
    "PF 4.5",
    "hearing support missing",
    lambda: evaluate(b.booking(resident=b.resident(support_needs=frozenset({SupportNeed.HEARING})))),
)
allows(
    "PF 4.5",
    "hearing support offered",
    lambda: evaluate(
        b.booking(
            resident=b.resident(support_needs=frozenset({SupportNeed.HEARING})),
            slot=b.slot(supports=frozenset({SupportNeed.HEARING})),
        )
    ),
)
objects(
    "PF 4.24",
    "room not accessible",
    lambda: evaluate(b.booking(resident=b.resident(support_needs=frozenset({SupportNeed.PHYSICAL})))),
)
allows(
    "PF 4.24",
    "accessible room",
    lambda: evaluate(
        b.booking(
            resident=b.resident(support_needs=frozenset({SupportNeed.PHYSICAL})),
            slot=b.slot(room=Room(id="room-2", accessible=True)),
        )
    ),
)
# --- PF 4.6 -------------------------------------------------------------------------------------------------------
objects(
    "PF 4.6",
    "contacts may not request",
    lambda: evaluate(b.booking(b.prison(who_may_request=RequestModel.RESIDENT))),
)
objects(
    "PF 4.6",
    "residents may not request",
    lambda: evaluate(
        b.booking(b.prison(who_may_request=RequestModel.CONTACT), requested_by=Requester.RESIDENT)
    ),
)
allows(
    "PF 4.6",
    "contact request where contacts request",
    lambda: evaluate(b.booking(b.prison(who_may_request=RequestModel.CONTACT))),
)
# --- PF 4.7 -------------------------------------------------------------------------------------------------------
objects("PF 4.7", "no supervising officer", lambda: evaluate(b.booking(slot=b.slot(supervising_officers=0))))
objects("PF 4.7", "monitoring officer full", lambda: evaluate(b.booking(slot=b.slot(calls_booked=4))))
objects(
    "PF 4.7", "officer already watching 4", lambda: evaluate(b.call(monitor=b.monitor(other_calls_watched=4)))
)
objects(
    "PF 4.7",
    "settings: officer watches no calls",
    lambda: settings_of(Profile.PRISON, calls_per_monitoring_officer=0),
)
allows("PF 4.7", "fourth call for one officer", lambda: evaluate(b.booking(slot=b.slot(calls_booked=3))))
allows(
    "PF 4.7", "officer watching 3 others", lambda: evaluate(b.call(monitor=b.monitor(other_calls_watched=3)))
)
# --- PF 4.8 -------------------------------------------------------------------------------------------------------
objects(
    "PF 4.8",
    "resident request, short notice",
    lambda: evaluate(
        b.booking(requested_by=Requester.RESIDENT, slot=b.slot(start=b.NOW + timedelta(hours=10)))
    ),
)
objects("PF 4.8", "slot already started", lambda: evaluate(b.booking(slot=b.slot(start=b.NOW))))
objects("PF 4.8", "negative notice", lambda: settings_of(Profile.PRISON, notice_hours=-1))
allows(
    "PF 4.8", "resident request, 3 days ahead", lambda: evaluate(b.booking(requested_by=Requester.RESIDENT))
)
allows(
    "PF 4.8",
    "contact's own request tonight",
    lambda: evaluate(b.booking(slot=b.slot(start=b.NOW + timedelta(hours=10)))),
)
# --- PF 4.9, PF 4.11 ----------------------------------------------------------------------------------------------
objects("PF 4.9", "no compact", lambda: evaluate(b.access(resident=b.resident(compact=None))))
objects(
    "PF 4.9",
    "compact not signed",
    lambda: evaluate(b.access(resident=b.resident(compact=b.compact(signed=False)))),
)
objects(
    "PF 4.9",
    "compact in a language not understood",
    lambda: evaluate(b.access(resident=b.resident(english_sufficient=False, languages=frozenset({"pl"})))),
)
objects(
    "PF 4.9",
    "no eligibility assessment",
    lambda: evaluate(b.access(resident=b.resident(eligibility_assessment=None))),
)
objects(
    "PF 4.9",
    "eligibility assessment refuses",
    lambda: evaluate(
        b.access(
            resident=b.resident(
                eligibility_assessment=RiskAssessment(
                    outcome=RiskOutcome.REFUSE, assessed_by="s", assessed_at=b.NOW
                )
            )
        )
    ),
)
allows("PF 4.9", "signed, assessed", lambda: evaluate(b.access()))
objects("PF 4.11", "refused to sign", lambda: evaluate(b.access(resident=b.resident(compact_refused=True))))
allows("PF 4.11", "no refusal", lambda: evaluate(b.access()))
# --- PF 4.10, 4.12 to 4.16 ----------------------------------------------------------------------------------------
objects(
    "PF 4.10", "banned contact", lambda: evaluate(b.booking(resident=b.resident(contact_bans=(ban("c1"),))))
)
allows(
    "PF 4.10",
    "ban on someone else, or over",
    lambda: evaluate(
        b.booking(resident=b.resident(contact_bans=(ban("c9"), ban("c1", end=b.NOW - timedelta(minutes=1)))))
    ),
)
objects(
    "PF 4.12",
    "not on an approved list",
    lambda: evaluate(b.booking(main_contact=b.contact(on_phone_list=False))),
)
objects(
    "PF 4.12",
    "banned visitor, unauthorised",
    lambda: evaluate(b.booking(main_contact=b.contact(banned_visitor=True))),
)
allows(
    "PF 4.12",
    "banned visitor, authorised; visits list",
    lambda: evaluate(
        b.booking(
            main_contact=b.contact(
                banned_visitor=True,
                banned_visitor_authorised_by="opsmgr",
                on_phone_list=False,
                on_visits_list=True,
            )
        )
    ),
)
objects(
    "PF 4.13",
    "five people",
    lambda: evaluate(b.booking(additional_contacts=(*OTHER_CONTACTS, b.contact("c5")))),
)
objects("PF 4.13", "settings above four", lambda: settings_of(Profile.PRISON, max_outside_participants=5))
allows("PF 4.13", "four people", lambda: evaluate(b.booking(additional_contacts=OTHER_CONTACTS)))
allows(
    "PF 4.13",
    "five people, large family",
    lambda: evaluate(
        b.booking(
            resident=b.resident(large_family_limit=6), additional_contacts=(*OTHER_CONTACTS, b.contact("c5"))
        )
    ),
)
objects(
    "PF 4.14",
    "17-year-old main caller",
    lambda: evaluate(b.booking(main_contact=b.contact(born=date(2007, 3, 14)))),
)
allows(
    "PF 4.14",
    "turns 18 on the day of the call",
    lambda: evaluate(b.booking(main_contact=b.contact(born=date(2007, 3, 13)), additional_contacts=(CHILD,))),
)
objects(
    "PF 4.15",
    "terms not accepted (contact)",
    lambda: evaluate(
        ContactAccessFacts(establishment=b.prison(), contact=b.contact(terms_version_accepted=None))
    ),
)
objects(
    "PF 4.15",
    "old terms (participant)",
    lambda: evaluate(b.booking(additional_contacts=(b.contact("c2", terms_version_accepted="0"),))),
)
allows(
    "PF 4.15",
    "current terms",
    lambda: evaluate(ContactAccessFacts(establishment=b.irc(), contact=b.contact())),
)
objects(
    "PF 4.16",
    "PPRC, child not approved",
    lambda: evaluate(b.booking(resident=b.resident(pprc=True), additional_contacts=(CHILD,))),
)
allows(
    "PF 4.16",
    "PPRC, child approved",
    lambda: evaluate(
        b.booking(
            resident=b.resident(pprc=True, approved_child_contacts=frozenset({"child"})),
            additional_contacts=(CHILD,),
        )
    ),
)
# --- PF 4.17 to 4.20 ----------------------------------------------------------------------------------------------
objects(
    "PF 4.17",
    "nothing observed",
    lambda: evaluate(
        WellbeingConcernFacts(establishment=b.prison(), actor=b.SUPERVISING_OFFICER, observation="")
    ),
)
allows(
    "PF 4.17",
    "observation",
    lambda: evaluate(
        WellbeingConcernFacts(
            establishment=b.prison(),
            actor=b.SUPERVISING_OFFICER,
            observation="Tearful after news of a separation",
        )
    ),
)
objects(
    "PF 4.18",
    "no ACCT decision, no outcome",
    lambda: evaluate(
        WellbeingClosureFacts(
            establishment=b.prison(), actor=b.SUPERVISING_OFFICER, outcome="", acct_opened=None
        )
    ),
)
allows(
    "PF 4.18",
    "closed with outcome",
    lambda: evaluate(
        WellbeingClosureFacts(
            establishment=b.prison(),
            actor=b.SUPERVISING_OFFICER,
            outcome="Spoke with chaplain",
            acct_opened=False,
        )
    ),
)
objects("PF 4.19", "no hotline", lambda: settings_of(Profile.PRISON, safer_custody_hotline=" "))
allows("PF 4.19", "hotline set", lambda: settings_of(Profile.YOUTH_CUSTODY))
objects("PF 4.20", "retention missing", lambda: settings_of(Profile.PRISON, retention_days={}))
objects("PF 4.20", "delete before expiry", lambda: deletion(created_at=b.NOW - timedelta(days=10)))
objects("PF 4.20", "delete while held", lambda: deletion(held_for_investigation=True))
allows("PF 4.20", "delete after expiry", lambda: deletion())
allows(
    "PF 4.20", "retention set (IRC keeps no recordings)", lambda: settings_of(Profile.IMMIGRATION_DETENTION)
)
# --- PF 4.21 to 4.23 ----------------------------------------------------------------------------------------------
objects("PF 4.21", "no monitor", lambda: evaluate(b.call(monitor=None)))
objects("PF 4.21", "monitor stopped", lambda: evaluate(b.call(monitor=b.monitor(active=False))))
allows("PF 4.21", "monitor active", lambda: evaluate(b.call()))
objects(
    "PF 4.22",
    "E-list, no officer free to watch alone",
    lambda: evaluate(b.booking(resident=b.resident(e_list=True), slot=b.slot(calls_booked=1))),
)
objects(
    "PF 4.22",
    "E-list call shares its monitor",
    lambda: evaluate(b.call(resident=b.resident(e_list=True), monitor=b.monitor(other_calls_watched=1))),
)
allows(
    "PF 4.22",
    "E-list booked and watched alone",
    lambda: evaluate(b.booking(resident=b.resident(e_list=True))),
)
allows("PF 4.22", "E-list call watched alone", lambda: evaluate(b.call(resident=b.resident(e_list=True))))
objects(
    "PF 4.23",
    "unregistered terminal, unauthorised officer",
    lambda: evaluate(b.call(monitor=b.monitor(terminal_registered=False, officer=b.BOOKING_CLERK))),
)
objects(
    "PF 4.23",
    "viewing without authorisation, terminal or purpose",
    lambda: evaluate(b.viewing(viewer=b.BOOKING_CLERK, terminal_registered=False, purpose="")),
)
allows("PF 4.23", "authorised viewing", lambda: evaluate(b.viewing()))
# --- PF 5.1 -------------------------------------------------------------------------------------------------------
objects("PF 5.1", "legal call in a prison", lambda: evaluate(b.booking(call_kind=CallKind.LEGAL)))
allows("PF 5.1", "social call", lambda: evaluate(b.booking()))
# --- DSO ----------------------------------------------------------------------------------------------------------
objects("DSO 1", "holding room", lambda: establishment_type_allowed(EstablishmentType.NON_RESIDENTIAL_STHF))
allows("DSO 1", "IRC", lambda: establishment_type_allowed(EstablishmentType.IRC))
objects(
    "DSO 3",
    "allowance in an IRC",
    lambda: settings_of(Profile.IMMIGRATION_DETENTION, allowance_pattern=AllowancePattern.ONE_60),
)
allows("DSO 3", "no allowance in an IRC", lambda: settings_of(Profile.IMMIGRATION_DETENTION))
objects(
    "DSO 7",
    "a six-hour Sunday",
    lambda: evaluate(
        ScheduleFacts(
            profile=Profile.IMMIGRATION_DETENTION,
            sessions=(
                *b.week(time(9, 0), time(16, 0), range(6)),
                *b.week(time(9, 0), time(15, 0), range(6, 7)),
            ),
        )
    ),
)
allows(
    "DSO 7",
    "seven hours every day, in two overlapping sessions",
    lambda: evaluate(
        ScheduleFacts(
            profile=Profile.IMMIGRATION_DETENTION,
            sessions=(*b.week(time(9, 0), time(13, 0)), *b.week(time(12, 0), time(16, 0))),
        )
    ),
)
objects("DSO 8", "no adult check", lambda: evaluate(b.call(b.irc(), adult_check_recorded=False)))
allows("DSO 8", "adult check recorded", lambda: evaluate(b.call(b.irc())))
objects(
    "DSO 9",
    "legal call monitored",
    lambda: evaluate(b.call(b.irc(), call_kind=CallKind.LEGAL, monitor=b.monitor())),
)
objects("DSO 9", "legal call viewed", lambda: evaluate(b.viewing(b.irc(), call_kind=CallKind.LEGAL)))
allows(
    "DSO 9",
    "legal call booked, not monitored",
    lambda: evaluate(b.booking(b.irc(), call_kind=CallKind.LEGAL)),
)
allows("DSO 9", "legal call runs privately", lambda: evaluate(b.call(b.irc(), call_kind=CallKind.LEGAL)))
objects(
    "DSO 10",
    "centre compact not signed",
    lambda: evaluate(b.access(b.irc(), resident=b.resident(compact=b.compact(signed=False)))),
)
allows("DSO 10", "centre compact signed", lambda: evaluate(b.access(b.irc())))
objects("DSO 11", "ended by a clerk", lambda: termination(actor=b.BOOKING_CLERK))
allows("DSO 11", "ended by supervising staff", lambda: termination())
objects("DSO 12", "recording detected", lambda: evaluate(b.call(b.irc(), recording_detected=True)))
allows("DSO 12", "no recording", lambda: evaluate(b.call(b.irc())))
objects(
    "DSO 14",
    "MAPPA without assessment",
    lambda: evaluate(
        b.access(b.irc(), resident=b.resident(harassment_controls=frozenset({HarassmentControl.MAPPA})))
    ),
)
allows(
    "DSO 14",
    "MAPPA, assessment allows",
    lambda: evaluate(
        b.access(
            b.irc(),
            resident=b.resident(
                harassment_controls=frozenset({HarassmentControl.MAPPA}),
                individual_risk_assessment=RiskAssessment(
                    outcome=RiskOutcome.ALLOW, assessed_by="s", assessed_at=b.NOW
                ),
            ),
        )
    ),
)
objects(
    "DSO 15",
    "compact in English, English not enough",
    lambda: evaluate(
        b.access(b.irc(), resident=b.resident(english_sufficient=False, languages=frozenset({"ar"})))
    ),
)
allows(
    "DSO 15",
    "compact in Arabic",
    lambda: evaluate(
        b.access(
            b.irc(),
            resident=b.resident(
                english_sufficient=False,
                languages=frozenset({"ar"}),
                compact=b.compact(language="ar", interpreter_used=True),
            ),
        )
    ),
)
objects(
    "DSO 17",
    "suspended",
    lambda: evaluate(b.access(b.irc(), resident=b.resident(suspensions=(suspension(),)))),
)
objects("DSO 17", "suspended by a supervising officer", lambda: suspension_decision(b.SUPERVISING_OFFICER))
objects(
    "DSO 17",
    "suspension as a sanction",
    lambda: suspension_decision(reason=SuspensionReason.WIDER_NON_COMPLIANCE),
)
allows(
    "DSO 17",
    "suspension over",
    lambda: evaluate(
        b.access(
            b.irc(),
            resident=b.resident(
                suspensions=(suspension(start=b.NOW - timedelta(days=5), end=b.NOW - timedelta(days=1)),)
            ),
        )
    ),
)
allows("DSO 17", "manager suspends for security", lambda: suspension_decision())
objects("DSO 18", "ten days unauthorised", lambda: suspension_decision(days=10))
objects("DSO 18", "open-ended unauthorised", lambda: suspension_decision(days=None))
allows(
    "DSO 18",
    "ten days authorised",
    lambda: suspension_decision(days=10, compliance_authorised_by="compliance"),
)
allows(
    "DSO 18",
    "legal call while suspended",
    lambda: evaluate(
        b.booking(b.irc(), call_kind=CallKind.LEGAL, resident=b.resident(suspensions=(suspension(),)))
    ),
)
objects("DSO 19", "no concerns recorded", lambda: termination(details=""))
allows("DSO 19", "concerns recorded", lambda: termination(reason=TerminationReason.OTHER))
objects("DSO Annex A", "90-minute slot", lambda: evaluate(b.booking(b.irc(), slot=b.slot(minutes=90))))
objects(
    "DSO Annex A", "45-minute slot not offered", lambda: evaluate(b.booking(b.irc(), slot=b.slot(minutes=45)))
)
objects(
    "DSO Annex A",
    "20-minute slots offered",
    lambda: settings_of(Profile.IMMIGRATION_DETENTION, slot_lengths=(20, 60)),
)
objects(
    "DSO Annex A",
    "recordings kept",
    lambda: settings_of(
        Profile.IMMIGRATION_DETENTION,
        retention_days={
            **profile_defaults(Profile.IMMIGRATION_DETENTION).retention_days,
            RecordKind.RECORDING: 30,
        },
    ),
)
objects("DSO Annex A", "opening a recording", lambda: evaluate(b.viewing(b.irc(), live=False)))
allows("DSO Annex A", "30-minute slot", lambda: evaluate(b.booking(b.irc(), slot=b.slot(minutes=30))))
allows("DSO Annex A", "live visual supervision", lambda: evaluate(b.viewing(b.irc())))


def _case_id(case: Case) -> str:
    return f"{case.rule_id} {'objects' if case.objects else 'allows'}: {case.name}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_case(case: Case) -> None:
    decision = case.decide()
    objections = [reason for reason in decision.reasons if reason.severity is not Severity.INFO]
    # Every reason renders in plain English with its citation.
    assert all(reason.message.startswith(f"{reason.rule_id}: ") for reason in decision.reasons)
    if case.objects:
        assert objections, f"{case.rule_id} did not object"
        assert {reason.rule_id for reason in objections} == {case.rule_id}, decision.messages
    else:
        assert objections == [], [reason.message for reason in objections]
        assert decision.allowed


def test_every_registered_rule_has_objecting_and_allowing_cases() -> None:
    for registered in all_rules():
        kinds = {case.objects for case in CASES if case.rule_id == registered.id}
        assert kinds == {True, False}, (
            f"{registered.id} needs a case where it objects and one where it allows"
        )


def test_every_case_names_a_registered_rule() -> None:
    registered = {rule.id for rule in all_rules()}
    assert {case.rule_id for case in CASES} <= registered


#: Every rule id in POLICY.md, so the check stands even where shared/ is not beside the repository.
POLICY_IDS = frozenset(
    {
        "PF 1.3",
        "PF 4.1",
        "PF 4.2",
        "PF 4.3",
        "PF 4.4",
        "PF 4.5",
        "PF 4.6",
        "PF 4.7",
        "PF 4.8",
        "PF 4.9",
        "PF 4.10",
        "PF 4.11",
        "PF 4.12",
        "PF 4.13",
        "PF 4.14",
        "PF 4.15",
        "PF 4.16",
        "PF 4.17",
        "PF 4.18",
        "PF 4.19",
        "PF 4.20",
        "PF 4.21",
        "PF 4.22",
        "PF 4.23",
        "PF 4.24",
        "PF 5.1",
        "DSO 1",
        "DSO 3",
        "DSO 7",
        "DSO 8",
        "DSO 9",
        "DSO 10",
        "DSO 11",
        "DSO 12",
        "DSO 14",
        "DSO 15",
        "DSO 17",
        "DSO 18",
        "DSO 19",
        "DSO Annex A",
    }
)


def test_every_policy_id_is_registered() -> None:
    assert {rule.id for rule in all_rules()} == POLICY_IDS


@pytest.mark.skipif(not POLICY_MD.exists(), reason="shared/POLICY.md is not beside the repository")
def test_policy_md_ids_are_all_known() -> None:
    assert set(POLICY_ID.findall(POLICY_MD.read_text())) == POLICY_IDS
