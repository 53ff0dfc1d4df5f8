"""The financial years of an agreement's term that a page offers: one reckoning for every page that lists them."""

from __future__ import annotations

from datetime import date

from domain.periods import FinancialYear, financial_year_of

__all__ = ["term_years"]


def term_years(term_start: date, term_end: date, on: date | None = None) -> list[str]:
    """The financial years from ``term_start`` that have begun by ``term_end`` or ``on`` (today), latest first.

    Counted between the first and last years rather than stepped past the
    last, so a term ending in the ledger's last year never asks for the year
    after it (which ``FinancialYear`` refuses).
    """
    last = min(term_end, on or date.today())
    if last < term_start:
        return []
    first, final = financial_year_of(term_start).start_year, financial_year_of(last).start_year
    return [str(FinancialYear(year)) for year in range(final, first - 1, -1)]
