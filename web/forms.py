"""Forms: CSRF (Flask-WTF) and an idempotency key on every form that records.

Each form carries a fresh idempotency key when it is first shown; the ledger
records a command once per key, so a double-click or a resubmitted form
records once, and a reused key with different values is a 409
(``IdempotencyMismatch``). ``envelope_of`` is the one way a view turns a
form into the ledger's envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import uuid4

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp

from domain.envelope import Envelope
from domain.errors import Conflict, InvalidInput, NotFound, OpenbookError, RuleBroken
from web.access import current_actor
from web.errors import status_of

KEY_PATTERN = r"^[A-Za-z0-9-]{8,64}$"

#: The ledger's refusals a form shows beside its fields, re-rendering the page (nothing was recorded).
REFUSALS = (InvalidInput, RuleBroken, Conflict)
#: The same, on a page that has already checked the agreement is the user's: a ``NotFound`` then names a value
#: typed in a field (a zone, a service the agreement does not have), shown beside it.
REFUSALS_WITH_NOT_FOUND = (*REFUSALS, NotFound)
HIDDEN_FIELDS = ("csrf_token", "idempotency_key")


class IdempotencyKeyField(HiddenField):
    """The form's once-only key: a fresh one when the form is shown, only the one sent when it is submitted.

    A submission without a key is refused (``DataRequired``), never given a
    fresh default, so a POST of no fields cannot record under a key the
    browser never had.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0] if valuelist else None


class LedgerForm(FlaskForm):
    """A form whose submission records something in the ledger."""

    idempotency_key = IdempotencyKeyField(
        validators=[DataRequired(), Length(max=64), Regexp(KEY_PATTERN)], default=lambda: str(uuid4())
    )

    #: Set on a form shown on a page beside another, so their fields' ids (and the labels pointing at them) stay
    #: unique on the page; the names posted are unchanged. (``prefix=`` renames the posted fields as well.)
    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.id_prefix:
            for each in self:
                each.id = each.label.field_id = f"{self.id_prefix}{each.id}"


def envelope_of(form: LedgerForm, *, effective: date | None = None, reason: str | None = None) -> Envelope:
    """The envelope for ``form``'s command: the logged-in actor, the date the fact is about, why, once-only key."""
    return Envelope(
        actor=current_actor(),
        effective_date=effective or date.today(),
        reason=reason or None,
        idempotency_key=f"web-{form.idempotency_key.data}",
        date_stated=effective is not None,
    )


def show_refusal(form: FlaskForm, error: OpenbookError, aliases: Mapping[str, str] | None = None) -> int:
    """Show the ledger's refusal on ``form``; the page's HTTP status (``web.errors.status_of``, as an error page).

    Each problem that starts with a field's name ("hourly_rate: must be ...")
    goes beside that field - ``aliases`` maps the ledger's names to the
    form's (``effective_date`` -> ``effective``) - and every other problem
    above the form (``form.form_errors``). The one way a page shows a refusal.
    """
    for problem in error.problems or [str(error)]:
        named, separator, message = problem.partition(": ")
        name = (aliases or {}).get(named, named)
        field = form._fields.get(name) if separator and name not in HIDDEN_FIELDS else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(problem)
    return status_of(error)
