"""Closing a financial year: the accountants' record that the year's settlement is final (docs/year-end.md).

A year is closed once its settlement is issued and the commissioners'
accountants agree; one ``YearEnd`` per agreement and financial year
(``natural_id("year-end", agreement, "2019-20")``), created by its one
``Closed`` event. The event keeps, by value, what the close was agreed on:
the settlement it closes with (its number) and each provider's priced
activity and paid on account in that settlement.

Closing refuses nothing later. A change that would alter the closed year's
figures (a late or corrected visit, a backdated rate, a corrected return) is
recorded as ever; its money is named, never absorbed:

* the change in the closed year's priced activity against the activity it
  was closed with is paid — or recovered — as a **closed-year adjustment**
  line in the next payment run of an open year
  (``closed_year_adjustments``), separate from that year's own lines;
* the closed year's issued settlement is shown out of date, and its
  re-settlement counts those adjustments as paid on account, so the money
  is paid once.

The rules about *when* a year may be closed (an issued settlement, no open
re-settlement) are the application's: they read the settlements.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, natural_id
from domain.checks import check_financial_year
from domain.envelope import Envelope
from domain.money import EXACT, ZERO, format_gbp
from domain.organisations.organisation import check_code

__all__ = ["YearEnd", "closed_year_adjustments", "closed_year_label"]


def closed_year_label(financial_year: str, what: str) -> str:
    """The named line a payment run carries for a closed year: 'closed-year adjustment 2019-20: <what>'."""
    return f"closed-year adjustment {financial_year}: {what}"


def closed_year_adjustments(
    at_close: Mapping[str, Decimal], now: Mapping[str, Decimal], adjusted: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Each provider's closed-year adjustment still to pay: priced activity now − at close − adjusted before.

    ``at_close`` is the activity the year was closed with, ``now`` the closed
    year's priced activity as it stands, ``adjusted`` what earlier runs paid as
    its closed-year adjustments. Negative: a recovery. Providers owed nothing
    are left out.
    """
    owed = {}
    for provider in sorted(set(at_close) | set(now) | set(adjusted)):
        change = EXACT.subtract(now.get(provider, ZERO), at_close.get(provider, ZERO))
        due = EXACT.subtract(change, adjusted.get(provider, ZERO))
        if due != 0:
            owed[provider] = due
    return owed


class YearEnd(LedgerAggregate):
    """The close of one agreement's financial year, with the settlement and figures it was closed on."""

    TOPIC = "openbook:year-end"

    class Closed(LedgerCreated):
        TOPIC = "openbook:year-end.closed"
        agreement: str
        financial_year: str
        settlement: int  # the number of the issued settlement the year is closed with
        activity: dict[str, Decimal]  # each provider's priced activity in that settlement
        paid: dict[str, Decimal]  # each provider's paid on account in that settlement

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("year-end", agreement, check_financial_year(financial_year))

    def __init__(
        self, envelope: Envelope, agreement: str, financial_year: str, settlement: int,
        activity: dict[str, Decimal], paid: dict[str, Decimal],
    ):  # fmt: skip
        self.agreement = agreement
        self.financial_year = financial_year
        self.settlement = settlement
        self.activity = dict(activity)
        self.paid = dict(paid)
        self.closed_on = envelope.effective_date
        self.closed_by = str(envelope.actor)

    @property
    def natural_key(self) -> str:
        return f"{self.agreement} {self.financial_year}"

    def describe(self) -> str:
        closed = f"closed on {self.closed_on.isoformat()} with settlement {self.settlement}"
        return f"{self.financial_year} of {self.agreement}, {closed}"

    @classmethod
    def close(
        cls, envelope: Envelope, agreement: str, financial_year: str, settlement: int, parties: Mapping[str, Any]
    ) -> YearEnd:
        """Close the year with the issued settlement number ``settlement`` whose providers' lines are ``parties``."""
        return cls._create(
            cls.Closed,
            id=cls.create_id(agreement, financial_year),
            envelope=envelope,
            agreement=check_code(agreement, "agreement"),
            financial_year=check_financial_year(financial_year),
            settlement=settlement,
            activity={p: Decimal(v["activity"]) for p, v in sorted(parties.items())},
            paid={p: Decimal(v["paid"]) for p, v in sorted(parties.items())},
        )

    def adjustment_note(self, provider: str, now: Decimal, adjusted: Decimal) -> str:
        """What a provider's closed-year adjustment line says it is for."""
        return closed_year_label(
            self.financial_year,
            f"priced activity of {self.financial_year} now {format_gbp(now)}, closed with settlement "
            f"{self.settlement} at {format_gbp(self.activity.get(provider, ZERO))}, adjusted before "
            f"{format_gbp(adjusted)}",
        )
