"""Activity: files uploaded and imported in the background (a job), and the priced totals by any dimension.

**Files.** ``POST …/activity/files`` takes an activity file (CSV or XLSX,
as ``openbook activity import`` does; ``multipart/form-data``, field
``file``), keeps it and queues an ``activity-import`` job as the token's user
(``web.jobs_view``, shared with the pages): 202 with the job's id. ``GET
…/activity/files/{job}`` is its state and progress, then the import's summary
or its problems by row (``error.problems``). Who may import, and which rows,
is the ledger's (a provider: its own visits only; a file naming another
provider fails the job and records nothing). Another organisation's job is
a 404.

**Totals.** A provider's token totals its own visits only (naming another
provider is a 404); a commissioner's accountant totals any provider's. The
ledger decides (``ledger.queries.activity.totals`` over the access
``access_for`` gives).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field
from spectree.model_adapter.pydantic_adapter import BaseFile

from domain.errors import InvalidInput, NotFound
from domain.organisations.user import Role
from ledger.jobs import activity_import as import_kind
from ledger.jsonable import json_ready
from ledger.projections.activity import DIMENSIONS
from ledger.queries.activity import totals
from web import scope
from web.access import EVERY_ROLE, allow, current_actor
from web.api import bp
from web.api.calls import recorded_upload
from web.api.models import Code, Day, Open, Strict, Text
from web.api.spec import answers, spec
from web.jobs_view import uploads_folder
from web.services import book_of
from web.uploads import upload_name

#: A month, quarter or financial year.
AnyPeriod = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}(-Q[1-4])?$", examples=["2019-20-Q1", "2019-04"])]


class TotalsQuery(Strict):
    by: Annotated[str, Field(pattern=rf"^({'|'.join(DIMENSIONS)})(,({'|'.join(DIMENSIONS)}))*$", max_length=100)] = (
        Field("provider", description=f"Comma-separated, from {', '.join(DIMENSIONS)}")
    )
    provider: Code | None = None
    period: AnyPeriod | None = None


class TotalsRow(Open):
    visits: int
    hours: str
    payable_hours: str
    spend: str
    unpriced_visits: int


class ActivityTotals(BaseModel):
    agreement: str
    by: list[str]
    totals: list[TotalsRow]


@bp.get("/agreements/<agreement>/activity/totals")
@allow(*EVERY_ROLE)
@spec.validate(query=TotalsQuery, resp=answers(ActivityTotals), tags=["activity"])
def activity_totals(agreement: str) -> dict[str, Any]:
    """Priced activity: visits, hours, payable hours and spend, grouped ``?by=``, for ``?provider=`` and ``?period=``."""
    asked: TotalsQuery = request.context.query
    by = asked.by.split(",")
    rows = totals(book_of().read_engine, scope.access(agreement), by, provider=asked.provider, period=asked.period)
    return {"agreement": agreement, "by": by, "totals": json_ready(rows)}


class ActivityFile(BaseModel):
    file: BaseFile = Field(description="The activity file: CSV or XLSX, as `openbook activity import` takes")
    reason: Text | None = Field(None, description='Why; by default "visits imported from" the file\'s name')
    effective_date: Day | None = None


class JobQueued(BaseModel):
    job: str
    state: str


class JobStatus(BaseModel):
    job: str
    state: str = Field(description="queued, running, done or failed")
    file_name: str
    done: int
    total: int
    percent: int
    message: str
    result: dict[str, Any] | None = Field(description="The import's summary once done: visits, hours, spend, …")
    error: dict[str, Any] | None = Field(description="Once failed: kind, message and problems (each row's)")
    created_at: str
    finished_at: str | None


@bp.post("/agreements/<agreement>/activity/files")
@allow(Role.PROVIDER, Role.ACCOUNTANT)
@recorded_upload
@spec.validate(form=ActivityFile, resp=answers(JobQueued, 202), tags=["activity"])
def upload_activity(agreement: str) -> tuple[dict[str, Any], int]:
    """Queue an activity file's import as your user; 202 with the job to follow."""
    scope.access(agreement)
    asked: ActivityFile = request.context.form
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("file: send the activity file (CSV or XLSX) in the field 'file', with its name")
    name = upload_name(upload, "upload.csv")
    kept = import_kind.keep_upload(upload.stream, name, uploads_folder())
    arguments = import_kind.arguments(
        agreement, kept, name, reason=asked.reason or None, effective=asked.effective_date, uploaded=True
    )
    try:
        job = book_of().jobs.enqueue(import_kind.NAME, current_actor(), arguments)
    except BaseException:
        kept.unlink(missing_ok=True)
        kept.parent.rmdir()
        raise
    return {"job": job, "state": "queued"}, 202


@bp.get("/agreements/<agreement>/activity/files/<job>")
@allow(Role.PROVIDER, Role.ACCOUNTANT)
@spec.validate(resp=answers(JobStatus), tags=["activity"])
def activity_file(agreement: str, job: str) -> dict[str, Any]:
    """An upload's job: queued or running (with progress), then done (the import's summary) or failed (the
    problems by row and column; nothing was recorded)."""
    scope.access(agreement)
    found = book_of().jobs.get(current_actor(), job)
    if found.kind != import_kind.NAME or found.arguments.get("agreement") != agreement:
        raise NotFound(f"job {job} is not found")
    return json_ready({
        "job": found.id, "state": found.state, "file_name": found.arguments.get("file_name", ""),
        "done": found.done, "total": found.total, "percent": found.percent, "message": found.message,
        "result": found.result, "error": found.error, "created_at": found.created_at,
        "finished_at": found.finished_at,
    })  # fmt: skip
