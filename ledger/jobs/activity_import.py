"""The activity import as a job: a provider's or the council's file of up to a million visits, checked and
recorded by ``ActivityUseCases.import_activity`` exactly as ``openbook activity import`` does, in a worker.

The import is all or nothing already (it stages the file, then records one event, or nothing), and it is
idempotent: its id is made from the agreement and the file's sha256, so running it again after a worker died
either records it or finds it recorded and says so. So the kind is resumable. The file is the upload the web
(or ``openbook activity import --background``) kept under the uploads folder; it is removed when the job ends.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from uuid import uuid4

from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput
from ledger.authorisation import authorise
from ledger.jobs.kinds import JobKind, Progress

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook
    from ledger.jobs.store import Job
    from ledger.records import Records

NAME = "activity-import"
STAGES = {"checking": "checking rows", "pricing": "pricing visits"}


def arguments(
    agreement: str, path: Path, file_name: str, *, reason: str | None = None, effective: date | None = None,
    uploaded: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """A job's arguments: the file (``uploaded``: a copy the job owns and removes when it ends) and the envelope."""
    return {
        "agreement": agreement,
        "path": str(Path(path).resolve()),
        "file_name": file_name,
        "reason": reason,
        "effective": effective.isoformat() if effective else None,
        "uploaded": uploaded,
    }


def keep_upload(source: Path | BinaryIO, file_name: str, uploads: Path) -> Path:
    """Copy a file (a path, or the stream of a web upload) into the uploads folder, in a folder of its own, for a
    job to import; the copy's path. The copy is named ``upload`` with the file's suffix (``.csv``, ``.xlsx``: how
    the importer tells the two apart), never the name it came with: a name such as ``..`` or ``a/b`` is no file in
    the folder. The name is the job's to show (its ``file_name`` argument)."""
    folder = Path(uploads) / uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    suffix = Path(file_name).suffix.lower()
    target = folder / f"upload{suffix if suffix in ('.csv', '.xlsx') else ''}"
    if isinstance(source, Path):
        shutil.copyfile(source, target)
    else:
        with target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    return target


def _check(records: Records, actor: Actor, args: dict[str, Any]) -> str:
    authorise(records, actor, "import_activity", agreement=args["agreement"])
    if not Path(args["path"]).is_file():
        raise InvalidInput(f"{args['file_name']}: the uploaded file is not there; upload it again")
    return f"import {args['file_name']} into {args['agreement']}"


def _run(book: Openbook, job: Job, progress: Progress) -> Any:
    args = job.arguments
    effective = date.fromisoformat(args["effective"]) if args.get("effective") else None
    envelope = Envelope(
        job.actor,
        effective or date.today(),
        args.get("reason") or f"visits imported from {args['file_name']}",
        f"job:{job.id}",
        date_stated=effective is not None,
    )
    summary = book.activity.import_activity(
        envelope,
        args["agreement"],
        args["path"],
        file_name=args["file_name"],
        progress=lambda stage, done, total: progress(done, total, STAGES.get(stage, stage)),
    )
    return summary.as_json()


def _ended(job: Job) -> None:
    if not job.arguments.get("uploaded"):
        return
    path = Path(job.arguments["path"])
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()  # the upload's own folder (``keep_upload``)
    except OSError:
        pass


ACTIVITY_IMPORT = JobKind(name=NAME, check=_check, run=_run, resumable=True, ended=_ended)
