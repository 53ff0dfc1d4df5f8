"""Activity files imported in the background, as every area's upload pages share them: queueing an upload's job,
listing the user's import jobs under an agreement, and a job's page.

An activity file of up to a million visits takes minutes to check, stage and price, so a page never imports it:
the upload is kept in the uploads folder (``Settings.uploads_folder``, via ``keep_upload``) and an
``activity-import`` job (``ledger/jobs``, docs/jobs.md) runs ``book.activity.import_activity`` as the logged-in
user in a worker. Who may import, and which rows, is the ledger's: the enqueue runs the kind's check as the user,
and the import itself refuses by row what the user may not file. The job's page shows a ``<progress>`` bar that
refreshes itself (``<meta http-equiv="refresh">``, no script) while the job is queued or running, then the import's
summary or its problems by row and column. Another organisation's job is not found (the ledger's
``jobs_seen_by``), and so is a job that is not an import into the agreement in the URL.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_wtf.file import FileField, FileRequired

from domain.errors import NotFound
from domain.money import format_quantity
from ledger.jobs import activity_import as import_kind
from ledger.jobs.store import Job
from ledger.settings import Settings
from web.access import current_actor
from web.forms import LedgerForm
from web.services import book_of
from web.tables import Column
from web.uploads import upload_name

#: The columns of a table of ``job_rows``.
JOB_COLUMNS = [
    Column("created_at", "Uploaded at", "date"),
    Column("user", "By"),
    Column("file_name", "File"),
    Column("state", "State"),
    Column("progress", "Progress"),
]


class ActivityFileForm(LedgerForm):
    """An activity file to import (``openbook activity import FILE``); areas add the envelope's fields."""

    file = FileField("Activity file (CSV or XLSX)", validators=[FileRequired("choose a file")])


def size_limit_mb() -> int:
    """The largest upload the app accepts, in MB (``OPENBOOK_MAX_UPLOAD_MB``; a larger one is a 413 page)."""
    return int(current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))


def uploads_folder() -> Path:
    return Settings(instance_path=current_app.config["OPENBOOK_INSTANCE"]).uploads_folder


def queue_import(agreement: str, form: ActivityFileForm, **envelope: Any) -> str:
    """Keep the uploaded file and queue its import as the logged-in user; the job's id.

    ``envelope``: ``reason`` and ``effective`` for the import's envelope. The form's idempotency key goes with the
    job's arguments, so the same form sent twice (a double click, a reload) gives its first job rather than
    queueing another; the import records a file once whatever (its id is the file's digest). A refusal (the
    ledger's ``import_activity`` rule, as the kind's check) keeps nothing and is raised for the view to show.
    """
    key = f"web-{form.idempotency_key.data}"
    earlier = next((job for job in import_jobs(agreement) if job.arguments.get("idempotency_key") == key), None)
    if earlier is not None:
        return earlier.id
    name = upload_name(form.file.data, "upload.csv")
    kept = import_kind.keep_upload(form.file.data.stream, name, uploads_folder())
    arguments = {**import_kind.arguments(agreement, kept, name, uploaded=True, **envelope), "idempotency_key": key}
    try:
        return book_of().jobs.enqueue(import_kind.NAME, current_actor(), arguments)
    except BaseException:
        kept.unlink(missing_ok=True)
        kept.parent.rmdir()
        raise


def import_jobs(agreement: str) -> list[Job]:
    """The import jobs into ``agreement`` the user may see (their organisation's: the ledger's rule), newest first."""
    return [
        job
        for job in book_of().jobs.list_for(current_actor())
        if job.kind == import_kind.NAME and job.arguments.get("agreement") == agreement
    ]


def job_rows(agreement: str) -> list[dict[str, Any]]:
    """``import_jobs`` as table rows (``JOB_COLUMNS``; ``job`` is the id, for a link to its page)."""
    return [
        {"job": job.id, "created_at": job.created_at, "user": job.actor.user, "file_name": job.arguments["file_name"],
         "state": job.state, "progress": f"{job.message}, {job.percent}%"}
        for job in import_jobs(agreement)
    ]  # fmt: skip


def import_job_page(agreement: str, job_id: str, *, links: list[tuple[str, str]], again: str) -> str:
    """The job's page: its progress while queued or running, then the summary or the problems by row.

    ``links`` (label, URL) lead back to the area's pages; ``again`` is the upload form, for a file to correct.
    """
    job = book_of().jobs.get(current_actor(), job_id)
    if job.kind != import_kind.NAME or job.arguments.get("agreement") != agreement:
        raise NotFound(f"job {job_id} is not found")
    summary = job.result or {}
    hours = {
        dimension: {key: format_quantity(Decimal(str(value)), places=2)
                    for key, value in (summary.get(f"hours_by_{dimension}") or {}).items()}
        for dimension in ("provider", "zone", "service")
    }  # fmt: skip
    spend = summary.get("spend")
    return render_template(
        "jobs/job.html",
        agreement=agreement,
        job=job,
        summary=summary,
        hours=hours,
        spend=None if spend is None else Decimal(str(spend)),  # kept as exact JSON text
        links=links,
        again=again,
    )
