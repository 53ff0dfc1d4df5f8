"""Where the ledger lives: one database URL, translated here and nowhere else.

``sqlite:///var/openbook.sqlite`` (the default, created on demand) or
``postgresql://user:password@host:5432/dbname``. The event store (the
eventsourcing library's recorders) and the read models (SQLAlchemy) share the
database. Waits for locks are bounded on both databases, never forever.

On SQLite every connection (the library's and SQLAlchemy's) uses write-ahead
logging (WAL): a reader reads the last committed state while a writer holds
the write lock, so readers never wait for writers and writers wait only for
each other, for at most ``LOCK_TIMEOUT_SECONDS``. Only a transaction that
writes takes the write lock (``BEGIN IMMEDIATE`` on the writers' engine); a
check that may find nothing to do reads first, through ``reading``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy
from sqlalchemy import URL, Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.errors import SettingsError

DEFAULT_URL = "sqlite:///var/openbook.sqlite"
LOCK_TIMEOUT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Database:
    url: URL

    @classmethod
    def from_url(cls, text: str | None) -> Database:
        text = (text or "").strip() or DEFAULT_URL
        try:
            url = make_url(text)
            url.port  # noqa: B018 - a malformed port raises here, not later
        except (ArgumentError, ValueError):
            raise SettingsError(
                f"database URL {_hide_password(text)!r} is not a URL; expected sqlite:///path/to/file.sqlite "
                "or postgresql://user@host:5432/dbname"
            ) from None
        backend = url.get_backend_name()
        if backend == "sqlite":
            if not url.database or url.database == ":memory:" or "mode=memory" in text:
                raise SettingsError(
                    f"database URL {text!r}: an in-memory SQLite database cannot be shared; give a file path"
                )
        elif backend in ("postgresql", "postgres"):
            if not url.database or not url.host:
                raise SettingsError(
                    f"database URL {url.render_as_string(hide_password=True)!r} needs a host and a database name, "
                    "e.g. postgresql://postgres@127.0.0.1:5432/openbook"
                )
            url = url.set(drivername="postgresql+psycopg")
        else:
            raise SettingsError(
                f"database URL {url.render_as_string(hide_password=True)!r}: unsupported database {backend!r}; "
                "use sqlite:/// or postgresql://"
            )
        return cls(url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def __str__(self) -> str:
        """The URL as the user wrote it, password hidden."""
        shown = self.url.set(drivername="postgresql") if not self.is_sqlite else self.url
        return shown.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.database or "")

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for this database."""
        if self.is_sqlite:
            return {
                "PERSISTENCE_MODULE": "ledger.persistence.sqlite:SQLiteLedgerFactory",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": str(LOCK_TIMEOUT_SECONDS),
            }
        return {
            "PERSISTENCE_MODULE": "ledger.persistence.postgres:PostgresLedgerFactory",
            "POSTGRES_DBNAME": self.url.database or "",
            "POSTGRES_HOST": self.url.host or "",
            "POSTGRES_PORT": str(self.url.port or 5432),
            "POSTGRES_USER": self.url.username or "",
            "POSTGRES_PASSWORD": self.url.password or "",
            "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT_SECONDS),
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
            # A pooled connection is checked before use, so the ledger recovers when the database comes back.
            "POSTGRES_PRE_PING": "y",
        }

    def check_reachable(self) -> None:
        """Fail early, in one line that names the URL (password hidden) and what to check."""
        if self.is_sqlite:
            try:
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                sqlite3.connect(self.sqlite_path).close()
            except (OSError, sqlite3.Error) as e:
                raise SettingsError(f"cannot open the SQLite database {self}: {e}; check the path is writable") from None
            return
        try:
            psycopg.connect(self.psycopg_conninfo(), connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise SettingsError(
                f"cannot connect to the database {self}: {reason}; check the server is running and the "
                "host, port, user, password and database name"
            ) from None

    def psycopg_conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.url.host,
            port=self.url.port or 5432,
            user=self.url.username,
            password=self.url.password or None,
            dbname=self.url.database,
        )

    def create_engines(self) -> tuple[Engine, Engine]:
        """Engines for the read models: (readers, writers).

        On SQLite the writers' engine takes the write lock at BEGIN, so a
        projection reads its position and applies events under one lock;
        ``reading`` gives a connection on it that takes none.
        """
        if self.is_sqlite:
            readers = sqlalchemy.create_engine(self.url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS})
            writers = sqlalchemy.create_engine(self.url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS})
            for engine, begin in ((readers, "BEGIN"), (writers, "BEGIN IMMEDIATE")):
                _begin_explicitly(engine, begin)
            return readers, writers
        options = f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}"
        engine = sqlalchemy.create_engine(
            self.url,
            connect_args={"options": options, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            pool_pre_ping=True,
        )
        return engine, engine

    def create_read_model_engine(self, writers: Engine) -> Engine:
        """The engine the projection runner writes the read models with: as ``writers``, but a commit does not
        wait for the disk.

        Everything it writes (read-model rows, positions, errors) is derived
        from the event store and rebuilt from it, and it only ever writes
        what the store has already committed, durably: the store's commits
        still wait for the disk (the library's connection keeps SQLite's
        ``synchronous=FULL``; PostgreSQL's default). A read-model commit
        lost to a power cut therefore leaves the read models behind the
        store, never ahead of it, and the next catch-up re-applies what was
        lost. A process that dies loses nothing either way. After a command
        this halves the syncs to disk: the read models' commit was one, as
        long as the event's own (``bench/README.md``, event append).

        SQLite: a second writers' engine whose connections use
        ``synchronous=NORMAL`` (in WAL mode, a commit is written to the log but
        synced with the next checkpoint or the next FULL commit, the store's);
        the pragma is per connection, so the other users of ``writers``
        (documents, chunks, jobs, users) keep theirs. PostgreSQL:
        ``writers``' pool, with ``synchronous_commit`` off in each read-model
        transaction (``SET LOCAL``), which PostgreSQL documents as safe for
        consistency: it can lose the last commits on a crash, never corrupt.
        """
        if self.is_sqlite:
            engine = sqlalchemy.create_engine(self.url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS})
            _begin_explicitly(engine, "BEGIN IMMEDIATE", synchronous="NORMAL")
            return engine
        engine = writers.execution_options()  # shares the pool; the listener below is this engine's alone

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

        return engine


def reading(engine: Engine) -> Connection:
    """A connection that only reads: on SQLite it begins a plain (deferred) transaction even on the writers' engine.

    Under WAL such a transaction reads one committed snapshot and takes no
    lock, so a check that usually finds nothing to do (are the tables built?
    is a projection behind?) never waits for, nor blocks, a writer.
    """
    return engine.connect().execution_options(**{_READ_ONLY: True})


_READ_ONLY = "openbook_read_only"


def _begin_explicitly(engine: Engine, begin: str, synchronous: str | None = None) -> None:
    """SQLAlchemy's recipe for pysqlite: let SQLAlchemy, not the driver, emit BEGIN; and use WAL (and
    ``synchronous``, if given: see ``Database.create_read_model_engine``)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        use_wal(dbapi_connection)
        if synchronous is not None:
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(_READ_ONLY) else begin)


def use_wal(connection: sqlite3.Connection) -> None:
    """Put the database in WAL mode unless it is already (the mode is kept in the file; switching needs a lock)."""
    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        connection.execute("PRAGMA journal_mode=WAL")


def _hide_password(text: str) -> str:
    head, sep, tail = text.partition("@")
    if sep and ":" in head.split("//", 1)[-1]:
        scheme, _, credentials = head.partition("//")
        user = credentials.split(":", 1)[0]
        return f"{scheme}//{user}:***@{tail}"
    return text
