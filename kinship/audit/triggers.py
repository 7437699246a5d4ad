"""Database triggers that make the audit log append-only, for SQLite and PostgreSQL.

Installed by migration ``audit.0002``. Truncating an *empty* log is allowed on PostgreSQL: it destroys nothing,
and it is what a test database flush does after the test harness has emptied the log (see conftest.py).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

_CREATE = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;""",
        """CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
           BEGIN
             IF EXISTS (SELECT 1 FROM audit_auditevent) THEN
               RAISE EXCEPTION 'audit events are append-only';
             END IF;
             RETURN NULL;
           END; $$ LANGUAGE plpgsql;""",
        """CREATE OR REPLACE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
        """CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
           FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();""",
    ],
}

_DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_event_no_update;",
        "DROP TRIGGER IF EXISTS audit_event_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_auditevent;",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;",
        "DROP FUNCTION IF EXISTS audit_event_append_only();",
        "DROP FUNCTION IF EXISTS audit_event_no_truncate();",
    ],
}


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    _execute(connection, _CREATE.get(connection.vendor, []))


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    _execute(connection, _DROP.get(connection.vendor, []))
