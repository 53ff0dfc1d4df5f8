"""One return for an accountant: its figures beside the market and the rate paid, its history, and the review.

The page shows what ``openbook returns show`` prints (``ledger.queries.returns.
return_sheet``): each line's amount and cost per contact hour, the totals
(on-costs as a % of pay, surplus as a % of cost, travel minutes per contact
hour), the rate on the card and the gap, the wage-floor and plausibility
findings, the queries and any rejection reasons; beside each line the
market's quartiles for the period (``market``), and below, the return's
revisions and the provider's history over periods (``history``).

Each review action is a small form posting to its own address and calling
the same use case as the CLI (``ledger.usecases.cost_returns``) with an
envelope from ``web.forms.envelope_of``. The ledger decides: a refused action
(``RuleBroken``: accepting an accepted return; ``NotAllowed``: reviewing
one's own organisation's in-house costs) re-shows the page with the message
by the form, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from domain.errors import Conflict, InvalidInput, NotAllowed, RuleBroken
from domain.organisations.user import Role
from domain.returns.filing import CostLine, Volume, field_label
from domain.returns.unit_costs import shown
from ledger.authorisation import AccountantAccess
from ledger.queries import returns as views
from reports.charts import cost_breakdown_chart
from web import as_at, scope
from web.access import allow
from web.accountant import bp
from web.forms import LedgerForm, envelope_of, show_refusal
from web.params import MAX_NUMBER, int_arg
from web.services import book_of
from web.tables import Column, table

TEXT = 2000  # the longest question, explanation or reason a form takes

QUERYABLE = [(line.value, line.label) for line in CostLine] + [(volume.value, volume.label) for volume in Volume]


class QueryForm(LedgerForm):
    line = SelectField("Line or volume queried", choices=[SelectChoice(v, label) for v, label in QUERYABLE])
    question = TextAreaField("Question to the provider", validators=[DataRequired(), Length(max=TEXT)])


class ExplainForm(LedgerForm):
    explanation = TextAreaField("Why the findings stand", validators=[DataRequired(), Length(max=TEXT)])


class AcceptForm(LedgerForm):
    reason = StringField("Note for the record (optional)", validators=[Optional(), Length(max=TEXT)])


class RejectForm(LedgerForm):
    reasons = TextAreaField("Reasons for rejecting (one a line)", validators=[DataRequired(), Length(max=TEXT)])


class ReopenForm(LedgerForm):
    reason = StringField("Why it goes back under review", validators=[DataRequired(), Length(max=TEXT)])


#: Each action's form, made with the action as its prefix so that the forms' field ids stay apart on one page.
ACTIONS: dict[str, type[LedgerForm]] = {
    "query": QueryForm,
    "explain": ExplainForm,
    "accept": AcceptForm,
    "reject": RejectForm,
    "reopen": ReopenForm,
}

#: What each kind of finding is called on the page (plausibility findings read well from their kind).
FINDINGS = {
    "nlw-breach": "Below the statutory wage floor",
    "rlw-flag": "Below the Real Living Wage",
    "no-wage-floor": "No wage floor known",
}

LINE_COLUMNS = [
    Column("label", "Line"),
    Column("amount", "Amount", "money"),
    Column("per_hour", "Per contact hour", "money"),
    Column("lower", "Market lower quartile", "money"),
    Column("median", "Market median", "money"),
    Column("upper", "Market upper quartile", "money"),
    Column("note", "Provider's note"),
]
QUERY_COLUMNS = [
    Column("query_id", "Query"),
    Column("state", "State"),
    Column("line_label", "Line"),
    Column("revision", "Revision", "number"),
    Column("asked_on", "Asked on", "date"),
    Column("asked_by", "Asked by"),
    Column("question", "Question"),
    Column("answer", "Answer"),
    Column("answered_by", "Answered by"),
]
REVISION_COLUMNS = [
    Column("revision", "Revision", "number"),
    Column("recorded_on", "Recorded on", "date"),
    Column("recorded_by", "Recorded by"),
    Column("reason", "Reason"),
    Column("per_hour", "Cost per contact hour", "money"),
    Column("standing", "Standing"),
]
HISTORY_COLUMNS = [
    Column("period", "Period"),
    Column("status", "State"),
    Column("revision", "Revision", "number"),
    Column("per_hour", "Cost per contact hour", "money"),
    Column("rate", "Rate on the card", "money"),
    Column("gap", "Gap (rate - cost)", "money"),
]



def _line_rows(sheet: dict[str, Any], market: dict[str, Any] | None) -> list[dict[str, Any]]:
    quartiles = market["lines"] if market else {}
    rows = []
    for line in sheet["lines"]:
        q = quartiles.get(line["line"], {})
        rows.append({
            **line,
            "per_hour": shown(line["per_hour"]),
            **{k: shown(q[k]) if k in q else None for k in ("lower", "median", "upper")},
        })  # fmt: skip
    return rows


def _query_rows(sheet: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**q, "state": "open" if q["answer"] is None else "answered", "line_label": field_label(q["line"])}
        for q in sheet["queries"]
    ]


def _revision_rows(
    sheet: dict[str, Any], access: AccountantAccess, provider: str, period: str
) -> list[dict[str, Any]]:
    """Every revision, newest first, read back as ``returns show --revision N`` reads it."""
    engine = as_at.read_engine()
    rows = []
    for number in range(sheet["current_revision"], 0, -1):
        rev = sheet if number == sheet["revision"] else views.return_sheet(engine, access, provider, period, number)
        standing = []
        if number == sheet["current_revision"]:
            standing.append(f"current ({sheet['status']})")
        if number == sheet["accepted_revision"]:
            standing.append("accepted")
        rows.append({
            "revision": number, "recorded_on": rev["recorded_on"], "recorded_by": rev["recorded_by"],
            "reason": rev["reason"], "per_hour": rev["totals"]["total_per_hour_shown"], "standing": ", ".join(standing),
            "linked": "revision", "href": url_for(".return_page", agreement=access.agreement, provider=provider,
                                                  period=period, revision=number),
        })  # fmt: skip
    return rows


def _history_rows(access: AccountantAccess, provider: str) -> list[dict[str, Any]]:
    return [
        {"period": r["period"], "status": r["status"], "revision": r["revision"], "per_hour": r["total_per_hour_shown"],
         "rate": r["rate"].shown_rate, "gap": None if r["gap"] is None else shown(r["gap"]), "linked": "period",
         "href": url_for(".return_page", agreement=access.agreement, provider=provider, period=r["period"])}
        for r in views.history(as_at.read_engine(), access, provider)
    ]  # fmt: skip


def forms_for(sheet: dict[str, Any], given: dict[str, LedgerForm]) -> dict[str, LedgerForm]:
    """The actions the return's state allows (the ledger still decides), and any form being re-shown."""
    under_review = sheet["status"] in ("submitted", "queried")
    decided = sheet["status"] in ("accepted", "rejected")
    explainable = any(f.get("needs_explanation") for f in sheet["findings"])
    wanted = {
        "query": under_review,
        "explain": under_review and explainable,
        "accept": under_review,
        "reject": under_review,
        "reopen": decided,
    }
    if sheet["revision"] != sheet["current_revision"]:  # actions are on the current revision: shown on its page
        wanted = dict.fromkeys(wanted, False)
    return {
        name: given.get(name) or ACTIONS[name](prefix=name, formdata=None)
        for name, offered in wanted.items()
        if offered or name in given
    }


def render_return(
    agreement: str, provider: str, period: str, given: dict[str, LedgerForm] | None = None, status: int = 200
) -> tuple[str, int]:
    engine = as_at.read_engine()
    access = scope.accountant(agreement)
    revision = int_arg("revision", 1, MAX_NUMBER) if request.method == "GET" else None
    sheet = views.return_sheet(engine, access, provider, period, revision)
    market = views.market(engine, access, sheet["period"])
    quartiles = market["market"]
    tables = {
        "lines": table("lines", f"Lines of revision {sheet['revision']}", LINE_COLUMNS, _line_rows(sheet, quartiles)),
        "queries": table("queries", "Queries", QUERY_COLUMNS, _query_rows(sheet)),
        "revisions": table("revisions", "Revisions", REVISION_COLUMNS, _revision_rows(sheet, access, provider, period)),
        "history": table("history", f"{sheet['provider_name']} over time", HISTORY_COLUMNS,
                         _history_rows(access, provider)),
    }  # fmt: skip
    page = render_template(
        "accountant/returns/return.html",
        sheet=sheet,
        market=market,
        quartiles=quartiles,
        card_rate=sheet["rate"].shown_rate,
        gap=None if sheet["gap"] is None else shown(sheet["gap"]),
        tables=tables,
        breakdown=cost_breakdown_chart(sheet),
        volume_labels={volume.value: volume.label for volume in Volume},
        finding_labels=FINDINGS,
        forms=forms_for(sheet, given or {}),
    )
    return page, status


@bp.get("/returns/<agreement>/<provider>/<period>")
@allow(Role.ACCOUNTANT)
def return_page(agreement: str, provider: str, period: str) -> tuple[str, int]:
    return render_return(agreement, provider, period)



def _act(
    name: str, agreement: str, provider: str, period: str, call: Callable[[LedgerForm], dict[str, Any]],
    done: Callable[[LedgerForm, dict[str, Any]], str],
) -> Response | tuple[str, int]:  # fmt: skip
    """Validate the action's form, run its use case once, then flash and go back to the return (or re-show it)."""
    scope.accountant(agreement)  # a stranger's return is 404 whatever the form says
    form = ACTIONS[name](prefix=name)
    if not form.validate_on_submit():
        return render_return(agreement, provider, period, {name: form}, 400)
    try:
        result = call(form)
    except (InvalidInput, RuleBroken, Conflict, NotAllowed) as error:
        return render_return(agreement, provider, period, {name: form}, show_refusal(form, error))
    flash(done(form, result))
    return redirect(url_for(".return_page", agreement=agreement, provider=provider, period=period))


@bp.post("/returns/<agreement>/<provider>/<period>/query")
@allow(Role.ACCOUNTANT)
def query_return(agreement: str, provider: str, period: str) -> Response | tuple[str, int]:
    return _act(
        "query", agreement, provider, period,
        lambda f: book_of().returns.query_cost_return(
            envelope_of(f), agreement, provider, period, f.line.data, f.question.data.strip()
        ),
        lambda f, r: f"Query {r['query_id']} sent on {field_label(f.line.data)}: the return is {r['status']} until "
        "it is answered.",
    )  # fmt: skip


@bp.post("/returns/<agreement>/<provider>/<period>/explain")
@allow(Role.ACCOUNTANT)
def explain_return(agreement: str, provider: str, period: str) -> Response | tuple[str, int]:
    return _act(
        "explain", agreement, provider, period,
        lambda f: book_of().returns.explain_wage_breach(envelope_of(f), agreement, provider, period,
                                                        f.explanation.data.strip()),
        lambda f, r: f"Explanation recorded for revision {r['revision']}.",
    )  # fmt: skip


@bp.post("/returns/<agreement>/<provider>/<period>/accept")
@allow(Role.ACCOUNTANT)
def accept_return(agreement: str, provider: str, period: str) -> Response | tuple[str, int]:
    return _act(
        "accept", agreement, provider, period,
        lambda f: book_of().returns.accept_cost_return(envelope_of(f, reason=f.reason.data), agreement, provider,
                                                       period),
        lambda f, r: f"Revision {r['revision']} accepted.",
    )  # fmt: skip


def reasons_of(text: str) -> list[str]:
    """One reason a line, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@bp.post("/returns/<agreement>/<provider>/<period>/reject")
@allow(Role.ACCOUNTANT)
def reject_return(agreement: str, provider: str, period: str) -> Response | tuple[str, int]:
    return _act(
        "reject", agreement, provider, period,
        lambda f: book_of().returns.reject_cost_return(envelope_of(f), agreement, provider, period,
                                                       reasons_of(f.reasons.data)),
        lambda f, r: f"Revision {r['revision']} rejected; the provider can amend it once it is reopened.",
    )  # fmt: skip


@bp.post("/returns/<agreement>/<provider>/<period>/reopen")
@allow(Role.ACCOUNTANT)
def reopen_return(agreement: str, provider: str, period: str) -> Response | tuple[str, int]:
    return _act(
        "reopen", agreement, provider, period,
        lambda f: book_of().returns.reopen_cost_return(envelope_of(f, reason=f.reason.data.strip()), agreement,
                                                       provider, period),
        lambda f, r: f"Reopened: revision {r['revision']} is {r['status']} again.",
    )  # fmt: skip
