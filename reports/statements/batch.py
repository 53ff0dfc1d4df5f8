"""A period's statements, every party's: which ones there are, for ``openbook statements --agreement A --period P``.

The period says which kinds (docs/statements.md): a quarter (``2019-20-Q1``)
gives each provider's cost statement for its accepted return; a month
(``2019-06``) each provider's payment statement of that month's run; a
financial year (``2019-20``) each provider's incentive statement and the
settlement statements — the partnership's, each commissioner's and each
provider's. Whatever the period, each rate review decided in it gives every
provider concerned its rate notice. The plan only reads (the queries, with an
accountant's access: a batch holds every provider's statements); each entry
builds its statement when asked, so a caller can show progress, and names its
file ``kind-party-period.pdf``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from domain.errors import InvalidInput, NotFound
from domain.periods import PeriodFormatError, parse_period
from domain.settlement.payment_ledger import check_month, month_end, year_of_month
from ledger.authorisation import Access, accountants_only, provider_access
from ledger.queries.incentives import incentive_assessment
from ledger.queries.rates import list_rate_reviews
from ledger.queries.returns import list_returns
from ledger.queries.settlements import list_settlements, payment_runs
from ledger.queries.settlements import settlement as settlement_view
from reports.statements.cost import cost_statement
from reports.statements.frame import Statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import notice_providers, rate_notice
from reports.statements.settlement import settlement_statement

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["BatchPeriod", "Planned", "batch_period", "nothing_to_state", "plan_batch"]

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


@dataclass(frozen=True)
class BatchPeriod:
    """A period as the batch reads it: its kind (``quarter``, ``month`` or ``year``), its text, its first and last
    days, and the financial year it falls in."""

    kind: str
    text: str
    start: date
    end: date
    financial_year: str


def batch_period(text: str) -> BatchPeriod:
    """``2019-20-Q1`` (a quarter), ``2019-20`` (a financial year) or ``2019-06`` (a month); anything else is refused.

    Quarters and years are ``domain.periods``'s; what is not one of them but has a month's form is the payment
    run's month (``check_month``): ``2019-06`` cannot be a financial year (2019 is followed by 20).
    """
    value = text.strip() if isinstance(text, str) else text
    try:
        period = parse_period(value)
    except PeriodFormatError as error:
        if isinstance(value, str) and _MONTH.fullmatch(value):  # 2019-06: not a year (2019-20 is), so a month
            month = check_month(value, field="--period")
            start = date.fromisoformat(f"{month}-01")
            return BatchPeriod("month", month, start, month_end(month), year_of_month(month))
        raise InvalidInput(f"--period: {error}; or a month in the form 2019-06") from None
    year = str(getattr(period, "year", period))
    return BatchPeriod("year" if str(period) == year else "quarter", str(period), period.start, period.end, year)


@dataclass(frozen=True)
class Planned:
    """One statement of the batch: its kind, the party it is for, its period, and how to build it."""

    kind: str
    party: str
    period: str
    build: Callable[[], Statement]

    @property
    def file_name(self) -> str:
        return f"{self.kind}-{self.party}-{self.period}.pdf"


def _cost(book: Openbook, access: Access, period: BatchPeriod) -> list[Planned]:
    accepted = sorted({r["provider"] for r in list_returns(book.read_engine, access, period.text)
                       if r["status"] == "accepted"})  # fmt: skip
    return [Planned("cost", p, period.text, lambda p=p: cost_statement(book, access, p, period.text)) for p in accepted]


def _payment(book: Openbook, access: Access, period: BatchPeriod) -> list[Planned]:
    paid = sorted({r["provider"] for r in payment_runs(book.read_engine, access, period.financial_year)
                   if r["month"] == period.text})  # fmt: skip
    return [Planned("payment", p, period.text, lambda p=p: payment_statement(book, access, p, period.text))
            for p in paid]  # fmt: skip


def _incentive(book: Openbook, access: Access, year: str) -> list[Planned]:
    try:
        lines = incentive_assessment(book.read_engine, access, year)["lines"]
    except NotFound:  # no assessment of the year
        return []
    return [Planned("incentive", line["provider"], year,
                    lambda p=line["provider"]: incentive_statement(book, access, year, provider=p))
            for line in lines]  # fmt: skip


def _settlement(book: Openbook, access: Access, year: str) -> list[Planned]:
    """The year's latest settlement: the partnership's statement, each commissioner's and each provider's."""
    if not list_settlements(book.read_engine, access, year):
        return []
    view = settlement_view(book.read_engine, access, access.agreement, year)
    sequence, s = view["sequence"], view["statement"]
    planned = [Planned("settlement", access.agreement, year,
                       lambda: settlement_statement(book, access, year, sequence=sequence))]  # fmt: skip
    planned += [Planned("settlement", c, year,
                        lambda c=c: settlement_statement(book, access, year, sequence=sequence, commissioner=c))
                for c in s["commissioners"]]  # fmt: skip
    planned += [Planned("settlement", p, year, lambda p=p: settlement_statement(
                    book, provider_access(book.records, access.actor, access.agreement, p), year, sequence=sequence))
                for p in s["providers"]]  # fmt: skip
    return planned


def _rate_notices(book: Openbook, access: Access, period: BatchPeriod) -> list[Planned]:
    decided = [r["financial_year"] for r in list_rate_reviews(book.read_engine, access.agreement)
               if r["decided_on"] is not None and period.start <= r["decided_on"] <= period.end]  # fmt: skip
    return [Planned("rate-notice", p, year, lambda p=p, year=year: rate_notice(book, access, year, p))
            for year in decided for p in notice_providers(book, access, year)]  # fmt: skip


def plan_batch(book: Openbook, access: Access, period: BatchPeriod) -> list[Planned]:
    """Every statement the period gives, in the order written: the period's own kind, then rate notices.

    A batch holds every provider's statements, so only an accountant's access plans one (a provider's is refused,
    ``NotAllowed``).
    """
    accountants_only(access)
    if period.kind == "quarter":
        planned = _cost(book, access, period)
    elif period.kind == "month":
        planned = _payment(book, access, period)
    else:
        planned = _incentive(book, access, period.text) + _settlement(book, access, period.text)
    return planned + _rate_notices(book, access, period)


def nothing_to_state(agreement: str, period: BatchPeriod) -> str:
    """What a period with no statements says, naming what it looked for."""
    looked = {"quarter": "no cost return of the quarter is accepted",
              "month": "no payment run of the month is recorded",
              "year": "no incentive assessment or settlement of the year is recorded"}[period.kind]  # fmt: skip
    return f"nothing to state for {agreement} in {period.text}: {looked}, and no rate review was decided in it"
