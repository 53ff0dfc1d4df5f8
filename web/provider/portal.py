"""What every provider page shares: the date a page is about, the agreement chooser, the years of a term.

A provider usually works under one agreement; the menu's pages (Activity,
Incentives, Payments) then go straight to it, and otherwise offer the
provider's agreements to choose from. Which agreements those are, and the
provider's access under each, is the ledger's answer (``web.scope``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from domain.errors import InvalidInput, NotAllowed
from domain.periods import FinancialYear, financial_year_of, parse_date
from ledger.authorisation import ProviderAccess
from ledger.queries.agreements import list_agreements
from web.scope import access, my_agreements
from web.services import book_of


def chosen_date() -> date:
    """``?on=YYYY-MM-DD``, the effective date a page's figures are about (today if not given)."""
    text = request.args.get("on")
    if not text:
        return date.today()
    try:
        return parse_date(text)
    except ValueError as error:
        raise InvalidInput(f"on: {error}") from None


def agreement_or_choice(endpoint: str, title: str) -> Response | str:
    """Straight to ``endpoint`` for the provider's one agreement, else a list of its agreements to choose from."""
    agreements = [row for row, _ in my_agreements()]
    if len(agreements) == 1:
        return redirect(url_for(endpoint, agreement=agreements[0]["code"], **request.args.to_dict()))
    return render_template("provider/choose.html", title=title, endpoint=endpoint, agreements=agreements)


def financial_years(agreement: dict[str, Any], on: date | None = None) -> list[str]:
    """The financial years of the agreement's term that have begun by ``on`` (today), latest first."""
    last = min(agreement["term_end"], on or date.today())
    year, years = financial_year_of(agreement["term_start"]), []
    while year.start <= last:
        years.append(str(year))
        year = FinancialYear(year.start_year + 1)
    return years[::-1]


def under(code: str) -> tuple[dict[str, Any], ProviderAccess]:
    """The agreement's row and the provider's access to its own figures under it (``NotFound``: not theirs).

    The pages are the provider portal's: an access to every provider's
    figures (a user who is also a commissioner's accountant) is not what they
    show, so it is refused by role rather than shown as one provider's page.
    """
    granted = access(code)
    if not isinstance(granted, ProviderAccess):
        raise NotAllowed("the provider portal shows one provider's own figures: use the accountants' pages")
    row = next(row for row in list_agreements(book_of().read_engine) if row["code"] == code)
    return row, granted
