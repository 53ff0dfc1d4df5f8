"""Delivered activity for accountants: totals, the imports, one visit, arrears, and uploading the ECM export.

The pages show what ``openbook activity totals|imports|arrears --last`` print,
through the same queries (``ledger.queries.activity``: ``totals``,
``imports``, ``visit``, ``arrears``) with the reader's access from the ledger
(``web.accountant.returns.access_to``: another organisation's agreement is a 404 as if
it did not exist). Totals come by month (with ``reports.charts.activity_chart``),
zone, service and provider, for a period and provider if asked.

Uploading the whole ECM export queues a background job (``ledger.jobs``, run by
``openbook worker`` or the worker thread of ``openbook serve``) that records
through ``book.activity.import_activity``, the use case ``openbook activity
import`` calls: the file is checked in full, and one problem records nothing.
The job's page shows its progress, refreshing itself, then the summary or the
problems by row and column.
Arrears are calculated on the rate review's page (``web/accountant/reviews.py``); here they are only read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.money import format_quantity, pounds_from_pence
from domain.organisations.user import Role
from ledger.jobs import activity_import as import_kind
from ledger.queries import activity as views
from reports.charts import activity_chart
from web import navigation, scope
from web.access import allow, current_actor
from web.accountant import bp
from web.accountant.returns import access_to
from web.errors import status_of
from web.forms import LedgerForm
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Activity", "accountant.activity_index", Role.ACCOUNTANT))

#: The breakdowns shown on the totals page, each a table (the CLI's ``--by``).
DIMENSIONS = (("month", "Month"), ("zone", "Zone"), ("service", "Service"), ("provider", "Provider"))

FIGURE_COLUMNS = [
    Column("visits", "Visits", "number"),
    Column("hours", "Delivered hours", "number", places=2),
    Column("payable_hours", "Payable hours", "number", places=2),
    Column("spend", "Spend", "money"),
    Column("unpriced_visits", "Unpriced visits", "number"),
]
IMPORT_COLUMNS = [
    Column("recorded_at", "Recorded at", "date"),
    Column("recorded_by", "Recorded by"),
    Column("file_name", "File"),
    Column("rows", "Rows", "number"),
    Column("visits", "New visits", "number"),
    Column("unchanged", "Already recorded", "number"),
    Column("corrected_visits", "Corrected visits", "number"),
    Column("first_date", "First visit", "date"),
    Column("last_date", "Last visit", "date"),
    Column("spend", "Spend of its visits", "money"),
    Column("unpriced_visits", "Unpriced visits", "number"),
]
JOB_COLUMNS = [
    Column("created_at", "Uploaded at", "date"),
    Column("user", "By"),
    Column("file_name", "File"),
    Column("state", "State"),
    Column("progress", "Progress"),
]
ARREARS_COLUMNS = [
    Column("provider", "Provider"),
    Column("service", "Service"),
    Column("zone", "Zone"),
    Column("band", "Band"),
    Column("old_rate", "Old rate", "money"),
    Column("new_rate", "New rate", "money"),
    Column("visits", "Visits", "number"),
    Column("payable_minutes", "Payable minutes", "number"),
    Column("working", "Working"),
    Column("amount", "Arrears", "money"),
]
ARREARS_MONEY = ("old_rate", "new_rate", "amount")


@bp.get("/activity")
@allow(Role.ACCOUNTANT)
def activity_index() -> str:
    agreements = [row for row, _ in scope.my_agreements(every_provider=True)]
    return render_template("accountant/activity/index.html", agreements=agreements)


def _filters() -> dict[str, str | None]:
    return {"period": request.args.get("period", "").strip() or None,
            "provider": request.args.get("provider", "").strip() or None}  # fmt: skip


@bp.get("/activity/<agreement>")
@allow(Role.ACCOUNTANT)
def activity_totals(agreement: str) -> Any:
    """Totals by month, zone, service and provider, as ``openbook activity totals --by ...``."""
    access = access_to(agreement)
    chosen = _filters()
    engine = book_of().read_engine
    try:
        found = {key: views.totals(engine, access, (key,), **chosen) for key, _ in DIMENSIONS}
    except InvalidInput as error:  # a period that is not a year, quarter or month: shown beside the filter
        return render_template("accountant/activity/totals.html", agreement=agreement, chosen=chosen,
                               filter_error=str(error).removeprefix("period: "), tables=[], chart=None), 400
    tables = [
        table(f"by-{key}", f"Visits, hours and spend by {heading.lower()}", [Column(key, heading), *FIGURE_COLUMNS],
              found[key])
        for key, heading in DIMENSIONS
    ]  # fmt: skip
    title = f"Priced activity of {agreement} by month" + (f", {chosen['period']}" if chosen["period"] else "")
    chart = activity_chart(found["month"], title=title) if found["month"] else None
    return render_template("accountant/activity/totals.html", agreement=agreement, chosen=chosen, tables=tables,
                           chart=chart, filter_error=None)  # fmt: skip


def import_rows(agreement: str) -> list[dict[str, Any]]:
    """The files imported under ``agreement`` (``openbook activity imports``), spend in pounds."""
    rows = views.imports(book_of().read_engine, access_to(agreement))
    return [{**row, "spend": pounds_from_pence(row["spend_pence"])} for row in rows]


@bp.get("/activity/<agreement>/visits")
@allow(Role.ACCOUNTANT)
def find_visit(agreement: str) -> Response:
    """The visit-id box on the totals page: to the visit's page."""
    access_to(agreement)
    visit_id = request.args.get("visit", "").strip()
    if not visit_id:
        return redirect(url_for("accountant.activity_totals", agreement=agreement))
    return redirect(url_for("accountant.visit", agreement=agreement, visit=visit_id))


@bp.get("/activity/<agreement>/visits/<visit>")
@allow(Role.ACCOUNTANT)
def visit(agreement: str, visit: str) -> str:
    """One visit as last recorded, with its price (``ledger.queries.activity.visit``)."""
    found = views.visit(book_of().read_engine, access_to(agreement), visit)
    return render_template("accountant/activity/visit.html", agreement=agreement, v=found)


@bp.get("/activity/<agreement>/arrears")
@allow(Role.ACCOUNTANT)
def arrears_index(agreement: str) -> Response:
    """The year box on the totals page: to that year's arrears."""
    access_to(agreement)
    year = request.args.get("financial_year", "").strip()
    if not year:
        return redirect(url_for("accountant.activity_totals", agreement=agreement))
    return redirect(url_for("accountant.arrears", agreement=agreement, financial_year=year))


@bp.get("/activity/<agreement>/arrears/<financial_year>")
@allow(Role.ACCOUNTANT)
def arrears(agreement: str, financial_year: str) -> Any:
    """The last calculation of a backdated review's arrears per provider, as ``openbook activity arrears --last``."""
    access = access_to(agreement)
    try:
        found = views.arrears(book_of().read_engine, access, financial_year)
    except NotFound as error:  # no review of that year, or none calculated: say so on the page
        return render_template("accountant/activity/arrears.html", agreement=agreement,
                               financial_year=financial_year, found=None, missing=str(error)), 404
    # the query answers as the CLI's --json does (exact decimal text): money back to Decimal for the page
    shown = [{**line, **{k: Decimal(str(line[k])) for k in ARREARS_MONEY}} for line in found["lines"]]
    lines = table("arrears-lines", "Each line's arrears, with its working", ARREARS_COLUMNS, shown)
    providers = table(
        "arrears-providers", "Arrears per provider",
        [Column("provider", "Provider"), Column("amount", "Arrears", "money")],
        [{"provider": p, "amount": Decimal(str(a))} for p, a in found["providers"].items()],
    )  # fmt: skip
    found = {**found, "total": Decimal(str(found["total"]))}
    return render_template("accountant/activity/arrears.html", agreement=agreement, financial_year=financial_year,
                           found=found, lines=lines, providers=providers, missing=None)  # fmt: skip


class UploadForm(LedgerForm):
    """``openbook activity import FILE --agreement A``: the file, and the envelope's date and reason."""

    file = FileField("ECM export (CSV or XLSX)", validators=[FileRequired("choose a file")])
    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def _imports_page(agreement: str, form: UploadForm | None = None, status: int = 200) -> tuple[str, int]:
    shown = table("imports", f"Files imported under {agreement}, in the order recorded", IMPORT_COLUMNS,
                  import_rows(agreement))  # fmt: skip
    uploads = table("uploads", "Uploads imported in the background, newest first", JOB_COLUMNS, _jobs(agreement))
    page = render_template("accountant/activity/imports.html", agreement=agreement, imports=shown, uploads=uploads,
                           form=form or UploadForm())  # fmt: skip
    return page, status


@bp.get("/activity/<agreement>/imports")
@allow(Role.ACCOUNTANT)
def imports(agreement: str) -> tuple[str, int]:
    return _imports_page(agreement)


@bp.post("/activity/<agreement>/imports")
@allow(Role.ACCOUNTANT)
def upload_activity(agreement: str) -> Any:
    """Queue the uploaded ECM export's import as a background job, as ``openbook activity import --background``.

    The file waits in the instance folder's uploads/ (``keep_upload``: a folder
    of a random name) until the job that imports it ends; the job runs
    ``book.activity.import_activity`` as the logged-in user. A refusal before
    queueing (the ledger's ``import_activity`` rule) keeps nothing. The form's
    idempotency key goes with the job's arguments, so the form sent twice
    shows the first job rather than queueing another (the import itself
    records a file once whatever: its id is the file's digest).
    """
    access_to(agreement)  # another organisation's agreement is a 404 before the file is read
    form = UploadForm()
    if not form.validate_on_submit():
        return _imports_page(agreement, form, 400)
    key = f"web-{form.idempotency_key.data}"
    earlier = next((job for job in _jobs(agreement) if job["key"] == key), None)
    if earlier is not None:  # the form sent again (a double click, a reload): its job, not a second one
        return redirect(url_for("accountant.import_job", agreement=agreement, job=earlier["job"]))
    name = Path(form.file.data.filename or "").name or "upload.csv"
    uploads = Path(current_app.config["OPENBOOK_INSTANCE"]) / "uploads"
    kept = import_kind.keep_upload(form.file.data.stream, name, uploads)
    arguments = {**import_kind.arguments(agreement, kept, name, reason=form.reason.data or None,
                                         effective=form.effective.data, uploaded=True),
                 "idempotency_key": key}  # fmt: skip
    try:
        job_id = book_of().jobs.enqueue(import_kind.NAME, current_actor(), arguments)
    except (InvalidInput, RuleBroken, Conflict) as error:
        _remove(kept)
        form.form_errors.append(str(error))
        return _imports_page(agreement, form, status_of(error))
    except BaseException:
        _remove(kept)
        raise
    return redirect(url_for("accountant.import_job", agreement=agreement, job=job_id))


def _jobs(agreement: str) -> list[dict[str, Any]]:
    """The import jobs into ``agreement`` the user may see (their organisation's: the ledger's rule)."""
    return [
        {"job": job.id, "created_at": job.created_at, "user": job.actor.user, "file_name": job.arguments["file_name"],
         "state": job.state, "progress": f"{job.message}, {job.percent}%", "key": job.arguments.get("idempotency_key")}
        for job in book_of().jobs.list_for(current_actor())
        if job.kind == import_kind.NAME and job.arguments.get("agreement") == agreement
    ]  # fmt: skip


def _remove(kept: Path) -> None:
    kept.unlink(missing_ok=True)
    kept.parent.rmdir()


@bp.get("/activity/<agreement>/jobs/<job>")
@allow(Role.ACCOUNTANT)
def import_job(agreement: str, job: str) -> str:
    """An upload's job: a progress bar that refreshes itself until it ends, then the summary or the rows' problems.

    Another organisation's job is not found (``book.jobs.get``, the ledger's
    rule), and so is a job that is not an import into this agreement.
    """
    access_to(agreement)
    found = book_of().jobs.get(current_actor(), job)
    if found.kind != import_kind.NAME or found.arguments.get("agreement") != agreement:
        raise NotFound(f"job {job} not found")
    summary = found.result or {}
    hours = {
        dimension: {key: format_quantity(Decimal(str(value)), places=2)
                    for key, value in (summary.get(f"hours_by_{dimension}") or {}).items()}
        for dimension in ("provider", "zone", "service")
    }  # fmt: skip
    return render_template("accountant/activity/job.html", agreement=agreement, job=found, summary=summary,
                           hours=hours, spend=_pounds(summary.get("spend")))  # fmt: skip


def _pounds(value: Any) -> Decimal | None:
    """A figure the job kept as exact JSON text, as Decimal again."""
    return None if value is None else Decimal(str(value))
