"""A provider uploads its own activity file, imported in the background; then sees the result or the rows' problems.

The file (up to a million visits; the size limit is ``OPENBOOK_MAX_UPLOAD_MB``, a larger one is a 413 page) is
queued as an ``activity-import`` job (``web.jobs_view``, shared with the accountants' upload), which runs
``book.activity.import_activity`` as the provider's user — as ``openbook --as USER activity import`` does. The
ledger decides who may (``import_activity``: the provider's own staff, under an agreement that awards it) and
refuses, by row, a file naming any other provider: nothing is recorded. The job's page shows a progress bar that
refreshes itself until the import ends; closing it does not stop the import. Another organisation's job is 404.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length, Optional

from domain.errors import Conflict, InvalidInput, RuleBroken
from domain.organisations.user import Role
from web import navigation
from web.access import allow
from web.forms import show_refusal
from web.jobs_view import JOB_COLUMNS, ActivityFileForm, import_job_page, job_rows, queue_import, size_limit_mb
from web.provider import bp
from web.provider.portal import agreement_or_choice, under
from web.tables import table

bp.record_once(lambda state: navigation.add(state.app, "Upload activity", "provider.activity_upload_index", Role.PROVIDER))


class UploadForm(ActivityFileForm):
    """Your activity file, and why (the import's reason; by default "visits imported from" the file's name)."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


@bp.get("/activity-upload")
@allow(Role.PROVIDER)
def activity_upload_index() -> Response | str:
    return agreement_or_choice("provider.activity_upload", "Upload activity")


def _upload_page(agreement: str, form: UploadForm | None = None, status: int = 200) -> tuple[str, int]:
    row, _ = under(agreement)
    uploads = table("uploads", "Your uploads, newest first", JOB_COLUMNS, job_rows(agreement))
    page = render_template("provider/activity/upload.html", agreement=row, form=form or UploadForm(),
                           uploads=uploads, limit_mb=size_limit_mb())  # fmt: skip
    return page, status


@bp.get("/activity/<agreement>/upload")
@allow(Role.PROVIDER)
def activity_upload(agreement: str) -> tuple[str, int]:
    return _upload_page(agreement)


@bp.post("/activity/<agreement>/upload")
@allow(Role.PROVIDER)
def upload_activity(agreement: str) -> Any:
    """Queue the file's import as the provider's user, then show its job (POST/redirect/GET).

    Another organisation's agreement is a 404 before the file is kept (``under``); a refusal of the import rule
    (an alliance's member, say) is the ledger's, shown as its page.
    """
    under(agreement)
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(agreement, form, 400)
    try:
        job = queue_import(agreement, form, reason=form.reason.data or None)
    except (InvalidInput, RuleBroken, Conflict) as error:
        return _upload_page(agreement, form, show_refusal(form, error))
    return redirect(url_for("provider.activity_upload_job", agreement=agreement, job=job))


@bp.get("/activity/<agreement>/upload/<job>")
@allow(Role.PROVIDER)
def activity_upload_job(agreement: str, job: str) -> str:
    under(agreement)
    return import_job_page(
        agreement,
        job,
        links=[("Upload another file", url_for("provider.activity_upload", agreement=agreement)),
               ("Your activity", url_for("provider.activity", agreement=agreement))],
        again=url_for("provider.activity_upload", agreement=agreement),
    )  # fmt: skip
