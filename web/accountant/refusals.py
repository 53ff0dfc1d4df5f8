"""A command's refusal on the page: each problem beside the field it names, the rest above the form.

The ledger's ``InvalidInput``/``RuleBroken``/``Conflict`` (and, once the page
has checked the agreement is the user's, ``NotFound`` for a zone or service the
agreement does not have) carry problems that start with the field they are
about ("hourly_rate: ..."); a page maps the ledger's names to its own fields
(``aliases``) and shows the rest at the top. Nothing was recorded, so the page is shown again with the status of
the kind of refusal (``web.errors.status_of``, as an error page would have).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm

from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from web.errors import status_of

REFUSALS = (InvalidInput, RuleBroken, Conflict, NotFound)


def show_refusal(
    form: FlaskForm, error: InvalidInput | RuleBroken | Conflict | NotFound, aliases: Mapping[str, str] | None = None
) -> int:
    """Put each of ``error``'s problems beside the field it names (else at the top); the page's status."""
    for problem in error.problems or [str(error)]:
        named, _, message = problem.partition(": ")
        name = (aliases or {}).get(named, named) if message else None
        if name is not None and name in form and name not in ("csrf_token", "idempotency_key"):
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(problem)
    return status_of(error)
