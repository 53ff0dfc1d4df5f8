"""The projection runner: catch up, or rebuild from scratch, in tracked batches.

For each projection, a batch is one transaction: lock the projection's
position row, read the next events after it, apply them, move the position,
commit. Two runners (two processes) on one projection serialise on that row,
so an event is applied exactly once whatever crashes or races happen. An
event too large for one short transaction is applied in steps
(``Projection.apply`` says there is more to do): each step commits with the
position still before the event, and the next transaction carries on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.persistence import SCHEMA_LOCK_KEY
from ledger.persistence.database import reading
from ledger.projections.base import Projection

BATCH_SIZE = 500
#: SQLite's longest wait between two tries of a writer waiting for the lock (its default busy handler's).
STEP_PAUSE_SECONDS = 0.1

metadata = MetaData()

#: The last position each projection applied, written with its changes.
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)

#: The fingerprint (``Projection.fingerprint``) each projection's tables were built with.
schemas = Table(
    "projection_schemas",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)

Progress = Callable[[str, int, int], None]  # (projection name, position reached, head)


class ProjectionRunner:
    def __init__(self, engine: Engine, recorder: Any, mapper: Any, projections: Sequence[Projection] = ()):
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.projections: dict[str, Projection] = {}
        self.follow(*projections)
        #: Called after a batch's changes are written and before commit; tests inject faults here.
        self.before_commit: Callable[[Connection], None] = lambda conn: None

    def follow(self, *projections: Projection) -> None:
        """Keep these projections up to date too (each name once)."""
        for projection in projections:
            if projection.name in self.projections:
                raise ValueError(f"projection {projection.name!r} is already followed")
            self.projections[projection.name] = projection

    def create_tables(self) -> list[str]:
        """Create the tables of the projections followed; rebuild those built from another definition.

        A projection whose stored fingerprint differs from its code's (or that
        has none: a new database, or one written before fingerprints) has its
        tables dropped and created afresh and its position set back to 0, so
        the next catch-up refills them from the history. Returns their names.
        When every table is there as its code defines it (every opening but
        the first after an upgrade) this only reads: opening a ledger never
        waits for a writer.
        """
        with reading(self.engine) as conn:
            if self._built_as_defined(conn):
                return []
        rebuilt = []
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # ledgers opening at once must not race on DDL
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            positions.create(conn, checkfirst=True)
            schemas.create(conn, checkfirst=True)
            built = dict(conn.execute(select(schemas.c.name, schemas.c.fingerprint)).all())
            for projection in self.projections.values():
                wanted = projection.fingerprint(conn.dialect)
                if built.get(projection.name) == wanted:
                    for table in projection.tables:
                        table.create(conn, checkfirst=True)
                    continue
                for table in reversed(projection.tables):
                    table.drop(conn, checkfirst=True)
                for table in projection.tables:
                    table.create(conn)
                self._lock_position(conn, projection)
                conn.execute(update(positions).where(positions.c.name == projection.name).values(position=0))
                conn.execute(delete(schemas).where(schemas.c.name == projection.name))
                conn.execute(insert(schemas).values(name=projection.name, fingerprint=wanted))
                rebuilt.append(projection.name)
        return rebuilt

    def _built_as_defined(self, conn: Connection) -> bool:
        """Whether every table the runner and its projections need exists, built from the code's definition."""
        present = set(inspect(conn).get_table_names())
        if not {positions.name, schemas.name} <= present:
            return False
        built = dict(conn.execute(select(schemas.c.name, schemas.c.fingerprint)).all())
        return all(
            built.get(p.name) == p.fingerprint(conn.dialect) and {t.name for t in p.tables} <= present
            for p in self.projections.values()
        )

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def positions(self) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = dict(conn.execute(select(positions.c.name, positions.c.position)).all())
        return {name: rows.get(name, 0) for name in self.projections}

    def status(self) -> list[dict[str, int | str]]:
        """Each projection followed: the position it has applied, the head, and how far behind it is."""
        head = self.head()
        return [
            {"name": name, "position": position, "head": head, "lag": max(head - position, 0)}
            for name, position in self.positions().items()
        ]

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event not yet applied; returns how many events were applied.

        Only the projections behind the head take the write lock.
        """
        head = self.head()
        reached = self.positions()
        return sum(self._catch_up(p, head, progress) for p in self.projections.values() if reached[p.name] < head)

    def rebuild(self, names: Sequence[str] | None = None, progress: Progress | None = None) -> int:
        """Empty the named projections (default all) and replay the whole history into them."""
        chosen = [self.projections[n] for n in (names or self.projections)]
        for projection in chosen:
            with self.engine.begin() as conn:
                self._lock_position(conn, projection)
                projection.reset(conn)
                conn.execute(update(positions).where(positions.c.name == projection.name).values(position=0))
        head = self.head()
        return sum(self._catch_up(p, head, progress) for p in chosen)

    def _lock_position(self, conn: Connection, projection: Projection) -> int:
        """Create the projection's position row if need be, then lock and read it."""
        dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(dialect_insert(positions).values(name=projection.name, position=0).on_conflict_do_nothing())
        query = select(positions.c.position).where(positions.c.name == projection.name)
        if conn.dialect.name != "sqlite":  # SQLite's writers hold the database lock from BEGIN
            query = query.with_for_update()
        return conn.execute(query).scalar_one()

    def _catch_up(self, projection: Projection, head: int, progress: Progress | None) -> int:
        applied = 0
        topics = projection.topics
        while True:
            with self.engine.begin() as conn:
                position = self._lock_position(conn, projection)
                if position >= head:
                    return applied
                batch = self.recorder.select_notifications(
                    start=position, limit=BATCH_SIZE, stop=head, topics=topics, inclusive_of_start=False
                )
                reached, done = self._apply(conn, projection, batch, position)
                partly = reached is not None
                if not partly:
                    reached = batch[-1].id if len(batch) == BATCH_SIZE else head
                conn.execute(update(positions).where(positions.c.name == projection.name).values(position=reached))
                self.before_commit(conn)
            applied += done
            if progress:
                progress(projection.name, reached, head)
            if partly:
                self._let_others_write()

    def _let_others_write(self) -> None:
        """Leave SQLite's write lock free for a moment between the steps of one event.

        SQLite keeps no queue for its write lock: a writer waiting for it polls,
        at most ``STEP_PAUSE_SECONDS`` apart, so a runner that committed a step
        and began the next at once could starve it for the whole event. With
        this pause it waits at most about one step. PostgreSQL queues lock waits.
        """
        if self.engine.dialect.name == "sqlite":
            time.sleep(STEP_PAUSE_SECONDS)

    def _apply(
        self, conn: Connection, projection: Projection, batch: Sequence[Any], position: int
    ) -> tuple[int | None, int]:
        """Apply a batch in order: (None, all applied) or (the position before a partly applied event, events done).

        A partly applied event ends the transaction: its step commits with the
        position just before it, and the next transaction applies it further.
        """
        for done, notification in enumerate(batch):
            if projection.apply(conn, self.mapper.to_domain_event(notification), notification.id):
                return (batch[done - 1].id if done else position), done
        return None, len(batch)
