"""An export of the history as a job: ``openbook export`` in a worker, for an auditor asking from a page.

A range of a million events takes minutes to read and write, so the page queues this and shows its progress; the
file is ``ledger.audit.export.write_export``'s, exactly as the CLI writes it (canonical JSON lines, the final
checkpoint signed when a key is configured and only after the chain up to it checks), for the standalone verifier.
Only those who may export the whole history may ask (``check_may_export_history``: an audit body appointed to every
agreement in the ledger; the page asks before it enqueues, the queue's check, which sees no read models, asks the
role, and the run asks again in full, so an appointment ended meanwhile stops it). The
export records nothing, so running it again after a worker died rewrites the same range: the kind is resumable.

The file goes to the path the asker chose (the web: a folder of its own under the instance's exports folder),
written beside it as ``.partial`` first, so a failed or interrupted export never leaves a file that looks whole.
The finished file stays for its download, for ``Settings.export_retention_days`` (7 by default); the job's result
says where, by its name only. Older exports are cleared when the next export is asked for (``clear_expired``): a
full history is hundreds of megabytes, and a file an auditor downloaded long ago is theirs to keep, not the
server's. An export of a job still queued or running is never cleared, however old its folder.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.bounds import MAX_POSITION
from domain.envelope import Actor
from domain.errors import InvalidInput
from ledger.audit.export import export_range, write_export
from ledger.authorisation import check_may_export_history, check_may_verify_history
from ledger.jobs.kinds import JobKind, Progress
from ledger.jobs.table import QUEUED, RUNNING
from ledger.jsonable import json_ready

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook
    from ledger.jobs.store import Job, JobStore
    from ledger.records import Records

logger = logging.getLogger(__name__)

NAME = "export"
STAGE = "exporting events"
FILE_NAME = "openbook-export.jsonl"
#: The folder of one export under the exports folder (``uuid4().hex``): nothing else there is ever cleared.
_EXPORT_FOLDER = re.compile(r"[0-9a-f]{32}")


def arguments(out: Path, start: int | None = None, stop: int | None = None) -> dict[str, Any]:
    """The job's arguments: the file to write and the range (None: from the first event, to the head)."""
    return {"path": str(Path(out).resolve()), "from": start, "to": stop}


def clear_expired(exports: Path, retention: timedelta, store: JobStore, now: float | None = None) -> list[str]:
    """Remove each export under ``exports`` (a folder of its own) last written more than ``retention`` ago, unless
    an export job still queued or running writes there; the names of the folders removed."""
    if not exports.is_dir():
        return []
    active = {
        Path(job.arguments["path"]).parent
        for state in (QUEUED, RUNNING)
        for job in store.list_for(everyone=True, state=state, kind=NAME, limit=None)  # every one, however many
    }
    cutoff = (time.time() if now is None else now) - retention.total_seconds()
    removed = []
    for folder in sorted(exports.iterdir()):
        if not folder.is_dir() or folder.is_symlink() or not _EXPORT_FOLDER.fullmatch(folder.name):
            continue
        if folder.resolve() in active:
            continue
        try:
            written = max(entry.stat().st_mtime for entry in (folder, *folder.iterdir()))
            if written < cutoff:
                shutil.rmtree(folder)
                removed.append(folder.name)
        except OSError as error:  # another process cleared it first, or it cannot be: the next sweep tries again
            logger.warning("export %s not cleared: %s", folder, error)
    return removed


def check_range(start: int | None, stop: int | None) -> None:
    """Positions run from 1 to ``MAX_POSITION``, and the range does not end before it starts."""
    for name, value in (("from", start), ("to", stop)):
        if value is not None and not 1 <= value <= MAX_POSITION:
            raise InvalidInput(f"{name}: {value} is not a position; positions run from 1 to {MAX_POSITION:,}")
    if start is not None and stop is not None and stop < start:
        raise InvalidInput(f"to: {stop} is before from {start}")


def _title(args: dict[str, Any]) -> str:
    start, stop = args.get("from"), args.get("to")
    return f"export the history, positions {start or 1} to {stop if stop is not None else 'the head'}"


def _check(records: Records, actor: Actor, args: dict[str, Any]) -> str:
    check_may_verify_history(records, actor)
    check_range(args.get("from"), args.get("to"))
    return _title(args)


def _run(book: Openbook, job: Job, progress: Progress) -> Any:
    check_may_export_history(book.records, job.actor, book.read_engine)
    args = job.arguments
    start, stop = args.get("from"), args.get("to")
    recorder = book.ledger.recorder
    last = min(stop, export_range(recorder)) if stop is not None else export_range(recorder)
    total, done = max(last - (start or 1) + 1, 0), 0

    def covered(positions: int) -> None:
        nonlocal done
        done = min(total, done + positions)
        progress(done, total, STAGE)

    progress(0, total, STAGE)
    out = Path(args["path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("w", encoding="ascii", newline="\n") as f:
            summary = write_export(
                f, recorder, book.ledger.write_engine, start, stop, progress=covered, key=book.ledger.signing_key
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return json_ready({**summary, "file": out.name, "bytes": out.stat().st_size})


EXPORT = JobKind(name=NAME, check=_check, run=_run, resumable=True)
