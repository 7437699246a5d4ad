"""Queries compiled once per database and shape, then run many times with new values.

Building and compiling a Django query costs far more Python than the database spends running it: about 1.5 ms
against 0.2 ms for each of the facts a booking decision reads (ADR 6). A ``PreparedQuery`` is an ordinary
queryset written with named parameters where the values change::

    RISK = PreparedQuery(
        lambda resident: RiskAssessment.objects.filter(resident_id=resident).order_by("-assessed_at"),
        resident=models.UUIDField(),
    )
    RISK.fetch(resident=some_resident.pk)   # the same list as list(the queryset with that value)

The first run on a database alias compiles the queryset with a placeholder for each parameter and keeps the
SQL, where each placeholder ended up among the statement's parameters, and the selected columns. Every later
run prepares only the values, each through the field it was declared with (``get_db_prep_value``, as the ORM
prepares a lookup's value), executes the kept SQL on the current connection (inside the current transaction,
counted by ``assertNumQueries``) and turns the rows into what the queryset itself would have returned: model
instances, dictionaries from ``values()`` or tuples from ``values_list()``, converted by the same backend and
field converters.

``build`` runs once per alias and shape, so every value that can change between runs must be a parameter: a
value it reads for itself (``timezone.now()``, a setting) is frozen into the statement at the first run.

What can be prepared is deliberately narrow; anything else is refused when it is first compiled:

- each parameter stands, once, for a whole value on the right of a lookup (``exact``, ``lt``, ``gte``,
  ``startswith``, ``in`` with ``many(...)``...), never inside an expression the query computes with; a foreign
  key's ``__in`` goes through its target's field (``contact__id__in``), as Django's related lookups want values;
- a model queryset may use ``select_related`` (the related objects are filled in by Django's own populators), but
  not ``prefetch_related`` or annotations (read those with ``values()`` paths or a second prepared query);
- ``values_list(flat=True)`` and ``named=True`` are not supported; take the tuples.

A list parameter (``many(field)``) compiles one statement per list length; an empty list gives no rows without
asking the database, as the ORM does for ``__in=[]``.

Reads that do not depend on each other can be made in one statement: ``fetch_together`` makes one statement of
theirs on PostgreSQL and runs them one after another elsewhere, and ``read_ahead`` does so at the start of a
block, inside which each ``fetch`` of one of those runs, with the same values, takes its rows instead of asking
again. Code keeps reading what it needs where it needs it; only the statements are saved. A ``read_ahead`` block
inside another hides the outer one's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import Expression
from django.db.models.query import ModelIterable, ValuesIterable, ValuesListIterable, get_related_populators


class PreparedQueryError(TypeError):
    """A prepared query written, or called, in a way it cannot honour."""


@dataclass(frozen=True, slots=True)
class many:
    """Declares a list parameter whose items are prepared through ``field`` (for ``__in`` lookups)."""

    field: Field[Any, Any]


@dataclass(frozen=True, slots=True)
class _Slot:
    """What a parameter's placeholder leaves among the compiled statement's parameters."""

    name: str
    index: int | None


class Param(Expression):
    """A named value left open when the query is compiled: it compiles to one placeholder."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, name: str, index: int | None, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.name = name
        self.index = index

    def __repr__(self) -> str:
        return f"Param({self.name!r})" if self.index is None else f"Param({self.name!r}[{self.index}])"

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        return "%s", (_Slot(self.name, self.index),)

    def get_group_by_cols(self) -> list[Any]:
        return []


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str, int | None], ...]
    columns: tuple[Any, ...]
    kind: str  # "models", "dicts" or "tuples"
    #: (position, converter functions, column) for each column that has any, as the compiler lists them.
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...] = ()
    names: tuple[str, ...] = ()
    model: type[Model] | None = None
    init_list: tuple[str, ...] = ()
    model_slice: tuple[int, int] = (0, 0)
    fetch_mode: Any = None
    related: tuple[Any, ...] = ()  # Django's RelatedPopulator for each select_related relation
    #: What is learnt about the statement from the database, once (``_result_types``).
    learnt: dict[str, Any] = field(default_factory=dict)


_EMPTY = _Compiled(sql="", params=(), slots=(), columns=(), kind="empty")


class PreparedQuery:
    """A queryset built by ``build`` from named parameters, compiled once per database alias and shape."""

    #: Every prepared query made, so that a test can hold each one to what the ORM returns.
    made: ClassVar[list[PreparedQuery]] = []

    def __init__(self, build: Callable[..., QuerySet[Any]], **params: Field[Any, Any] | many) -> None:
        if not params:
            raise PreparedQueryError(
                "A prepared query needs at least one parameter; use the ORM for the rest."
            )
        self.build = build
        self.params = params
        self._compiled: dict[tuple[str, tuple[int | None, ...]], _Compiled] = {}
        PreparedQuery.made.append(self)

    def __repr__(self) -> str:
        return (
            f"<PreparedQuery {getattr(self.build, '__qualname__', self.build)!r} ({', '.join(self.params)})>"
        )

    def _shape(self, values: dict[str, Any]) -> tuple[int | None, ...]:
        if values.keys() != self.params.keys():
            missing = sorted(self.params.keys() - values.keys())
            extra = sorted(values.keys() - self.params.keys())
            raise PreparedQueryError(
                f"{self!r} takes {sorted(self.params)}; missing {missing}, unknown {extra}"
            )
        shape: list[int | None] = []
        for name, declared in self.params.items():
            if isinstance(declared, many):
                value = values[name]
                if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
                    raise PreparedQueryError(f"{name} is a list parameter; got {type(value).__name__}")
                shape.append(len(value))
            else:
                shape.append(None)
        return tuple(shape)

    def queryset(self, **values: Any) -> QuerySet[Any]:
        """The same query built by the ORM with ``values`` in place, for comparison."""
        return self.build(**values)

    def _compile(self, connection: BaseDatabaseWrapper, shape: tuple[int | None, ...]) -> _Compiled:
        placeholders: dict[str, Any] = {}
        for (name, declared), length in zip(self.params.items(), shape, strict=True):
            if isinstance(declared, many):
                assert length is not None
                placeholders[name] = [Param(name, index, declared.field) for index in range(length)]
            else:
                placeholders[name] = Param(name, None, declared)
        try:
            queryset = self.build(**placeholders)
        except (ValidationError, TypeError, ValueError) as error:
            raise PreparedQueryError(
                f"{self!r}: a parameter stands where the ORM needs a plain value ({error}). A foreign key's "
                "__in takes a list of parameters through its target's field: contact__id__in, not contact_id__in."
            ) from error
        if not isinstance(queryset, QuerySet):
            raise PreparedQueryError(f"{self!r}: build must return a QuerySet, not {type(queryset).__name__}")
        state: Any = queryset  # the queryset's own (private) state, read as Django's iterables read it
        if state._prefetch_related_lookups or state._known_related_objects:
            raise PreparedQueryError(f"{self!r}: prefetch_related and related managers cannot be prepared")
        compiler = queryset.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _EMPTY
        slots = tuple(
            (position, param.name, param.index)
            for position, param in enumerate(params)
            if isinstance(param, _Slot)
        )
        expected = {
            (name, index)
            for (name, declared), length in zip(self.params.items(), shape, strict=True)
            for index in (range(length) if isinstance(declared, many) and length is not None else [None])
        }
        found = [(name, index) for _position, name, index in slots]
        if sorted(found, key=repr) != sorted(expected, key=repr):
            raise PreparedQueryError(
                f"{self!r}: each parameter must appear once, as a whole lookup value; compiled {found}"
            )
        columns = tuple(column for column, _sql, _alias in compiler.select[: compiler.col_count])
        # The backend's and the fields' converters, found once: they depend on the alias's backend and settings
        # (its vendor, USE_TZ, its time zone), which an entry never outlives, not on one connection's state.
        converters = tuple(
            (position, tuple(functions), column)
            for position, column in enumerate(columns)
            if (functions := connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        )
        common = {
            "sql": sql,
            "params": tuple(params),
            "slots": slots,
            "columns": columns,
            "converters": converters,
        }
        iterable = queryset._iterable_class
        if iterable is ModelIterable:
            info = compiler.klass_info
            if info is None or compiler.annotation_col_map:
                raise PreparedQueryError(f"{self!r}: annotations cannot be prepared on a model queryset")
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            return _Compiled(
                kind="models",
                model=info["model"],
                init_list=tuple(column.target.attname for column in columns[start:end]),
                model_slice=(start, end),
                fetch_mode=state._fetch_mode,
                related=tuple(
                    get_related_populators(info, compiler.select, connection.alias, state._fetch_mode)
                ),
                **common,
            )
        query = queryset.query
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
        if iterable is ValuesIterable:
            return _Compiled(kind="dicts", names=tuple(names), **common)
        if iterable is ValuesListIterable:
            return _Compiled(kind="tuples", names=tuple(names), **common)
        raise PreparedQueryError(f"{self!r}: {iterable.__name__} cannot be prepared (no flat or named rows)")

    def compiled(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> _Compiled:
        shape = self._shape(values)
        key = (using, shape)
        entry = self._compiled.get(key)
        if entry is None:
            # Two threads may both compile the first time; they produce the same entry.
            entry = self._compiled.setdefault(key, self._compile(connections[using], shape))
        return entry

    def fetch(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[Any]:
        """What ``list(self.queryset(**values))`` returns, without building or compiling the query again (or,
        inside ``read_ahead`` that ran this query with these values, without asking the database again)."""
        ahead = _AHEAD.get()
        if ahead is not None:
            found = ahead.take(self, using, values)
            if found is not None:
                return found
        return fetch_together([(self, values)], using=using)[0]

    def _params(self, entry: _Compiled, values: dict[str, Any], connection: BaseDatabaseWrapper) -> list[Any]:
        """The statement's parameters for ``values``, each prepared through its declared field."""
        params = list(entry.params)
        lists = {
            name: list(values[name]) for name, declared in self.params.items() if isinstance(declared, many)
        }
        for position, name, index in entry.slots:
            declared = self.params[name]
            if isinstance(declared, many):
                assert index is not None
                params[position] = declared.field.get_db_prep_value(lists[name][index], connection)
            else:
                params[position] = declared.get_db_prep_value(values[name], connection)
        return params

    def _results(
        self, entry: _Compiled, rows: Sequence[Sequence[Any]], connection: BaseDatabaseWrapper, using: str
    ) -> list[Any]:
        """The rows as the queryset returns them: converted, then as tuples, dictionaries or model instances."""
        width = len(entry.columns)
        converted: list[list[Any]] = []
        for raw in rows:
            row = list(raw[:width])
            for position, functions, column in entry.converters:
                value = row[position]
                for function in functions:
                    value = function(value, column, connection)
                row[position] = value
            converted.append(row)
        if entry.kind == "tuples":
            return [tuple(row) for row in converted]
        if entry.kind == "dicts":
            return [dict(zip(entry.names, row, strict=True)) for row in converted]
        assert entry.model is not None
        start, end = entry.model_slice
        found = []
        for row in converted:
            instance = entry.model.from_db(
                using, list(entry.init_list), row[start:end], fetch_mode=entry.fetch_mode
            )
            for populator in entry.related:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> Any:
        """The first of ``fetch``'s rows, or ``None``; write ``[:1]`` in the query to ask for one row only."""
        found = self.fetch(using=using, **values)
        return found[0] if found else None


def _key(query: PreparedQuery, using: str, values: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies one run: the query, the alias and the values (a list parameter's as a tuple)."""
    return (
        query,
        using,
        tuple(
            (name, tuple(values[name]) if isinstance(declared, many) else values[name])
            for name, declared in query.params.items()
        ),
    )


class ReadAhead:
    """The rows of queries run together by ``read_ahead``, each waiting for the one ``fetch`` that asks for it
    with the same values. ``unused`` and ``missed`` say how well the runs named matched the reads made."""

    def __init__(self, rows: dict[tuple[Any, ...], list[Any]]) -> None:
        self._rows = rows
        self._queries = {query for query, _using, _values in rows}
        self.missed: list[tuple[PreparedQuery, dict[str, Any]]] = []

    def take(self, query: PreparedQuery, using: str, values: dict[str, Any]) -> list[Any] | None:
        if query not in self._queries:
            return None
        found = self._rows.pop(_key(query, using, values), None)
        if found is None:
            # Read ahead with other values, or already taken: the caller asks the database itself.
            self.missed.append((query, values))
        return found

    @property
    def unused(self) -> int:
        """How many runs read ahead were never asked for."""
        return len(self._rows)


_AHEAD: ContextVar[ReadAhead | None] = ContextVar("kinship_prepared_read_ahead", default=None)


def fetch_together(
    runs: Sequence[tuple[PreparedQuery, dict[str, Any]]], *, using: str = DEFAULT_DB_ALIAS
) -> list[list[Any]]:
    """``[query.fetch(**values) for query, values in runs]``, in one statement on PostgreSQL.

    On PostgreSQL the runs' statements become one (``_one_statement``): one statement for the database to run
    and for Django's cursor to count, instead of one each. Elsewhere (SQLite) they run one after another, each
    counted. An error in any of them is raised as the ORM raises it."""
    connection = connections[using]
    entries = [(query, query.compiled(using=using, **values), values) for query, values in runs]
    asked = [(query, entry, values) for query, entry, values in entries if entry is not _EMPTY]
    raw_rows: Sequence[Sequence[Sequence[Any]]]
    if connection.vendor == "postgresql" and len(asked) > 1:
        raw_rows = _one_statement(connection, asked)
    else:
        raw_rows = [_alone(connection, query, entry, values) for query, entry, values in asked]
    answers = iter(raw_rows)
    return [
        [] if entry is _EMPTY else query._results(entry, next(answers), connection, using)
        for query, entry, values in entries
    ]


def statement_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for a statement that runs again and again with new values (this module's, and a few written by
    hand, such as the count of a slot's places): Django's own (every statement counted, errors translated), on
    PostgreSQL over a cursor of psycopg's that sends the values apart from the statement. psycopg then has
    PostgreSQL prepare the statement on the connection (``prepare_threshold`` in the database's OPTIONS; see
    config/settings.py), which plans it once instead of on every run. Every other cursor keeps Django's
    client-side binding, which never prepares."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from psycopg import Cursor

    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        return connection.cursor()  # nothing is prepared (DATABASE_PREPARED_STATEMENTS=off): Django's own
    with connection.wrap_database_errors:
        return connection._prepare_cursor(Cursor(connection.connection))  # type: ignore[attr-defined]


def _alone(
    connection: BaseDatabaseWrapper, query: PreparedQuery, entry: _Compiled, values: dict[str, Any]
) -> list[Any]:
    with statement_cursor(connection) as cursor:
        cursor.execute(entry.sql, query._params(entry, values, connection))
        return cursor.fetchall()


#: The statement ``_one_statement`` makes of several compiled queries, by the queries' entries (each entry is
#: kept with it, so that the ids in the key stay theirs).
_TOGETHER: dict[tuple[int, ...], tuple[str, tuple[_Compiled, ...]]] = {}


def _names(width: int) -> str:
    return ", ".join(f"c{index}" for index in range(width))


def _one_statement(
    connection: BaseDatabaseWrapper, asked: Sequence[tuple[PreparedQuery, _Compiled, dict[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each of ``asked``, read by one PostgreSQL statement, exactly as psycopg reads each alone.

    The statement selects one value per query: its rows as a JSON array, each row an array of its columns in
    PostgreSQL's text form (``::text``, the form a result is sent in anyway). Each column is then read by
    psycopg's own loader for the column's type, learnt once per query (``_result_types``), so values arrive as
    they would from the query alone: the same types, time zones and precision. A subquery keeps its ORDER BY for
    the aggregate (PostgreSQL aggregates a sorted subquery's rows in order). The statement is counted once by
    ``assertNumQueries`` and runs on one snapshot."""
    from psycopg.adapt import Transformer
    from psycopg.pq import Format

    key = tuple(id(entry) for _query, entry, _values in asked)
    found = _TOGETHER.get(key)
    if found is None:
        parts = []
        for _query, entry, _values in asked:
            width = len(entry.columns)
            texts = ", ".join(f"q.c{index}::text" for index in range(width))
            aggregate = f"coalesce(json_agg(ARRAY[{texts}]), '[]')"
            parts.append(f"(SELECT {aggregate} FROM ({entry.sql}) AS q({_names(width)}))")  # noqa: S608 - ours
        found = _TOGETHER.setdefault(
            key, ("SELECT " + ", ".join(parts), tuple(entry for _q, entry, _v in asked))
        )
    sql = found[0]
    types = [_result_types(connection, query, entry, values) for query, entry, values in asked]
    params = [param for query, entry, values in asked for param in query._params(entry, values, connection)]
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        arrays = cursor.fetchone()
    reader = Transformer(connection.connection)
    rows: list[list[tuple[Any, ...]]] = []
    for found_rows, columns in zip(arrays, types, strict=True):
        reader.set_loader_types(columns, Format.TEXT)
        rows.append(
            [
                reader.load_sequence([None if value is None else value.encode() for value in row])
                for row in found_rows
            ]
        )
    return rows


def _result_types(
    connection: BaseDatabaseWrapper, query: PreparedQuery, entry: _Compiled, values: dict[str, Any]
) -> tuple[int, ...]:
    """The PostgreSQL type (OID) of each column ``entry`` selects, asked of the database the first time: its
    statement described by running it for no rows (``LIMIT 0``), outside Django's cursor, as a question about
    the statement rather than a read (and not counted as one)."""
    types: tuple[int, ...] | None = entry.learnt.get("types")
    if types is None:
        width = len(entry.columns)
        connection.ensure_connection()
        with connection.wrap_database_errors, connection.connection.cursor() as cursor:
            # Django's cursor class, which binds on the client: this statement runs once and is not prepared.
            cursor.execute(
                f"SELECT * FROM ({entry.sql}) AS q({_names(width)}) LIMIT 0",  # noqa: S608 - our compiled SQL
                query._params(entry, values, connection),
            )
            described = cursor.description or []
            types = entry.learnt.setdefault("types", tuple(column.type_code for column in described[:width]))
    return types


@contextmanager
def read_ahead(
    runs: Sequence[tuple[PreparedQuery, dict[str, Any]]], *, using: str = DEFAULT_DB_ALIAS
) -> Iterator[ReadAhead]:
    """Run ``runs`` together now (``fetch_together``), and inside the block answer each ``fetch`` of one of them
    with the same values from its rows, once, instead of asking the database again.

    For code that reads many small things one after another (a booking decision's facts): it keeps its
    functions, each reading what it needs, while the reads cost one round trip. The rows are as fresh as when
    the block began; a fetch with other values, or a second fetch of the same run, goes to the database."""
    rows = {
        _key(query, using, values): found
        for (query, values), found in zip(runs, fetch_together(runs, using=using), strict=True)
    }
    ahead = ReadAhead(rows)
    token = _AHEAD.set(ahead)
    try:
        yield ahead
    finally:
        _AHEAD.reset(token)
