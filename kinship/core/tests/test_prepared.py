"""Prepared queries give exactly what the ORM gives, on whichever database the test run uses (CI runs these on
SQLite and on PostgreSQL), and refuse what they cannot honour."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any, cast

import pytest
from django.db import connection, models
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kinship.bookings.models import AllowanceEntry, LedgerReason, SessionTemplate
from kinship.bookings.tests.factories import SessionTemplateFactory
from kinship.core.prepared import PreparedQuery, PreparedQueryError, fetch_together, many, read_ahead
from kinship.factories import (
    CompactRecordFactory,
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    ResidentFactory,
    RiskAssessmentFactory,
)
from kinship.people.models import CompactRecord, Contact, ContactLink, Resident, RiskAssessment

pytestmark = pytest.mark.django_db

ASSESSMENTS = PreparedQuery(
    lambda resident, since: RiskAssessment.objects.filter(
        resident_id=resident, assessed_at__gte=since
    ).order_by("-assessed_at", "pk"),
    resident=models.UUIDField(),
    since=models.DateTimeField(),
)

LINKS = PreparedQuery(
    lambda resident: (
        ContactLink.objects.filter(resident_id=resident)
        .values("contact_id", "banned", "created_at", "source")
        .order_by("created_at", "pk")
    ),
    resident=models.UUIDField(),
)

LINKS_OF = PreparedQuery(
    lambda contacts: ContactLink.objects.filter(contact__id__in=contacts).values_list("pk").order_by("pk"),
    contacts=many(models.UUIDField()),
)

CONTACTS = PreparedQuery(
    lambda ids: (
        Contact.objects.filter(pk__in=ids).values_list("pk", "first_name", "date_of_birth").order_by("pk")
    ),
    ids=many(models.UUIDField()),
)

LATEST_COMPACT = PreparedQuery(
    lambda resident: (
        CompactRecord.objects.filter(resident_id=resident)
        .order_by("-recorded_at")
        .values_list("outcome", "text__version", "recorded_at", "interpreter_used")[:1]
    ),
    resident=models.UUIDField(),
)

NET = PreparedQuery(
    lambda resident, month: (
        AllowanceEntry.objects.filter(resident_id=resident, month=month)
        .values("booking_id")
        .annotate(net=Sum("minutes"))
        .order_by("booking_id")
    ),
    resident=models.UUIDField(),
    month=models.CharField(),
)


def _resident() -> Resident:
    return cast(Resident, ResidentFactory(establishment=EstablishmentFactory()))


def test_model_rows_are_the_orms_model_instances_with_converted_values() -> None:
    resident = _resident()
    now = timezone.now()
    for days in (1, 5, 40):
        RiskAssessmentFactory(resident=resident, assessed_at=now - timedelta(days=days))
    RiskAssessmentFactory(resident=_resident(), assessed_at=now)  # someone else's
    since = now - timedelta(days=10)

    prepared = ASSESSMENTS.fetch(resident=resident.pk, since=since)
    orm = list(ASSESSMENTS.queryset(resident=resident.pk, since=since))

    assert len(prepared) == 2
    assert [record.pk for record in prepared] == [record.pk for record in orm]
    for mine, theirs in zip(prepared, orm, strict=True):
        assert isinstance(mine, RiskAssessment)
        assert not mine._state.adding
        assert mine._state.db == theirs._state.db
        assert {
            field.attname: getattr(mine, field.attname) for field in RiskAssessment._meta.concrete_fields
        } == {field.attname: getattr(theirs, field.attname) for field in RiskAssessment._meta.concrete_fields}
        assert mine.assessed_at.tzinfo is not None  # converted like the ORM's (SQLite stores text)


LINKS_WITH_PEOPLE = PreparedQuery(
    lambda resident: (
        ContactLink.objects.filter(resident_id=resident)
        .select_related("contact__user", "resident__establishment")
        .order_by("created_at", "pk")
    ),
    resident=models.UUIDField(),
)


def test_select_related_objects_are_filled_in_as_the_orm_fills_them() -> None:
    resident = _resident()
    ContactLinkFactory(resident=resident)
    ContactLinkFactory(
        resident=resident,
        contact=ContactFactory(user=None, first_name="Ann", last_name="Lee", email="ann@example.org"),
    )
    prepared = LINKS_WITH_PEOPLE.fetch(resident=resident.pk)
    orm = list(LINKS_WITH_PEOPLE.queryset(resident=resident.pk))
    assert len(prepared) == 2
    with CaptureQueriesContext(connection) as queries:
        for mine, theirs in zip(prepared, orm, strict=True):
            assert mine.pk == theirs.pk
            assert mine.contact.pk == theirs.contact.pk
            assert mine.contact.first_name == theirs.contact.first_name
            assert (mine.contact.user.pk if mine.contact.user else None) == (
                theirs.contact.user.pk if theirs.contact.user else None
            )
            assert mine.resident.establishment.timezone == theirs.resident.establishment.timezone
    assert len(queries) == 0  # everything was read with the row


def test_values_rows_are_dicts_with_the_orms_types() -> None:
    resident = _resident()
    ContactLinkFactory(resident=resident, banned=True)
    ContactLinkFactory(resident=resident)

    prepared = LINKS.fetch(resident=str(resident.pk))  # a string pk is prepared by the declared field
    orm = list(LINKS.queryset(resident=resident.pk))

    assert prepared == orm
    assert {type(row["banned"]) for row in prepared} == {bool}


def test_values_list_across_a_relation_and_a_slice() -> None:
    resident = _resident()
    old = CompactRecordFactory(resident=resident)
    CompactRecordFactory(
        resident=resident, recorded_at=old.recorded_at + timedelta(days=1), interpreter_used=True
    )

    prepared = LATEST_COMPACT.fetch(resident=resident.pk)
    assert prepared == list(LATEST_COMPACT.queryset(resident=resident.pk))
    assert len(prepared) == 1
    assert prepared[0][3] is True
    assert LATEST_COMPACT.first(resident=resident.pk) == prepared[0]
    assert LATEST_COMPACT.first(resident=_resident().pk) is None


def test_aggregates_grouped_by_values() -> None:
    resident = _resident()
    for minutes in (-60, 60, -30):
        AllowanceEntry.objects.create(
            resident=resident, month="2026-11", minutes=minutes, reason=LedgerReason.TECHNICAL_FAILURE
        )
    prepared = NET.fetch(resident=resident.pk, month="2026-11")
    assert prepared == list(NET.queryset(resident=resident.pk, month="2026-11"))
    assert prepared == [{"booking_id": None, "net": -30}]
    assert NET.fetch(resident=resident.pk, month="2026-10") == []


def test_list_parameters_compile_once_per_length_and_an_empty_list_asks_nothing() -> None:
    contacts = [cast(Contact, ContactFactory()) for _ in range(3)]
    ids = [contact.pk for contact in contacts]

    for contact in contacts[:2]:
        ContactLinkFactory(contact=contact)
    for wanted in (ids[:1], ids[:2], ids, ids[::-1]):
        assert CONTACTS.fetch(ids=wanted) == list(CONTACTS.queryset(ids=wanted))
        # a foreign key's __in, through its target's field: the join is trimmed, as the ORM trims it
        assert LINKS_OF.fetch(contacts=wanted) == list(LINKS_OF.queryset(contacts=wanted))
        assert 'people_contact"' not in LINKS_OF.compiled(contacts=wanted).sql.replace(
            "people_contactlink", ""
        )
    assert {length for (_alias, (length,)) in CONTACTS._compiled} >= {1, 2, 3}

    with CaptureQueriesContext(connection) as queries:
        assert CONTACTS.fetch(ids=[]) == []
    assert len(queries) == 0


def test_each_run_is_one_query_and_is_compiled_only_once() -> None:
    resident = _resident()
    LINKS.fetch(resident=resident.pk)
    compiled = LINKS.compiled(resident=resident.pk)
    with CaptureQueriesContext(connection) as queries:
        LINKS.fetch(resident=resident.pk)
        LINKS.fetch(resident=_resident().pk)
    assert LINKS.compiled(resident=resident.pk) is compiled
    assert [query["sql"] for query in queries].count(queries[-1]["sql"]) == 1  # same SQL, other value
    assert sum("people_contactlink" in query["sql"] for query in queries) == 2


def test_values_reach_the_database_as_parameters_never_as_sql() -> None:
    hostile = "x' OR '1'='1"
    resident = _resident()
    AllowanceEntry.objects.create(
        resident=resident, month="2026-11", minutes=-60, reason=LedgerReason.BOOKING
    )
    assert NET.fetch(resident=resident.pk, month=hostile) == []
    assert hostile not in NET.compiled(resident=resident.pk, month=hostile).sql


def test_pattern_lookups_escape_the_value_as_the_orm_does() -> None:
    starting = PreparedQuery(
        lambda name: (
            Contact.objects.filter(first_name__startswith=name).values_list("first_name").order_by("pk")
        ),
        name=models.CharField(),
    )
    for name in ("50%", "50% off", "5_0", "Ann"):
        ContactFactory(first_name=name)
    for prefix in ("50%", "5_", "A", "%"):
        assert starting.fetch(name=prefix) == list(starting.queryset(name=prefix))
    assert sorted(starting.fetch(name="50%")) == [("50%",), ("50% off",)]
    assert starting.fetch(name="%") == []


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda name: Contact.objects.filter(first_name=name).prefetch_related("links"), "prefetch_related"),
        (lambda name: Contact.objects.filter(first_name=name).annotate(n=Count("links")), "annotations"),
        (lambda name: Contact.objects.filter(first_name=name).values_list("pk", flat=True), "flat or named"),
        (lambda name: Contact.objects.filter(first_name=name, last_name=name), "once"),
        (lambda name: Contact.objects.all(), "once"),
        (lambda name: [name], "QuerySet"),
        (lambda name: ContactLink.objects.filter(contact_id__in=[name]), "contact__id__in"),
    ],
)
def test_what_cannot_be_prepared_is_refused_when_compiled(build: Any, message: str) -> None:
    query = PreparedQuery(build, name=models.CharField())
    with pytest.raises(PreparedQueryError, match=message):
        query.fetch(name="Ann")


def test_calls_must_name_exactly_the_declared_parameters() -> None:
    with pytest.raises(PreparedQueryError, match="missing"):
        LINKS.fetch()
    with pytest.raises(PreparedQueryError, match="unknown"):
        LINKS.fetch(resident=None, other=1)
    with pytest.raises(PreparedQueryError, match="list parameter"):
        CONTACTS.fetch(ids="abc")
    with pytest.raises(PreparedQueryError, match="at least one parameter"):
        PreparedQuery(lambda: Contact.objects.all())


def _world_of_reads() -> tuple[Resident, list[tuple[PreparedQuery, dict[str, Any]]]]:
    """A resident with links, assessments and a compact, and one run of each kind of row (models with related
    objects, dicts, tuples, a list parameter, an empty list)."""
    resident = _resident()
    now = timezone.now()
    links = [ContactLinkFactory(resident=resident) for _ in range(2)]
    RiskAssessmentFactory(resident=resident, assessed_at=now - timedelta(days=1))
    CompactRecordFactory(resident=resident)
    contacts = [link.contact_id for link in links]
    return resident, [
        (ASSESSMENTS, {"resident": resident.pk, "since": now - timedelta(days=10)}),
        (LINKS, {"resident": resident.pk}),
        (LINKS_WITH_PEOPLE, {"resident": resident.pk}),
        (LATEST_COMPACT, {"resident": resident.pk}),
        (CONTACTS, {"ids": contacts}),
        (CONTACTS, {"ids": []}),
        (LINKS_OF, {"contacts": contacts[:1]}),
    ]


def _same(rows: list[Any]) -> list[Any]:
    """Each row as a value to compare, down to each value's type and time zone: a model instance by its fields
    and the related objects read with it."""
    return [_exactly(row) for row in rows]


def _exactly(value: Any, seen: frozenset[int] = frozenset()) -> Any:
    if isinstance(value, models.Model):
        if id(value) in seen:  # a one-to-one's reverse side points back
            return ("again", type(value), value.pk)
        inner = seen | {id(value)}
        fields = {
            field.attname: _exactly(getattr(value, field.attname), inner)
            for field in value._meta.concrete_fields
        }
        related = {
            name: _exactly(cached, inner) for name, cached in sorted(value._state.fields_cache.items())
        }
        return (type(value), value._state.db, value._state.adding, fields, related)
    if isinstance(value, dict):
        return {key: _exactly(item, seen) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value), [_exactly(item, seen) for item in value]
    return type(value), value, getattr(value, "tzinfo", None)


def test_queries_fetched_together_give_what_each_gives_alone() -> None:
    runs = _world_of_reads()[1]
    alone = [query.fetch(**values) for query, values in runs]
    assert all(alone[:5])
    assert alone[5] == []

    with CaptureQueriesContext(connection) as queries:
        together = fetch_together(runs)
    assert [_same(rows) for rows in together] == [_same(rows) for rows in alone]
    # On PostgreSQL one statement reads them all; elsewhere one each, but none for the empty list.
    assert len(queries) == (1 if connection.vendor == "postgresql" else len(runs) - 1)
    with CaptureQueriesContext(connection) as queries:
        for link in together[2]:
            assert link.contact.pk
            assert link.resident.establishment.timezone
    assert len(queries) == 0  # related objects came with the rows


TEMPLATES = PreparedQuery(
    lambda establishment: (
        SessionTemplate.objects.filter(establishment_id=establishment)
        .select_related("room")
        .order_by("start", "pk")
    ),
    establishment=models.UUIDField(),
)
PEOPLE = PreparedQuery(
    lambda resident: (
        Contact.objects.filter(links__resident_id=resident)
        .values_list(
            "first_name", "last_name", "email", "date_of_birth", "booking_banned_until", "created_at"
        )
        .order_by("first_name", "pk")
    ),
    resident=models.UUIDField(),
)
AWKWARD_TEXT = [
    'O\'Brien "Jo"',
    "back\\slash, {brace} (paren) [bracket]",
    "two\nlines\tand a tab",
    "Zoë 🙂 ünïcödé",
    "NULL",
    "",
]


def test_one_statement_reads_every_kind_of_value_as_its_own_statement_would() -> None:
    """Texts with quotes, backslashes, commas, brackets, line breaks and letters beyond ASCII, an empty text and
    a null, dates, times and instants with microseconds, JSON, numbers, flags, uuids, sums and counts: read
    together, each value is what the query alone gives, with the same type and time zone."""
    resident = _resident()
    establishment = resident.establishment
    for index, text in enumerate(AWKWARD_TEXT):
        ContactLinkFactory(
            resident=resident,
            contact=ContactFactory(
                user=None,
                first_name=f"{index} {text}",
                last_name=text,
                email="",
                booking_banned_until=None if index % 2 else date(2026, 12, 31),
            ),
        )
    SessionTemplateFactory(
        establishment=establishment,
        start=time(9, 30, 15, 123456),
        end=time(11, 0),
        valid_to=None,
        supports=["bsl", {"quote": 'she said "hi"', "nested": [1, 2.5, None, True], "ünï": "cödé"}],
        published_at=timezone.now().replace(microsecond=654321),
    )
    SessionTemplateFactory(establishment=establishment, start=time(14, 0), end=time(15, 0), supports=[])
    for minutes in (-60, 30, 45):
        AllowanceEntry.objects.create(
            resident=resident, month="2026-11", minutes=minutes, reason=LedgerReason.BOOKING
        )
    runs: list[tuple[PreparedQuery, dict[str, Any]]] = [
        (TEMPLATES, {"establishment": establishment.pk}),
        (PEOPLE, {"resident": resident.pk}),
        (NET, {"resident": resident.pk, "month": "2026-11"}),
        (LINKS_WITH_PEOPLE, {"resident": resident.pk}),
    ]
    alone = [query.fetch(**values) for query, values in runs]
    assert [len(rows) for rows in alone] == [2, len(AWKWARD_TEXT), 1, len(AWKWARD_TEXT)]
    with CaptureQueriesContext(connection) as queries:
        together = fetch_together(runs)
    assert [_same(rows) for rows in together] == [_same(rows) for rows in alone]
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    assert together[0][0].supports == [
        "bsl",
        {"quote": 'she said "hi"', "nested": [1, 2.5, None, True], "ünï": "cödé"},
    ]
    assert together[2] == [{"booking_id": None, "net": 15}]


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_on_postgresql_prepared_queries_become_prepared_statements_and_nothing_else_does() -> None:
    """PostgreSQL plans a prepared query once per connection: its statement is prepared the first time it runs
    there (config/settings.py); the ORM's own statements keep client-side binding and are never prepared."""
    resident, runs = _world_of_reads()
    list(ContactLink.objects.filter(resident=resident))
    assert _prepared_statements() == []
    fetch_together(runs)
    LINKS.fetch(resident=resident.pk)
    LINKS.fetch(resident=resident.pk)
    list(ContactLink.objects.filter(resident=resident).select_related("contact"))
    prepared = _prepared_statements()
    assert len(prepared) == 2  # the statement of the runs together, and LINKS once however often it runs
    assert prepared[0].startswith("SELECT (SELECT coalesce(json_agg(")
    assert prepared[1] == LINKS.compiled(resident=resident.pk).sql.replace("%s", "$1")


def test_read_ahead_answers_each_run_once_from_its_rows_and_says_what_did_not_match() -> None:
    resident, runs = _world_of_reads()
    someone_else = _resident()
    with read_ahead(runs) as ahead:
        with CaptureQueriesContext(connection) as queries:
            answers = [query.fetch(**values) for query, values in runs[:4]]
            compact = LATEST_COMPACT.first(resident=resident.pk)  # already taken: asks again
            other = LINKS.fetch(resident=someone_else.pk)  # other values: asks
            unrelated = NET.fetch(resident=resident.pk, month="2026-11")  # not read ahead: asks
        assert len(queries) == 3
        assert compact is not None
        assert other == []
        assert unrelated == []
        assert ahead.unused == 3  # the contacts, the empty list and the links of one contact
        assert [(query, values) for query, values in ahead.missed] == [
            (LATEST_COMPACT, {"resident": resident.pk}),
            (LINKS, {"resident": someone_else.pk}),
        ]
    with CaptureQueriesContext(connection) as queries:
        again = [query.fetch(**values) for query, values in runs[:4]]
    assert len(queries) == 4  # outside the block every fetch asks the database
    assert [_same(rows) for rows in answers] == [_same(rows) for rows in again]


def test_rows_read_ahead_are_as_of_the_start_of_the_block() -> None:
    resident = _resident()
    ContactLinkFactory(resident=resident)
    with read_ahead([(LINKS, {"resident": resident.pk})]):
        ContactLinkFactory(resident=resident)
        assert len(LINKS.fetch(resident=resident.pk)) == 1
        assert len(LINKS.fetch(resident=resident.pk)) == 2  # taken once; the next fetch reads again
