"""The worker: claims queued jobs one at a time, runs each through its kind's handler, records how it ended.

While a job runs, a heartbeat thread writes its latest progress and renews its lease every ``beat`` seconds; the
handler itself never writes to the jobs table, so reporting progress never waits for (or holds up) the
transaction the handler records in. Before each claim the worker looks for running jobs whose lease expired (a
worker that died, a restarted ``openbook serve``): a resumable kind is queued again (at most ``MAX_ATTEMPTS``
times in all), any other is failed, saying nothing was recorded (the use cases record all or nothing).

``openbook worker`` runs ``Worker.run_forever`` beside gunicorn; ``openbook serve`` starts it as a daemon thread
(``start_worker_thread``). One worker runs one job at a time: run several worker processes for more.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from domain.errors import InvalidInput, OpenbookError, Unavailable
from ledger.jobs.store import Job

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

logger = logging.getLogger(__name__)

#: How long a worker's hold on a job lasts without a heartbeat; a job whose worker died runs again after this.
LEASE_TIME = timedelta(minutes=5)
#: Seconds between heartbeats (progress written, lease renewed).
BEAT_SECONDS = 1.0
#: Times a job is claimed at most: a resumable job interrupted this often is failed rather than queued again.
MAX_ATTEMPTS = 3

INTERRUPTED = "interrupted by a restart; nothing was recorded"


def new_worker_id() -> str:
    """Unique per worker, and readable by an operator: host, process and a random tail."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid4().hex[:8]}"


class Worker:
    def __init__(
        self, book: Openbook, *, worker_id: str | None = None, lease: timedelta = LEASE_TIME,
        beat: float = BEAT_SECONDS,
    ):  # fmt: skip
        self.book = book
        self.jobs = book.jobs
        self.store = book.jobs.store
        self.id = worker_id or new_worker_id()
        self.lease = lease
        self.beat = beat

    def recover(self) -> list[str]:
        """Queue again, or fail, the running jobs whose lease expired; their ids."""
        handled = []
        for job in self.store.expired():
            kind = self.jobs.kinds.get(job.kind)
            if kind is not None and kind.resumable and job.attempts < MAX_ATTEMPTS:
                if self.store.requeue_expired(job.id, "queued again: its worker stopped before it finished"):
                    logger.warning("job %s (%s): its worker %s stopped; queued again", job.id, job.kind, job.lease_owner)
                    handled.append(job.id)
                continue
            why = INTERRUPTED if job.attempts < MAX_ATTEMPTS else f"{INTERRUPTED} ({job.attempts} attempts)"
            if self.store.fail_expired(job.id, _error(Unavailable(why))):
                logger.warning("job %s (%s): its worker %s stopped; failed", job.id, job.kind, job.lease_owner)
                self._ended(job)
                handled.append(job.id)
        return handled

    def run_once(self) -> Job | None:
        """Recover expired jobs, then claim and run the oldest queued one; the job as it ended, or None if none."""
        self.recover()
        job = self.store.claim(self.id, self.lease)
        if job is None:
            return None
        self.run(job)
        return self.store.get(job.id)

    def run(self, job: Job) -> None:
        """Run a claimed job to its end: done with its result, or failed with its error's kind and problems."""
        kind = self.jobs.kinds.get(job.kind)
        if kind is None:
            self.store.fail(job.id, self.id, _error(InvalidInput(f"no kind of job {job.kind!r} in this version")))
            return
        heart = _Heartbeat(self, job)
        heart.start()
        outcome: dict[str, Any]
        try:
            result = kind.run(self.book, job, heart.progress)
            outcome = {"result": result}
        except OpenbookError as e:
            outcome = {"error": _error(e)}
        except Exception as e:  # noqa: BLE001 - a fault in a job must not stop the worker; the use case recorded nothing
            logger.exception("job %s (%s) stopped on an unexpected error", job.id, job.kind)
            outcome = {"error": _error(Unavailable(f"the job stopped on an unexpected error ({type(e).__name__})"))}
        except BaseException:  # the worker is stopping (Ctrl+C, SIGTERM): hand the job on now, not when its lease ends
            heart.stop()
            self._stopped_during(job, kind.resumable)
            raise
        finally:
            heart.stop()
        if "result" in outcome:
            kept = self.store.finish(job.id, self.id, outcome["result"])
        else:
            kept = self.store.fail(job.id, self.id, outcome["error"])
        if not kept:  # taken for dead meanwhile: the worker that took the job over reports it
            logger.warning("job %s: worker %s lost its lease before it finished", job.id, self.id)
            return
        self._ended(job)

    def _stopped_during(self, job: Job, resumable: bool) -> None:
        """The worker was stopped while running ``job``: queue it again if its kind may run again, else fail it."""
        try:
            if resumable and job.attempts < MAX_ATTEMPTS:
                self.store.release(job.id, self.id, "queued again: its worker was stopped before it finished")
            elif self.store.fail(job.id, self.id, _error(Unavailable(INTERRUPTED))):
                self._ended(job)
        except Exception as e:  # noqa: BLE001 - stopping anyway: the lease's expiry will do it instead
            logger.warning("job %s: could not hand it on as the worker stopped: %s", job.id, e)

    def _ended(self, job: Job) -> None:
        kind = self.jobs.kinds.get(job.kind)
        if kind is None:
            return
        try:
            kind.ended(job)
        except OSError as e:
            logger.warning("job %s: could not tidy up after it: %s", job.id, e)

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Run jobs until ``stop`` is set, waiting ``poll`` seconds whenever nothing is queued."""
        logger.info("worker %s started", self.id)
        while not stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # noqa: BLE001 - the database went away for a moment: try again after the poll
                logger.exception("worker %s could not claim a job", self.id)
                ran = None
            if ran is None:
                stop.wait(poll)


class _Heartbeat:
    """Writes a running job's latest progress and renews its lease every beat, on a thread of its own."""

    def __init__(self, worker: Worker, job: Job):
        self.worker, self.job = worker, job
        self._latest: tuple[int, int, str] = (0, 0, "started")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"openbook-job-{job.id[:8]}", daemon=True)

    def progress(self, done: int, total: int, message: str) -> None:
        """The handler's progress: kept in memory; the next beat writes it."""
        self._latest = (done, total, message)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self._write()  # the last figures, so a finished job shows how far it got

    def _loop(self) -> None:
        while not self._stop.wait(self.worker.beat):
            self._write()

    def _write(self) -> None:
        latest = self._latest
        try:
            held = self.worker.store.report_progress(self.job.id, self.worker.id, *latest, self.worker.lease)
        except Exception as e:  # noqa: BLE001 - a busy database delays a beat; the lease outlasts many of them
            logger.info("job %s: progress not written this beat: %s", self.job.id, e)
            return
        if not held:
            logger.warning("job %s: worker %s no longer holds it", self.job.id, self.worker.id)


def _error(e: OpenbookError) -> dict[str, Any]:
    return dict(e.as_json()["error"])  # type: ignore[arg-type]


def start_worker_thread(
    book: Openbook, *, stop: threading.Event | None = None, poll: float = 1.0, lease: timedelta = LEASE_TIME
) -> tuple[threading.Thread, threading.Event]:
    """A worker on a daemon thread of this process (``openbook serve``): the thread and the event that stops it."""
    stop = stop or threading.Event()
    worker = Worker(book, lease=lease)
    thread = threading.Thread(target=worker.run_forever, args=(stop, poll), name="openbook-worker", daemon=True)
    thread.start()
    return thread, stop
