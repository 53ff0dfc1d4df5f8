"""Arrears: what a backdated rate decision owes on hours already paid at the old rate.

A rate review decided on 15 June 2020 with rates from 1 April 2020 leaves ten
weeks of visits paid at the old rate. The arrears for each provider are, per
service, zone (or lot) and band, the hours delivered in that backdated window
× (new rate − old rate), with the arithmetic written out on every line.

Arrears are money owed, so they are *recorded*, not just shown: an accountant
calculates them and the calculation is an event with its lines. They are never
edited. When delivered hours are later corrected (or the rate card is), the
accountant calculates again: if anything changed, a ``Recalculated`` event
records the new lines and the difference from the last calculation per
provider — like a re-settlement. If nothing changed, nothing is recorded.

What a visit is owed is one rule, ``visit_owed``: its price at the new rate
less its price at the old rate (what was paid for it), each priced by the one
pricing path (``domain.rates.pricer.Pricer`` → ``domain.rates.pricing.price_visit``,
rounded to the penny once per visit). A line adds its visits' amounts owed;
provider totals add lines. So the arrears are, to the penny, what the payment
run pays for the same visits: the activity read model re-prices each backdated
visit by the same path, and the next run pays the difference
(``domain.settlement.payment_ledger.rate_run``, which names the arrears it
includes). Rounding the line's minutes × rate difference instead would differ
by up to half a penny a visit: 30, 45 and 20 minutes at £15.19 → £15.93 owe
£1.18 visit by visit, not the £1.17 of 95 min × £0.74 ÷ 60.

Only visits paid at the old rate owe arrears; which those are is read from
the ledger (``ledger.usecases.owed.paid_at_old_rate``): a visit imported
after the last payment run at the old rate was never paid it, so its whole
price at the new rate is new activity, not arrears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.activity.visits import hours
from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.envelope import Envelope
from domain.errors import InvalidInput
from domain.money import EXACT, ZERO, format_count, format_gbp, format_quantity, total
from domain.rates.pricing import VisitPrice

__all__ = ["Arrears", "ArrearsGroup", "ArrearsLine", "arrears_lines", "visit_owed"]

def visit_owed(now: VisitPrice, paid: VisitPrice) -> Decimal:
    """What one visit is owed: its price now less what was paid for it, each a penny price of one visit.

    The one definition both the arrears and the payment run's adjustment rest
    on: the two prices come from the one pricing path, so each is already
    rounded to the penny, and a total of visits owed is exact.
    """
    return EXACT.subtract(now.amount, paid.amount)


@dataclass(frozen=True)
class ArrearsGroup:
    """Visits of one provider, service, zone, band and day with the same planned and actual minutes.

    Every visit of a group is priced alike, so a group is priced once and owes
    ``visits`` × what one of its visits is owed.
    """

    provider: str
    service: str
    zone: str
    band: str
    day: date
    planned_minutes: int
    actual_minutes: int
    visits: int


@dataclass(frozen=True)
class ArrearsLine:
    """One line of arrears: hours × (new rate − old rate) for a provider, service, zone and band."""

    provider: str
    service: str
    zone: str
    band: str
    old_rate: Decimal
    new_rate: Decimal
    visits: int
    payable_minutes: int
    amount: Decimal
    working: str

    @property
    def hours(self) -> Decimal:
        """Exact hours where they terminate; otherwise to 6 places (the amount uses the exact minutes)."""
        exact = EXACT.divide(Decimal(self.payable_minutes), Decimal(60))
        return exact.quantize(Decimal("0.000001"), context=EXACT).normalize(EXACT)

    def as_row(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "service": self.service,
            "zone": self.zone,
            "band": self.band,
            "old_rate": self.old_rate,
            "new_rate": self.new_rate,
            "visits": self.visits,
            "payable_minutes": self.payable_minutes,
            "amount": self.amount,
            "working": self.working,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArrearsLine:
        return cls(**row)


#: Prices one visit (service, zone, day, band, planned and actual minutes); None when no rate is in force.
VisitPricing = Callable[[str, str, date, str, int, int], VisitPrice | None]

_LineKey = tuple[str, str, str, str, Decimal, Decimal]


def _line(key: _LineKey, visits: int, minutes: int, at_new: Decimal, at_old: Decimal, owed: Decimal) -> ArrearsLine:
    provider, service, zone, band, old, new = key
    working = (
        f"{format_quantity(hours(minutes), 2)} h ({minutes:,} min, {format_count(visits, 'visit')}) "
        f"priced visit by visit at {format_gbp(new)} "
        f"= {format_gbp(at_new)}, less at {format_gbp(old)} = {format_gbp(at_old)}: owed {format_gbp(owed)}"
    )
    return ArrearsLine(provider, service, zone, band, old, new, visits, minutes, owed, working)


def arrears_lines(
    groups: Iterable[ArrearsGroup], old_price: VisitPricing, new_price: VisitPricing
) -> tuple[list[ArrearsLine], list[ArrearsGroup]]:
    """Lines of arrears for visits in the backdated window, and the groups that could not be priced.

    Each visit is priced at the old and the new rate and owes the difference
    (``visit_owed``). Visits at the same (provider, service, zone, band, old
    rate, new rate) make one line, which adds what they owe; lines where the
    rate did not change are left out.
    """
    sums: dict[_LineKey, list[Any]] = {}
    unpriced: list[ArrearsGroup] = []
    for g in groups:
        old = old_price(g.service, g.zone, g.day, g.band, g.planned_minutes, g.actual_minutes)
        new = new_price(g.service, g.zone, g.day, g.band, g.planned_minutes, g.actual_minutes)
        if old is None or new is None:
            unpriced.append(g)
            continue
        if old.hourly_rate == new.hourly_rate:
            continue
        count = Decimal(g.visits)
        line = sums.setdefault((g.provider, g.service, g.zone, g.band, old.hourly_rate, new.hourly_rate),
                               [0, 0, ZERO, ZERO, ZERO])  # fmt: skip
        line[0] += g.visits
        line[1] += g.visits * new.payable_minutes
        line[2] = EXACT.add(line[2], EXACT.multiply(count, new.amount))
        line[3] = EXACT.add(line[3], EXACT.multiply(count, old.amount))
        line[4] = EXACT.add(line[4], EXACT.multiply(count, visit_owed(new, old)))
    lines = [_line(key, *figures) for key, figures in sorted(sums.items())]
    return lines, unpriced


def arrears_basis(visits: int, first_day: date, last_day: date, position: int | None = None, whose: str = "") -> str:
    """What a calculation of arrears was based on, in words: the visits in the backdated window and which cards.

    ``whose`` narrows the count to one provider's visits (what that provider is
    shown); ``position`` is the event position the visits were read at.
    """
    counted = f"{format_count(visits, 'visit')} of {whose}" if whose else format_count(visits, "visit")
    at = f" (event position {position})" if position is not None else ""
    return (
        f"{counted} recorded from {first_day.isoformat()} to {last_day.isoformat()}{at}; "
        "old rates: the card before the decision; new rates: the card now"
    )


def provider_totals(lines: Iterable[ArrearsLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.provider] = EXACT.add(totals.get(line.provider, ZERO), line.amount)
    return dict(sorted(totals.items()))


class Arrears(LedgerAggregate):
    """The arrears one backdated rate review owes, as calculated and recalculated."""

    TOPIC = "openbook:arrears"

    class Calculated(LedgerCreated):
        """The first calculation: every line with its working, and the total per provider."""

        TOPIC = "openbook:arrears.calculated"
        agreement: str
        financial_year: str
        decided_on: date
        window_start: date
        window_end: date
        lines: list[dict[str, Any]]
        providers: dict[str, Decimal]
        total: Decimal
        basis: str

    class Recalculated(LedgerEvent):
        """A later calculation that differs: its lines, and each provider's difference from the last one."""

        TOPIC = "openbook:arrears.recalculated"
        lines: list[dict[str, Any]]
        providers: dict[str, Decimal]
        total: Decimal
        previous: dict[str, Decimal]
        difference: dict[str, Decimal]
        basis: str

        def apply(self, aggregate: Arrears) -> None:
            aggregate._set(self.lines, self.providers, self.total, self.basis)
            aggregate.calculations += 1

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("arrears", agreement, financial_year)

    def __init__(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: str,
        decided_on: date,
        window_start: date,
        window_end: date,
        lines: list[dict[str, Any]],
        providers: dict[str, Decimal],
        total: Decimal,
        basis: str,
    ):
        self.agreement = agreement
        self.financial_year = financial_year
        self.decided_on = decided_on
        self.window_start = window_start
        self.window_end = window_end
        self.calculations = 1
        self._set(lines, providers, total, basis)

    def _set(self, lines: list[dict[str, Any]], providers: dict[str, Decimal], total: Decimal, basis: str) -> None:
        self.lines = tuple(ArrearsLine.from_row(row) for row in lines)
        self.providers = dict(providers)
        self.total = total
        self.basis = basis

    @classmethod
    def calculate(
        cls,
        envelope: Envelope,
        *,
        agreement: str,
        financial_year: str,
        decided_on: date,
        window_start: date,
        window_end: date,
        lines: list[ArrearsLine],
        basis: str,
    ) -> Arrears:
        """Record the first calculation of a review's arrears for the window (both days inclusive)."""
        if window_end < window_start:
            raise InvalidInput(
                f"the review is not backdated: its rates apply from {window_start.isoformat()}, "
                f"and it was decided on {decided_on.isoformat()}"
            )
        totals = provider_totals(lines)
        return cls._create(
            cls.Calculated,
            id=cls.create_id(agreement, financial_year),
            envelope=envelope,
            agreement=agreement,
            financial_year=financial_year,
            decided_on=decided_on,
            window_start=window_start,
            window_end=window_end,
            lines=[line.as_row() for line in lines],
            providers=totals,
            total=total(totals.values()),
            basis=basis,
        )

    def recalculate(self, envelope: Envelope, lines: list[ArrearsLine], basis: str) -> bool:
        """Record a new calculation if its lines differ from the last one; returns whether it did."""
        if tuple(lines) == self.lines:
            return False
        totals = provider_totals(lines)
        everyone = sorted(set(totals) | set(self.providers))
        difference = {p: EXACT.subtract(totals.get(p, ZERO), self.providers.get(p, ZERO)) for p in everyone}
        self.trigger_event(
            self.Recalculated,
            envelope=envelope,
            lines=[line.as_row() for line in lines],
            providers=totals,
            total=total(totals.values()),
            previous=dict(self.providers),
            difference=difference,
            basis=basis,
        )
        return True
