"""The database's own guards hold against plain statements, not only against the ledger's code.

SQLite resolves ``INSERT OR REPLACE`` / ``REPLACE INTO`` by deleting the clashing
row without firing DELETE triggers, and ``ON CONFLICT DO UPDATE`` rewrites it: each
is refused over an existing event, hash or idempotency row, and the row stays as
it was. On PostgreSQL ``ON CONFLICT DO UPDATE`` fires the UPDATE trigger. A
database made before the INSERT guard existed gets it when a ledger opens it.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from ledger.bootstrap import open_openbook
from ledger.persistence import EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE
from tests.integration.test_event_store import chain_break, env, record_history

#: One statement per conflict form, each aimed at the row at position 1 (or the claim "user-1").
OVERWRITES = {
    EVENTS_TABLE: [
        f"INSERT OR REPLACE INTO {EVENTS_TABLE} SELECT notification_id, originator_id, originator_version, "
        f"'forged', state FROM {EVENTS_TABLE} WHERE notification_id = 1",
        f"REPLACE INTO {EVENTS_TABLE} (originator_id, originator_version, topic, state) SELECT originator_id, "
        f"originator_version, 'forged', state FROM {EVENTS_TABLE} WHERE notification_id = 1",
        f"INSERT INTO {EVENTS_TABLE} (notification_id, originator_id, originator_version, topic, state) "
        f"SELECT notification_id, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
        "WHERE notification_id = 1 ON CONFLICT DO UPDATE SET topic = 'forged'",
    ],
    HASHES_TABLE: [
        f"INSERT OR REPLACE INTO {HASHES_TABLE} VALUES (1, 'forged')",
        f"REPLACE INTO {HASHES_TABLE} VALUES (1, 'forged')",
        f"INSERT INTO {HASHES_TABLE} VALUES (1, 'x') ON CONFLICT DO UPDATE SET hash = 'forged'",
    ],
    IDEMPOTENCY_TABLE: [
        f"INSERT OR REPLACE INTO {IDEMPOTENCY_TABLE} VALUES ('user-1', 'forged', '{{}}', 0, '2024-01-01')",
        f"REPLACE INTO {IDEMPOTENCY_TABLE} VALUES ('user-1', 'forged', '{{}}', 0, '2024-01-01')",
        f"INSERT INTO {IDEMPOTENCY_TABLE} VALUES ('user-1', 'x', '{{}}', 0, '2024-01-01') "
        "ON CONFLICT DO UPDATE SET digest = 'forged'",
    ],
}


def _sqlite(database, statement: str) -> None:
    conn = sqlite3.connect(database.sqlite_path, isolation_level=None, timeout=10)
    try:
        conn.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("table", "form"), [(t, i) for t in OVERWRITES for i in range(3)])
def test_sqlite_refuses_every_insert_that_would_overwrite_a_row(book, database, raw_sql, table, form):
    record_history(book)  # six events, six hashes, one idempotency claim ("user-1")
    before = raw_sql(f"SELECT * FROM {table} ORDER BY 1")
    statement = OVERWRITES[table][form]

    with pytest.raises(sqlite3.IntegrityError, match=f"openbook: {table} is append-only"):
        _sqlite(database, statement)

    assert raw_sql(f"SELECT * FROM {table} ORDER BY 1") == before
    assert len(raw_sql(f"SELECT * FROM {EVENTS_TABLE}")) == 6
    assert chain_break(book) is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_made_before_the_insert_guard_gets_it_when_opened(book, database, raw_sql):
    record_history(book)
    book.close()
    for table in (EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE):
        raw_sql(f"DROP TRIGGER {table}_no_overwrite")
    _sqlite(database, f"INSERT OR REPLACE INTO {HASHES_TABLE} VALUES (6, 'forged without the guard')")

    reopened = open_openbook(database)
    try:
        names = {row[0] for row in raw_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {f"{t}_no_overwrite" for t in (EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE)} <= names
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            _sqlite(database, f"INSERT OR REPLACE INTO {HASHES_TABLE} VALUES (5, 'forged')")
        assert chain_break(reopened) == 6  # the overwrite made before the guard is still caught by the chain
    finally:
        reopened.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_ledger_still_records_and_a_duplicate_key_is_still_an_integrity_error(book, raw_sql):
    """The guard fires on any clash: the ledger's own inserts pass, and a duplicate is an IntegrityError as before."""
    record_history(book)
    book.organisations.register_organisation(env("again"), "delta-care", "Delta", "provider")
    assert raw_sql(f"SELECT count(*) FROM {EVENTS_TABLE}") == [(7,)]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw_sql(f"INSERT INTO {IDEMPOTENCY_TABLE} VALUES ('again', 'd', '{{}}', 0, '2024-01-01')")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("table", list(OVERWRITES))
def test_postgres_on_conflict_do_update_fires_the_update_guard(book, raw_sql, table):
    record_history(book)
    before = raw_sql(f"SELECT * FROM {table} ORDER BY 1")
    key = {EVENTS_TABLE: "notification_id", HASHES_TABLE: "notification_id", IDEMPOTENCY_TABLE: "key"}[table]
    statement = OVERWRITES[table][2].replace("ON CONFLICT DO UPDATE", f"ON CONFLICT ({key}) DO UPDATE")
    statement = statement.replace("'2024-01-01'", "now()")  # PostgreSQL's recorded_at is a timestamptz

    with pytest.raises(psycopg.Error, match=f"openbook: {table} is append-only"):
        raw_sql(statement)

    assert raw_sql(f"SELECT * FROM {table} ORDER BY 1") == before
    assert chain_break(book) is None
