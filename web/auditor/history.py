"""A record's history: each event that changed one record, and what changed between revisions, line by line.

The page is ``ledger.audit.record_history.record_history`` — what
``openbook events history KIND KEY...`` prints — asked for by a GET form (the
kind, and the parts of its key one after another, as the CLI takes them) — or,
from an event's page, by the record's id (``aggregate_history``: an id cannot
be turned back into its key, so the page names the record by its id then).
A record under an agreement the auditor's audit body is not appointed to is 404,
as if it were never recorded (``history_access``).
"""

from __future__ import annotations

from uuid import UUID

from flask import render_template, request
from wtforms import Form, SelectField, StringField
from wtforms.validators import DataRequired, Length

from domain.errors import InvalidInput, NotFound
from domain.organisations.user import Role
from ledger.audit.record_history import RECORD_KINDS, aggregate_history, key_parts, record_history
from ledger.authorisation import history_access
from web import as_at
from web.access import allow, current_actor
from web.auditor import bp
from web.services import book_of


def kind_choices() -> list[tuple[str, str]]:
    """Each kind of record with the parts of its key, e.g. "cost-return (agreement provider period)"."""
    return [(kind, f"{kind} ({' '.join(key_parts(kind)) or 'no key'})") for kind in sorted(RECORD_KINDS)]


class RecordForm(Form):
    """Which record: its kind and its key (GET: nothing is recorded)."""

    kind = SelectField("Kind of record", validators=[DataRequired("choose the kind of record")])
    key = StringField("Key", validators=[Length(max=400)])


@bp.get("/history")
@allow(Role.AUDITOR)
def history() -> tuple[str, int] | str:
    book = book_of()
    access = history_access(book.records, current_actor(), book.read_engine)
    form = RecordForm(request.args)
    form.kind.choices = kind_choices()
    known = as_at.current()  # the record's events up to that position, read from the store
    up_to = None if known is None else known.position
    if "aggregate" in request.args:
        try:
            aggregate_id = UUID(request.args["aggregate"])
        except ValueError:
            form.form_errors = [f"aggregate: {request.args['aggregate']!r} is not a record's id (a UUID)"]
            return render_template("auditor/history/record.html", form=form, record=None), 400
        record = aggregate_history(book.read_engine, book.ledger.mapper, access, aggregate_id, up_to)
        return render_template("auditor/history/record.html", form=form, record=record)
    if "key" not in request.args:  # just the form (perhaps with the kind chosen from an event)
        return render_template("auditor/history/record.html", form=form, record=None)
    if not form.validate():
        return render_template("auditor/history/record.html", form=form, record=None), 400
    try:
        record = record_history(book.read_engine, book.ledger.mapper, access, form.kind.data, form.key.data.split(),
                                up_to)
    except InvalidInput as e:
        form.key.errors = [str(e).removeprefix("key: ")]
        return render_template("auditor/history/record.html", form=form, record=None), 400
    except NotFound as e:
        form.key.errors = [str(e)]
        return render_template("auditor/history/record.html", form=form, record=None), 404
    return render_template("auditor/history/record.html", form=form, record=record)
