"""Demo KPIs and incentives for Herefordshire's "Help to Live at Home", 2017-18.

Runs after ``demo.partnerships``'s steps (the Herefordshire agreement, its
accountant, its awards and rates). Every command carries an idempotency key,
so loading twice records nothing the second time.

The rule is the seeds' (DOMAIN.md, "Incentives"): providers must reduce hours
by at least 5% a year; incentive payments are made for reduction *beyond*
5%, and only if *all* KPIs are met; first assessment by April 2018.

Invented for the demo, and labelled so:

* **The KPIs and their targets** (the seeds require KPIs but do not list them).
* **£2.00 per hour of reduction beyond 5%** is an illustrative figure: the
  seeds do not say what the payment is.
* **The 2017-18 baselines.** The record starts in April 2017, so there is no
  2016-17 activity to compare with: the scheme states a *fixed* baseline per
  provider for 2017-18 and, from 2018-19, compares each year with the one
  before. The fixed hours are illustrative: sized so that, against the demo's
  sample of 2017-18 visits, provider A reduced its hours by 8%, B by 3% and
  C by 10% (the seeds give no provider's hours).
* **A sample of 2017-18 visits** (July to March, when the framework's
  awards applied): a few thousand deterministic, pseudonymous visits, far
  fewer than the real year's, imported if the ledger can import activity.
* **KPI results for 2017-18**: A and B meet every KPI; C misses "missed
  visits". So the assessment shows one payment, one provider short of the
  5% minimum, and one withheld because a KPI was missed, naming it.

If the ledger cannot import activity, the scheme and KPI results are
recorded but the assessment is left out (run ``openbook incentives assess``
once activity is imported).
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo.places import HEREFORDSHIRE_LOTS, HEREFORDSHIRE_ZONES
from demo.steps import Step
from domain.activity.visits import COLUMNS, hours
from domain.envelope import SYSTEM, Actor, Envelope
from domain.money import EXACT
from ledger.authorisation import access_for
from ledger.queries.activity import totals

__all__ = ["DEMO_YEAR", "HEREFORDSHIRE", "incentive_steps", "sample_visits"]

HEREFORDSHIRE = "herefordshire-hlah"
ACCOUNTANT = Actor("accountant@herefordshire.example", "herefordshire-council")
DEMO_YEAR = "2017-18"
FRAMEWORK_START = date(2017, 7, 1)
YEAR_END = date(2018, 3, 31)
ASSESSED_ON = date(2018, 4, 30)  # "first assessment by April 2018"
PAYMENT_PER_HOUR = Decimal("2.00")  # illustrative: the seeds do not give the payment
MINIMUM_REDUCTION = Decimal("0.05")  # the seeds' 5%

#: (code, name, measure, target, direction): invented for the demo.
KPIS = (
    ("missed-visits", "Missed visits", "missed visits per 1,000 planned visits", "0.5", "lower-is-better"),
    ("timely-starts", "Packages started on time", "% of new packages started by the agreed date", "95", "higher-is-better"),
    ("reviews-on-time", "Care reviews on time", "% of care plans reviewed within 6 weeks of start", "90", "higher-is-better"),
)

#: provider -> (places delivered in, service, sample visits, reduction the fixed baseline is sized for)
SAMPLE: dict[str, tuple[tuple[str, ...], str, int, Decimal]] = {
    "hfd-provider-a": (("zone-a", "zone-b", "zone-e"), "standard", 1800, Decimal("0.08")),
    "hfd-provider-b": (("zone-c", "zone-d"), "standard", 1200, Decimal("0.03")),
    "hfd-provider-c": (("complex-north", "complex-south"), "complex", 600, Decimal("0.10")),
}

#: provider -> {kpi: (value, evidence)} for 2017-18; C misses "missed visits".
RESULTS: dict[str, dict[str, tuple[str, str]]] = {
    "hfd-provider-a": {"missed-visits": ("0.3", "ECM exception reports, July 2017 to March 2018"),
                       "timely-starts": ("97", "brokerage start dates, 2017-18"),
                       "reviews-on-time": ("92", "care review log, 2017-18")},
    "hfd-provider-b": {"missed-visits": ("0.4", "ECM exception reports, July 2017 to March 2018"),
                       "timely-starts": ("96", "brokerage start dates, 2017-18"),
                       "reviews-on-time": ("91", "care review log, 2017-18")},
    "hfd-provider-c": {"missed-visits": ("0.9", "ECM exception reports, July 2017 to March 2018"),
                       "timely-starts": ("98", "brokerage start dates, 2017-18"),
                       "reviews-on-time": ("94", "care review log, 2017-18")},
}  # fmt: skip

PLANNED_MINUTES = (30, 30, 45, 45, 60, 60, 90)


def _e(reason: str, key: str, on: date) -> Envelope:
    return Envelope(ACCOUNTANT, on, reason, f"demo:{HEREFORDSHIRE}:incentives:{key}")


def sample_visits() -> list[list[str]]:
    """The demo's 2017-18 visits: deterministic template rows, each provider in its own primary places."""

    rng = random.Random(201718)
    days = (YEAR_END - FRAMEWORK_START).days + 1
    rows: list[list[str]] = []
    for provider, (places, service, count, _reduction) in SAMPLE.items():
        for i in range(count):
            place = places[i % len(places)]
            covers = HEREFORDSHIRE_LOTS[place][1] if place in HEREFORDSHIRE_LOTS else (place,)
            zone = covers[i % len(covers)]
            district = rng.choice(HEREFORDSHIRE_ZONES[zone][1])
            day = FRAMEWORK_START + timedelta(days=i * days // count)
            planned = rng.choice(PLANNED_MINUTES)
            actual = max(1, planned + rng.randrange(-5, 4))
            start = f"{day.isoformat()}T{7 + rng.randrange(12):02d}:{rng.choice(('00', '15', '30', '45'))}"
            rows.append([
                f"HFD1718-{provider[-1].upper()}{i:05d}", provider, f"H{rng.randrange(5000):06d}",
                f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTUWXYZ')}", service,
                start, str(planned), start, str(actual), f"K{rng.randrange(400):05d}", "",
                place if place in HEREFORDSHIRE_LOTS else "",
            ])  # fmt: skip
    return rows


def fixed_baselines(rows: list[list[str]] | None = None) -> dict[str, Decimal]:
    """Each provider's illustrative 2017-18 baseline: its sample hours ÷ (1 − the reduction it is sized for)."""
    minutes: dict[str, int] = {}
    for row in rows if rows is not None else sample_visits():
        minutes[row[1]] = minutes.get(row[1], 0) + int(row[8])
    baselines = {
        provider: EXACT.divide(hours(minutes[provider]), EXACT.subtract(1, reduction))
        for provider, (_places, _service, _count, reduction) in SAMPLE.items()
    }
    return {provider: baseline.quantize(Decimal(1), context=EXACT) for provider, baseline in baselines.items()}


def _has_activity(book: Any) -> bool:
    """Whether the ledger holds Herefordshire visits in the demo year (read as the operator: every provider's)."""
    access = access_for(book.records, SYSTEM, HEREFORDSHIRE)
    return bool(totals(book.read_engine, access, ("provider",), period=DEMO_YEAR))


def _import_sample(book: Any) -> bool:
    """Import the sample if the ledger holds no Herefordshire activity for the year; whether it did."""
    book.projections.catch_up()
    if _has_activity(book):
        return False
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "herefordshire-visits-2017-18.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            writer.writerows(sample_visits())
        book.activity.import_activity(
            _e("demo sample of 2017-18 visits from the providers' call monitoring", "activity", date(2018, 4, 16)),
            HEREFORDSHIRE,
            path,
        )
    return True


def _assess(book: Any) -> Any:
    """Assess 2017-18 if its activity is recorded (else leave it for ``openbook incentives assess``)."""
    book.projections.catch_up()
    if not _has_activity(book):
        return None
    return book.incentives.assess_incentives(
        _e("first annual incentive assessment (due by April 2018)", "assess:2017-18", ASSESSED_ON),
        HEREFORDSHIRE,
        DEMO_YEAR,
    )


def incentive_steps() -> list[Step]:
    """Every demo command for KPIs and incentives, in order, as (label, run)."""
    steps: list[Step] = []
    for code, name, measure, target, direction in KPIS:
        steps.append(
            (
                f"Herefordshire KPI {code}",
                lambda book, k=(code, name, measure, target, direction): book.agreements.define_kpi(
                    _e("framework KPIs; the measures and targets are invented for the demo", f"kpi:{k[0]}",
                       FRAMEWORK_START),
                    HEREFORDSHIRE,
                    *k,
                ),  # fmt: skip
            )
        )
    steps.append(
        (
            "Herefordshire incentive scheme",
            lambda book: book.incentives.set_incentive_scheme(
                _e(
                    "incentive rule: reduce hours by at least 5% a year, paid beyond 5% only if all KPIs are met; "
                    "£2.00 an hour and the 2017-18 baselines are illustrative (no 2016-17 hours on record)",
                    "scheme:2017-18",
                    FRAMEWORK_START,
                ),
                HEREFORDSHIRE,
                from_year=DEMO_YEAR,
                baseline="fixed",
                fixed_baselines=fixed_baselines(),
                minimum_reduction=MINIMUM_REDUCTION,
                payment_per_hour=PAYMENT_PER_HOUR,
            ),
        )
    )
    steps.append(
        (
            "Herefordshire incentive scheme from 2018-19",
            lambda book: book.incentives.set_incentive_scheme(
                _e("from the second year, each year's hours are compared with the year before", "scheme:2018-19",
                   FRAMEWORK_START),
                HEREFORDSHIRE,
                from_year="2018-19",
                minimum_reduction=MINIMUM_REDUCTION,
                payment_per_hour=PAYMENT_PER_HOUR,
            ),  # fmt: skip
        )
    )
    for provider, results in RESULTS.items():
        for kpi, (value, evidence) in results.items():
            steps.append(
                (
                    f"Herefordshire KPI result {provider} {kpi}",
                    lambda book, p=provider, k=kpi, v=value, ev=evidence: book.incentives.record_kpi_result(
                        _e("2017-18 KPI results (invented for the demo)", f"kpi-result:{p}:{k}:2017-18",
                           date(2018, 4, 20)),
                        HEREFORDSHIRE, p, DEMO_YEAR, k, Decimal(v), ev,
                    ),  # fmt: skip
                )
            )
    steps.append(("Herefordshire 2017-18 sample activity", _import_sample))
    steps.append(("Herefordshire 2017-18 incentive assessment", _assess))
    return steps

