"""Issued statements in the browser: issuing one (accountants), listing and downloading them, and checking a copy.

* **Issue** — an accountant of a commissioner issues a statement from the
  statement's page (the settlement page's "Send out" button) or the list's form:
  a ``LedgerForm`` (CSRF and an idempotency key, so a double click issues
  once) naming what ``openbook statements issue KIND`` names. The ledger
  decides who may (``issue_statement``'s rule); its refusal is shown on the form.
* **Issued statements** — every issue the user may see across the agreements
  they have a part in (a provider: only those issued to it), each downloadable
  byte for byte as issued. Another organisation's is a 404.
* **Check a copy** (auditors) — upload a file; its SHA-256 is compared with
  the issued statements'. It records nothing, so the answer is the POST's
  page, not a redirect; the form carries CSRF but no idempotency key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.queries.issued_statements import issued_statements_under
from reports.statements.issuing import BUILDERS, Asked, check_copy, fetch, issue
from reports.tables import Column
from web import navigation, scope
from web.access import allow, current_actor, current_roles
from web.forms import REFUSALS_WITH_NOT_FOUND, LedgerForm, envelope_of, show_refusal
from web.params import MAX_NUMBER
from web.services import book_of
from web.tables import download, table

bp = Blueprint("issued_statements", __name__, url_prefix="/statements")
bp.record_once(lambda state: navigation.add(state.app, "Issued statements", "issued_statements.issued",
                                            Role.ACCOUNTANT, Role.PROVIDER, Role.AUDITOR))  # fmt: skip
bp.record_once(lambda state: navigation.add(state.app, "Check a statement", "issued_statements.check", Role.AUDITOR))

READERS = (Role.PROVIDER, Role.ACCOUNTANT, Role.AUDITOR)


class IssueForm(LedgerForm):
    """``openbook statements issue KIND``: which statement, and why it is sent (the envelope's reason)."""

    agreement = SelectField("Agreement", choices=[], validators=[DataRequired()])
    kind = SelectField("Statement", choices=[SelectChoice(kind, kind) for kind in BUILDERS])
    period = StringField("Period (2019-20, 2019-20-Q1 or 2019-05, as the statement has it)",
                         validators=[DataRequired(), Length(max=10)])  # fmt: skip
    provider = StringField("Provider (its code; empty: the partnership's)", validators=[Optional(), Length(max=63)])
    commissioner = StringField("Commissioner (a settlement statement for one commissioner)",
                               validators=[Optional(), Length(max=63)])  # fmt: skip
    number = IntegerField("Settlement number (empty: the latest)", validators=[Optional(), NumberRange(1, MAX_NUMBER)])
    run = IntegerField("Incentive assessment run (empty: the latest)", validators=[Optional(), NumberRange(1, MAX_NUMBER)])
    reason = StringField("Reason (kept in the history)", validators=[Optional(), Length(max=500)])


def _issuing_agreements() -> list[str]:
    """The agreements whose statements the user may see in full: an accountant's (the ledger still decides)."""
    if Role.ACCOUNTANT not in current_roles():
        return []
    return [row["code"] for row, _access in scope.my_agreements(every_provider=True)]


class IssueButtonForm(IssueForm):
    """The same form as a button beside a statement's link, on a page with a form of its own: ids kept unique."""

    id_prefix = "issue-"


def issue_form(kind: str, agreement: str, period: Any, **options: Any) -> IssueForm:
    """The form that issues one statement, filled in: the button beside a statement's link (a template global)."""
    form = IssueButtonForm(formdata=None, agreement=agreement, kind=kind, period=str(period),
                     provider=options.get("provider"), commissioner=options.get("commissioner"),
                     number=options.get("sequence"), run=options.get("run"))  # fmt: skip
    form.agreement.choices = [SelectChoice(agreement, agreement)]
    return form


bp.add_app_template_global(issue_form, "issue_form")

_COLUMNS = [
    Column("issued_on", "Issued on"), Column("agreement", "Agreement"), Column("kind", "Kind"),
    Column("period", "Period"), Column("party", "For"), Column("title", "Statement"), Column("size", "Bytes", "number"),
    Column("issued_by", "Issued by"), Column("digest", "SHA-256"),
]  # fmt: skip


def _page(form: IssueForm | None, status: int = 200) -> tuple[str, int]:
    book = book_of()
    wanted = request.args.get("agreement") or None
    mine = [(row["code"], access) for row, access in scope.my_agreements()]
    if wanted is not None and wanted not in {code for code, _ in mine}:
        raise NotFound(f"agreement {wanted} is not found")  # not one of the user's: as if it did not exist
    rows: list[dict[str, Any]] = []
    for code, access in mine:
        if wanted in (None, code):
            rows += issued_statements_under(book.read_engine, access)
    rows.sort(key=lambda r: r["issued_in"], reverse=True)
    shown = [{**r, "party": r["party"] or "the partnership"} for r in rows]
    agreements = _issuing_agreements()
    if form is None and agreements:
        form = IssueForm()
    if form is not None:
        form.agreement.choices = [SelectChoice(code, code) for code in agreements]
    listing = table("issued", "Statements issued, newest first", _COLUMNS, shown)
    return render_template("statements/issued.html", t=listing, form=form), status


@bp.get("/issued")
@allow(*READERS)
def issued() -> tuple[str, int]:
    return _page(None)


@bp.post("/issued")
@allow(Role.ACCOUNTANT)
def issue_statement() -> Any:
    form = IssueForm()
    form.agreement.choices = [SelectChoice(code, code) for code in _issuing_agreements()]
    if not form.validate_on_submit():
        return _page(form, 400)
    asked = Asked(form.kind.data, form.agreement.data, form.period.data.strip(), provider=form.provider.data or None,
                  commissioner=form.commissioner.data or None, sequence=form.number.data, run=form.run.data)  # fmt: skip
    try:
        issued, _pdf = issue(book_of(), envelope_of(form, reason=form.reason.data), asked)
    except REFUSALS_WITH_NOT_FOUND as error:
        return _page(form, show_refusal(form, error))
    said = "Issued" if issued["new"] else "Already issued (the same document)"
    flash(f"{said}: {issued['title']}, SHA-256 {issued['digest']}.")
    return redirect(url_for("issued_statements.issued"))


@bp.get("/documents/<digest>")
@allow(*READERS)
def document(digest: str) -> Response:
    """An issued statement's bytes, exactly as issued; another organisation's is a 404."""
    row, found = fetch(book_of(), current_actor(), digest)
    name = f"{row['kind']}-{row['agreement']}-{row['period']}-{row['digest'][:12]}.pdf"
    return download(found.body, name, found.media_type)


class CheckForm(FlaskForm):
    """Upload a copy to check (CSRF-protected; it records nothing, so no idempotency key)."""

    file = FileField("The statement to check (PDF)", validators=[FileRequired("choose a file")])


@bp.get("/check")
@allow(Role.AUDITOR)
def check() -> str:
    return render_template("statements/check.html", form=CheckForm(), result=None)


@bp.post("/check")
@allow(Role.AUDITOR)
def check_upload() -> tuple[str, int]:
    form = CheckForm()
    if not form.validate_on_submit():
        return render_template("statements/check.html", form=form, result=None), 400
    result = check_copy(book_of(), current_actor(), form.file.data.read())
    return render_template("statements/check.html", form=CheckForm(formdata=None), result=result), 200
