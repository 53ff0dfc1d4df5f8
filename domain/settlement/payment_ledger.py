"""Payments to providers during the year: monthly runs on account, and the run-rate forecast.

Each month the commissioners pay providers out of the pool, by the pool's
payment mechanism (``domain.settlement.pooled_budget.PaymentMechanism``):

* **rate**: each provider is paid its priced delivered activity. A run for
  a month pays that month's priced activity line by line (zone and service),
  plus one *adjustment* line for earlier months: their priced activity now,
  less what was paid before. So a corrected visit or a backdated rate is
  paid (or recovered) in the next run, and the paid total always equals the
  priced activity of the months run so far. When a backdated rate review
  re-priced months already paid, the adjustment names the arrears it includes
  (``PaymentLine.arrears``): part of its amount, never added to it. Both are
  the same visits' re-pricing, so the part is what the arrears command
  records for them (``domain.activity.arrears.visit_owed``).
* **capitated**: each provider is paid its fixed monthly sums per zone on
  account, whatever was delivered; the year-end settlement reconciles the
  payments with priced activity.

A run may also carry **closed-year adjustments** (``PaymentLine.closed_year``):
a closed year's late changes, paid in the next open run (``domain.settlement.year_end``).
They are paid, but not on account of this year: ``PaymentLedger.paid`` leaves them out.

Payments are money paid, so they are recorded, never edited: one
``PaymentLedger`` per agreement and financial year, one ``RunRecorded`` event
per month with every line. Runs are in month order, once per month: a late
correction is paid in the next run, or after the last one in the settlement.

The forecast to year end is the run rate: priced spend to date ÷ months
elapsed × 12, rounded once to the penny.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.bounds import EARLIEST_DATE, LATEST_DATE
from domain.checks import check_financial_year, check_year
from domain.envelope import Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.money import EXACT, ZERO, format_gbp, round_money, total
from domain.periods import financial_year_of, parse_financial_year
from domain.settlement.pooled_budget import Capitation, PaymentMechanism

__all__ = [
    "ACTIVITY",
    "ADJUSTMENT",
    "ON_ACCOUNT",
    "ActivityRow",
    "PaymentLedger",
    "PaymentLine",
    "arrears_paid",
    "capitated_run",
    "check_month",
    "line_kind",
    "month_end",
    "months_of",
    "provider_totals",
    "rate_run",
    "run_rate_forecast",
]

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def months_of(financial_year: str) -> list[str]:
    """The twelve months of a financial year, April first: ["2019-04", ..., "2020-03"]."""
    start = parse_financial_year(check_financial_year(financial_year)).start_year
    return [f"{start + (m < 4)}-{m:02d}" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


def check_month(month: object, financial_year: str | None = None, field: str = "month") -> str:
    """A month written ``2019-05`` within the ledger's dates, refused unless it falls in ``financial_year`` (if given).

    A month outside the ledger's dates (0001-01) has no financial year to reckon it in: refused here, naming the
    field, rather than failing later as a 500."""
    if not isinstance(month, str) or not _MONTH.fullmatch(month.strip()):
        raise InvalidInput(f"{field}: {month!r} is not a month in the form 2019-05")
    chosen = month.strip()
    if not EARLIEST_DATE.replace(day=1) <= date.fromisoformat(f"{chosen}-01") <= LATEST_DATE:
        raise InvalidInput(f"{field}: {chosen} is outside the months the ledger records "
                           f"({EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m})")
    if financial_year is not None and chosen not in months_of(financial_year):
        raise InvalidInput(f"{field}: {chosen} is not in the financial year {financial_year} (April to March)")
    return chosen


def month_end(month: str) -> date:
    """The last day of a month written ``2019-05``."""
    year, number = (int(part) for part in check_month(month).split("-"))
    return date(year, number, calendar.monthrange(year, number)[1])


def year_of_month(month: str) -> str:
    return str(financial_year_of(date.fromisoformat(check_month(month) + "-01")))


@dataclass(frozen=True)
class ActivityRow:
    """Priced activity of one provider, zone (or lot), service and month, from the activity read model."""

    provider: str
    zone: str
    service: str
    month: str
    visits: int
    payable_minutes: int
    spend: Decimal


@dataclass(frozen=True)
class PaymentLine:
    """One line of a provider's payment: what it is for, and how much."""

    provider: str
    label: str
    amount: Decimal
    zone: str = ""
    service: str = ""
    month: str = ""  # the activity month a line pays for; "" for an adjustment or a sum on account
    visits: int = 0
    payable_minutes: int = 0
    arrears: Decimal = ZERO  # of an adjustment's amount, the arrears of a backdated review it pays (included)
    closed_year: str = ""  # a closed-year adjustment: the closed year whose late changes it pays, not this year's

    def as_row(self) -> dict[str, Any]:
        """The line as stored; ``closed_year`` only on a closed-year adjustment (older lines never had it)."""
        row = {
            "provider": self.provider,
            "label": self.label,
            "amount": self.amount,
            "zone": self.zone,
            "service": self.service,
            "month": self.month,
            "visits": self.visits,
            "payable_minutes": self.payable_minutes,
            "arrears": self.arrears,
        }
        if self.closed_year:
            row["closed_year"] = self.closed_year
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PaymentLine:
        return cls(**row)


#: What a payment line pays: a month's priced activity, an adjustment for earlier months, or a sum on account.
ACTIVITY, ADJUSTMENT, ON_ACCOUNT = "activity", "adjustment", "on account"


def line_kind(mechanism: str, activity_month: str) -> str:
    """What a recorded line of a run by ``mechanism`` pays (``PaymentLine.month`` is its ``activity_month``).

    A rate run's line names the month of activity it pays, or is the
    adjustment for earlier months (the only line that may carry arrears); a
    capitated run's lines are fixed sums on account, never an adjustment,
    whatever was delivered.
    """
    if PaymentMechanism(mechanism) is PaymentMechanism.CAPITATED:
        return ON_ACCOUNT
    return ACTIVITY if activity_month else ADJUSTMENT


def provider_totals(lines: Iterable[PaymentLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.provider] = EXACT.add(totals.get(line.provider, ZERO), line.amount)
    return dict(sorted(totals.items()))


def rate_run(
    month: str,
    activity: Iterable[ActivityRow],
    paid_before: Mapping[str, Decimal],
    arrears: Mapping[str, Decimal] | None = None,
    arrears_of: str = "",
) -> list[PaymentLine]:
    """The lines of a run paying priced activity: the month's, and the unpaid difference of earlier months.

    ``activity`` is the year's priced activity as it stands now; later months
    are left for their own runs. A provider paid before but with no activity
    now has a negative adjustment (a recovery). ``arrears`` are, per provider,
    the arrears of a backdated review (``arrears_of`` names it) that the
    difference includes and no earlier run identified: the adjustment shows
    them as its identified part, and its amount is still the difference.
    """
    arrears = arrears or {}
    this_month: list[PaymentLine] = []
    earlier: dict[str, Decimal] = {}
    for row in sorted(activity, key=lambda r: (r.provider, r.month, r.zone, r.service)):
        if row.month == month:
            label = f"priced activity {month}: {row.service} in {row.zone}"
            line = PaymentLine(row.provider, label, row.spend, row.zone, row.service, month, row.visits,
                               row.payable_minutes)  # fmt: skip
            this_month.append(line)
        elif row.month < month:
            earlier[row.provider] = EXACT.add(earlier.get(row.provider, ZERO), row.spend)
    adjustments = []
    for provider in sorted(set(earlier) | set(paid_before) | set(arrears)):
        difference = EXACT.subtract(earlier.get(provider, ZERO), paid_before.get(provider, ZERO))
        part = arrears.get(provider, ZERO)
        if difference != 0 or part != 0:
            label = (
                f"adjustment for earlier months: priced activity before {month} now "
                f"{format_gbp(earlier.get(provider, ZERO))}, paid {format_gbp(paid_before.get(provider, ZERO))}"
            )
            if part != 0:
                other = EXACT.subtract(difference, part)
                label += f"; of which arrears of {arrears_of} {format_gbp(part)} and other changes {format_gbp(other)}"
            adjustments.append(PaymentLine(provider, label, difference, arrears=part))
    return sorted([*this_month, *adjustments], key=lambda line: (line.provider, line.month == "", line.label))


def arrears_paid(runs: Iterable[PaymentRun]) -> dict[str, Decimal]:
    """Each provider's arrears that runs' adjustments have identified (and so paid) so far."""
    totals: dict[str, Decimal] = {}
    for run in runs:
        for line in run.lines:
            if line.arrears != 0:
                totals[line.provider] = EXACT.add(totals.get(line.provider, ZERO), line.arrears)
    return dict(sorted(totals.items()))


def capitated_run(month: str, capitation: Sequence[Capitation]) -> list[PaymentLine]:
    """The lines of a run paying each provider its fixed monthly sums on account, zone by zone."""
    return [
        PaymentLine(c.provider, f"capitated sum on account {month}: {c.zone}", c.monthly, c.zone)
        for c in sorted(capitation, key=lambda c: (c.provider, c.zone))
        if c.monthly != 0
    ]


def run_rate_forecast(priced_to_date: Decimal, months_elapsed: int) -> Decimal | None:
    """Spend to year end at the run rate: priced to date ÷ months elapsed × 12, rounded once to the penny.

    None before any month has elapsed: there is no rate to run at.
    """
    if months_elapsed <= 0:
        return None
    return round_money(EXACT.divide(EXACT.multiply(priced_to_date, Decimal(12)), Decimal(months_elapsed)))


@dataclass(frozen=True)
class PaymentRun:
    """One month's recorded payments."""

    month: str
    mechanism: str
    lines: tuple[PaymentLine, ...]
    providers: dict[str, Decimal]
    total: Decimal
    basis: str
    paid_on: date
    recorded_by: str


class PaymentLedger(LedgerAggregate):
    """The payments made on account out of one agreement's pool in one financial year."""

    TOPIC = "openbook:payments"

    class Opened(LedgerCreated):
        TOPIC = "openbook:payments.opened"
        agreement: str
        financial_year: str

    class RunRecorded(LedgerEvent):
        """One month's payments: every line, each provider's total, and what they were computed from."""

        TOPIC = "openbook:payments.run-recorded"
        month: str
        mechanism: str
        lines: list[dict[str, Any]]
        providers: dict[str, Decimal]
        total: Decimal
        basis: str

        def apply(self, aggregate: PaymentLedger) -> None:
            aggregate._runs.append(
                PaymentRun(
                    self.month,
                    self.mechanism,
                    tuple(PaymentLine.from_row(row) for row in self.lines),
                    dict(self.providers),
                    self.total,
                    self.basis,
                    self.envelope.effective_date,
                    str(self.envelope.actor),
                )
            )

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("payments", agreement, check_financial_year(financial_year))

    def __init__(self, envelope: Envelope, agreement: str, financial_year: str):
        self.agreement = agreement
        self.financial_year = financial_year
        self._runs: list[PaymentRun] = []

    @property
    def natural_key(self) -> str:
        return f"{self.agreement} {self.financial_year}"

    @classmethod
    def open(cls, envelope: Envelope, agreement: str, financial_year: str) -> PaymentLedger:
        year = check_year(financial_year)
        return cls._create(
            cls.Opened, id=cls.create_id(agreement, year), envelope=envelope, agreement=agreement, financial_year=year
        )

    def record_run(
        self, envelope: Envelope, month: str, mechanism: PaymentMechanism, lines: Sequence[PaymentLine], basis: str
    ) -> PaymentRun:
        """Record one month's payments; months are run in order, each once."""
        chosen = check_month(month, self.financial_year)
        if self._runs and chosen <= self._runs[-1].month:
            last = self._runs[-1]
            raise RuleBroken(
                f"month: payments of {self.agreement} were already run for {last.month} on "
                f"{last.paid_on.isoformat()}; runs go in month order, once each, and a later correction "
                "is paid in the next run or the settlement"
            )
        if not lines:
            raise RuleBroken(f"month: nothing to pay for {chosen}: no priced activity or sums on account are due")
        totals = provider_totals(lines)
        self.trigger_event(
            self.RunRecorded,
            envelope=envelope,
            month=chosen,
            mechanism=PaymentMechanism(mechanism).value,
            lines=[line.as_row() for line in lines],
            providers=totals,
            total=total(totals.values()),
            basis=basis,
        )
        return self._runs[-1]

    @property
    def runs(self) -> tuple[PaymentRun, ...]:
        return tuple(self._runs)

    def paid(self, through_month: str | None = None) -> dict[str, Decimal]:
        """Each provider's payments on account of this year in runs up to and including ``through_month`` (default
        all): every line but the closed-year adjustments, which pay an earlier, closed year's late changes."""
        totals: dict[str, Decimal] = {}
        for run in self._runs:
            if through_month is None or run.month <= through_month:
                for line in run.lines:
                    if not line.closed_year:
                        totals[line.provider] = EXACT.add(totals.get(line.provider, ZERO), line.amount)
        return dict(sorted(totals.items()))

    def closed_year_paid(self, closed_year: str) -> dict[str, Decimal]:
        """Each provider's closed-year adjustments for ``closed_year`` that this year's runs paid."""
        totals: dict[str, Decimal] = {}
        for run in self._runs:
            for line in run.lines:
                if line.closed_year == closed_year:
                    totals[line.provider] = EXACT.add(totals.get(line.provider, ZERO), line.amount)
        return dict(sorted(totals.items()))
