"""Set-up shared by the KPI and incentive tests: a Herefordshire-style framework with two years of visits.

The figures are chosen so the arithmetic is easy to check by hand. Every
visit is 60 minutes, so hours = visits:

| provider | 2017-18 | 2018-19 | reduction | threshold (5%) | beyond it | at £2.00 |
|---|---|---|---|---|---|---|
| hfd-provider-a | 200 h | 180 h | 20 h (10%) | 10 h | 10 h | £20.00 |
| hfd-provider-b | 100 h | 97 h | 3 h (3%) | 5 h | 0 h | £0.00 |
| hfd-provider-c | 100 h | 88 h | 12 h (12%) | 5 h | 7 h | £14.00 |

Herefordshire's rule (DOMAIN.md): reduction beyond 5% a year is paid, only
if all KPIs are met. The £2.00 an hour is illustrative, as in the demo.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from domain.envelope import Actor, Envelope
from ledger.bootstrap import Openbook
from tests.integration.activity_setup import visit, write_csv

HFD = "hfd"
COUNCIL = "hfd-council"
PROVIDERS = ("hfd-provider-a", "hfd-provider-b", "hfd-provider-c")
ACCOUNTANT = Actor("accountant@hfd.example", COUNCIL)
PROVIDER_A_FINANCE = Actor("finance@hfd-a.example", "hfd-provider-a")
START = date(2017, 4, 1)
Y1, Y2 = "2017-18", "2018-19"
AFTER_Y2 = date(2019, 5, 15)  # the 2018-19 assessment is run after the year ends

#: provider -> (visits of 60 minutes in 2017-18, in 2018-19)
VISITS = {"hfd-provider-a": (200, 180), "hfd-provider-b": (100, 97), "hfd-provider-c": (100, 88)}

#: (code, name, measure, target, direction): invented for the tests, Herefordshire-style.
KPIS = (
    ("missed-visits", "Missed visits", "missed visits per 1,000 planned", "0.5", "lower-is-better"),
    ("continuity-of-carer", "Continuity of carer", "% of visits by regular carers", "80", "higher-is-better"),
)


def by(actor: Actor, day: date, reason: str | None = None, key: str | None = None) -> Envelope:
    return Envelope(actor, day, reason, key)


def herefordshire_style(book: Openbook) -> str:
    """The framework, its commissioner and accountant, three awarded providers and two KPIs."""
    system = Envelope(Actor("system"), START, "test set-up")
    book.organisations.register_organisation(system, COUNCIL, "Herefordshire-style Council", "council")
    for provider in PROVIDERS:
        book.organisations.register_organisation(system, provider, provider.replace("-", " ").title(), "provider")
    book.organisations.register_user(system, ACCOUNTANT.user, "HFD Accountant", COUNCIL, ["accountant"])
    book.organisations.register_user(system, PROVIDER_A_FINANCE.user, "Provider A Finance", "hfd-provider-a", ["provider"])
    book.agreements.register_agreement(by(ACCOUNTANT, START), HFD, "Help to Live at Home", "framework", START, date(2022, 6, 30))
    book.agreements.join_commissioner(by(ACCOUNTANT, START, "directly commissioned"), HFD, COUNCIL)
    book.agreements.add_zone(by(ACCOUNTANT, START, "pathway O"), HFD, "zone-a", "Zone A", ["HR5", "HR6"])
    book.agreements.add_service_type(by(ACCOUNTANT, START, "services"), HFD, "standard")
    for provider, tier in zip(PROVIDERS, ("primary", "secondary", "secondary"), strict=True):
        book.agreements.award_provider(by(ACCOUNTANT, START, "framework award"), HFD, provider, "zone-a", tier)
    for kpi in KPIS:
        book.agreements.define_kpi(by(ACCOUNTANT, START, "framework KPIs"), HFD, *kpi)
    return HFD


def visits_file(path: Path, year_start: date, counts: dict[str, int], prefix: str) -> Path:
    """60-minute visits for each provider, spread over the year from ``year_start``."""
    rows = []
    for provider, count in counts.items():
        for i in range(count):
            day = (year_start + timedelta(days=(i * 365) // count)).isoformat()
            rows.append(visit(f"{prefix}-{provider[-1]}-{i:04d}", provider, "HR5 1AA", day, 60, 60, client=f"C{i:06d}"))
    return write_csv(path, rows)


def import_two_years(book: Openbook, tmp_path: Path) -> None:
    for index, year_start in enumerate((START, date(2018, 4, 1))):
        counts = {p: pair[index] for p, pair in VISITS.items()}
        path = visits_file(tmp_path / f"visits-{index}.csv", year_start, counts, f"Y{index}")
        book.activity.import_activity(by(ACCOUNTANT, year_start.replace(year=year_start.year + 1), "ECM year"), HFD, path)


def all_met(book: Openbook, year: str = Y2, providers: tuple[str, ...] = PROVIDERS) -> None:
    """Every KPI met for the year by each provider."""
    for provider in providers:
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, provider, year, "missed-visits", D("0.3"), "ECM report")
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, provider, year, "continuity-of-carer", D("85"),
                                 "rostering report")  # fmt: skip


def herefordshire_scheme(book: Openbook, **overrides: Any) -> dict[str, Any]:
    """Reduce hours by at least 5% a year; £2.00 an hour beyond it; only if all KPIs are met."""
    terms: dict[str, Any] = {
        "from_year": Y1,
        "minimum_reduction": D("0.05"),
        "payment_per_hour": D("2.00"),
    }
    terms.update(overrides)
    return book.incentives.set_incentive_scheme(by(ACCOUNTANT, START, "Herefordshire incentive rule"), HFD, **terms)
