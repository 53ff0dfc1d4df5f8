"""The jobs table: one row per job, its state, progress, outcome and lease.

Jobs are operational state, like the chunk store's tables (``ledger/files/chunks.py``): not events, never exported,
hashed into the chain or rebuilt from the history. The ledger's events a job records go through the use cases as
any command's do, so a job that fails has recorded nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)

from ledger.persistence.database import reading

metadata = MetaData()

#: A job's states: queued -> running -> done or failed (running -> queued again when its worker died and the
#: kind may run again).
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("title", String(200), nullable=False),  # what it does, for a list of jobs (never a server path)
    Column("actor_user", String(200), nullable=False),  # who asked for it
    Column("actor_organisation", String(100)),  # None: the operator (system)
    Column("arguments", Text, nullable=False),  # JSON
    Column("state", String(10), nullable=False),
    Column("progress_done", BigInteger, nullable=False, default=0),
    Column("progress_total", BigInteger, nullable=False, default=0),
    Column("progress_message", String(200), nullable=False, default=""),
    Column("result", Text),  # JSON, once done
    Column("error_kind", String(40)),  # one of domain.errors.KINDS, once failed
    Column("error_message", Text),
    Column("error_problems", Text),  # JSON list: every problem, each naming its file, row and field
    Column("attempts", Integer, nullable=False, default=0),  # times a worker has claimed it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("lease_owner", String(100)),  # the worker running it
    Column("lease_expires", DateTime(timezone=True)),  # after this, the worker is taken for dead
    Index("jobs_by_state", "state", "created_at"),
    Index("jobs_by_organisation", "actor_organisation", "created_at"),
)


def create_table(engine: Engine) -> None:
    """The jobs table, if not there yet (``ledger.bootstrap`` calls this when it creates tables).

    Checked with a read first, so opening a ledger takes no write lock.
    """
    with reading(engine) as conn:
        present = set(inspect(conn).get_table_names())
    if jobs.name not in present:
        metadata.create_all(engine, checkfirst=True)
