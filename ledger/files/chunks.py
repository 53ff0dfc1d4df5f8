"""The chunk store: content-addressed batches of activity rows, outside the event store.

A chunk's name is the sha256 of its canonical text (``domain.activity.visits.encode_chunk``),
so the same rows always make the same chunk, storing one twice is a no-op, and
a chunk read back is checked against its name: a changed byte is caught, not
used. Bodies are zlib-compressed (level 1: ECM rows are very repetitive, and a
million rows must stage in seconds).

Chunks are staged *before* the event that references them, each in its own
short transaction, by a child process (``ledger/files/chunk_writer.py`` says why not
a thread) so that compressing and writing overlap the checking of the next
rows. An import that fails or is killed leaves only unreferenced chunks:
nothing reads them, and ``delete_unreferenced`` sweeps them.

The sweep must never take a chunk an import still needs, so:
- an import holds a **lease** (``chunk_leases``: one row per chunk it staged,
  with its id and an expiry) that the writer adds each chunk to, and extends,
  in the transaction that stores it; the sweep skips every chunk of a live
  lease and every chunk a recorded event names;
- the import's commit checks, in the transaction that records its event, that
  every chunk it names is there and matches its digest (``check_staged``), so
  an expired lease or a chunk changed by hand refuses the import instead of
  recording an event no read model could apply;
- the sweep and those transactions exclude each other: on SQLite by the
  database write lock, on PostgreSQL by an advisory lock the sweep holds
  exclusively and staging and recording hold shared.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError

from domain.activity.visits import encode_chunk
from domain.errors import IntegrityFailure, Unavailable
from ledger.files.chunk_writer import END, SWEEP_LOCK_KEY, write_frame
from ledger.persistence.database import Database, reading
from ledger.persistence.guards import InTransaction, hold

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

metadata = MetaData()

#: zlib level: 1 compresses ECM rows about 5:1 at several hundred MB/s.
COMPRESSION_LEVEL = 1

activity_chunks = Table(
    "activity_chunks",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the canonical (uncompressed) text
    Column("kind", String(20), nullable=False),  # visits or corrections
    Column("row_count", Integer, nullable=False),
    Column("size", Integer, nullable=False),  # bytes of canonical text
    Column("body", LargeBinary, nullable=False),  # zlib-compressed canonical text
    Column("staged_at", DateTime(timezone=True), nullable=False),
)

#: How long a lease keeps an import's chunks from the sweep after it last wrote or refreshed it.
LEASE_TIME = timedelta(hours=1)

#: Imports in progress: each chunk an import staged, until its lease is released or expires.
chunk_leases = Table(
    "chunk_leases",
    metadata,
    Column("lease", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("import_id", String(36), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


class ChunkIntegrityError(IntegrityFailure):
    """A chunk an event references is missing or does not match its digest: the record was altered."""


class ChunkStore:
    """Reading chunks back (checked), listing and sweeping them; ``ChunkWriter`` stages them."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create_table(self) -> None:
        """The chunk and lease tables, if not there yet (``ledger.bootstrap`` calls this when it creates tables).

        Checked with a read first, so opening a ledger takes no write lock.
        """
        with reading(self.engine) as conn:
            present = set(inspect(conn).get_table_names())
        if not {table.name for table in metadata.sorted_tables} <= present:
            metadata.create_all(self.engine, checkfirst=True)

    def read(self, digest: str, conn: Connection | None = None) -> str:
        """A chunk's canonical text, checked against its digest."""
        query = select(activity_chunks.c.body).where(activity_chunks.c.digest == digest)
        if conn is None:
            with reading(self.engine) as own:
                body = own.execute(query).scalar_one_or_none()
        else:
            body = conn.execute(query).scalar_one_or_none()
        return _checked(digest, body).decode("utf-8")

    def digests(self) -> set[str]:
        with reading(self.engine) as conn:
            return set(conn.execute(select(activity_chunks.c.digest)).scalars())

    def lease(self, import_id: UUID) -> ChunkLease:
        """A new lease for an import about to stage chunks (``ChunkWriter`` adds each chunk to it)."""
        return ChunkLease(self.engine, import_id)

    def delete_unreferenced(self, referenced: Callable[[], Iterable[str]], older_than: timedelta) -> int:
        """Delete chunks staged more than ``older_than`` ago that no live lease holds and no event names.

        ``referenced`` lists the digests recorded events name; it is read while
        the sweep excludes recording, so an import cannot commit between that
        reading and the delete. Expired leases are removed. Returns how many
        chunks were deleted.
        """
        now = datetime.now(timezone.utc)
        cutoff = now - older_than
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY})
            # A write first: on SQLite it takes the database write lock, however the transaction began.
            conn.execute(delete(chunk_leases).where(chunk_leases.c.expires_at <= now))
            keep = set(conn.execute(select(chunk_leases.c.digest)).scalars())
            keep.update(referenced())
            rows = conn.execute(select(activity_chunks.c.digest, activity_chunks.c.staged_at)).all()
            doomed = [d for d, staged in rows if d not in keep and _aware(staged) < cutoff]
            for start in range(0, len(doomed), 500):
                conn.execute(delete(activity_chunks).where(activity_chunks.c.digest.in_(doomed[start : start + 500])))
        return len(doomed)


def check_staged(tx: InTransaction, digests: Iterable[str], file_name: str) -> None:
    """Inside the transaction recording an import: every chunk it names is there and matches its digest.

    On PostgreSQL this first waits out any sweep under way (and keeps the next
    one waiting until the import commits); on SQLite the recording transaction
    already holds the write lock.
    """
    wanted = list(dict.fromkeys(digests))
    hold(tx, SWEEP_LOCK_KEY, shared=True)
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        marks = ", ".join("?" * len(batch))
        found = dict(tx.query(f"SELECT digest, body FROM activity_chunks WHERE digest IN ({marks})", batch))
        for digest in batch:
            try:
                _checked(digest, found.get(digest))
            except ChunkIntegrityError as e:
                raise ChunkIntegrityError(
                    f"{file_name}: {e} (it was deleted or changed while the import ran); "
                    "nothing was recorded — import the file again"
                ) from None


def _checked(digest: str, body: Any) -> bytes:
    """A chunk's canonical text, or ChunkIntegrityError if it is missing or does not match its digest."""
    if body is None:
        raise ChunkIntegrityError(f"activity chunk {digest} is missing from the chunk store")
    data = zlib.decompress(bytes(body))
    if hashlib.sha256(data).hexdigest() != digest:
        raise ChunkIntegrityError(f"activity chunk {digest} does not match its digest: it was altered")
    return data



class LiveChunks(ChunkStore):
    """The live chunk store, whatever connection a replay into scratch tables hands it (they hold no chunks)."""

    def read(self, digest: str, conn: Connection | None = None) -> str:
        return super().read(digest)

class ChunkLease:
    """An import's hold on the chunks it stages: the sweep leaves them alone while the lease is live.

    The writer adds each chunk and extends the expiry as it stores it; the
    import refreshes it before recording and releases it when done (recorded
    or not: a recorded event then keeps its chunks). A killed import's lease
    simply expires.
    """

    def __init__(self, engine: Engine, import_id: UUID):
        self.engine = engine
        self.id = uuid4().hex
        self.import_id = str(import_id)

    def refresh(self) -> None:
        with self.engine.begin() as conn:
            expires = datetime.now(timezone.utc) + LEASE_TIME
            conn.execute(update(chunk_leases).where(chunk_leases.c.lease == self.id).values(expires_at=expires))

    def release(self) -> None:
        """Let the sweep have what the import staged and did not record; never fails a command that was recorded.

        A lease the database is too busy to release now simply expires.
        """
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(chunk_leases).where(chunk_leases.c.lease == self.id))
        except OperationalError:
            pass


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _widen_pipe(stream: Any) -> None:
    """Let a whole chunk sit in the pipe (Linux), so handing it over rarely waits for the child."""
    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if set_pipe_size is None or stream is None:
        return
    try:
        fcntl.fcntl(stream.fileno(), set_pipe_size, 1 << 20)
    except OSError:
        pass  # the system's limit is lower: a smaller pipe only means more, shorter waits


class ChunkStagingError(Unavailable):
    """The chunk writer could not stage a chunk; nothing of the import was recorded."""


class ChunkWriter:
    """Stages chunks through a child process (``ledger.files.chunk_writer``), in submission order.

    The parent encodes each chunk and computes its digest (it needs the digests
    for the event); the child checks, compresses and stores it in parallel.
    The pipe is the queue: when the child falls behind, ``submit`` waits, so
    memory stays bounded by one chunk in each process whatever the file's
    length. A failure in the child is raised here, at ``submit`` or ``finish``.
    """

    def __init__(self, database: Database, lease: ChunkLease):
        config: dict[str, Any]
        if database.is_sqlite:
            config = {"backend": "sqlite", "path": str(database.sqlite_path.resolve()), "timeout": 30}
        else:
            config = {"backend": "postgresql", "conninfo": database.psycopg_conninfo()}
        config.update(
            level=COMPRESSION_LEVEL,
            lease=lease.id,
            import_id=lease.import_id,
            lease_seconds=LEASE_TIME.total_seconds(),
        )
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ledger.files.chunk_writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _widen_pipe(self._process.stdin)
        self._digests: list[tuple[str, str]] = []
        self._send(json.dumps(config).encode())

    def _send(self, *frames: bytes) -> None:
        stdin = self._process.stdin
        try:
            for frame in frames:
                write_frame(stdin, frame)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            raise self._failure() from None

    def _failure(self) -> ChunkStagingError:
        self.abandon()
        out = (self._process.stdout.read() if self._process.stdout else b"").decode(errors="replace").strip()
        err = (self._process.stderr.read() if self._process.stderr else b"").decode(errors="replace").strip()
        why = out or (err.splitlines()[-1] if err else f"exit status {self._process.returncode}")
        return ChunkStagingError(f"activity chunks could not be staged ({why}); nothing was recorded")

    def submit(self, kind: str, lines: list[str]) -> str:
        """Stage one chunk; returns its digest (the chunk may still be on its way to the database)."""
        data = encode_chunk(kind, lines).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        self._send(json.dumps([digest, kind, len(lines)]).encode(), data)
        self._digests.append((kind, digest))
        return digest

    def finish(self) -> list[tuple[str, str]]:
        """Wait until every chunk is stored; (kind, digest) in submission order."""
        self._send(END)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        answer = self._process.stdout.read().decode(errors="replace").strip()
        self._process.wait()
        if self._process.returncode != 0 or not answer.startswith("ok"):
            raise self._failure()
        return list(self._digests)

    def abandon(self) -> None:
        """Stop without using what was staged (it stays unreferenced until swept)."""
        if self._process.stdin and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
