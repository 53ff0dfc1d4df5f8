"""What every admin form shares: the date and reason of a change, and a domain refusal shown beside its field.

The ledger checks every value (and who may record it); a page only shows
what it says. ``record`` runs one command and, if the ledger refuses it as
input, a rule or a clash, puts each problem beside the field it names
(problems read ``"field: message"``) or above the form, and gives the status
the error's kind has on the web. Nothing is recorded then: the command
either records whole or not at all. ``NotAllowed`` and ``NotFound`` are not
caught: they become the 403 and 404 pages - except a ``NotFound`` naming one
of the form's fields (a zone code typed that is not a zone), shown beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from wtforms import DateField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from domain.errors import NotFound
from web.forms import HIDDEN_FIELDS, REFUSALS, LedgerForm, envelope_of, show_refusal


class ChangeForm(LedgerForm):
    """A change to the ledger: the first day it applies and why (the agreement requires a reason for changes)."""

    effective = DateField("Applies from", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def envelope(form: LedgerForm) -> Any:
    effective: date | None = getattr(getattr(form, "effective", None), "data", None)
    reason = getattr(getattr(form, "reason", None), "data", None)
    return envelope_of(form, effective=effective, reason=(reason or "").strip() or None)



def record(
    form: LedgerForm, command: Callable[[], Any], aliases: Mapping[str, str] | None = None
) -> tuple[Any, int | None]:
    """Run ``command``: (its result, None), or (None, the HTTP status) with the refusal shown on ``form``."""
    try:
        return command(), None
    except REFUSALS as e:
        return None, show_refusal(form, e, aliases)
    except NotFound as e:  # a code typed in a field that names nothing (a zone, a provider): a bad value, said there
        name = (aliases or {}).get(e.problems[0].partition(": ")[0], e.problems[0].partition(": ")[0])
        if name in HIDDEN_FIELDS or name not in form._fields:
            raise
        show_refusal(form, e, aliases)
        return None, 400


def words(text: str | None) -> list[str]:
    """A list typed in one box, separated by commas or spaces ("CH41, CH42 CH43")."""
    return [w for w in (text or "").replace(",", " ").split() if w]


def choices(values: Iterable[str | tuple[str, str]]) -> list[SelectChoice]:
    """A select's options from values (or (value, label) pairs)."""
    return [SelectChoice(*v) if isinstance(v, tuple) else SelectChoice(str(v)) for v in values]
