"""Demo pooled budget, payments, incentives and settlement draft for Wirral 2019-20.

Its steps come last in ``demo.partnerships.steps`` (after the Wirral agreement, its
commissioners' £7.2m + £4.8m contributions, its £15.60 rate card and the demo
cost returns). Every command carries an idempotency key, so loading twice
records nothing the second time.

What is from the seeds and DOMAIN.md, and what is invented:

* The £12m target (the seeds' estimated combined budget) and the bands are
  DOMAIN.md's example: the provider side keeps 50% of an underspend down to
  90% of target and 25% beyond; it bears 50% of an overspend up to 110% and
  100% beyond. The £250,000 caps on gain and loss, the 3% maximum profit
  margin on the agreement and the 50% share of excess surplus clawed back
  are invented for the demo.
* Payments are by rate (priced delivered activity, monthly).
* Activity: if the ledger holds none for 2019-20, ``activity_visits``
  generated visits (``demo.visits``: plausible,
  deterministic, pseudonymous) are imported first. They are a sample, far
  fewer than the real year's, so the year is a large underspend and the gain
  cap bites — which the statement shows.

Then each month with priced activity is paid (the 10th of the month after:
one step per month of the year, which records nothing for a month without
activity), the year's incentives are assessed (``demo.wirral_incentives``:
the scheme, the KPI results and the assessment, paid through the
settlement), and the year's settlement is drafted by the council's accountant,
for the CCG's accountant to review and both commissioners to approve and
issue from the command line (``openbook settle review|approve|issue``).
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo.steps import Step
from demo.wirral_incentives import wirral_incentive_steps
from domain.envelope import Actor, Envelope
from domain.settlement.payment_ledger import months_of
from ledger.authorisation import Access, access_for
from ledger.queries import every_provider
from ledger.queries import settlements as views

__all__ = ["DEMO_YEAR", "settlement_steps"]

WIRRAL = "wirral-homecare"
DEMO_YEAR = "2019-20"
COUNCIL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")

TARGET = Decimal("12000000.00")
#: DOMAIN.md's example bands: (lower, upper, provider share), fractions of target; None is an open end.
BANDS = ((None, "0.9", "0.25"), ("0.9", "1", "0.5"), ("1", "1.1", "0.5"), ("1.1", None, "1"))
GAIN_CAP = Decimal("250000.00")
LOSS_CAP = Decimal("250000.00")
MAX_PROFIT_MARGIN = Decimal("0.03")
CLAWBACK_SHARE = Decimal("0.5")
ACTIVITY_VISITS = 12_000
ACTIVITY_SEED = 201920

def _e(reason: str, key: str, on: date) -> Envelope:
    return Envelope(COUNCIL_ACCOUNTANT, on, reason, f"demo:{WIRRAL}:settlement:{DEMO_YEAR}:{key}")


def _set_up_pool(book: Any) -> None:
    start = date(2019, 4, 1)
    book.agreements.set_profit_cap(
        _e("open-book audit: a maximum permitted profit margin (3%, invented for the demo)", "profit-cap", start),
        WIRRAL,
        MAX_PROFIT_MARGIN,
    )
    book.settlements.set_pooled_budget(
        _e("section 75 pooled budget: the estimated £12m, with the risk and gain share bands agreed", "pool", start),
        WIRRAL,
        DEMO_YEAR,
        target=TARGET,
        bands=BANDS,
        gain_cap=GAIN_CAP,
        loss_cap=LOSS_CAP,
        mechanism="rate",
        clawback_share=CLAWBACK_SHARE,
    )


def _import_sample_activity(book: Any, visits: int) -> bool:
    """Import generated visits for the year if the ledger holds none; whether any were imported."""
    if visits <= 0:
        return False
    book.projections.catch_up()
    if every_provider.activity_rows(book.read_engine, WIRRAL, DEMO_YEAR):
        return False
    from demo.visits import visit_rows, write_visits

    rows = visit_rows(book.records.agreement(WIRRAL), visits, date(2019, 4, 1), date(2020, 3, 31), seed=ACTIVITY_SEED,
                      id_prefix="D1920-")  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        path = write_visits(Path(work) / "wirral-visits-2019-20.csv", rows)
        book.activity.import_activity(
            _e("demo sample of 2019-20 visits from the providers' call monitoring", "activity", date(2020, 4, 15)),
            WIRRAL,
            path,
        )
    return True


def _paid_on(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    return date(year + (number == 12), number % 12 + 1, 10)


def _priced_months(book: Any) -> set[str]:
    book.projections.catch_up()
    return {r.month for r in every_provider.activity_rows(book.read_engine, WIRRAL, DEMO_YEAR)}


def _pay(book: Any, month: str) -> None:
    """Pay a month of priced activity, unless it has none or is paid already."""
    if month not in _priced_months(book):
        return
    if month in {run["month"] for run in views.payment_runs(book.read_engine, _reader(book), DEMO_YEAR)}:
        return
    book.settlements.run_payments(
        _e(f"monthly payment of priced activity for {month}", f"payments:{month}", _paid_on(month)), WIRRAL, month
    )


def _draft(book: Any) -> None:
    """Draft the year's settlement once the year has priced activity (else leave it for ``openbook settle``)."""
    if not _priced_months(book):
        return
    book.settlements.draft_settlement(
        _e("year-end risk and gain share settlement of the pooled budget", "draft", date(2020, 6, 30)),
        WIRRAL,
        DEMO_YEAR,
    )


def settlement_steps(activity_visits: int = ACTIVITY_VISITS) -> list[Step]:
    """Wirral's 2019-20 profit cap and pool, a sample year of visits, twelve monthly payment runs, the year's
    incentive scheme, KPI results and assessment, the draft."""
    return [
        ("Wirral profit cap and 2019-20 pooled budget", _set_up_pool),
        ("Wirral 2019-20 sample activity", lambda book: _import_sample_activity(book, activity_visits)),
        *[(f"Wirral payments {month}", lambda book, m=month: _pay(book, m)) for month in months_of(DEMO_YEAR)],
        *wirral_incentive_steps(),
        ("Wirral 2019-20 settlement drafted", _draft),
    ]


def _reader(book: Any) -> Access:
    """The council's accountant reads which months are paid already, from the payments read model."""
    return access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
