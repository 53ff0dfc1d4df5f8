"""The forms of the accountants' money pages, and how a refusal from the ledger is shown on one.

Each form records a command of ``ledger.usecases.settlements`` (the same
ones ``openbook pool set``, ``openbook payments run`` and ``openbook settle ...`` call); the date and
reason are the envelope's, as the CLI's ``--effective`` and ``--reason``.
"""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from domain.settlement.pooled_budget import MarginBasis, PaymentMechanism
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



class PoolForm(RecordForm):
    """``openbook pool set``: a year's pooled budget - target, bands, caps, how providers are paid, clawback, split."""

    financial_year = StringField("Financial year", validators=[DataRequired(), Length(max=7)])
    target = StringField("Target spend for care (£)", validators=[DataRequired(), Length(max=20)])
    bands = TextAreaField("Bands, one LOWER:UPPER:SHARE a line (- for an open end)",
                          validators=[DataRequired(), Length(max=2000)])  # fmt: skip
    gain_cap = StringField("Most the provider side can gain (£)", validators=[Optional(), Length(max=20)])
    loss_cap = StringField("Most the provider side can lose (£)", validators=[Optional(), Length(max=20)])
    mechanism = SelectField("How providers are paid", choices=[SelectChoice(m.value, m.value) for m in PaymentMechanism])
    capitation = TextAreaField("Capitated sums, one PROVIDER:ZONE=MONTHLY a line",
                               validators=[Optional(), Length(max=4000)])  # fmt: skip
    clawback_share = StringField("Share of excess surplus clawed back (0 to 1)", default="1",
                                 validators=[DataRequired(), Length(max=10)])  # fmt: skip
    margin_basis = SelectField("Margin basis", choices=[SelectChoice(m.value, m.value) for m in MarginBasis])
    split = TextAreaField("Agreed split of the provider side, one PROVIDER=WEIGHT a line (optional)",
                          validators=[Optional(), Length(max=2000)])  # fmt: skip
