"""The forms of the accountants' money pages, and how a refusal from the ledger is shown on one.

Each form records a command of ``ledger.usecases.settlements`` (the same
ones ``openbook payments run`` and ``openbook settle ...`` call); the date and
reason are the envelope's, as the CLI's ``--effective`` and ``--reason``.
"""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

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

