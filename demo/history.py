"""A provider with five years of history: Premier Care's cost returns for every quarter of Wirral's term.

Built on an empty ledger with the ledger's own commands, for the statement tests
(``tests/integration/test_statement_history.py``: the cost statement's pages do
not grow with the history) and the statements benchmark (``bench/statements.py``:
seconds for that statement), which must measure the same ledger the test bounds.

It is the demo's organisations, users and Wirral agreement (the £15.60 rate
from April 2019, the 2020-21 review, the term to March 2024) and, for each of
the 20 quarters 2019-20-Q1 to 2023-24-Q4, a few visits imported from the call
monitoring file (one file a year: an import is the slow step) and Premier
Care's cost return filed, submitted and accepted, its contact pay rising with
the wage floor each year. The lines are the Homecare Association's 2020-21
breakdown per contact hour (DOMAIN.md, £20.69) with this year's contact pay;
the volumes are invented.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT, wirral_steps
from demo.steps import run_steps
from demo.visits import write_visits
from domain.envelope import Envelope
from domain.periods import parse_period
from domain.returns.filing import CostReturnFiling

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

PROVIDER = "premier-care"
FILER = PREMIER_CARE_FINANCE
YEARS = ("2019-20", "2020-21", "2021-22", "2022-23", "2023-24")
QUARTERS = tuple(f"{year}-Q{q}" for year in YEARS for q in range(1, 5))
#: Careworker contact pay per hour and lowest hourly pay each year: at the National Living Wage of the April it
#: starts (DOMAIN.md: 2019 £8.21, 2020 £8.72, 2021 £8.91, 2022 £9.50, 2023 £10.42), contact pay a little above it.
PAY = {"2019-20": ("8.60", "8.21"), "2020-21": ("9.10", "8.72"), "2021-22": ("9.30", "8.91"),
       "2022-23": ("9.90", "9.50"), "2023-24": ("10.80", "10.42")}  # fmt: skip
#: The Homecare Association's 2020-21 breakdown, £ per contact hour (DOMAIN.md); contact pay is each year's.
PER_HOUR = {
    "contact_pay": "8.72", "travel_pay": "1.70", "mileage": "1.36", "employer_ni": "0.70", "pension": "0.44",
    "holiday_pay": "1.26", "training": "0.31", "sickness_other_oncosts": "0.40", "ppe": "0",
    "office_staff": "2.60", "premises": "0.50", "it_rostering": "0.35", "insurance": "0.30",
    "regulator_fees": "0.25", "recruitment": "0.40", "other_business_costs": "0.80", "surplus": "0.60",
}  # fmt: skip
CONTACT_HOURS = 2000
VISITS_A_QUARTER = 3


def history_filing(quarter: str, hours: int = CONTACT_HOURS) -> CostReturnFiling:
    """The quarter's return: each line's rate per hour × contact hours (exact), the year's pay."""
    contact, lowest = PAY[quarter[:7]]
    rates = {**PER_HOUR, "contact_pay": contact}
    return CostReturnFiling.parse({
        "lines": {key: str(Decimal(rate) * hours) for key, rate in rates.items()},
        "notes": {},
        "volumes": {
            "contact_hours": str(hours), "visits": str(hours * 2), "average_visit_minutes": "30",
            "average_travel_minutes": "5.85", "careworker_headcount": str(max(hours // 250, 1)),
            "careworker_fte": "8.5", "hours_paid": str(hours * 13 // 10), "lowest_hourly_pay": lowest,
            "typical_hourly_pay": max(lowest, "9.00", key=Decimal),
        },
    })  # fmt: skip


def quarter_visits(quarter: str, count: int = VISITS_A_QUARTER) -> list[list[str]]:
    """``count`` 60-minute standard visits by Premier Care in Birkenhead (zone 1) on the quarter's first days."""
    first = parse_period(quarter).start
    rows = []
    for i in range(count):
        day = f"{first + timedelta(days=i % 28):%Y-%m-%d}"
        rows.append([f"{quarter}-{PROVIDER}-{i}", PROVIDER, f"C{i:05d}", "CH41 2AB", "standard",
                     f"{day}T09:00", "60", f"{day}T09:00", "60", f"K{i:04d}", "", ""])  # fmt: skip
    return rows


def build_history(book: Openbook, folder: Path) -> None:
    """Record the five years on ``book`` (an empty ledger); the yearly visit files are written into ``folder``."""
    run_steps(book, wirral_steps())
    for year in YEARS:
        path = write_visits(Path(folder) / f"history-{year}.csv",
                            iter([row for q in QUARTERS if q.startswith(year) for row in quarter_visits(q)]))  # fmt: skip
        imported_on = parse_period(f"{year}-Q4").end + timedelta(days=5)
        book.activity.import_activity(Envelope(WIRRAL_ACCOUNTANT, imported_on, "providers' call monitoring"), WIRRAL,
                                      path)  # fmt: skip
    for quarter in QUARTERS:
        after: date = parse_period(quarter).end + timedelta(days=10)
        book.returns.draft_cost_return(Envelope(FILER, after + timedelta(days=20)), WIRRAL, PROVIDER, quarter,
                                       history_filing(quarter), submit=True)  # fmt: skip
        book.returns.accept_cost_return(Envelope(WIRRAL_ACCOUNTANT, after + timedelta(days=40)), WIRRAL, PROVIDER,
                                        quarter)  # fmt: skip
