"""Set-up shared by the cost return tests: Wirral, its people, filings.

Wirral is ``agreement_setup.wirral`` (DOMAIN.md's zones, award and
£15.60 rate) plus what returns need: the alliance's three members, three
invented peripheral providers (the seeds mention 8 but name none), and users
with their roles.

Figures: the Homecare Association's 2020-21 breakdown (DOMAIN.md), £20.69 per
contact hour; variations of it are invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal as D
from typing import Any

from sqlalchemy import select

from domain.envelope import SYSTEM, Actor, Envelope
from domain.returns.filing import CostReturnFiling
from ledger.bootstrap import Openbook
from ledger.projections.cost_returns import CostReturnsProjection
from tests.integration.agreement_setup import START, WIRRAL, on, wirral
from tests.worked_examples import PER_HOUR_2020_21

# -- people --------------------------------------------------------------------------------------

COUNCIL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")
ADMIN = Actor("admin@wirral.example", "wirral-council")
AUDITOR = Actor("auditor@wirral.example", "wirral-council")
OUTSIDE_ACCOUNTANT = Actor("accountant@elsewhere.example", "elsewhere-council")

PEOPLE: dict[Actor, tuple[str, ...]] = {
    COUNCIL_ACCOUNTANT: ("accountant",),
    CCG_ACCOUNTANT: ("accountant",),
    ADMIN: ("admin",),
    AUDITOR: ("auditor",),
    OUTSIDE_ACCOUNTANT: ("accountant",),
}

#: Providers that file, and who files for each.
PROVIDERS = (
    "premier-care", "haven-care", "carewatch", "community-caring", "professional-carers", "aspire",
    "peripheral-a", "peripheral-b", "peripheral-c",
)  # fmt: skip
ALLIANCE_MEMBERS = ("community-caring", "professional-carers", "aspire")
PERIPHERAL = ("peripheral-a", "peripheral-b", "peripheral-c")


def finance(provider: str) -> Actor:
    return Actor(f"finance@{provider}.example", provider)


def setup(book: Openbook, *, rate: D | None = D("15.60")) -> str:
    """Wirral (agreement_setup) with the alliance's members, peripheral providers and every user."""
    wirral(book, rate=rate)
    for member in ALLIANCE_MEMBERS:
        name = member.replace("-", " ").title()
        book.organisations.register_organisation(Envelope(SYSTEM, START), member, name, "provider", "wirral-home-care-alliance")
    for code in PERIPHERAL:
        book.organisations.register_organisation(Envelope(SYSTEM, START), code, code.replace("-", " ").title(), "provider")
        book.agreements.award_provider(on(START), WIRRAL, code, "zone-1", "peripheral")
    book.organisations.register_organisation(Envelope(SYSTEM, START), "elsewhere-council", "Elsewhere Council", "council")
    book.organisations.register_organisation(Envelope(SYSTEM, START), "stranger-care", "Stranger Care", "provider")
    for actor, roles in PEOPLE.items():
        if actor == COUNCIL_ACCOUNTANT:
            continue  # registered with the agreement (agreement_setup)
        book.organisations.register_user(Envelope(SYSTEM, START), actor.user, actor.user, actor.organisation, roles)
    for provider in (*PROVIDERS, "stranger-care"):
        actor = finance(provider)
        book.organisations.register_user(Envelope(SYSTEM, START), actor.user, actor.user, provider, ["provider"])
    return WIRRAL


def by(actor: Actor, day: date, reason: str | None = None, key: str | None = None) -> Envelope:
    return Envelope(actor, day, reason, key)


# -- filings -------------------------------------------------------------------------------------



def filing_data(
    hours: int = 2500,
    lowest: str = "8.72",
    per_hour: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
    **changes: str,
) -> dict[str, Any]:
    """A filing as plain data: each line's rate per hour × contact hours (exact), ``changes`` per hour."""
    rates = {**(per_hour or PER_HOUR_2020_21), **changes}
    return {
        "lines": {key: str(D(rate) * hours) for key, rate in rates.items()},
        "notes": dict(notes or {}),
        "volumes": {
            "contact_hours": str(hours), "visits": str(hours * 2), "average_visit_minutes": "30",
            "average_travel_minutes": "5.85", "careworker_headcount": str(max(hours // 250, 1)),
            "careworker_fte": "8.5", "hours_paid": str(hours * 13 // 10), "lowest_hourly_pay": lowest,
            "typical_hourly_pay": max(lowest, "9.00", key=D),
        },  # fmt: skip
    }


def filing(**kwargs: Any) -> CostReturnFiling:
    return CostReturnFiling.parse(filing_data(**kwargs))


def snapshot(book: Openbook) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the cost return read model, in a stable order, to compare two states."""
    with book.read_engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in CostReturnsProjection.tables
        }
