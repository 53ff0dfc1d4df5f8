"""What a command says when it records a change to a closed year (docs/year-end.md).

Closing a year refuses nothing later: an import of visits dated in it, a
review backdated into it, are recorded as ever. Each says so, and where its
money goes, so nothing is absorbed in silence. Shared by the activity and
rate review use cases (neither imports the other's module for it).
"""

from __future__ import annotations

from datetime import date

from domain.periods import financial_year_of
from domain.settlement.year_end import YearEnd
from ledger.records import Records

__all__ = ["closed_years_note"]


def closed_years_note(
    records: Records, agreement: str, first: date | None, last: date | None, what: str = "visits dated"
) -> str:
    """What a command says when what it records (an import's new visits, a backdated review's rates) falls in a
    closed year: recorded, and where its money goes (docs/year-end.md); "" when none does."""
    if first is None or last is None:
        return ""
    closed, year = [], financial_year_of(first)
    while year.start <= last:
        end: YearEnd | None = records.find(YearEnd.create_id(agreement, str(year)))
        if end is not None:
            closed.append(f"{year} (closed with settlement {end.settlement})")
        year = year.next()
    if not closed:
        return ""
    return (
        f"; {what} in the closed year {', '.join(closed)}: recorded, paid as a closed-year adjustment in the "
        "next open payment run, and that year's settlement is out of date until it is re-settled"
    )
