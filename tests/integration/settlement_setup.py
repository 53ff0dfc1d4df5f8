"""Set-up shared by the pool, payment and settlement tests: Wirral, its people, visits and accepted returns.

Wirral is ``agreement_setup.wirral`` (DOMAIN.md's zones, award, £12m pool and
£15.60 rate). Visits are imported through the activity import, from small CSV
files whose every visit is 60 minutes at £15.60, so the arithmetic stays
visible.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from domain.envelope import SYSTEM, Actor, Envelope
from domain.returns.cost_return import CostReturn
from domain.returns.filing import CostReturnFiling
from ledger.authorisation import accountant_access, provider_access
from ledger.jsonable import json_ready
from ledger.queries import agreements as agreement_views
from ledger.queries import settlements as views
from tests.integration.agreement_setup import START, WIRRAL, wirral

# -- people ------------------------------------------------------------------------------------------

COUNCIL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")
HAVEN_FINANCE = Actor("finance@havencare.example", "haven-care")
PREMIER_FINANCE = Actor("finance@premiercare.example", "premier-care")
OUTSIDER = Actor("accountant@elsewhere.example", "elsewhere-council")

YEAR = "2019-20"
#: DOMAIN.md's example bands: (lower, upper, provider share), fractions of target.
BANDS = [(None, "0.9", "0.25"), ("0.9", "1", "0.5"), ("1", "1.1", "0.5"), ("1.1", None, "1")]


def by(actor: Actor, day: date, reason: str | None = None, key: str | None = None) -> Envelope:
    return Envelope(actor, day, reason, key)


def setup(book: Any, rate: D = D("15.60")) -> str:
    """Wirral (agreement_setup, at ``rate`` in every zone, with the council's accountant) with the CCG's accountant,
    provider staff and an outsider."""
    wirral(book, rate=rate)
    book.organisations.register_organisation(by(SYSTEM, START), "elsewhere-council", "Elsewhere Council", "council")
    people = {
        CCG_ACCOUNTANT: ["accountant"], HAVEN_FINANCE: ["provider"],
        PREMIER_FINANCE: ["provider"], OUTSIDER: ["accountant"],
    }  # fmt: skip
    for actor, roles in people.items():
        book.organisations.register_user(by(SYSTEM, START), actor.user, actor.user, actor.organisation, roles)
    return WIRRAL


# -- visits --------------------------------------------------------------------------------------------

POSTCODES = {"zone-1": "CH41 2AB", "zone-2": "CH44 1AA", "zone-3": "CH60 1AB", "zone-4": "CH47 1AA"}
HOUR = D("15.60")  # every test visit is 60 minutes at the £15.60 rate


def visits(provider: str, zone: str, month: str, count: int, prefix: str = "V") -> list[list[str]]:
    """``count`` 60-minute visits by ``provider`` in ``zone`` on the first days of ``month``."""
    rows = []
    for i in range(count):
        day = f"{month}-{i % 28 + 1:02d}"
        rows.append(
            [f"{prefix}-{provider}-{month}-{i}", provider, f"C{i:05d}", POSTCODES[zone], "standard",
             f"{day}T09:00", "60", f"{day}T09:00", "60", f"K{i:04d}"]  # fmt: skip
        )
    return rows


def write_visits(path: Path, rows: Iterable[list[str]]) -> Path:
    """A CSV file of these visits in the import's columns."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["visit_id", "provider", "client_ref", "postcode", "service", "planned_start",
                         "planned_minutes", "actual_start", "actual_minutes", "carer_ref"])  # fmt: skip
        writer.writerows(rows)
    return path


def import_visits(book: Any, tmp_path: Path, name: str, rows: Iterable[list[str]], on: date = date(2019, 6, 5)) -> Any:
    path = write_visits(tmp_path / name, rows)
    return book.activity.import_activity(by(COUNCIL_ACCOUNTANT, on, "providers' call monitoring"), WIRRAL, path)


# -- cost returns ----------------------------------------------------------------------------------------

#: A return's lines (£), the Homecare Association's 2020-21 shape; the figures are invented.
def filing(total_before_surplus: D, surplus: D) -> CostReturnFiling:
    """A filing whose lines add to ``total_before_surplus`` + ``surplus``: all the cost on contact pay but a
    fixed £1,000.00 of office staff, so the totals are easy to read."""
    lines = {"contact_pay": str(total_before_surplus - D("1000.00")), "office_staff": "1000.00", "surplus": str(surplus)}
    for line in ("travel_pay", "mileage", "employer_ni", "pension", "holiday_pay", "training", "sickness_other_oncosts",
                 "ppe", "premises", "it_rostering", "insurance", "regulator_fees", "recruitment",
                 "other_business_costs"):  # fmt: skip
        lines[line] = "0.00"
    return CostReturnFiling.parse(
        {
            "lines": lines,
            "volumes": {
                "contact_hours": "1000", "visits": "2000", "average_visit_minutes": "30",
                "average_travel_minutes": "6", "careworker_headcount": "10", "careworker_fte": "8",
                "hours_paid": "1300", "lowest_hourly_pay": "8.21", "typical_hourly_pay": "8.50",
            },  # fmt: skip
        }
    )


def accepted_return(book: Any, provider: str, period: str, total_before_surplus: D, surplus: D) -> CostReturn:
    """A cost return filed, submitted and accepted, saved straight to the ledger (the cost return use cases'
    own tests cover how it gets there)."""
    filer = Envelope(Actor(f"finance@{provider}.example", provider), date(2020, 5, 1), "annual return")
    found = CostReturn.draft(filer, WIRRAL, provider, period, filing(total_before_surplus, surplus))
    found.submit(filer)
    if found.findings_to_explain():  # all cost on contact pay: e.g. £8.20 an hour against a stated lowest £8.21
        found.explain_breach(by(CCG_ACCOUNTANT, date(2020, 5, 19), "invented figures"), "invented figures")
    found.accept(by(CCG_ACCOUNTANT, date(2020, 5, 20), "figures reconcile"))
    book.ledger.save(found)
    return found


# -- settlements as the read model shows them ------------------------------------------------------------


def _shape(value: Any) -> Any:
    """Each leaf's type, in the value's structure (a tuple as a list): Decimals must come back as Decimals."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    return type(value).__name__


def check_settlements_read_as_recorded(book: Any, agreement: str = WIRRAL, year: str = YEAR) -> int:
    """Every settlement of the year as the query shows it (the settlements read model) is the view of its aggregate:
    for an accountant and for each provider of the agreement, figure for figure and to the exponent; the latest is
    the default. Returns how many settlements were compared."""
    found = book.settlements.settlements(agreement, year)
    awarded = {row["provider"] for row in agreement_views.awards(book.read_engine, agreement)}
    for s in found:
        providers = sorted(awarded | set(s.statement["providers"]))
        readers = [accountant_access(book.records, SYSTEM, agreement)]
        readers += [provider_access(book.records, SYSTEM, agreement, p) for p in providers]
        for access in readers:
            shown = views.settlement(book.read_engine, access, agreement, year, s.sequence)
            expected = {  # what the read model adds, the query's to say: staleness and the position it was recorded at
                **views.settlement_view(s, access), "out_of_date": shown["out_of_date"],
                "event_position": shown["event_position"],
            }
            assert 0 < shown["event_position"] <= book.projections.head()
            assert json_ready(shown) == json_ready(expected), (s.describe(), access)
            assert _shape(shown) == _shape(expected), (s.describe(), access)
    if found:
        latest = views.settlement(book.read_engine, accountant_access(book.records, SYSTEM, agreement), agreement, year)
        assert latest["sequence"] == found[-1].sequence
    return len(found)
