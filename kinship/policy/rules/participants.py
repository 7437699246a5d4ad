"""Participants: who may be on a call from outside (PF 4.10, PF 4.12, PF 4.13, PF 4.14, PF 4.16)."""

from __future__ import annotations

from collections.abc import Iterator

from kinship.policy.decision import Reason
from kinship.policy.facts import ParticipantFacts, SettingsFacts
from kinship.policy.registry import rule
from kinship.policy.vocabulary import PRISON_PROFILES

ADULT_AGE = 18
#: PF 4.13: "in general a maximum of four call recipients".
MAX_OUTSIDE_PARTICIPANTS = 4


@rule(
    "PF 4.12",
    profiles=PRISON_PROFILES,
    summary="Contacts must be on the approved phone-contact or social-visits list; calling a banned visitor needs "
    "the responsible operational manager's recorded authorisation.",
    facts=ParticipantFacts,
)
def contacts_approved(facts: ParticipantFacts) -> Iterator[Reason]:
    for contact in facts.contacts:
        if not (contact.on_phone_list or contact.on_visits_list):
            yield Reason.refuse("PF 4.12", "participants.not_approved", name=contact.name)
        if contact.banned_visitor and not contact.banned_visitor_authorised_by:
            yield Reason.refuse("PF 4.12", "participants.banned_visitor", name=contact.name)


@rule(
    "PF 4.10",
    profiles=PRISON_PROFILES,
    summary="The governor may temporarily ban a person in custody from calling one named person (reviewed "
    "regularly).",
    facts=ParticipantFacts,
)
def contact_bans(facts: ParticipantFacts) -> Iterator[Reason]:
    for contact in facts.contacts:
        for ban in facts.resident.contact_bans:
            if ban.contact_id == contact.id and ban.active_at(facts.now):
                yield Reason.refuse("PF 4.10", "participants.banned_contact", name=contact.name)


def outside_participant_limit(facts: ParticipantFacts) -> int:
    """The setting, or the person's governor-approved large-family limit when that is higher."""
    limit = facts.establishment.settings.max_outside_participants
    family_limit = facts.resident.large_family_limit
    return max(limit, family_limit) if family_limit is not None else limit


@rule(
    "PF 4.13",
    profiles=PRISON_PROFILES,
    summary="At most 4 people join a call from outside, unless the governor approved a large-family exception "
    "for the person in custody.",
    facts=ParticipantFacts,
)
def outside_participants_limit(facts: ParticipantFacts) -> Iterator[Reason]:
    """Interpretation: the large-family exception ("more than three children in the community") is recorded
    per person in custody as a raised limit; it can only raise the establishment's limit, never lower it."""
    limit = outside_participant_limit(facts)
    if len(facts.contacts) > limit:
        yield Reason.refuse("PF 4.13", "participants.too_many", limit=limit, count=len(facts.contacts))


@rule("PF 4.13", facts=SettingsFacts)
def participant_limit_setting(facts: SettingsFacts) -> Iterator[Reason]:
    limit = facts.settings.max_outside_participants
    if not 1 <= limit <= MAX_OUTSIDE_PARTICIPANTS:
        yield Reason.refuse(
            "PF 4.13",
            "settings.participants",
            field="max_outside_participants",
            maximum=MAX_OUTSIDE_PARTICIPANTS,
        )


@rule(
    "PF 4.14",
    profiles=PRISON_PROFILES,
    summary="Under-18s may join only as additional participants, never as the main or only caller.",
    facts=ParticipantFacts,
)
def adult_main_caller(facts: ParticipantFacts) -> Iterator[Reason]:
    """Ages are counted on the local date of the call, not the date of booking."""
    main = facts.main_contact
    if main.age_on(facts.call_date) < ADULT_AGE:
        yield Reason.refuse("PF 4.14", "participants.child_main_caller", name=main.name)


@rule(
    "PF 4.16",
    profiles=PRISON_PROFILES,
    summary="Where the person in custody is assessed as posing a risk to children (PPRC), every child on the call "
    "must be on their approved child-contact list (PSI 18/2016 chapter 5c).",
    facts=ParticipantFacts,
)
def pprc_children_approved(facts: ParticipantFacts) -> Iterator[Reason]:
    if not facts.resident.pprc:
        return
    for contact in facts.contacts:
        if (
            contact.age_on(facts.call_date) < ADULT_AGE
            and contact.id not in facts.resident.approved_child_contacts
        ):
            yield Reason.refuse("PF 4.16", "participants.child_not_approved", name=contact.name)
