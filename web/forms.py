"""Forms: CSRF (Flask-WTF) and an idempotency key on every form that records.

Each form carries a fresh idempotency key when it is first shown; the ledger
records a command once per key, so a double-click or a resubmitted form
records once, and a reused key with different values is a 409
(``IdempotencyMismatch``). ``envelope_of`` is the one way a view turns a
form into the ledger's envelope.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp

from domain.envelope import Envelope
from web.access import current_actor

KEY_PATTERN = r"^[A-Za-z0-9-]{8,64}$"


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
