"""What a job may be: each kind's check (at enqueue), its handler (in the worker), and whether it may run again.

A handler is ``run(book, job, progress) -> result``: it does its work through the use cases, as a command from
the job's actor, reports ``progress(done, total, message)`` as it goes, and returns a JSON-ready result; an
``OpenbookError`` it raises is the job's error. A kind is **resumable** when running it a second time after its
worker died records nothing twice (its use case is idempotent): such a job is queued again, any other is failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.envelope import Actor

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook
    from ledger.jobs.store import Job
    from ledger.records import Records

#: ``progress(done, total, message)``: how far a job has got, e.g. (250_000, 1_000_000, "checking rows").
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    #: At enqueue, as the actor: refuses (raises an ``OpenbookError``) or returns the job's title for lists.
    check: Callable[[Records, Actor, dict[str, Any]], str]
    #: In the worker: does the job and returns its result (JSON-ready).
    run: Callable[[Openbook, Job, Progress], Any]
    #: Running it again after its worker died records nothing twice, so an interrupted job is queued again.
    resumable: bool
    #: When the job has ended (done or failed, never when it is queued again): tidy what it was given.
    ended: Callable[[Job], None] = lambda _job: None

