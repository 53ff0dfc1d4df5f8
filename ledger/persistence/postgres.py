"""PostgreSQL event store with a hash chain, event signatures, idempotency claims and append-only guards.

The library's recorder already serialises writers with an EXCLUSIVE lock on
the events table (so positions are issued in commit order); the chain rows,
their signatures (with a signing key) and the idempotency claim are written
after that lock is taken, in the same transaction. Triggers refuse UPDATE,
DELETE and TRUNCATE. Positions come from a sequence: a rolled-back insert
leaves a gap, but a position is never reused.

The lock is taken through ``openbook_lock_events()``, a SECURITY DEFINER
function of the tables' owner: PostgreSQL lets only a role that may UPDATE,
DELETE or TRUNCATE a table lock it in EXCLUSIVE mode, and in the deployment of
``docs/deployment.md`` the application's role may only INSERT and SELECT. There
a schema-owner role creates these tables (``ledger.persistence.roles``), and a
role that does not own them leaves their DDL alone when it opens the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from ledger import faults
from ledger.persistence import (
    EVENTS_TABLE,
    HASHES_TABLE,
    IDEMPOTENCY_TABLE,
    LOCK_FUNCTION,
    SCHEMA_LOCK_KEY,
    SIGNATURES_TABLE,
    EventSigner,
    IdempotencyClaim,
    signature_rows,
)
from ledger.persistence.chain import GENESIS, event_hash
from ledger.persistence.guards import Guard, InTransaction

_GUARD_FUNCTION = "openbook_append_only"

#: How often a store operation is tried when the database fails (the library tries 10 times, each waiting up to the
#: pool's 5 s for a connection: a web request would hang for nearly a minute before its 503 when the database is gone).
ATTEMPTS = 2


def _tried(method: Any) -> Any:
    """The library's method, tried ``ATTEMPTS`` times instead of its own ten."""
    return retry((InterfaceError, OperationalError), max_attempts=ATTEMPTS, wait=0.2)(method.__wrapped__)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    #: Signs each event's chain hash as it is stored; set by the ledger when it has a key (``Ledger.signing_key``).
    signer: EventSigner | None = None

    insert_events = _tried(PostgresApplicationRecorder.insert_events)
    select_events = _tried(PostgresApplicationRecorder.select_events)
    select_notifications = _tried(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _tried(PostgresApplicationRecorder.max_notification_id)

    def __init__(self, datastore: Any, *, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._hashes = SQL("{}.{}").format(schema, Identifier(HASHES_TABLE))
        self._claims = SQL("{}.{}").format(schema, Identifier(IDEMPOTENCY_TABLE))
        self._signatures = SQL("{}.{}").format(schema, Identifier(SIGNATURES_TABLE))
        guard = SQL("{}.{}").format(schema, Identifier(_GUARD_FUNCTION))
        self.sql_create_statements.extend(
            [
                SQL("CREATE TABLE IF NOT EXISTS {} (notification_id bigint PRIMARY KEY, hash text NOT NULL)").format(
                    self._hashes
                ),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, digest text NOT NULL, "
                    "result text NOT NULL, first_position bigint NOT NULL, "
                    "recorded_at timestamptz NOT NULL DEFAULT now())"
                ).format(self._claims),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, key_id text NOT NULL, "
                    "signature text NOT NULL)"
                ).format(self._signatures),
                SQL(
                    "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'openbook: % is append-only', TG_TABLE_NAME; END;$$"
                ).format(guard),
            ]
        )
        lock = SQL("{}.{}").format(schema, Identifier(LOCK_FUNCTION))
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {}() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
                "SET search_path = pg_catalog AS $$BEGIN LOCK TABLE {} IN EXCLUSIVE MODE; END;$$"
            ).format(lock, SQL("{}.{}").format(schema, Identifier(self.events_table_name)))
        )
        self.lock_table_statements = [self.lock_table_statements[0], SQL("SELECT {}()").format(lock)]
        for table in (self.events_table_name, HASHES_TABLE, IDEMPOTENCY_TABLE, SIGNATURES_TABLE):
            qualified = SQL("{}.{}").format(schema, Identifier(table))
            self.sql_create_statements.extend(
                [
                    SQL(
                        "CREATE OR REPLACE TRIGGER {} BEFORE UPDATE OR DELETE ON {} "
                        "FOR EACH ROW EXECUTE FUNCTION {}()"
                    ).format(Identifier(f"{table}_append_only"), qualified, guard),
                    SQL(
                        "CREATE OR REPLACE TRIGGER {} BEFORE TRUNCATE ON {} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
                    ).format(Identifier(f"{table}_no_truncate"), qualified, guard),
                ]
            )

    def _create_table(self, curs: Any) -> None:
        """Serialise schema set-up: ledgers opening at once would otherwise deadlock on DDL."""
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (SCHEMA_LOCK_KEY,))
        if self._owned_by_another_role(curs):
            return
        super()._create_table(curs)

    def _owned_by_another_role(self, curs: Any) -> bool:
        """Whether the events table exists and belongs to a role this one does not act as.

        Then a schema owner set the event store up (``docs/deployment.md``) and
        this role may only append to it: its DDL (and any upgrade of it) is the
        owner's to run, with ``openbook database grant-app-role``.
        """
        curs.execute(
            SQL(
                "SELECT NOT pg_has_role(c.relowner, 'USAGE') AS elsewhere FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s"
            ),
            (self.datastore.schema, self.events_table_name),
        )
        row = curs.fetchone()
        return bool(row and row["elsewhere"])

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """First the command's guard; a command that changed nothing still claims its key (first_position 0)."""
        guard: Guard | None = kwargs.get("guard")
        if guard is not None:
            guard(InTransaction("postgresql", lambda statement, params: _rows(curs, statement, params)))
        claim: IdempotencyClaim | None = kwargs.get("idempotency")
        if claim is not None and not stored_events:
            self._insert_claim(curs, claim, 0)

    def _insert_claim(self, curs: Any, claim: IdempotencyClaim, first_position: int) -> None:
        curs.execute(
            SQL("INSERT INTO {} (key, digest, result, first_position) VALUES (%s, %s, %s, %s)").format(self._claims),
            (claim.key, claim.digest, claim.result, first_position),
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if not positions:
            return positions
        curs.execute(SQL("SELECT hash FROM {} ORDER BY notification_id DESC LIMIT 1").format(self._hashes))
        row = curs.fetchone()
        previous = row["hash"] if row else GENESIS
        rows = []
        for position, s in zip(positions, stored_events, strict=True):
            previous = event_hash(previous, position, s.topic, s.originator_id, s.originator_version, s.state)
            rows.append((position, previous))
        curs.executemany(SQL("INSERT INTO {} VALUES (%s, %s)").format(self._hashes), rows)
        if self.signer is not None:
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(self._signatures), signature_rows(self.signer, rows)
            )
        claim: IdempotencyClaim | None = kwargs.get("idempotency")
        if claim is not None:
            self._insert_claim(curs, claim, positions[0])
        faults.fault_point("record.before-commit")
        return positions

    def find_idempotency(self, key: str) -> IdempotencyClaim | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT key, digest, result FROM {} WHERE key = %s").format(self._claims), (key,))
            row = curs.fetchone()
        return IdempotencyClaim(row["key"], row["digest"], row["result"]) if row else None

    def select_hashes(self, start: int, limit: int) -> list[tuple[int, str]]:
        """Stored chain hashes from position ``start`` on, in order."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT notification_id, hash FROM {} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s").format(
                    self._hashes
                ),
                (start, limit),
            )
            return [(row["notification_id"], row["hash"]) for row in curs.fetchall()]

    def select_signatures(self, start: int, stop: int) -> dict[int, tuple[str, str]]:
        """The stored event signatures from position ``start`` to ``stop`` (inclusive): position -> (key id, signature)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT position, key_id, signature FROM {} WHERE position >= %s AND position <= %s ORDER BY position"
                ).format(self._signatures),
                (start, stop),
            )
            return {row["position"]: (row["key_id"], row["signature"]) for row in curs.fetchall()}

    def chain_before(self, position: int) -> tuple[int, str, int]:
        """The position and chain hash of the last stored hash before ``position`` (0 and GENESIS if none), and how
        many events lie before ``position``: where an export from ``position`` starts (its header's ``previous`` and
        ``events_before``)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT notification_id, hash FROM {} WHERE notification_id < %s "
                             "ORDER BY notification_id DESC LIMIT 1").format(self._hashes), (position,))
            row = curs.fetchone()
            curs.execute(
                SQL("SELECT COUNT(*) AS n FROM {}.{} WHERE notification_id < %s").format(
                    Identifier(self.datastore.schema), Identifier(self.events_table_name)
                ),
                (position,),
            )
            count = curs.fetchone()["n"]
            return (row["notification_id"], row["hash"], count) if row is not None else (0, GENESIS, count)

    def chain_head(self) -> tuple[int, str, int] | None:
        """The last stored event's position and chain hash, and how many events lie at or before it; None if empty."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT notification_id, hash FROM {} ORDER BY notification_id DESC LIMIT 1").format(self._hashes))
            row = curs.fetchone()
            if row is None:
                return None
            curs.execute(
                SQL("SELECT COUNT(*) AS n FROM {}.{} WHERE notification_id <= %s").format(
                    Identifier(self.datastore.schema), Identifier(self.events_table_name)
                ),
                (row["notification_id"],),
            )
            return row["notification_id"], row["hash"], curs.fetchone()["n"]


def _rows(curs: Any, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A guard's query (``?`` placeholders); fetching waits for its result even in the library's pipeline."""
    curs.execute(statement.replace("?", "%s"), tuple(params))
    try:
        return [tuple(row.values()) for row in curs.fetchall()]
    except psycopg.ProgrammingError:
        if curs.description is None:  # a statement that returns no rows (``LOCK TABLE``): it ran
            return []
        raise


class PostgresLedgerFactory(PostgresFactory):
    application_recorder_class = ChainedPostgresApplicationRecorder

    def application_recorder(self) -> ChainedPostgresApplicationRecorder:
        """One events table name on both databases, whatever the application is called."""
        recorder = ChainedPostgresApplicationRecorder(datastore=self.datastore, events_table_name=EVENTS_TABLE)
        if self.env_create_table():
            recorder.create_table()
        return recorder
