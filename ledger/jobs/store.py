"""The one place that reads and writes the jobs table: enqueue, the atomic claim, progress and leases, outcomes.

A worker holds a job by a **lease** (its id and an expiry) that it renews while the job runs. Every write a worker
makes is guarded by its lease (``WHERE lease_owner = me AND state = 'running'``), so a worker taken for dead
cannot overwrite what the worker that took the job over reports. The claim is atomic on both databases: on
PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` lets concurrent workers pass each other's candidate; on SQLite
the writers' engine begins with ``BEGIN IMMEDIATE``, so claims run one at a time, and the ``UPDATE ... WHERE
state = 'queued'`` is still checked by its row count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, select, update

from domain.envelope import Actor
from domain.errors import NotFound
from ledger.jobs.table import DONE, FAILED, QUEUED, RUNNING, jobs
from ledger.persistence.database import reading

#: How many jobs a listing shows at most (newest first).
LIST_LIMIT = 200


@dataclass(frozen=True)
class Job:
    """A job as recorded: what was asked, by whom, how far it has got, and how it ended."""

    id: str
    kind: str
    title: str
    actor: Actor
    arguments: dict[str, Any]
    state: str
    done: int
    total: int
    message: str
    result: Any
    error: dict[str, Any] | None  # {"kind", "message", "problems"}: domain.errors' stable kinds
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_owner: str | None
    lease_expires: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        """Whole per cent done, for a progress bar (100 once done, whatever the counts say)."""
        if self.state == DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    def as_json(self) -> dict[str, Any]:
        """The job for people and scripts: everything but its arguments (they may name files on the server)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "user": self.actor.user,
            "organisation": self.actor.organisation,
            "state": self.state,
            "progress": {"done": self.done, "total": self.total, "percent": self.percent, "message": self.message},
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


class JobStore:
    """Jobs in the database the ledger uses, written through its writers' engine and read through its readers'."""

    def __init__(self, write_engine: Engine, read_engine: Engine):
        self.write_engine = write_engine
        self.read_engine = read_engine

    # -- asking --------------------------------------------------------------------------------

    def enqueue(self, kind: str, actor: Actor, arguments: dict[str, Any], title: str) -> str:
        """Record a job, queued; its id."""
        job_id = str(uuid4())
        with self.write_engine.begin() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id, kind=kind, title=title[:200], actor_user=actor.user,
                    actor_organisation=actor.organisation, arguments=json.dumps(arguments, sort_keys=True),
                    state=QUEUED, progress_done=0, progress_total=0, progress_message="queued", attempts=0,
                    created_at=_now(),
                )
            )  # fmt: skip
        return job_id

    # -- a worker's side -----------------------------------------------------------------------

    def claim(self, worker_id: str, lease: timedelta) -> Job | None:
        """The oldest queued job, now running under ``worker_id``'s lease; None when nothing is queued.

        Two workers never get the same job: the candidate is locked (PostgreSQL) or the database is (SQLite), and
        the update only takes a job still queued. It reads first, so a worker finding nothing to do (every
        second, when idle) takes no write lock.
        """
        with reading(self.read_engine) as conn:
            if conn.execute(select(jobs.c.id).where(jobs.c.state == QUEUED).limit(1)).first() is None:
                return None
        while True:
            with self.write_engine.begin() as conn:
                found = conn.execute(
                    select(jobs.c.id)
                    .where(jobs.c.state == QUEUED)
                    .order_by(jobs.c.created_at, jobs.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar_one_or_none()
                if found is None:
                    return None
                now = _now()
                taken = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == found, jobs.c.state == QUEUED)
                    .values(
                        state=RUNNING, lease_owner=worker_id, lease_expires=now + lease, started_at=now,
                        attempts=jobs.c.attempts + 1, progress_message="started",
                    )
                ).rowcount  # fmt: skip
            if taken == 1:
                return self.get(found)
            # another worker took it between the select and the update (not possible under either lock): try the next

    def report_progress(
        self, job_id: str, worker_id: str, done: int, total: int, message: str, lease: timedelta
    ) -> bool:
        """Record how far the job has got and renew the lease; False if this worker no longer holds the job."""
        return self._as_holder(
            job_id, worker_id,
            progress_done=done, progress_total=total, progress_message=message[:200], lease_expires=_now() + lease,
        )  # fmt: skip

    def finish(self, job_id: str, worker_id: str, result: Any) -> bool:
        """The job is done with ``result`` (JSON-ready); False if this worker no longer held it."""
        return self._as_holder(
            job_id, worker_id,
            state=DONE, result=json.dumps(result), finished_at=_now(), lease_owner=None, lease_expires=None,
            progress_message="done",
        )  # fmt: skip

    def fail(self, job_id: str, worker_id: str, error: dict[str, Any]) -> bool:
        """The job failed (``error``: kind, message, problems); False if this worker no longer held it."""
        return self._as_holder(job_id, worker_id, **_failed(error))

    def release(self, job_id: str, worker_id: str, message: str) -> bool:
        """Queue a job this worker holds again, at once (the worker is stopping); False if it no longer held it."""
        return self._as_holder(
            job_id, worker_id, state=QUEUED, lease_owner=None, lease_expires=None, progress_message=message[:200]
        )

    def _as_holder(self, job_id: str, worker_id: str, **values: Any) -> bool:
        with self.write_engine.begin() as conn:
            changed = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == worker_id, jobs.c.state == RUNNING)
                .values(**values)
            ).rowcount
        return changed == 1

    # -- workers that died -------------------------------------------------------------------

    def expired(self) -> list[Job]:
        """Running jobs whose worker stopped renewing its lease: it died, or its process was restarted."""
        query = select(jobs).where(jobs.c.state == RUNNING, jobs.c.lease_expires < _now())
        with reading(self.read_engine) as conn:
            return [_job(row) for row in conn.execute(query).mappings()]

    def requeue_expired(self, job_id: str, message: str) -> bool:
        """Queue a job whose lease expired again (it will be claimed afresh); False if it was not expired."""
        return self._if_expired(
            job_id, state=QUEUED, lease_owner=None, lease_expires=None, progress_message=message[:200]
        )

    def fail_expired(self, job_id: str, error: dict[str, Any]) -> bool:
        """Mark a job whose lease expired as failed; False if it was not expired."""
        return self._if_expired(job_id, **_failed(error))

    def _if_expired(self, job_id: str, **values: Any) -> bool:
        with self.write_engine.begin() as conn:
            changed = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state == RUNNING, jobs.c.lease_expires < _now())
                .values(**values)
            ).rowcount
        return changed == 1

    # -- reading ------------------------------------------------------------------------------

    def get(self, job_id: str, organisation: str | None = None, *, everyone: bool = True) -> Job:
        """One job; NotFound if there is none, or (``everyone=False``) it is not ``organisation``'s."""
        query = select(jobs).where(jobs.c.id == job_id)
        if not everyone:
            query = query.where(jobs.c.actor_organisation == organisation)
        with reading(self.read_engine) as conn:
            row = conn.execute(query).mappings().one_or_none()
        if row is None:
            raise NotFound(f"job {job_id} not found")
        return _job(row)

    def list_for(
        self, organisation: str | None = None, *, everyone: bool = False, state: str | None = None,
        kind: str | None = None, limit: int | None = LIST_LIMIT,
    ) -> list[Job]:  # fmt: skip
        """Jobs newest first: ``organisation``'s (its users asked for them), or with ``everyone`` every job; of one
        ``kind`` if given; ``limit=None`` for all of them (a page shows the latest, a safety check needs all)."""
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id)
        if limit is not None:
            query = query.limit(limit)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        if not everyone:
            query = query.where(jobs.c.actor_organisation == organisation)
        if state is not None:
            query = query.where(jobs.c.state == state)
        with reading(self.read_engine) as conn:
            return [_job(row) for row in conn.execute(query).mappings()]


def _failed(error: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": FAILED,
        "error_kind": error["kind"],
        "error_message": error["message"],
        "error_problems": json.dumps(list(error.get("problems") or [error["message"]])),
        "finished_at": _now(),
        "lease_owner": None,
        "lease_expires": None,
        "progress_message": "failed",
    }


def _job(row: Any) -> Job:
    error = None
    if row["error_kind"] is not None:
        error = {
            "kind": row["error_kind"],
            "message": row["error_message"],
            "problems": json.loads(row["error_problems"] or "[]"),
        }
    return Job(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        actor=Actor(row["actor_user"], row["actor_organisation"]),
        arguments=json.loads(row["arguments"]),
        state=row["state"],
        done=row["progress_done"],
        total=row["progress_total"],
        message=row["progress_message"],
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=error,
        attempts=row["attempts"],
        created_at=_aware(row["created_at"]),
        started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]),
        lease_owner=row["lease_owner"],
        lease_expires=_aware(row["lease_expires"]),
    )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None
