"""The live chain check as a job: ``openbook verify --database`` in a worker, for a store too large to check in a
request (a million events take minutes).

The check is the standalone verifier's (``ledger.audit.verify.verify_records``) fed the live store's events as
export records, exactly as the CLI does, so the job can never disagree with the file an auditor runs. Only those
who may check the chain may start it (``check_may_verify_history``: any auditor of an audit body, since the report
is pass or fail, positions and hashes, no payload; checked at enqueue and again when it runs). It
records nothing, so running it again after a worker died is harmless: the kind is resumable. Its result is the
verifier's report (``Report.as_json``) with its lines for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.envelope import Actor
from ledger.audit import verify as verifier
from ledger.audit.export import export_range, export_records
from ledger.authorisation import check_may_verify_history
from ledger.jobs.kinds import JobKind, Progress
from ledger.jsonable import json_ready

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook
    from ledger.jobs.store import Job
    from ledger.records import Records

NAME = "verify"
STAGE = "checking the chain"


def _check(records: Records, actor: Actor, _args: dict[str, Any]) -> str:
    check_may_verify_history(records, actor)
    return "check the live chain"


def _run(book: Openbook, job: Job, progress: Progress) -> Any:
    check_may_verify_history(book.records, job.actor)
    recorder = book.ledger.recorder
    total = export_range(recorder)
    done = 0

    def covered(positions: int) -> None:
        nonlocal done
        done = min(total, done + positions)
        progress(done, total, STAGE)

    progress(0, total, STAGE)
    report = verifier.verify_records(export_records(recorder, book.ledger.write_engine, progress=covered))
    return json_ready({**report.as_json(), "lines": report.lines()})


VERIFY = JobKind(name=NAME, check=_check, run=_run, resumable=True)
