"""Integrity: the history's head, the latest checkpoints and whether each holds, the public key, the chain check
run on the live store, exports of any range, and the standalone verifier itself.

The check is ``openbook verify --database``'s and the export ``openbook export``'s, each run as a background job
(``ledger/jobs/verify_chain.py``, ``ledger/jobs/export_history.py``) whose page shows its progress: the live
store's events fed to the standalone verifier (``ledger.audit.verify.verify_records``), and the export written
by ``ledger.audit.export.write_export``, so neither can disagree with what an auditor runs themselves. The files
offered for download — the export, the verifier (``ledger/audit/verify.py``: one file, the standard library
only), the configured key's public half — are what an auditor checks the history with on a machine of their own,
without trusting this one. Starting either job is all an auditor records from these pages, and it is no event.

Checking the chain (and this page: hashes, counts, pass or fail) is for any auditor of an audit body
(``check_may_verify_history``); an export is the whole chain, every agreement's raw figures, so only an audit body
appointed to every agreement in the ledger may start, see or fetch one (``check_may_export_history``); others are
told why in place of the form.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives import serialization
from flask import current_app, redirect, render_template, send_file, url_for
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import IntegerField, SubmitField
from wtforms.validators import NumberRange, Optional

from domain.bounds import MAX_POSITION
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.organisations.user import Role
from ledger.audit import verify as verifier
from ledger.audit.checkpoint_checks import checkpoint_checks
from ledger.authorisation import check_may_export_history, check_may_verify_history
from ledger.jobs import export_history, verify_chain
from ledger.jobs.store import Job
from ledger.queries.checkpoints import recorded_checkpoints
from ledger.settings import Settings
from web import navigation
from web.access import allow, current_actor
from web.auditor import bp
from web.forms import show_refusal
from web.services import book_of
from web.tables import download

#: Checkpoints shown, newest first.
CHECKPOINTS_SHOWN = 5
#: Jobs of each kind listed.
JOBS_SHOWN = 5

bp.record_once(lambda state: navigation.add(state.app, "Integrity", "auditor.integrity", Role.AUDITOR))


class VerifyForm(FlaskForm):
    """Start the chain check (CSRF-protected; it records nothing, so it carries no idempotency key)."""

    submit = SubmitField("Check the live chain now")


class ExportForm(FlaskForm):
    """Export a range of the history (CSRF-protected; it records nothing: sent twice, it exports twice)."""

    start = IntegerField("From position", validators=[Optional(), NumberRange(1, MAX_POSITION)])
    stop = IntegerField("To position", validators=[Optional(), NumberRange(1, MAX_POSITION)])
    export = SubmitField("Export this range")


def _jobs(kind: str) -> list[Job]:
    return [job for job in book_of().jobs.list_for(current_actor()) if job.kind == kind][:JOBS_SHOWN]


def _export_refusal() -> str | None:
    """Why the actor may not export the history, or None if they may."""
    book = book_of()
    try:
        check_may_export_history(book.records, current_actor(), book.read_engine)
    except (NotAllowed, NotFound) as refused:
        return str(refused)
    return None


def _page(form: VerifyForm | None = None, export_form: ExportForm | None = None) -> str:
    book = book_of()
    key = book.ledger.signing_key
    return render_template(
        "auditor/integrity/integrity.html",
        form=form or VerifyForm(formdata=None),
        export_form=export_form or ExportForm(formdata=None, prefix="export"),
        head=book.projections.head(),
        checkpoints=checkpoint_checks(book.ledger.recorder, key, recorded_checkpoints(book.read_engine, CHECKPOINTS_SHOWN)),
        key=key,
        checks=_jobs(verify_chain.NAME),
        exports=_jobs(export_history.NAME),
        export_refused=_export_refusal(),
    )


@bp.get("/integrity")
@allow(Role.AUDITOR)
def integrity() -> str:
    book = book_of()
    check_may_verify_history(book.records, current_actor())
    return _page()


@bp.post("/integrity")
@allow(Role.AUDITOR)
def start_chain_check() -> tuple[str, int] | Response:
    book = book_of()
    check_may_verify_history(book.records, current_actor())
    form = VerifyForm()
    if not form.validate_on_submit():
        return _page(form=form), 400
    job = book.jobs.enqueue(verify_chain.NAME, current_actor(), {})
    return redirect(url_for("auditor.chain_check", job=job))


def _exports_folder() -> Path:
    return Settings(instance_path=current_app.config["OPENBOOK_INSTANCE"]).exports_folder


@bp.post("/integrity/exports")
@allow(Role.AUDITOR)
def start_export() -> tuple[str, int] | Response:
    """Queue an export of the range asked for, written to a folder of its own under the instance's exports."""
    book = book_of()
    check_may_export_history(book.records, current_actor(), book.read_engine)
    form = ExportForm(prefix="export")
    if not form.validate_on_submit():
        return _page(export_form=form), 400
    retention = timedelta(days=current_app.config["OPENBOOK_EXPORT_RETENTION_DAYS"])
    export_history.clear_expired(_exports_folder(), retention, book.jobs.store)
    out = _exports_folder() / uuid4().hex / export_history.FILE_NAME
    try:
        job = book.jobs.enqueue(
            export_history.NAME, current_actor(), export_history.arguments(out, form.start.data, form.stop.data)
        )
    except InvalidInput as error:
        status = show_refusal(form, error, {"from": "start", "to": "stop"})  # on the form before it is shown
        return _page(export_form=form), status
    return redirect(url_for("auditor.export_job", job=job))


def _export_job(job: str) -> Job:
    book = book_of()
    check_may_export_history(book.records, current_actor(), book.read_engine)
    found = book.jobs.get(current_actor(), job)
    if found.kind != export_history.NAME:
        raise NotFound(f"job {job} is not found")
    return found


@bp.get("/integrity/exports/<job>")
@allow(Role.AUDITOR)
def export_job(job: str) -> str:
    found = _export_job(job)
    return render_template("auditor/integrity/export.html", job=found, summary=found.result or {})


@bp.get("/integrity/exports/<job>/file")
@allow(Role.AUDITOR)
def export_file(job: str) -> Response:
    """The finished export, named for its range; the path is the job's own, never one a user gave."""
    found = _export_job(job)
    path = Path(found.arguments["path"])
    if found.state != "done" or not path.is_file():  # not yet written, or cleared after the retention
        raise NotFound(f"the export of job {job} is not ready")
    summary = found.result or {}
    name = f"openbook-export-{summary.get('from')}-{summary.get('checkpoint', {}).get('position')}.jsonl"
    return send_file(path, mimetype="application/x-ndjson", as_attachment=True, download_name=name)


@bp.get("/integrity/verify.py")
@allow(Role.AUDITOR)
def verifier_file() -> Response:
    """The standalone verifier (docs/audit.md), to run as ``python3 -I verify.py FILE`` on a machine of one's own."""
    check_may_verify_history(book_of().records, current_actor())
    return download(Path(verifier.__file__).read_bytes(), "verify.py", "text/x-python")


def _public_key() -> Any:
    key = book_of().ledger.signing_key
    if key is None:
        raise NotFound("no signing key is configured: the history's events and checkpoints are unsigned")
    return key


@bp.get("/integrity/public-key.pem")
@allow(Role.AUDITOR)
def public_key_pem() -> Response:
    """The configured signing key's public half as PEM (SubjectPublicKeyInfo)."""
    key = _public_key()
    pem = key.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return download(pem, f"openbook-{key.key_id}.pem", "application/x-pem-file")


@bp.get("/integrity/public-keys.txt")
@allow(Role.AUDITOR)
def public_key_line() -> Response:
    """The public key as published (``ed25519:`` line), the file ``verify.py --public-key`` takes."""
    key = _public_key()
    return download(f"# openbook signing key {key.key_id}\n{key.public_line}\n", f"openbook-{key.key_id}.pub",
                    "text/plain")


@bp.get("/integrity/checks/<job>")
@allow(Role.AUDITOR)
def chain_check(job: str) -> str:
    book = book_of()
    check_may_verify_history(book.records, current_actor())
    found = book.jobs.get(current_actor(), job)
    if found.kind != verify_chain.NAME:
        raise NotFound(f"job {job} is not found")
    report: dict[str, Any] = found.result or {}
    return render_template("auditor/integrity/check.html", job=found, report=report)
