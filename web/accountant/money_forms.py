"""The forms of the accountants' money pages, and how a refusal from the ledger is shown on one.

Each form records a command of ``ledger.usecases.settlements`` (the same
ones ``openbook payments run`` and ``openbook settle ...`` call); the date and
reason are the envelope's, as the CLI's ``--effective`` and ``--reason``.
"""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from domain.errors import OpenbookError
from web.errors import status_of
from web.forms import LedgerForm


class RecordForm(LedgerForm):
    """A command with the envelope's optional date and reason (as ``--effective`` / ``--reason``)."""

    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class RunForm(RecordForm):
    """``openbook payments run``: the month whose payments are recorded (choices: the months of the year)."""

    month = SelectField("Month paid for", choices=[])


class SettlementForm(RecordForm):
    """``openbook settle review|approve|issue|withdraw``: one form, a button per command (each its own URL).

    The note is the reviewer's; the reason is the envelope's (a withdrawal
    requires one). An approval is for the approving accountant's own
    commissioner: the ledger decides which.
    """

    note = StringField("Reviewer's note", validators=[Optional(), Length(max=500)])


def refused(form: LedgerForm, error: OpenbookError) -> int:
    """Show the ledger's refusal on ``form``: beside the field a problem names, else above the form; its status."""
    for problem in error.problems:
        name, colon, rest = problem.partition(":")
        field = form._fields.get(name.strip()) if colon else None
        if field is not None and name.strip() not in ("idempotency_key", "csrf_token"):
            field.errors = [*field.errors, rest.strip()]
        else:
            form.form_errors.append(problem)
    return status_of(error)
