"""Every prepared query in the project (``kinship.core.prepared``: the booking facts, the booking service and the
contact API) returns exactly what the ORM returns for the same queryset, on a resident with something of
everything: compacts, assessments, bans, restrictions, suspensions with and without reviews, banned visitors with
an authorisation, terms, ledger rows, grants, a slot and a booking. CI runs this file on SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any, cast

import pytest
from django.db.models import Model
from django.utils import timezone

from kinship.accounts.models import TermsAcceptance
from kinship.bookings import facts
from kinship.bookings.models import (
    AllowanceEntry,
    Booking,
    BookingStatus,
    ExtraCallGrant,
    ExtraCallReason,
    LedgerReason,
    RequestChannel,
    Slot,
)
from kinship.bookings.tests.factories import SlotFactory
from kinship.core.prepared import PreparedQuery, fetch_together
from kinship.factories import (
    CompactRecordFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    ResidentFactory,
    RiskAssessmentFactory,
    StaffFactory,
    TermsVersionFactory,
)
from kinship.people.models import (
    CompactOutcome,
    Contact,
    ContactLink,
    LinkStatus,
    Resident,
    RiskAssessmentKind,
)
from kinship.safeguarding.models import (
    BannedVisitorAuthorisation,
    ContactBan,
    DecisionReview,
    Restriction,
    RestrictionKind,
    ReviewOutcome,
    Rule34Ground,
    Suspension,
    SuspensionReason,
    VisitorBan,
    VisitorBanKind,
)

pytestmark = pytest.mark.django_db


def _prepared_queries() -> dict[str, PreparedQuery]:
    """Each prepared query the project's modules define, by module and name."""
    import kinship.api.contact
    import kinship.bookings.services  # noqa: F401 - imported for the queries they define

    found = {}
    for query in PreparedQuery.made:
        module = query.build.__module__
        if not module.startswith("kinship.") or ".tests." in module:
            continue
        names = [name for name, value in vars(import_module(module)).items() if value is query]
        assert len(names) == 1, f"{query!r} must be a module-level name in {module}"
        found[f"{module}.{names[0]}"] = query
    return found


def _comparable(rows: list[Any]) -> list[Any]:
    return [
        {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}
        if isinstance(row, Model)
        else row
        for row in rows
    ]


def _typed(rows: list[Any]) -> list[Any]:
    """``_comparable``, with each value's type and time zone beside it."""

    def exactly(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: exactly(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return tuple(exactly(item) for item in value)
        return type(value), value, getattr(value, "tzinfo", None)

    return [exactly(row) for row in _comparable(rows)]


def _world() -> dict[str, Any]:
    """A resident with something of everything the facts read, and the values each prepared query is run with."""
    now = timezone.now()
    establishment = EstablishmentFactory()
    resident = cast(Resident, ResidentFactory(establishment=establishment))
    staff = StaffFactory()
    links = [
        cast(ContactLink, ContactLinkFactory(resident=resident)),
        cast(ContactLink, ContactLinkFactory(resident=resident, banned=True, child_contact_approved=True)),
        cast(ContactLink, ContactLinkFactory(resident=resident, status=LinkStatus.REJECTED)),
    ]
    contacts: list[Contact] = [link.contact for link in links]
    CompactRecordFactory(resident=resident, recorded_at=now - timedelta(days=3))
    CompactRecordFactory(
        resident=resident, recorded_at=now - timedelta(days=1), outcome=CompactOutcome.REFUSED
    )
    for kind in (RiskAssessmentKind.ELIGIBILITY, RiskAssessmentKind.INDIVIDUAL):
        for days in (10, 2):
            RiskAssessmentFactory(resident=resident, kind=kind, assessed_at=now - timedelta(days=days))
    common = {"resident": resident, "establishment": establishment, "decided_by": staff}
    ContactBan.objects.create(
        **common,
        contact=contacts[0],
        reason="Harassment.",
        starts_at=now - timedelta(days=5),
        review_on=(now + timedelta(days=20)).date(),
        ends_at=now + timedelta(days=30),
    )
    Restriction.objects.create(
        **common,
        kind=RestrictionKind.LIMIT,
        ground=Rule34Ground.CRIME,
        rationale="Arranging supplies.",
        necessity_and_proportionality="Nothing less works.",
        max_call_minutes=15,
        dedicated_monitor=True,
        starts_at=now - timedelta(days=4),
        review_on=(now + timedelta(days=24)).date(),
    )
    reviewed = Suspension.objects.create(
        **common,
        reason=SuspensionReason.SECURITY,
        details="Showed documents.",
        starts_at=now - timedelta(days=9),
        ends_at=now + timedelta(days=5),
    )
    Suspension.objects.create(
        **common,
        reason=SuspensionReason.SECURITY,
        details="Again.",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=2),
        authorised_by=staff,
        authorised_at=now,
    )
    for days in (8, 6):
        DecisionReview.objects.create(
            suspension=reviewed,
            outcome=ReviewOutcome.CONTINUE,
            notes="Still needed.",
            reviewed_by=staff,
            reviewed_at=now - timedelta(days=days),
        )
    ban = VisitorBan.objects.create(
        contact=contacts[1],
        establishment=establishment,
        kind=VisitorBanKind.BANNED_VISITOR,
        reason="Passed an item.",
        decided_by=staff,
        starts_at=now - timedelta(days=2),
        until=(now + timedelta(days=90)).date(),
        review_on=(now + timedelta(days=28)).date(),
    )
    for days in (1, 0):
        BannedVisitorAuthorisation.objects.create(
            resident=resident,
            contact=contacts[1],
            ban=ban,
            reason="Family emergency.",
            authorised_by=StaffFactory(),
            authorised_at=now - timedelta(days=days),
        )
    terms = TermsVersionFactory(published_at=now - timedelta(days=1))
    TermsVersionFactory(published_at=now + timedelta(days=1))  # not yet in force
    users = [contact.user_id for contact in contacts if contact.user_id]
    for user_id in users[:2]:
        TermsAcceptance.objects.create(user_id=user_id, terms=terms)
    for minutes in (-60, -30, 30):
        AllowanceEntry.objects.create(
            resident=resident, month="2026-11", minutes=minutes, reason=LedgerReason.BOOKING
        )
    for _ in range(2):
        ExtraCallGrant.objects.create(
            resident=resident,
            month="2026-11",
            reason=ExtraCallReason.choices[0][0],
            approved_by=staff,
            granted_at=now,
        )
    suspensions = list(Suspension.objects.filter(resident=resident).values_list("pk", flat=True))
    slot = cast(Slot, SlotFactory(establishment=establishment))
    Booking.objects.create(
        reference="BOOKED1",
        slot=slot,
        resident=resident,
        lead_contact=contacts[0],
        requested_by=RequestChannel.CONTACT,
        status=BookingStatus.APPROVED,
        requested_at=now,
    )
    linked_user = contacts[0].user_id
    return {
        "kinship.api.access._CONTACT_OF_USER": [{"user": linked_user}],
        "kinship.api.contact._LINKED_RESIDENT": [
            {"resident": resident.pk, "user": linked_user},
            {"resident": str(resident.pk), "user": linked_user},
        ],
        "kinship.api.contact._SLOT_AT": [{"slot": slot.pk, "resident": resident.pk}],
        "kinship.bookings.services._SLOT_WITH_PLACE": [{"slot": slot.pk}],
        "kinship.bookings.services._OVERLAPPING_BOOKING": [
            {"resident": resident.pk, "starts": slot.starts_at, "ends": slot.ends_at},
            {"resident": resident.pk, "starts": slot.ends_at, "ends": slot.ends_at + timedelta(hours=1)},
        ],
        "kinship.accounts.models.TERMS_IN_FORCE": [{"now": now}, {"now": now - timedelta(days=30)}],
        "kinship.bookings.facts._APPROVED_LINKS": [{"resident": resident.pk}],
        "kinship.bookings.facts._LATEST_COMPACT": [{"resident": resident.pk}],
        "kinship.bookings.facts._ASSESSMENTS": [{"resident": resident.pk}],
        "kinship.bookings.facts._CONTACT_BANS": [{"resident": resident.pk}],
        "kinship.bookings.facts._RESTRICTIONS": [{"resident": resident.pk}],
        "kinship.bookings.facts._SUSPENSIONS": [{"resident": resident.pk}],
        "kinship.bookings.facts._SUSPENSION_REVIEWS": [
            {"suspensions": suspensions},
            {"suspensions": suspensions[:1]},
        ],
        "kinship.bookings.facts._VISITOR_BANS": [
            {
                "contacts": [contact.pk for contact in contacts],
                "establishment": establishment.pk,
                "now": now,
                "today": now.date(),
            },
            {
                "contacts": [contacts[1].pk],
                "establishment": establishment.pk,
                "now": now - timedelta(days=3),  # before the ban began
                "today": now.date(),
            },
        ],
        "kinship.bookings.facts._VISITOR_AUTHORISED_BY": [{"ban": ban.pk, "resident": resident.pk}],
        "kinship.bookings.facts._TERMS_ACCEPTED": [{"users": users}, {"users": users[:1]}],
        "kinship.bookings.facts._LEDGER_BY_BOOKING": [{"resident": resident.pk, "month": "2026-11"}],
        "kinship.bookings.facts._GRANTS_UNUSED": [{"resident": resident.pk, "month": "2026-11"}],
    }


def test_every_prepared_query_returns_what_the_orm_returns() -> None:
    world = _world()
    queries = _prepared_queries()
    assert set(queries) == set(world), "give each prepared query its values here"
    for name, query in queries.items():
        found_something = False
        for values in world[name]:
            prepared = query.fetch(**values)
            orm = list(query.queryset(**values))
            assert _comparable(prepared) == _comparable(orm), name
            found_something |= bool(prepared)
        assert found_something, f"{name} found nothing: the comparison would prove nothing"


def test_the_facts_read_through_prepared_queries_are_the_records() -> None:
    """The facts built from the prepared rows say what the records say (the rest of the engine's tests hold the
    decisions that rest on them)."""
    world = _world()
    resident = Resident.objects.get(pk=world["kinship.bookings.facts._APPROVED_LINKS"][0]["resident"])
    fact = facts.resident_facts(resident)
    assert fact.compact is None
    assert fact.compact_refused  # the refusal is the latest record
    assert fact.eligibility_assessment is not None
    assert fact.individual_risk_assessment is not None
    assert len(fact.restrictions) == 1
    assert fact.restrictions[0].dedicated_monitor
    assert len(fact.suspensions) == 2
    reviewed = next(suspension for suspension in fact.suspensions if suspension.reviews)
    assert len(reviewed.reviews) == 2
    assert reviewed.reviews[0] > reviewed.reviews[1]  # newest first, as Suspension.reviews orders them
    assert len(fact.contact_bans) == 2  # the recorded ban and the link marked banned
    assert len(fact.approved_child_contacts) == 1


def test_every_prepared_query_read_together_returns_what_it_returns_alone() -> None:
    """Read together (``fetch_together``: on PostgreSQL one statement for them all), each query gives the very
    rows it gives alone, down to each value's type and time zone."""
    world = _world()
    queries = _prepared_queries()
    runs = [(query, values) for name, query in queries.items() for values in world[name]]
    alone = [_typed(query.fetch(**values)) for query, values in runs]
    assert [_typed(rows) for rows in fetch_together(runs)] == alone
