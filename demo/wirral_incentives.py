"""Demo incentives for Wirral 2019-20: a scheme, the year's KPI results and its assessment, before the settlement.

The seeds' Wirral partnership has "an incentivisation model" (action point
5.5) and KPIs (5.22) beside its pooled budget, so this is the demo year in
which incentive payments reach a settlement: ``demo.settlements`` runs these
steps after the year's payments and before drafting, and the settlement's
actual spend is priced activity + these payments, each provider's balance
including its own, by reference to the assessment.

Invented for the demo, and labelled so:

* **The scheme** follows Herefordshire's published rule (reduce hours by at
  least 5% a year; paid beyond 5%, only if every KPI is met) at an
  illustrative **£2.00 an hour**: the seeds name the model, not its terms.
* **The baselines.** The record starts in April 2019, so there are no
  2018-19 hours to compare with: the scheme states a fixed baseline per
  provider, round figures sized against the demo's 12,000-visit sample so
  that premier-care reduced its hours by about 9% and carewatch by about 8%
  (both paid), the Alliance by about 3% (short of the minimum) and
  haven-care by about 9% but missed the continuity-of-carer target (withheld,
  naming the KPI).
* **The 2019-20 KPI results**, one file of twelve rows, recorded in one command.

Without activity for the year nothing is assessed (the steps record the
scheme and the results only), as the settlement is then not drafted either.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from demo.steps import Step
from domain.envelope import Actor, Envelope
from ledger.files.kpi_results import COLUMNS as KPI_COLUMNS
from ledger.queries import every_provider

__all__ = ["BASELINES", "wirral_incentive_steps"]

WIRRAL = "wirral-homecare"
DEMO_YEAR = "2019-20"
COUNCIL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
PAYMENT_PER_HOUR = Decimal("2.00")  # illustrative, as Herefordshire's demo
MINIMUM_REDUCTION = Decimal("0.05")  # Herefordshire's published 5%
ASSESSED_ON = date(2020, 5, 29)

#: Fixed 2019-20 baselines (hours), illustrative: the record holds no 2018-19 hours.
BASELINES = {
    "premier-care": Decimal("2750"),
    "wirral-home-care-alliance": Decimal("2300"),
    "haven-care": Decimal("1900"),
    "carewatch": Decimal("560"),
}

#: provider -> (missed visits per 1,000, % started within 48 h, % continuity of carer); haven-care misses continuity.
RESULTS = {
    "premier-care": ("0.4", "96", "83"),
    "wirral-home-care-alliance": ("0.3", "97", "86"),
    "haven-care": ("0.5", "95", "76"),
    "carewatch": ("0.2", "98", "81"),
}
KPI_CODES = ("missed-visits", "starts-within-48h", "continuity-of-carer")
EVIDENCE = {
    "missed-visits": "electronic call monitoring exception reports, April 2019 to March 2020",
    "starts-within-48h": "brokerage start dates, 2019-20",
    "continuity-of-carer": "rostering system: visits by the person's regular carers, 2019-20",
}


def _e(reason: str, key: str, on: date) -> Envelope:
    return Envelope(COUNCIL_ACCOUNTANT, on, reason, f"demo:{WIRRAL}:incentives:{DEMO_YEAR}:{key}")


def kpi_file() -> bytes:
    """The year's KPI results as the file an accountant would import."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KPI_COLUMNS)
    for provider, values in RESULTS.items():
        for kpi, value in zip(KPI_CODES, values, strict=True):
            writer.writerow([provider, DEMO_YEAR, kpi, value, EVIDENCE[kpi]])
    return out.getvalue().encode("utf-8")


def _assess(book: Any) -> Any:
    """Assess the year once it has priced activity (else leave it for ``openbook incentives assess``)."""
    book.projections.catch_up()
    if not every_provider.activity_rows(book.read_engine, WIRRAL, DEMO_YEAR):
        return None
    return book.incentives.assess_incentives(
        _e("annual incentive assessment, paid through the year's settlement", "assess", ASSESSED_ON), WIRRAL, DEMO_YEAR
    )


def wirral_incentive_steps() -> list[Step]:
    """Wirral's 2019-20 incentive scheme, its KPI results (one file) and the assessment, as (label, run)."""
    return [
        (
            "Wirral 2019-20 incentive scheme",
            lambda book: book.incentives.set_incentive_scheme(
                _e(
                    "incentivisation model (action point 5.5): reduce hours by at least 5% a year, paid beyond 5% "
                    "only if all KPIs are met; £2.00 an hour and the fixed baselines are illustrative "
                    "(no 2018-19 hours on record)",
                    "scheme",
                    date(2019, 4, 1),
                ),
                WIRRAL,
                from_year=DEMO_YEAR,
                baseline="fixed",
                fixed_baselines=BASELINES,
                minimum_reduction=MINIMUM_REDUCTION,
                payment_per_hour=PAYMENT_PER_HOUR,
            ),
        ),
        (
            "Wirral 2019-20 KPI results",
            lambda book: book.incentives.import_kpi_results(
                _e("2019-20 KPI results (invented for the demo)", "kpi-results", date(2020, 4, 30)),
                WIRRAL,
                kpi_file(),
                "wirral-kpi-results-2019-20.csv",
            ),
        ),
        ("Wirral 2019-20 incentive assessment", _assess),
    ]
