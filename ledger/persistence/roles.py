"""A PostgreSQL deployment in which the application's role cannot rewrite the history (``docs/deployment.md``).

The append-only triggers stop a plain UPDATE or DELETE, but a table's owner
can disable or drop them. So a schema-owner role creates the event store's
tables (and owns them); the application connects as another role that may
only INSERT into and SELECT from them. Not being their owner, it cannot
ALTER or DROP them, disable or drop their triggers, TRUNCATE them, or lock
them otherwise than through ``openbook_lock_events()``; and not being a
superuser it cannot ``SET session_replication_role`` (which would skip
triggers). Its read models, chunks and the read-model check's scratch schemas
are its own.

``grant_app_role`` is what the owner runs (``openbook database grant-app-role``):
again after an upgrade of openbook, as a new version's event-store DDL is the
owner's to run.
"""

from __future__ import annotations

import psycopg
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from domain.errors import SettingsError
from ledger.persistence import LOCK_FUNCTION
from ledger.persistence.database import Database
from ledger.persistence.postgres import _GUARD_FUNCTION, PostgresLedgerFactory

#: Every table of the schema guarded as append-only (owned by this role): the event store's, whatever its version.
_GUARDED_TABLES = SQL(
    "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
    "WHERE n.nspname = current_schema() AND p.proname = %s AND pg_has_role(c.relowner, 'USAGE') ORDER BY 1"
)


def grant_app_role(database: Database, app_role: str) -> list[str]:
    """As the schema owner: create the event store's tables if need be, and let ``app_role`` only append and read.

    Creates the event, hash and idempotency tables, their triggers and
    functions (nothing else: the read models are created by the application
    when it opens the ledger), then grants ``app_role`` SELECT and INSERT on
    every append-only table, the use of the events' position sequence and of
    the lock function, and CREATE in the schema and the database (its own
    tables, the read-model check's scratch schemas). Returns the append-only
    tables. Safe to repeat.
    """
    if database.is_sqlite:
        raise SettingsError(
            f"database {database}: roles are for PostgreSQL; on SQLite, whoever can write the file can change it "
            "(keep it readable by the application's user only, and rely on the checkpoints)"
        )
    factory = PostgresLedgerFactory(Environment("Ledger", {**database.eventsourcing_env(), "CREATE_TABLE": "y"}))
    try:
        factory.application_recorder()  # creates the event store's tables, as this role
    finally:
        factory.close()
    app = Identifier(app_role)
    with psycopg.connect(database.psycopg_conninfo()) as conn:  # one transaction: all granted or none
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app_role,)).fetchone() is None:
            raise SettingsError(f"database {database}: there is no role {app_role!r}; create it first (CREATE ROLE)")
        schema = conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        tables = [row[0] for row in conn.execute(_GUARDED_TABLES, (_GUARD_FUNCTION,))]
        if not tables:
            raise SettingsError(f"database {database}: this role owns no append-only tables in schema {schema}")
        for table in tables:
            qualified = SQL("{}.{}").format(Identifier(schema), Identifier(table))
            conn.execute(SQL("REVOKE ALL ON TABLE {} FROM PUBLIC, {}").format(qualified, app))
            conn.execute(SQL("GRANT SELECT, INSERT ON TABLE {} TO {}").format(qualified, app))
            for (sequence,) in conn.execute(
                "SELECT pg_get_serial_sequence(quote_ident(%s) || '.' || quote_ident(%s), a.attname) "
                "FROM pg_attribute a WHERE a.attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass "
                "AND a.attnum > 0 AND NOT a.attisdropped",
                (schema, table, schema, table),
            ).fetchall():
                if sequence:
                    conn.execute(SQL("REVOKE ALL ON SEQUENCE {} FROM PUBLIC").format(SQL(sequence)))
                    conn.execute(SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(SQL(sequence), app))
        lock = SQL("{}.{}()").format(Identifier(schema), Identifier(LOCK_FUNCTION))
        conn.execute(SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(lock))
        conn.execute(SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(lock, app))
        conn.execute(SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(Identifier(schema), app))
        database_name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(Identifier(database_name), app))
    return tables
