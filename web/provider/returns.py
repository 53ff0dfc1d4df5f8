"""A provider's cost returns: which are due, filing one by form or by the CSV/XLSX template, the workflow, the figures.

Every page asks the ledger whose figures the user may see: ``scope.access``
for the agreement, then ``shown_provider`` for the provider in the URL, so
another provider's return answers 404 exactly as one that does not exist.
Recording goes through the same use cases as ``openbook returns ...``
(``ledger/usecases/cost_returns.py``) with the same arguments; the filing's
own checks (``CostReturnFiling.parse``, the file reader) name the field, or
the file's row and column, of every problem, and the page shows each beside
its field. A refused filing records nothing.

The form holds every line and volume of the template, grouped as the
template groups them (``domain.returns.filing``). Fields are text, passed to
the ledger as typed, so figures become exact Decimals in one place and a
figure with too many places is refused there, not rounded here.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from domain.bounds import TEXT_LENGTH
from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.organisations.user import Role
from domain.returns.cost_return import check_period
from domain.returns.filing import CostGroup, CostLine, Volume, field_label, lines_in
from domain.returns.unit_costs import shown
from ledger.authorisation import Access, only_provider, shown_provider
from ledger.files.cost_returns import template_csv, template_xlsx
from ledger.queries import returns as views
from reports.charts import cost_breakdown_chart, market_chart
from web import as_at, navigation, scope
from web.access import allow
from web.forms import LedgerForm, envelope_of, show_refusal
from web.params import MAX_NUMBER, int_arg, on_date
from web.provider import bp
from web.services import book_of
from web.tables import XLSX, Column, download, table
from web.uploads import upload_name

bp.record_once(lambda state: navigation.add(state.app, "Returns", "provider.returns", Role.PROVIDER))



# -- forms ------------------------------------------------------------------------------------------


def line_field(line: CostLine) -> str:
    return f"line_{line.value}"


def note_field(line: CostLine) -> str:
    return f"note_{line.value}"


def volume_field(volume: Volume) -> str:
    return f"volume_{volume.value}"


REASON = "Why you are filing or changing these figures"


class CostReturnForm(LedgerForm):
    """Every line (with its note) and volume of the template, the optional total and date, and why."""

    stated_total = StringField("Total of the lines (optional, £)", validators=[Optional(), Length(max=40)])
    prepared_on = StringField("Date the figures were prepared (optional)", validators=[Optional(), Length(max=20)])
    reason = StringField(REASON, validators=[Optional(), Length(max=TEXT_LENGTH)])
    save = SubmitField("Save as draft")
    submit = SubmitField("Submit for review")


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Holiday pay" -> "holiday pay", but an initialism stays ("PPE and ...")."""
    return label if label[1:2].isupper() else label[0].lower() + label[1:]


for _line in CostLine:
    setattr(CostReturnForm, line_field(_line), StringField(f"{_line.label} (£)", validators=[Length(max=40)]))
    setattr(CostReturnForm, note_field(_line), StringField(f"Note on {_in_sentence(_line.label)} (optional)",
                                                           validators=[Length(max=TEXT_LENGTH)]))
for _volume in Volume:
    setattr(CostReturnForm, volume_field(_volume), StringField(_volume.label, validators=[Length(max=40)]))


class UploadForm(LedgerForm):
    """A filled-in copy of the template: the whole file is read and checked before anything is recorded."""

    id_prefix = "upload-"  # shown below the return's own form, which has a reason too

    file = FileField("Filled-in cost return template (CSV or XLSX)", validators=[FileRequired("choose a file")])
    reason = StringField(REASON, validators=[Optional(), Length(max=TEXT_LENGTH)])
    save = SubmitField("Upload as draft")
    submit = SubmitField("Upload and submit for review")


class SubmitForm(LedgerForm):
    """Submit the current (draft) revision for review."""

    submit = SubmitField("Submit for review")


class AnswerForm(LedgerForm):
    answer = TextAreaField("Your answer", validators=[DataRequired("write your answer"), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Send answer")


#: The ledger's names for a return's figures ("lines.pension: ...") -> the form's fields, so a problem goes beside it.
RETURN_ALIASES = {
    **{f"lines.{line.value}": line_field(line) for line in CostLine},
    **{f"notes.{line.value}": note_field(line) for line in CostLine},
    **{f"volumes.{volume.value}": volume_field(volume) for volume in Volume},
}


def _filing_data(form: CostReturnForm) -> dict[str, Any]:
    """The filing as typed: blank figures are left out, so the ledger says each one is required."""

    def typed(name: str) -> str:
        return (form[name].data or "").strip()

    data: dict[str, Any] = {
        "lines": {line.value: typed(line_field(line)) for line in CostLine if typed(line_field(line))},
        "notes": {line.value: typed(note_field(line)) for line in CostLine if typed(note_field(line))},
        "volumes": {v.value: typed(volume_field(v)) for v in Volume if typed(volume_field(v))},
    }
    for optional in ("stated_total", "prepared_on"):
        if typed(optional):
            data[optional] = typed(optional)
    return data


def _prefilled(sheet: dict[str, Any]) -> dict[str, str]:
    """A revision's figures as the form's fields, to amend from."""
    values = {line_field(CostLine(r["line"])): f"{r['amount']:f}" for r in sheet["lines"]}
    values |= {note_field(CostLine(r["line"])): r["note"] for r in sheet["lines"] if r["note"]}
    values |= {volume_field(Volume(key)): f"{value:f}" if not isinstance(value, int) else str(value)
               for key, value in sheet["volumes"].items()}  # fmt: skip
    if sheet["totals"]["stated_total"] is not None:
        values["stated_total"] = f"{sheet['totals']['stated_total']:f}"
    return values


def _layout() -> list[dict[str, Any]]:
    """The template's groups, each with its lines' field names, for the form page."""
    return [
        {"label": group.label, "lines": [(line_field(line), note_field(line)) for line in lines_in(group)]}
        for group in CostGroup
    ]


# -- whose figures ----------------------------------------------------------------------------------


def _access(agreement: str, provider: str) -> Access:
    """The user's access to ``provider``'s figures under ``agreement``: another's are 404 (the ledger decides)."""
    access = scope.access(agreement)
    shown_provider(access, provider)
    return access



def _filed(access: Access, period: str) -> dict[str, Any] | None:
    found = views.list_returns(as_at.read_engine(), access, period)
    return found[0] if found else None


def _key(agreement: str, provider: str, period: str) -> dict[str, str]:
    return {"agreement": agreement, "provider": provider, "period": period}


def _check_fileable(agreement: str, provider: str, period: str) -> None:
    """Refuse a period ``provider`` cannot file for (outside the agreement's term, or before its award or its
    alliance's: 422, saying which) before the form is shown, not after thirty figures are typed into it; the
    ledger's own rule (``filing_provider``), as filing runs it."""
    book = book_of()
    book.returns.filing_provider(book.records.agreement(agreement), provider, check_period(period))


# -- the list ---------------------------------------------------------------------------------------

_RETURN_COLUMNS = [
    Column("period", "Period"),
    Column("status", "Status"),
    Column("revision", "Revision", "number"),
    Column("open_queries", "Open queries", "number"),
    Column("submitted_on", "Submitted", "date"),
    Column("accepted_on", "Accepted", "date"),
    Column("total_per_hour_shown", "Cost per contact hour", "money"),
    Column("flags", "Wage findings"),  # the list holds the wage checks; every finding is on the return
]

_DUE_COLUMNS = [
    Column("period", "Period"),
    Column("period_end", "Period ended", "date"),
    Column("due_on", "Due by", "date"),
    Column("status", "Return"),
    Column("standing", "Standing"),
]


def _flags(row: dict[str, Any]) -> str:
    found = []
    if row["nlw_breach"]:
        found.append("pay below the wage floor" + (" (explained)" if row["nlw_explained"] else ""))
    if row["rlw_flag"]:
        found.append("pay below the Real Living Wage")
    return "; ".join(found)


def _standing(row: dict[str, Any]) -> str:
    if row["overdue"]:
        days = row["days_overdue"]
        return f"Overdue by {days} day{'' if days == 1 else 's'}"
    if row["status"] not in (None, "draft"):
        return "Submitted"
    return "Due"


@bp.get("/returns")
@allow(Role.PROVIDER)
def returns() -> str:
    """Each agreement's returns and where they stand, and the quarters whose returns are due or overdue."""
    engine = as_at.read_engine()
    on = on_date()
    sections = []
    for index, (agreement, access) in enumerate(scope.my_agreements()):
        provider = only_provider(access)
        if provider is None:  # an organisation that reads every provider's figures works in the accountants' pages
            continue
        filed = [{**row, "total_per_hour_shown": shown(row["total_per_hour"]), "flags": _flags(row)}
                 for row in views.list_returns(engine, access)]  # fmt: skip
        due = [{**row, "status": row["status"] or "not filed", "standing": _standing(row)}
               for row in views.returns_due(engine, access, provider, on)]  # fmt: skip
        sections.append(
            {
                "agreement": agreement,
                "provider": provider,
                "filed": table(f"returns-{index}", f"Returns filed under {agreement['name']}", _RETURN_COLUMNS, filed),
                "due": table(f"due-{index}", f"Quarterly returns due under {agreement['name']}, as on {on}",
                             _DUE_COLUMNS, due),  # fmt: skip
                "overdue": sum(1 for row in due if row["overdue"]),
            }
        )
    return render_template("provider/returns/index.html", sections=sections, on=on, due_days=views.RETURN_DUE_DAYS)


@bp.get("/returns/file")
@allow(Role.PROVIDER)
def choose_period() -> Any:
    """The index's "another period" form (a GET, so it works without script): on to that period's return."""
    agreement, period = request.args.get("agreement", ""), request.args.get("period", "").strip()
    access = scope.access(agreement) if agreement else None
    provider = only_provider(access) if access is not None else None
    if provider is None:
        raise InvalidInput("agreement: choose one of your agreements")
    key = _key(agreement, provider, str(check_period(period)))
    if _filed(access, key["period"]) is not None:
        return redirect(url_for("provider.return_sheet", **key))
    _check_fileable(agreement, provider, period)
    return redirect(url_for("provider.file_return", **key))


@bp.get("/returns/template.csv")
@allow(Role.PROVIDER)
def template_as_csv() -> Response:
    return download(template_csv().encode("utf-8"), "cost-return-template.csv", "text/csv")


@bp.get("/returns/template.xlsx")
@allow(Role.PROVIDER)
def template_as_xlsx() -> Response:
    return download(template_xlsx(), "cost-return-template.xlsx", XLSX)



# -- filing a new return ----------------------------------------------------------------------------


def _file_page(key: dict[str, str], form: CostReturnForm, upload: UploadForm, status: int = 200, *,
               sheet: dict[str, Any] | None = None) -> tuple[str, int]:  # fmt: skip
    """The form page, to file a return (``sheet`` None) or amend ``sheet``'s."""
    page = render_template(
        "provider/returns/file.html", key=key, form=form, upload=upload, layout=_layout(), volumes=list(Volume),
        sheet=sheet, amending=sheet is not None,
    )  # fmt: skip
    return page, status


@bp.route("/returns/<agreement>/<provider>/<period>/file", methods=["GET", "POST"])
@allow(Role.PROVIDER)
def file_return(agreement: str, provider: str, period: str) -> Any:
    """File a period's return by the form (save as a draft, or submit it): the filing is checked whole first."""
    access = _access(agreement, provider)
    key = _key(agreement, provider, period)
    if _filed(access, period) is not None and request.method == "GET":
        flash(f"The return for {period} is already filed; amend it to change its figures.")
        return redirect(url_for("provider.return_sheet", **key))
    _check_fileable(agreement, provider, period)
    form = CostReturnForm()
    if not form.validate_on_submit():
        return _file_page(key, form, UploadForm(), 400 if request.method == "POST" else 200)
    envelope = envelope_of(form, reason=form.reason.data)
    try:
        result = book_of().returns.draft_cost_return(
            envelope, agreement, provider, period, _filing_data(form), submit=bool(form.submit.data)
        )
    except (InvalidInput, Conflict, RuleBroken) as error:
        return _file_page(key, form, UploadForm(), show_refusal(form, error, RETURN_ALIASES))
    flash(f"Your return for {period} is recorded: {result['status']}, revision {result['revision']}.")
    return redirect(url_for("provider.return_sheet", **key))


@bp.post("/returns/<agreement>/<provider>/<period>/upload")
@allow(Role.PROVIDER)
def upload_return(agreement: str, provider: str, period: str) -> Any:
    """File (or, once filed, amend) a return from the filled-in template; a refused file records nothing."""
    access = _access(agreement, provider)
    key = _key(agreement, provider, period)
    filed = _filed(access, period)
    sheet = None if filed is None else views.return_sheet(as_at.read_engine(), access, provider, period)
    upload = UploadForm()
    form = CostReturnForm(formdata=None, data=_prefilled(sheet) if sheet else None)
    if not upload.validate_on_submit():
        return _file_page(key, form, upload, 400, sheet=sheet)
    content = upload.file.data.read()
    filename = upload_name(upload.file.data, "return.xlsx")
    envelope = envelope_of(upload, reason=upload.reason.data)
    returns_of = book_of().returns
    try:
        if filed is None:
            result = returns_of.import_cost_return(
                envelope, content, agreement, provider, period, filename=filename, submit=bool(upload.submit.data)
            )
        else:
            result = returns_of.amend_cost_return_from_file(envelope, content, agreement, provider, period, filename)
    except (InvalidInput, Conflict, RuleBroken) as error:
        if isinstance(error, InvalidInput) and not str(error).startswith("reason:"):
            upload.file.errors = [*upload.file.errors, *(error.problems or [str(error)])]
            status = 400
        else:
            status = show_refusal(upload, error, RETURN_ALIASES)
        return _file_page(key, form, upload, status, sheet=sheet)
    flash(f"{filename} is recorded as your return for {period}: {result['status']}, revision {result['revision']}.")
    return redirect(url_for("provider.return_sheet", **key))


# -- one return -------------------------------------------------------------------------------------

_LINE_COLUMNS = [
    Column("group", "Group"),
    Column("label", "Line"),
    Column("amount", "Amount", "money"),
    Column("per_hour", "Per contact hour", "money"),
    Column("lower", "Market lower quartile", "money"),
    Column("median", "Market median", "money"),
    Column("upper", "Market upper quartile", "money"),
    Column("note", "Note"),
]


def _line_rows(sheet: dict[str, Any], market: dict[str, Any] | None) -> list[dict[str, Any]]:
    groups = {g["group"]: g["label"] for g in sheet["groups"]}
    quartiles = (market or {}).get("lines", {})
    return [
        {**row, "group": groups[row["group"]], "per_hour": shown(row["per_hour"]),
         **{k: shown(v) for k, v in quartiles.get(row["line"], {}).items()}}
        for row in sheet["lines"]
    ]  # fmt: skip


@bp.get("/returns/<agreement>/<provider>/<period>")
@allow(Role.PROVIDER)
def return_sheet(agreement: str, provider: str, period: str) -> str:
    """One return: each line per contact hour beside the anonymised market, the rate paid and the gap, queries."""
    access = _access(agreement, provider)
    engine = as_at.read_engine()
    revision = int_arg("revision", 1, MAX_NUMBER)
    sheet = views.return_sheet(engine, access, provider, period, revision)
    view = views.market(engine, access, period)
    market = view.get("market")
    chart = market_chart(view, names=False, rate=sheet["rate"].shown_rate)
    return render_template(
        "provider/returns/sheet.html",
        key=_key(agreement, provider, sheet["period"]),
        sheet=sheet,
        gap=None if sheet["gap"] is None else shown(sheet["gap"]),  # as shown, so "below your cost" agrees with it
        market=market,
        no_market=view.get("not_enough_providers", {}).get("message"),
        lines=table("lines", f"Costs per contact hour, revision {sheet['revision']}", _LINE_COLUMNS,
                    _line_rows(sheet, market)),  # fmt: skip
        chart=chart,
        breakdown=cost_breakdown_chart(sheet),
        submit_form=SubmitForm(),
    )


@bp.post("/returns/<agreement>/<provider>/<period>/submit")
@allow(Role.PROVIDER)
def submit_return(agreement: str, provider: str, period: str) -> Any:
    """Submit a drafted return for review (a return under review or decided cannot be: the ledger says why)."""
    _access(agreement, provider)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    result = book_of().returns.submit_cost_return(envelope_of(form), agreement, provider, period)
    flash(f"Your return for {period} is submitted for review (revision {result['revision']}).")
    return redirect(url_for("provider.return_sheet", **_key(agreement, provider, period)))


@bp.route("/returns/<agreement>/<provider>/<period>/amend", methods=["GET", "POST"])
@allow(Role.PROVIDER)
def amend_return(agreement: str, provider: str, period: str) -> Any:
    """New figures as a new revision (earlier ones stay readable); once submitted, the reason is required."""
    access = _access(agreement, provider)
    key = _key(agreement, provider, period)
    sheet = views.return_sheet(as_at.read_engine(), access, provider, period)
    form = CostReturnForm() if request.method == "POST" else CostReturnForm(data=_prefilled(sheet))
    if not form.validate_on_submit():
        return _file_page(key, form, UploadForm(), 400 if request.method == "POST" else 200, sheet=sheet)
    envelope = envelope_of(form, reason=form.reason.data)
    try:
        result = book_of().returns.amend_cost_return(envelope, agreement, provider, period, _filing_data(form))
    except (InvalidInput, Conflict, RuleBroken) as error:
        return _file_page(key, form, UploadForm(), show_refusal(form, error, RETURN_ALIASES), sheet=sheet)
    flash(f"Your return for {period} is amended: revision {result['revision']}, {result['status']}.")
    return redirect(url_for("provider.return_sheet", **key))


@bp.route("/returns/<agreement>/<provider>/<period>/queries/<query>", methods=["GET", "POST"])
@allow(Role.PROVIDER)
def answer_query(agreement: str, provider: str, period: str, query: str) -> Any:
    """An accountant's query on one line or volume, and the provider's answer."""
    access = _access(agreement, provider)
    key = _key(agreement, provider, period)
    sheet = views.return_sheet(as_at.read_engine(), access, provider, period)
    asked = next((q for q in sheet["queries"] if q["query_id"] == query), None)
    if asked is None:
        raise NotFound(f"query: {query} is not a query on the return for {period}")
    form = AnswerForm()
    status = 200
    if form.validate_on_submit():
        try:
            book_of().returns.answer_cost_return_query(
                envelope_of(form), agreement, provider, period, query, form.answer.data
            )
        except (InvalidInput, Conflict, RuleBroken) as error:
            status = show_refusal(form, error, RETURN_ALIASES)
        else:
            flash(f"Your answer to {query} is recorded.")
            return redirect(url_for("provider.return_sheet", **key))
    elif request.method == "POST":
        status = 400
    page = render_template("provider/returns/query.html", key=key, sheet=sheet, asked=asked, form=form,
                           line=field_label(asked["line"]))  # fmt: skip
    return page, status

