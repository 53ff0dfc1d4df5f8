"""SQLite event store with a hash chain, event signatures, idempotency claims and append-only guards.

The library's SQLite table numbers events by an implicit rowid, which SQLite
may reuse (after the last row is deleted) or renumber (on VACUUM). Here the
position is an explicit ``INTEGER PRIMARY KEY AUTOINCREMENT`` (never reused,
kept by VACUUM) and triggers refuse UPDATE and DELETE, and any INSERT over an
existing row (``INSERT OR REPLACE`` would otherwise delete it unguarded). Writers take the write
lock up front (``BEGIN IMMEDIATE``), so reading the last hash and appending the
next cannot interleave between processes. The library puts the file in WAL
mode on its first connection (the mode is kept in the file), so readers here
never wait for a writer; ``ledger.persistence.database`` does the same for the
read models' engines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory, SQLiteTransaction

from ledger import faults
from ledger.persistence import (
    EVENTS_TABLE,
    HASHES_TABLE,
    IDEMPOTENCY_TABLE,
    SIGNATURES_TABLE,
    EventSigner,
    IdempotencyClaim,
    signature_rows,
)
from ledger.persistence.chain import GENESIS, event_hash
from ledger.persistence.guards import Guard, InTransaction


class _ImmediateTransaction(SQLiteTransaction):
    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise OperationalError(e) from e
        return cursor


def _append_only(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'openbook: {table} is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def _no_overwrite(table: str, clash: str) -> str:
    """Refuse an INSERT that clashes with an existing row, whatever its conflict clause.

    ``INSERT OR REPLACE`` / ``REPLACE INTO`` resolve a clash by deleting the old
    row without firing the DELETE trigger (SQLite fires delete triggers for
    REPLACE only with recursive triggers on), so the UPDATE/DELETE guards alone
    let a plain statement rewrite history. A BEFORE INSERT trigger runs before
    any conflict resolution, so it refuses REPLACE, ``ON CONFLICT DO UPDATE``
    and a plain duplicate alike (still an IntegrityError, as a duplicate key is).
    ``clash`` is the condition on ``NEW`` that matches an existing row by any
    unique key.
    """
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_overwrite BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) "
        f"BEGIN SELECT RAISE(ABORT, 'openbook: {table} is append-only'); END"
    )


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    #: Signs each event's chain hash as it is stored; set by the ledger when it has a key (``Ledger.signing_key``).
    signer: EventSigner | None = None

    def __init__(self, datastore: Any, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name)
        self.insert_events_statement = (
            f"INSERT INTO {self.events_table_name} "
            "(originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.events_table_name} ("
            "notification_id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, "
            "state BLOB NOT NULL, "
            "UNIQUE (originator_id, originator_version))",
            f"CREATE TABLE IF NOT EXISTS {HASHES_TABLE} ("
            "notification_id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} ("
            "key TEXT PRIMARY KEY, digest TEXT NOT NULL, result TEXT NOT NULL, "
            "first_position INTEGER NOT NULL, recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {SIGNATURES_TABLE} ("
            "position INTEGER PRIMARY KEY, key_id TEXT NOT NULL, signature TEXT NOT NULL)",
            *_append_only(self.events_table_name),
            *_append_only(HASHES_TABLE),
            *_append_only(IDEMPOTENCY_TABLE),
            *_append_only(SIGNATURES_TABLE),
            _no_overwrite(
                self.events_table_name,
                "notification_id = NEW.notification_id "
                "OR (originator_id = NEW.originator_id AND originator_version = NEW.originator_version)",
            ),
            _no_overwrite(HASHES_TABLE, "notification_id = NEW.notification_id"),
            _no_overwrite(IDEMPOTENCY_TABLE, "key = NEW.key"),
            _no_overwrite(SIGNATURES_TABLE, "position = NEW.position"),
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.get_connection(commit=True) as conn, _ImmediateTransaction(conn, commit=True) as c:
            guard: Guard | None = kwargs.get("guard")
            if guard is not None:  # under the write lock, taken at BEGIN IMMEDIATE
                guard(InTransaction("sqlite", lambda statement, params: _rows(c, statement, params)))
            positions = self._insert_events(c, stored_events, **kwargs)
            self._chain(c, stored_events, positions)
            claim: IdempotencyClaim | None = kwargs.get("idempotency")
            if claim is not None:  # claimed even when the command changed nothing (first_position 0)
                c.execute(
                    f"INSERT INTO {IDEMPOTENCY_TABLE} VALUES (?,?,?,?,?)",
                    (claim.key, claim.digest, claim.result, positions[0] if positions else 0,
                     datetime.now(timezone.utc).isoformat()),
                )
            faults.fault_point("record.before-commit")
            return positions

    def _chain(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], positions: Sequence[int] | None) -> None:
        if not positions:
            return
        c.execute(f"SELECT hash FROM {HASHES_TABLE} ORDER BY notification_id DESC LIMIT 1")
        row = c.fetchone()
        previous = row[0] if row else GENESIS
        rows = []
        for position, s in zip(positions, stored_events, strict=True):
            previous = event_hash(previous, position, s.topic, s.originator_id, s.originator_version, s.state)
            rows.append((position, previous))
        c.executemany(f"INSERT INTO {HASHES_TABLE} VALUES (?,?)", rows)
        if self.signer is not None:
            c.executemany(f"INSERT INTO {SIGNATURES_TABLE} VALUES (?,?,?)", signature_rows(self.signer, rows))

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """As the library's, but by the explicit position column (never the implicit rowid)."""
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("notification_id>=?" if inclusive_of_start else "notification_id>?")
            params.append(start)
        if stop is not None:
            clauses.append("notification_id<=?")
            params.append(stop)
        if topics:
            clauses.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        params.append(limit)
        statement = f"SELECT * FROM {self.events_table_name} {where}ORDER BY notification_id LIMIT ?"
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]

    def find_idempotency(self, key: str) -> IdempotencyClaim | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key, digest, result FROM {IDEMPOTENCY_TABLE} WHERE key=?", (key,))
            row = c.fetchone()
        return IdempotencyClaim(row["key"], row["digest"], row["result"]) if row else None

    def select_hashes(self, start: int, limit: int) -> list[tuple[int, str]]:
        """Stored chain hashes from position ``start`` on, in order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id, hash FROM {HASHES_TABLE} WHERE notification_id>=? "
                "ORDER BY notification_id LIMIT ?",
                (start, limit),
            )
            return [(row[0], row[1]) for row in c.fetchall()]

    def select_signatures(self, start: int, stop: int) -> dict[int, tuple[str, str]]:
        """The stored event signatures from position ``start`` to ``stop`` (inclusive): position -> (key id, signature)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, key_id, signature FROM {SIGNATURES_TABLE} WHERE position>=? AND position<=? "
                "ORDER BY position",
                (start, stop),
            )
            return {row[0]: (row[1], row[2]) for row in c.fetchall()}

    def chain_before(self, position: int) -> tuple[int, str, int]:
        """The position and chain hash of the last stored hash before ``position`` (0 and GENESIS if none), and how
        many events lie before ``position``: where an export from ``position`` starts (its header's ``previous`` and
        ``events_before``)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT notification_id, hash FROM {HASHES_TABLE} WHERE notification_id<? "
                      "ORDER BY notification_id DESC LIMIT 1", (position,))
            row = c.fetchone()
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE notification_id<?", (position,))
            count = c.fetchone()[0]
            return (row[0], row[1], count) if row is not None else (0, GENESIS, count)

    def chain_head(self) -> tuple[int, str, int] | None:
        """The last stored event's position and chain hash, and how many events lie at or before it; None if empty.

        Read in one transaction, so the three agree (a checkpoint's fields).
        """
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT notification_id, hash FROM {HASHES_TABLE} ORDER BY notification_id DESC LIMIT 1")
            row = c.fetchone()
            if row is None:
                return None
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE notification_id<=?", (row[0],))
            return row[0], row[1], c.fetchone()[0]


def _rows(c: SQLiteCursor, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    c.execute(statement, tuple(params))
    return [tuple(row) for row in c.fetchall()]


class SQLiteLedgerFactory(SQLiteFactory):
    application_recorder_class = ChainedSQLiteApplicationRecorder
