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

from flask import redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import SubmitField

from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.authorisation import history_access
from ledger.jobs import verify_chain
from ledger.queries.checkpoints import latest_recorded_checkpoint
from web import navigation
from web.access import allow, current_actor
from web.auditor import bp
from web.services import book_of

bp.record_once(lambda state: navigation.add(state.app, "Integrity", "auditor.integrity", Role.AUDITOR))


class VerifyForm(FlaskForm):
    """Start the chain check (CSRF-protected; it records nothing, so it carries no idempotency key)."""

    submit = SubmitField("Check the live chain now")


def _page(form: VerifyForm) -> str:
    book = book_of()
    checks = [job for job in book.jobs.list_for(current_actor()) if job.kind == verify_chain.NAME][:5]
    return render_template(
        "auditor/integrity/integrity.html",
        form=form,
        head=book.projections.head(),
        checkpoint=latest_recorded_checkpoint(book.read_engine),
        checks=checks,
    )


@bp.get("/integrity")
@allow(Role.AUDITOR)
def integrity() -> str:
    book = book_of()
    history_access(book.records, current_actor())
    return _page(VerifyForm())


@bp.post("/integrity")
@allow(Role.AUDITOR)
def start_chain_check() -> tuple[str, int] | Response:
    book = book_of()
    history_access(book.records, current_actor())
    form = VerifyForm()
    if not form.validate_on_submit():
        return _page(form), 400
    job = book.jobs.enqueue(verify_chain.NAME, current_actor(), {})
    return redirect(url_for("auditor.chain_check", job=job))


@bp.get("/integrity/checks/<job>")
@allow(Role.AUDITOR)
def chain_check(job: str) -> str:
    book = book_of()
    history_access(book.records, current_actor())
    found = book.jobs.get(current_actor(), job)
    if found.kind != verify_chain.NAME:
        raise NotFound(f"job {job} is not found")
    report: dict[str, Any] = found.result or {}
    return render_template("auditor/integrity/check.html", job=found, report=report)
