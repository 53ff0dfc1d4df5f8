"""The projection runner: catch up, or rebuild from scratch, in tracked batches.

For each projection, a batch is one transaction: lock the projection's
position row, read the next events after it, apply them, move the position,
commit. Two runners (two processes) on one projection serialise on that row,
so an event is applied exactly once whatever crashes or races happen. An
event too large for one short transaction is applied in steps
(``Projection.apply`` says there is more to do): each step commits with the
position still before the event, and the next transaction carries on.

An event a projection cannot apply (a poison event: its handler raises)
stops that projection only, just before the event, with the failure kept in
``projection_errors``; the other projections carry on, and each later
catch-up tries the event again, so a fixed bug or a passing fault clears it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError

from domain.errors import Unavailable
from ledger import faults
from ledger.persistence import SCHEMA_LOCK_KEY
from ledger.persistence.database import reading
from ledger.persistence.scratch import Scratch, clear_leftovers, scratch_beside
from ledger.projections.base import Projection
from ledger.projections.batching import BatchedWrites
from ledger.projections.switch import replace_rows
from ledger.projections.tracking import metadata, positions

BATCH_SIZE = 500
#: SQLite's longest wait between two tries of a writer waiting for the lock (its default busy handler's).
STEP_PAUSE_SECONDS = 0.1
#: How many times a rebuild catches its copy up and tries to switch while live read models keep moving past it.
SWITCH_ATTEMPTS = 5
#: How much of a failure's text is kept: enough to read, bounded for a statement quoting a huge batch.
ERROR_TEXT_LIMIT = 2_000

logger = logging.getLogger(__name__)
#: Where a read model's stopping is logged: a command's own note says it already (the CLI quiets this one).
stopped_logger = logging.getLogger(f"{__name__}.stopped")

#: The fingerprint (``Projection.fingerprint``) each projection's tables were built with.
schemas = Table(
    "projection_schemas",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)

#: Why a projection stopped: the event it could not apply and the error, until it applies (one row per projection).
errors = Table(
    "projection_errors",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("topic", Text, nullable=False),
    Column("kind", Text, nullable=False),  # the exception's class: safe to show anyone
    Column("message", Text, nullable=False),  # its text, which may quote the event's data
    Column("failed_at", Text, nullable=False),  # when it first failed there: ISO 8601, UTC
)

Progress = Callable[[str, int, int], None]  # (projection name, position reached, head)


#: The statements of a catch-up after a command, built once: SQLAlchemy caches each compiled form under one key,
#: where one built per catch-up was built, keyed and compiled each time (about a tenth of a command's catch-up).
_POSITIONS_OF = select(positions.c.name, positions.c.position).where(
    positions.c.name.in_(bindparam("names", expanding=True))
)
_LOCK_POSITIONS_OF = _POSITIONS_OF.order_by(positions.c.name).with_for_update()
_MOVE_POSITIONS = (
    update(positions).where(positions.c.name.in_(bindparam("names", expanding=True))).values(position=bindparam("head"))
)
_CLEAR_ERRORS = delete(errors).where(
    errors.c.name.in_(bindparam("names", expanding=True)), errors.c.position <= bindparam("head")
)


class ProjectionRunner:
    def __init__(
        self,
        engine: Engine,
        recorder: Any,
        mapper: Any,
        projections: Sequence[Projection] = (),
        *,
        reader: Engine | None = None,
    ):
        self.engine = engine
        #: Where positions and errors are read from (the readers' engine: showing them never waits for a writer).
        self.reader = reader or engine
        self.recorder = recorder
        self.mapper = mapper
        self.projections: dict[str, Projection] = {}
        self.follow(*projections)
        #: New instances of the projections followed, for a rebuild (``ledger.bootstrap`` gives ones that read
        #: what they need from the live database, whatever connection they are handed).
        self.fresh: Callable[[], Sequence[Projection]] = lambda: list(self.projections.values())
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
            errors.create(conn, checkfirst=True)
            built = dict(conn.execute(select(schemas.c.name, schemas.c.fingerprint)).all())
            present = set(inspect(conn).get_table_names())
            for projection in self.projections.values():
                wanted = projection.fingerprint(conn.dialect)
                ddl = projection.ddl(conn.dialect)
                if built.get(projection.name) == wanted:
                    _create(conn, [(table, made) for table, made in ddl if table.name not in present])
                    continue
                for table, _made in reversed(ddl):
                    if table.name in present:
                        table.drop(conn)
                _create(conn, ddl)
                self._lock_position(conn, projection)
                conn.execute(update(positions).where(positions.c.name == projection.name).values(position=0))
                conn.execute(delete(schemas).where(schemas.c.name == projection.name))
                conn.execute(insert(schemas).values(name=projection.name, fingerprint=wanted))
                rebuilt.append(projection.name)
        return rebuilt

    def _built_as_defined(self, conn: Connection) -> bool:
        """Whether every table the runner and its projections need exists, built from the code's definition."""
        present = set(inspect(conn).get_table_names())
        if not {positions.name, schemas.name, errors.name} <= present:
            return False
        built = dict(conn.execute(select(schemas.c.name, schemas.c.fingerprint)).all())
        return all(
            built.get(p.name) == p.fingerprint(conn.dialect) and {t.name for t in p.stored_tables} <= present
            for p in self.projections.values()
        )

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def positions(self) -> dict[str, int]:
        with self.reader.connect() as conn:
            rows = dict(conn.execute(select(positions.c.name, positions.c.position)).all())
        return {name: rows.get(name, 0) for name in self.projections}

    def status(self) -> list[dict[str, Any]]:
        """Each projection followed: the position it has applied, the head, how far behind it is, and why if stopped.

        ``error`` is None, or the event it could not apply (``position``,
        ``topic``) with the exception's ``kind``, its ``message`` and when
        (``failed_at``).
        """
        head = self.head()
        with self.reader.connect() as conn:
            reached = dict(conn.execute(select(positions.c.name, positions.c.position)).all())
            stopped = {row.name: row for row in conn.execute(select(errors))}
        return [
            {
                "name": name,
                "position": reached.get(name, 0),
                "head": head,
                "lag": max(head - reached.get(name, 0), 0),
                "error": _error_json(stopped[name]) if name in stopped else None,
            }
            for name in self.projections
        ]

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event not yet applied; returns how many events were applied.

        A projection that cannot apply an event stops before it (see
        ``status``) and the others carry on. Any other failure (a lock wait
        that timed out, a lost connection) is raised: nothing of the failing
        batch was applied, and the next catch-up starts from there. Only the
        projections behind the head take the write lock.
        """
        head = self.head()
        reached = self.positions()
        behind = [p for p in self.projections.values() if reached[p.name] < head]
        if behind and head - min(reached[p.name] for p in behind) <= BATCH_SIZE:
            applied, behind = self._catch_up_together(behind, reached, head, progress)
        else:
            applied = 0
        return applied + sum(self._catch_up(p, head, progress) for p in behind)

    def _catch_up_together(
        self, behind: Sequence[Projection], reached: dict[str, int], head: int, progress: Progress | None
    ) -> tuple[int, list[Projection]]:
        """Apply a few events (a batch or less: what a command records) to every projection in one transaction.

        After a command each of the nine read models is behind by its events,
        most of them by none of their topics. One transaction each was a commit,
        and on SQLite a sync to disk, each: most of a command's time. Here the
        events since the furthest behind are read once, and each projection
        applies its own inside a savepoint, so one that cannot apply an event
        rolls back alone. Returns how many events were applied, and the
        projections left to the ordinary path (``_catch_up``): one that failed
        (which records why), or stopped part way through a large event.
        """
        start = min(reached[p.name] for p in behind)
        since = self.recorder.select_notifications(start=start, limit=BATCH_SIZE, stop=head, inclusive_of_start=False)
        applied, left, moved = 0, [], []
        partly_applied = False
        with self.engine.begin() as conn:
            at = self._lock_positions(conn, behind)
            for projection in behind:
                position = at[projection.name]
                if position >= head:
                    continue
                if position < start:  # set back since it was read (a rebuild): more to apply than was read
                    left.append(projection)
                    continue
                topics = set(projection.topics)
                mine = [n for n in since if n.id > position and n.topic in topics]
                if mine:
                    try:
                        with conn.begin_nested():
                            partly, count = self._apply_batch(conn, projection, mine, position)
                    except _NotApplied:
                        left.append(projection)
                        continue
                    applied += count
                    if partly is not None:
                        conn.execute(
                            update(positions).where(positions.c.name == projection.name).values(position=partly)
                        )
                        left.append(projection)
                        partly_applied = True
                        continue
                moved.append(projection.name)
            if moved:
                conn.execute(_MOVE_POSITIONS, {"names": moved, "head": head})
                conn.execute(_CLEAR_ERRORS, {"names": moved, "head": head})
            self.before_commit(conn)
        if progress:
            for name in moved:
                progress(name, head, head)
        if partly_applied:
            self._let_others_write()
        return applied, left

    def replay(self, progress: Progress | None = None) -> int:
        """Apply every event not yet applied, each batch read and each event decoded once for every projection.

        For read models that start from nothing (a rebuild's copies), where
        ``catch_up`` would read and decode the whole history once per
        projection and send each row a handler writes as its own statement.
        Here each batch of events is read once and each event decoded once;
        every projection behind applies its events in one transaction, each in
        a savepoint, with its inserts gathered into one ``executemany`` per
        table (``ledger.projections.batching``). A projection that fails there
        (an event it cannot apply, or a gathered insert), or that applies a
        large event only in part, has its savepoint rolled back and is left to
        ``catch_up``, which goes on from its position one statement at a time
        as ever: it stops that projection before the event it cannot apply and
        records why. Returns how many events were applied.
        """
        head = self.head()
        reached = self.positions()
        group = [p for p in self.projections.values() if reached[p.name] < head]
        applied, left = 0, []
        while group:
            start = min(reached[p.name] for p in group)
            topics = sorted({topic for p in group for topic in p.topics})
            batch = self.recorder.select_notifications(
                start=start, limit=BATCH_SIZE, stop=head, topics=topics, inclusive_of_start=False
            )
            end = batch[-1].id if len(batch) == BATCH_SIZE else head
            decoded: dict[int, Any] = {}
            moved, ahead = [], []
            with self.engine.begin() as conn:
                at = self._lock_positions(conn, group)
                for projection in group:
                    position = at[projection.name]
                    if position < start:  # set back since it was read: more to apply than was read
                        left.append(projection)
                        continue
                    if position >= end:  # moved on since it was read: nothing of this batch to apply
                        reached[projection.name] = position
                        ahead.append(projection)
                        continue
                    try:
                        with conn.begin_nested():
                            applied += self._replay_batch(conn, projection, batch, position, decoded)
                    except (OperationalError, InterfaceError):  # the database, not the events: raised as ever
                        raise
                    except Exception:  # noqa: BLE001 - the ordinary path applies these events again and says why
                        left.append(projection)
                        continue
                    moved.append(projection)
                names = [p.name for p in moved]
                if names:
                    conn.execute(update(positions).where(positions.c.name.in_(names)).values(position=end))
                    conn.execute(delete(errors).where(errors.c.name.in_(names), errors.c.position <= end))
                self.before_commit(conn)
            if progress:
                for name in names:
                    progress(name, end, head)
            reached.update(dict.fromkeys(names, end))
            group = [p for p in (*moved, *ahead) if reached[p.name] < head]
        return applied + sum(self._catch_up(p, head, progress) for p in left)

    def _replay_batch(
        self, conn: Connection, projection: Projection, batch: Sequence[Any], position: int, decoded: dict[int, Any]
    ) -> int:
        """Apply the projection's events of ``batch`` after ``position``, its inserts gathered; how many it applied.

        Raises whatever stops it (``_PartlyApplied`` for a large event applied
        in part): the caller's savepoint then undoes all of it.
        """
        writes: Any = BatchedWrites(conn)
        topics = set(projection.topics)
        done = 0
        for notification in batch:
            if notification.id <= position or notification.topic not in topics:
                continue
            event = decoded.get(notification.id)
            if event is None:
                event = decoded[notification.id] = self.mapper.to_domain_event(notification)
            if projection.apply(projection.writes(writes, notification.id), event, notification.id):
                raise _PartlyApplied(notification.id)
            done += 1
        writes.flush()
        return done

    def catch_up_to(self, stops: dict[str, int], progress: Progress | None = None) -> int:
        """Apply each named projection's events up to the position given for it (not beyond, even if the head is).

        For a replay matched to another runner's positions (the read-model
        check replays into scratch tables exactly as far as the live ones have
        got). Returns how many events were applied.
        """
        return sum(self._catch_up(self.projections[name], stop, progress) for name, stop in stops.items())

    def bring_up_to_date(self, *names: str, purpose: str) -> None:
        """Catch up the named read models before a command computes from them, or refuse it with Unavailable.

        For a command that reads a read model before it records (corrections
        compare with the visits recorded so far): figures from a read model
        that is behind would be wrong, so the command records nothing.
        """
        head = self.head()
        try:
            for name in names:
                self._catch_up(self.projections[name], head, None)
        except Exception as e:  # noqa: BLE001 - whatever stopped it, the command must not go ahead
            raise Unavailable(
                f"{purpose}: the {', '.join(names)} read model could not catch up ({describe(e)}); "
                "nothing was recorded — try again"
            ) from e
        for row in self.status():
            if row["name"] in names and row["position"] < head:
                error = row["error"]
                why = f"event {error['position']} failed: {error['kind']}" if error else f"the head is {head:,}"
                raise Unavailable(
                    f"{purpose}: the {row['name']} read model is stopped at position {row['position']:,} "
                    f"({why}); nothing was recorded — see `openbook projections status`"
                )

    def keep_up(self, stop: threading.Event, interval: float, applied: Callable[[int], None] | None = None) -> None:
        """Catch up now and every ``interval`` seconds until ``stop`` is set (``projections follow``, ``serve``).

        A catch-up that fails is logged and tried again at the next look, so a
        follower outlives a lock timeout or a database restart.
        """
        while True:
            try:
                count = self.catch_up()
            except Exception as e:  # noqa: BLE001 - a follower keeps following
                logger.warning("read models could not catch up (trying again in %ss): %s", interval, describe(e))
            else:
                if count and applied:
                    applied(count)
            if stop.wait(interval):
                return

    def rebuild(self, names: Sequence[str] | None = None, progress: Progress | None = None) -> int:
        """Replay the whole history into new tables beside the live ones, then switch to them in one transaction.

        The named projections (default all) are built afresh (``fresh``) in
        a scratch place (``ledger.persistence.scratch``) while the live tables
        keep serving readers and commands keep recording and catching up as
        usual. The scratch tables then catch up what was recorded meanwhile,
        and one transaction on the live database locks their position rows (so
        no live catch-up moves them) and replaces every live row, the
        ``__history`` tables included, with the rebuilt rows, and the positions
        and errors with the rebuilt ones: a reader sees the old read models or
        the new, never a mix. If a live read model has meanwhile applied more
        than its copy, nothing is switched: the copy catches up again and the
        switch is tried again, so no reader sees a position go back. Whatever
        is recorded after the switch the live catch-ups apply from the rebuilt
        positions, as for any read model behind. Returns how many events were
        replayed.
        """
        chosen = [self.projections[n].name for n in (names or self.projections)]
        rebuilt = [p for p in self.fresh() if p.name in chosen]
        self.clear_leftover_scratch()
        with scratch_beside(self.engine, "openbook_rebuild") as scratch:
            runner = ProjectionRunner(scratch.engine, self.recorder, self.mapper, rebuilt)
            runner.create_tables()
            applied = runner.replay(progress)  # the long part: the live tables are untouched
            faults.fault_point("projections-rebuild.before-switch")
            for _attempt in range(SWITCH_ATTEMPTS):
                applied += runner.catch_up(progress)  # what was recorded meanwhile
                reached = runner.positions()
                with reading(scratch.engine) as scratch_conn:
                    stopped = [row._asdict() for row in scratch_conn.execute(select(errors))]
                try:
                    self._switch(scratch, rebuilt, reached, stopped)
                except _MovedOn:  # a live read model got further meanwhile: catch up to it, never switch back
                    continue
                return applied
        raise Unavailable(
            f"the read models kept moving past the rebuilt ones ({SWITCH_ATTEMPTS} tries); nothing was switched — "
            "try again when fewer commands are recorded"
        )

    def clear_leftover_scratch(self) -> list[str]:
        """Remove the scratch tables of rebuilds (and read-model checks) that were killed, never one running
        (``ledger.persistence.scratch.clear_leftovers``); their names, logged."""
        cleared = clear_leftovers(self.engine)
        for name in cleared:
            logger.warning("removed %s, the scratch tables of a rebuild or read-model check that was killed", name)
        return cleared

    def _switch(
        self, scratch: Scratch, rebuilt: Sequence[Projection], reached: dict[str, int], stopped: list[dict[str, Any]]
    ) -> None:
        """In one transaction: the live rows, positions and errors of ``rebuilt`` replaced by the scratch ones.

        Raises ``_MovedOn``, switching nothing, when a live read model has
        applied more than its rebuilt copy (a command recorded and caught up
        since the copy's last catch-up): readers would see it go back.
        """
        halted = {row["name"] for row in stopped}
        with self._switching(scratch) as (conn, live, built):
            for projection in rebuilt:  # no live catch-up of these moves until the switch commits
                at = self._lock_position(conn, projection)
                if at > reached[projection.name] and projection.name not in halted:
                    raise _MovedOn
            replace_rows(conn, live, built, [table for p in rebuilt for table in p.stored_tables])
            for name, position in reached.items():
                conn.execute(update(positions).where(positions.c.name == name).values(position=position))
            conn.execute(delete(errors).where(errors.c.name.in_(list(reached))))
            if stopped:
                conn.execute(insert(errors), stopped)

    @contextmanager
    def _switching(self, scratch: Scratch) -> Iterator[tuple[Connection, str, str]]:
        """A transaction on the live database that also reads the scratch tables: (it, live schema, scratch schema).

        On SQLite the scratch file is attached (outside the transaction, as
        SQLite requires) and the transaction holds the write lock of both files
        from its BEGIN, so nothing else commits until the switch does.
        """
        if scratch.sqlite_path is not None:
            with self.engine.connect() as conn:
                raw: Any = conn.connection.dbapi_connection
                raw.execute("ATTACH DATABASE ? AS openbook_rebuilt", (str(scratch.sqlite_path),))
                try:
                    with conn.begin():
                        yield conn, '"main"', '"openbook_rebuilt"'
                finally:
                    raw.execute("DETACH DATABASE openbook_rebuilt")
            return
        with self.engine.begin() as conn:
            live = conn.execute(text("SELECT current_schema()")).scalar_one()
            yield conn, f'"{live}"', f'"{scratch.schema}"'

    def _lock_positions(self, conn: Connection, projections: Sequence[Projection]) -> dict[str, int]:
        """Lock and read these projections' positions in one statement (creating any row missing)."""
        names = sorted(p.name for p in projections)
        # in name order, as every runner takes them: no deadlock; SQLite's writers hold the database lock from BEGIN
        query = _POSITIONS_OF if conn.dialect.name == "sqlite" else _LOCK_POSITIONS_OF
        found = dict(conn.execute(query, {"names": names}).all())
        for projection in projections:
            if projection.name not in found:
                found[projection.name] = self._lock_position(conn, projection)
        return found

    def _lock_position(self, conn: Connection, projection: Projection) -> int:
        """Create the projection's position row if need be, then lock and read it."""
        dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(dialect_insert(positions).values(name=projection.name, position=0).on_conflict_do_nothing())
        query = select(positions.c.position).where(positions.c.name == projection.name)
        if conn.dialect.name != "sqlite":  # SQLite's writers hold the database lock from BEGIN
            query = query.with_for_update()
        return conn.execute(query).scalar_one()

    def _catch_up(self, projection: Projection, head: int, progress: Progress | None) -> int:
        """Apply the projection's events up to ``head``, or up to just before one it cannot apply."""
        applied = 0
        topics = projection.topics
        stop = head
        while True:
            try:
                with self.engine.begin() as conn:
                    position = self._lock_position(conn, projection)
                    if position >= stop:
                        return applied
                    batch = self.recorder.select_notifications(
                        start=position, limit=BATCH_SIZE, stop=stop, topics=topics, inclusive_of_start=False
                    )
                    reached, done = self._apply_batch(conn, projection, batch, position)
                    partly = reached is not None
                    if not partly:
                        reached = batch[-1].id if len(batch) == BATCH_SIZE else stop
                    conn.execute(update(positions).where(positions.c.name == projection.name).values(position=reached))
                    conn.execute(delete(errors).where(errors.c.name == projection.name, errors.c.position <= reached))
                    self.before_commit(conn)
            except _NotApplied as failure:  # the batch is rolled back; apply what comes before the event, then stop
                self._record(projection, failure)
                stop = failure.position - 1
                continue
            applied += done
            if progress:
                progress(projection.name, reached, head)
            if partly:
                self._let_others_write()
            elif reached >= stop:  # done: no need of another transaction to find so
                return applied

    def _let_others_write(self) -> None:
        """Leave SQLite's write lock free for a moment between the steps of one event.

        SQLite keeps no queue for its write lock: a writer waiting for it polls,
        at most ``STEP_PAUSE_SECONDS`` apart, so a runner that committed a step
        and began the next at once could starve it for the whole event. With
        this pause it waits at most about one step. PostgreSQL queues lock waits.
        """
        if self.engine.dialect.name == "sqlite":
            time.sleep(STEP_PAUSE_SECONDS)

    def _apply_batch(
        self, conn: Connection, projection: Projection, batch: Sequence[Any], position: int
    ) -> tuple[int | None, int]:
        """Apply a batch in order: (None, all applied) or (the position before a partly applied event, events done).

        A partly applied event ends the transaction: its step commits with the
        position just before it, and the next transaction applies it further.
        """
        for done, notification in enumerate(batch):
            if self._apply(conn, projection, notification):
                return (batch[done - 1].id if done else position), done
        return None, len(batch)

    def _apply(self, conn: Connection, projection: Projection, notification: Any) -> bool:
        """Apply one event (True: partly, more to do); a handler's failure is ``_NotApplied``."""
        try:
            writes = projection.writes(conn, notification.id)
            return projection.apply(writes, self.mapper.to_domain_event(notification), notification.id)
        except (OperationalError, InterfaceError):  # the database, not the event: a lock wait, a lost connection
            raise
        except Exception as e:  # noqa: BLE001 - any other failure of a handler stops this projection only
            raise _NotApplied(notification.id, notification.topic, e) from e

    def _record(self, projection: Projection, failure: _NotApplied) -> None:
        """Keep why the projection stopped, and log it once for whoever runs the ledger.

        The same failure again (each catch-up retries the event) keeps when it
        first happened and is not logged again, so a follower does not flood its log.
        """
        row = {
            "name": projection.name,
            "position": failure.position,
            "topic": failure.topic,
            "kind": type(failure.error).__name__,
            "message": str(failure.error)[:ERROR_TEXT_LIMIT],
            "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self.engine.begin() as conn:
            known = conn.execute(
                select(errors.c.position, errors.c.kind, errors.c.message).where(errors.c.name == projection.name)
            ).first()
            if known is not None and tuple(known) == (row["position"], row["kind"], row["message"]):
                return
            dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
            upsert = dialect_insert(errors).values(**row)
            conn.execute(upsert.on_conflict_do_update(index_elements=[errors.c.name], set_=row))
        stopped_logger.warning(
            "read model %s stopped before event %s (%s): %s",
            projection.name,
            failure.position,
            failure.topic,
            describe(failure.error),
        )


def _create(conn: Connection, ddl: Sequence[tuple[Table, Sequence[str]]]) -> None:
    """Create these tables and their indexes from their DDL as compiled once (``Projection.ddl``)."""
    for _table, statements in ddl:
        for statement in statements:
            conn.exec_driver_sql(statement)


class _MovedOn(Exception):
    """A live read model applied more than its rebuilt copy before the switch: catch the copy up and try again."""


class _PartlyApplied(Exception):
    """A replay met a large event its projection applies in steps: the ordinary catch-up takes it from there."""


class _NotApplied(Exception):
    """A projection could not apply the event at ``position``: raised out of its batch, so the batch rolls back."""

    def __init__(self, position: int, topic: str, error: Exception):
        super().__init__(position, topic, error)
        self.position, self.topic, self.error = position, topic, error


def describe(error: BaseException) -> str:
    """An exception in one line: its class and the first line of its text."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _error_json(row: Any) -> dict[str, Any]:
    return {
        "position": row.position,
        "topic": row.topic,
        "kind": row.kind,
        "message": row.message,
        "failed_at": row.failed_at,
    }
