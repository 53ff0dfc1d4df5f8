"""Integrity: the history's head, the latest recorded checkpoint, and the chain check run on the live store.

The check is ``openbook verify --database``'s: the live store's events fed
as export records (``ledger.audit.export.export_records``) to the standalone
verifier (``ledger.audit.verify.verify_records``), so the page can never
disagree with the file an auditor runs themselves. It runs synchronously in
the request for now (seconds on the demo; a background "verify" job kind is
the next step for a large store). It records nothing, so the result is shown
in the POST's answer rather than redirected to.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import SubmitField

from domain.organisations.user import Role
from ledger.audit import verify as verifier
from ledger.audit.export import export_records
from ledger.authorisation import history_access
from ledger.queries.checkpoints import latest_recorded_checkpoint
from web import navigation
from web.access import allow, current_actor
from web.auditor import bp
from web.services import book_of

bp.record_once(lambda state: navigation.add(state.app, "Integrity", "auditor.integrity", Role.AUDITOR))


class VerifyForm(FlaskForm):
    """Start the chain check (CSRF-protected; it records nothing, so it carries no idempotency key)."""

    submit = SubmitField("Check the live chain now")


def _page(form: VerifyForm, report: dict[str, Any] | None = None, lines: list[str] | None = None) -> str:
    book = book_of()
    return render_template(
        "auditor/integrity/integrity.html",
        form=form,
        head=book.projections.head(),
        checkpoint=latest_recorded_checkpoint(book.read_engine),
        report=report,
        lines=lines or [],
    )


@bp.get("/integrity")
@allow(Role.AUDITOR)
def integrity() -> str:
    book = book_of()
    history_access(book.records, current_actor())
    return _page(VerifyForm())


@bp.post("/integrity")
@allow(Role.AUDITOR)
def verify_chain() -> tuple[str, int] | str:
    book = book_of()
    history_access(book.records, current_actor())
    form = VerifyForm()
    if not form.validate_on_submit():
        return _page(form), 400
    report = verifier.verify_records(export_records(book.ledger.recorder, book.ledger.write_engine))
    return _page(form, report.as_json(), report.lines())
