"""Delivered activity for accountants: totals, the imports, one visit, arrears, and uploading the ECM export.

The pages show what ``openbook activity totals|imports|arrears --last`` print,
through the same queries (``ledger.queries.activity``: ``totals``,
``imports``, ``visit``, ``arrears``) with the reader's access from the ledger
(``web.scope.accountant``: another organisation's agreement is a 404 as if
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
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.money import pounds_from_pence
from domain.organisations.user import Role
from ledger.queries import activity as views
from reports.charts import activity_chart
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.forms import show_refusal
from web.jobs_view import JOB_COLUMNS, ActivityFileForm, import_job_page, job_rows, queue_import
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
    access = scope.accountant(agreement)
    chosen = _filters()
    engine = as_at.read_engine()
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
    rows = views.imports(as_at.read_engine(), scope.accountant(agreement))
    return [{**row, "spend": pounds_from_pence(row["spend_pence"])} for row in rows]


@bp.get("/activity/<agreement>/visits")
@allow(Role.ACCOUNTANT)
def find_visit(agreement: str) -> Response:
    """The visit-id box on the totals page: to the visit's page."""
    scope.accountant(agreement)
    visit_id = request.args.get("visit", "").strip()
    if not visit_id:
        return redirect(url_for("accountant.activity_totals", agreement=agreement))
    return redirect(url_for("accountant.visit", agreement=agreement, visit=visit_id))


@bp.get("/activity/<agreement>/visits/<visit>")
@allow(Role.ACCOUNTANT)
def visit(agreement: str, visit: str) -> str:
    """One visit as last recorded, with its price (``ledger.queries.activity.visit``)."""
    found = views.visit(as_at.read_engine(), scope.accountant(agreement), visit)
    return render_template("accountant/activity/visit.html", agreement=agreement, v=found)


@bp.get("/activity/<agreement>/arrears")
@allow(Role.ACCOUNTANT)
def arrears_index(agreement: str) -> Response:
    """The year box on the totals page: to that year's arrears."""
    scope.accountant(agreement)
    year = request.args.get("financial_year", "").strip()
    if not year:
        return redirect(url_for("accountant.activity_totals", agreement=agreement))
    return redirect(url_for("accountant.arrears", agreement=agreement, financial_year=year))


@bp.get("/activity/<agreement>/arrears/<financial_year>")
@allow(Role.ACCOUNTANT)
def arrears(agreement: str, financial_year: str) -> Any:
    """The last calculation of a backdated review's arrears per provider, as ``openbook activity arrears --last``."""
    access = scope.accountant(agreement)
    try:
        found = views.arrears(as_at.read_engine(), access, financial_year)
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


class UploadForm(ActivityFileForm):
    """``openbook activity import FILE --agreement A``: the file, and the envelope's date and reason."""

    file = FileField("ECM export (CSV or XLSX)", validators=[FileRequired("choose a file")])
    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def _imports_page(agreement: str, form: UploadForm | None = None, status: int = 200) -> tuple[str, int]:
    shown = table("imports", f"Files imported under {agreement}, in the order recorded", IMPORT_COLUMNS,
                  import_rows(agreement))  # fmt: skip
    uploads = table("uploads", "Uploads imported in the background, newest first", JOB_COLUMNS, job_rows(agreement))
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

    ``web.jobs_view.queue_import`` keeps the file in the instance folder's uploads/ until the job that imports it
    ends, and queues it as the logged-in user (the form sent twice shows its first job). A refusal before
    queueing (the ledger's ``import_activity`` rule) keeps nothing.
    """
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the file is read
    form = UploadForm()
    if not form.validate_on_submit():
        return _imports_page(agreement, form, 400)
    try:
        job_id = queue_import(agreement, form, reason=form.reason.data or None, effective=form.effective.data)
    except (InvalidInput, RuleBroken, Conflict) as error:
        return _imports_page(agreement, form, show_refusal(form, error, {"effective_date": "effective"}))
    return redirect(url_for("accountant.import_job", agreement=agreement, job=job_id))


@bp.get("/activity/<agreement>/jobs/<job>")
@allow(Role.ACCOUNTANT)
def import_job(agreement: str, job: str) -> str:
    """An upload's job (``web.jobs_view.import_job_page``): its progress bar, then the summary or the problems."""
    scope.accountant(agreement)
    return import_job_page(
        agreement,
        job,
        links=[(f"Every import of {agreement}", url_for("accountant.imports", agreement=agreement)),
               ("Activity totals", url_for("accountant.activity_totals", agreement=agreement))],
        again=url_for("accountant.imports", agreement=agreement),
    )  # fmt: skip
