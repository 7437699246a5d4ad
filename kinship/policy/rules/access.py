"""Access: whether a person in custody, or a contact, may use the service at all.

Owns the compact (PF 4.9, PF 4.11, DSO 10, DSO 15), the risk assessments (PF 4.9, DSO 14), restrictions (PF
4.4), what kinds of call are in scope (PF 5.1) and the contact terms and conditions (PF 4.15). Suspensions in
immigration detention are in ``safeguarding``.
"""

from __future__ import annotations

from collections.abc import Iterator

from kinship.policy.decision import Reason
from kinship.policy.facts import (
    AccessFacts,
    BookingFacts,
    CallFacts,
    Contact,
    ContactAccessFacts,
    ParticipantFacts,
    Resident,
    RestrictionFacts,
)
from kinship.policy.registry import rule
from kinship.policy.time import local_date, utc
from kinship.policy.vocabulary import (
    ALL_PROFILES,
    IMMIGRATION_PROFILES,
    PRISON_PROFILES,
    CallKind,
    RestrictionKind,
    RiskOutcome,
    Role,
)


@rule(
    "PF 5.1",
    profiles=PRISON_PROFILES,
    summary="Only social calls are in scope in prisons: official and legal video calls are refused.",
    facts=AccessFacts,
)
def only_social_calls(facts: AccessFacts) -> Iterator[Reason]:
    """Official calls, including for rehabilitative purposes, are outside the Policy Framework (PF 5.1)."""
    if facts.call_kind is not CallKind.SOCIAL:
        yield Reason.refuse("PF 5.1", "access.not_social", kind=facts.call_kind.value)


def _compact_reasons(rule_id: str, resident: Resident) -> Iterator[Reason]:
    compact = resident.compact
    if compact is None:
        yield Reason.refuse(rule_id, "compact.missing")
    elif not (compact.explained_by and compact.read and compact.signed):
        yield Reason.refuse(rule_id, "compact.incomplete")


def _compact_language_understood(resident: Resident) -> bool:
    # A compact explained in a language the person does not understand has not been explained.
    return (
        resident.compact is None
        or resident.english_sufficient
        or resident.compact.language in resident.languages
    )


@rule(
    "PF 4.9",
    profiles=PRISON_PROFILES,
    summary="No call until the Communications Compact is explained, read and signed, in a language the person "
    "understands, and the eligibility risk assessment allows access.",
    facts=AccessFacts,
)
def compact_and_eligibility(facts: AccessFacts) -> Iterator[Reason]:
    """The Communications Compact is explained, given to read and signed; the eligibility risk assessment is
    done.

    Interpretation: POLICY.md applies the language requirement of DSO 15 to prisons too, so a compact
    explained in a language the person does not understand is not "explained" under PF 4.9. An eligibility
    assessment that refuses access refuses it, as one that is missing does.
    """
    resident = facts.resident
    yield from _compact_reasons("PF 4.9", resident)
    if not _compact_language_understood(resident):
        yield Reason.refuse("PF 4.9", "compact.language")
    assessment = resident.eligibility_assessment
    if assessment is None:
        yield Reason.refuse("PF 4.9", "eligibility.missing")
    elif assessment.outcome is RiskOutcome.REFUSE:
        yield Reason.refuse("PF 4.9", "eligibility.refused")


@rule(
    "PF 4.11",
    profiles=PRISON_PROFILES,
    summary="A person who refuses to sign the Communications Compact has no access.",
    facts=AccessFacts,
)
def compact_refusal(facts: AccessFacts) -> Iterator[Reason]:
    """A recorded refusal stands even if an earlier version was signed: the person has withdrawn their
    agreement."""
    if facts.resident.compact_refused:
        yield Reason.refuse("PF 4.11", "compact.refused")


@rule(
    "DSO 10",
    profiles=IMMIGRATION_PROFILES,
    summary="No call until the detainee has understood and signed the centre compact (acceptable use policy).",
    facts=AccessFacts,
)
def centre_compact_signed(facts: AccessFacts) -> Iterator[Reason]:
    yield from _compact_reasons("DSO 10", facts.resident)


@rule(
    "DSO 15",
    profiles=IMMIGRATION_PROFILES,
    summary="Where the detainee's English is not enough, the compact is read and explained in a language they "
    "understand.",
    facts=AccessFacts,
)
def centre_compact_language(facts: AccessFacts) -> Iterator[Reason]:
    if not _compact_language_understood(facts.resident):
        yield Reason.refuse("DSO 15", "compact.language")


@rule(
    "DSO 14",
    profiles=IMMIGRATION_PROFILES,
    summary="A detainee subject to MAPPA, a restraining order or another harassment control measure gets access "
    "only after an individual risk assessment allowing it.",
    facts=AccessFacts,
)
def harassment_controls_assessed(facts: AccessFacts) -> Iterator[Reason]:
    resident = facts.resident
    assessment = resident.individual_risk_assessment
    if resident.harassment_controls and (assessment is None or assessment.outcome is RiskOutcome.REFUSE):
        yield Reason.refuse("DSO 14", "access.individual_risk_assessment")


@rule(
    "PF 4.4",
    profiles=PRISON_PROFILES,
    summary="The governor may withhold or limit access on a Prison Rule 34 (YOI Rule 9) ground, recording ground, "
    "rationale, decision maker, start, review date and end.",
    facts=AccessFacts,
)
def access_withheld(facts: AccessFacts) -> Iterator[Reason]:
    for restriction in facts.resident.restrictions:
        if restriction.kind is RestrictionKind.WITHHOLD and restriction.active_at(facts.now):
            yield Reason.refuse("PF 4.4", "restriction.withheld", review_on=restriction.review_on)


@rule("PF 4.4", facts=ParticipantFacts)
def participants_limited(facts: ParticipantFacts) -> Iterator[Reason]:
    count = len(facts.contacts)
    for restriction in facts.resident.restrictions:
        limit = restriction.max_participants
        if restriction.active_at(facts.now) and limit is not None and count > limit:
            yield Reason.refuse("PF 4.4", "restriction.participants", limit=limit)


@rule("PF 4.4", facts=BookingFacts)
def call_length_limited(facts: BookingFacts) -> Iterator[Reason]:
    for restriction in facts.resident.restrictions:
        limit = restriction.max_call_minutes
        if restriction.active_at(facts.now) and limit is not None and facts.slot.minutes > limit:
            yield Reason.refuse("PF 4.4", "restriction.minutes", limit=limit)


@rule("PF 4.4", facts=BookingFacts)
def calls_per_month_limited(facts: BookingFacts) -> Iterator[Reason]:
    """Counts the calls already charged in the call's month (``usage``), as the allowance does (PF 4.1)."""
    for restriction in facts.resident.restrictions:
        limit = restriction.max_calls_per_month
        if restriction.active_at(facts.now) and limit is not None and facts.usage.calls >= limit:
            yield Reason.refuse("PF 4.4", "restriction.calls", limit=limit)


@rule("PF 4.4", facts=CallFacts)
def dedicated_monitor_watches_alone(facts: CallFacts) -> Iterator[Reason]:
    """A restriction may require a dedicated monitor: like an E-list call (PF 4.22), the officer watching it
    watches nothing else."""
    if facts.monitor is None or facts.monitor.other_calls_watched == 0:
        return
    if any(r.dedicated_monitor and r.active_at(facts.now) for r in facts.resident.restrictions):
        yield Reason.refuse("PF 4.4", "restriction.dedicated_monitor")


@rule("PF 4.4", facts=RestrictionFacts)
def restriction_record(facts: RestrictionFacts) -> Iterator[Reason]:
    """A restriction is the governor's documented decision: rationale, a review date after it starts, a sane
    end."""
    restriction = facts.restriction
    if not facts.decided_by.has(Role.GOVERNOR):
        yield Reason.refuse("PF 4.4", "restriction.governor_only")
    if not restriction.rationale.strip():
        yield Reason.refuse("PF 4.4", "restriction.rationale", field="rationale")
    if restriction.review_on < local_date(restriction.start, facts.establishment.timezone):
        yield Reason.refuse("PF 4.4", "restriction.review_date", field="review_on")
    if restriction.end is not None and utc(restriction.end) <= utc(restriction.start):
        yield Reason.refuse("PF 4.4", "restriction.end", field="end")
    if restriction.kind is RestrictionKind.LIMIT and (
        restriction.max_participants is None
        and restriction.max_call_minutes is None
        and restriction.max_calls_per_month is None
        and not restriction.dedicated_monitor
    ):
        yield Reason.refuse("PF 4.4", "restriction.limit_missing", field="kind")


def _terms_reasons(contact: Contact, terms_version: str) -> Iterator[Reason]:
    if contact.terms_version_accepted != terms_version:
        yield Reason.refuse("PF 4.15", "terms.not_accepted", name=contact.name, version=terms_version)


@rule(
    "PF 4.15",
    profiles=ALL_PROFILES,
    summary="A contact accepts the current terms and conditions before booking or joining; a new version must be "
    "accepted again.",
    facts=ContactAccessFacts,
)
def contact_terms_accepted(facts: ContactAccessFacts) -> Iterator[Reason]:
    """Interpretation: POLICY.md applies this to every profile; in immigration detention the provider's terms
    bind callers as the centre compact binds "video callers" (DSO Annex A)."""
    yield from _terms_reasons(facts.contact, facts.establishment.terms_version)


@rule("PF 4.15", facts=ParticipantFacts)
def participants_terms_accepted(facts: ParticipantFacts) -> Iterator[Reason]:
    for contact in facts.contacts:
        yield from _terms_reasons(contact, facts.establishment.terms_version)
