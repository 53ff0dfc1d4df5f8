"""The one path by which the ledger prices anything: a ``Pricer`` over an agreement and its rate card.

The rates use case (``ledger/usecases/rates.py``: ``rate_for``, ``price_visit``)
builds a Pricer and asks it once;
a batch (issue 6 prices a million visits) builds one Pricer and asks it many
times, so the two aggregates are loaded once, not once per visit. Either way
the answer comes from the same lines: ``RateCard.rate_for`` for the rate,
``Agreement.payment_basis_on`` for which minutes are paid, and
``domain.rates.pricing.price_visit`` for the arithmetic (docs/pricing.md). Nothing here
computes a price itself.

A Pricer remembers the answers it has given (per service, zone, band and
date), because a batch asks the same question for every visit of a day. It is
a snapshot: build a new one to see rates published after it was built.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.agreements.agreement import Agreement
from domain.agreements.terms import PaymentBasis, ServiceType
from domain.rates.pricing import RateQuote, VisitPrice, price_visit
from domain.rates.rate_card import RateCard

__all__ = ["Pricer"]


class Pricer:
    """Prices visits under one agreement from the agreement and its rate card, loaded once."""

    def __init__(self, agreement: Agreement, card: RateCard):
        if card.agreement != agreement.code:
            raise ValueError(f"the rate card is for {card.agreement}, not {agreement.code}")
        self.agreement = agreement
        self.card = card
        self._quotes: dict[tuple[Any, ...], RateQuote] = {}
        self._bases: dict[date, PaymentBasis] = {}

    def rate_for(self, service: ServiceType | str, zone: str, on_date: date, band: str | None = None) -> RateQuote:
        """The rate in force for a service in a zone (and band) on a date, with its derivation."""
        key = (service, zone, on_date, band)
        quote = self._quotes.get(key)
        if quote is None:
            quote = self._quotes[key] = self.card.rate_for(service, zone, on_date, band)
        return quote

    def payment_basis_on(self, on_date: date) -> PaymentBasis:
        basis = self._bases.get(on_date)
        if basis is None:
            basis = self._bases[on_date] = self.agreement.payment_basis_on(on_date)
        return basis

    def price(
        self,
        service: ServiceType | str,
        zone: str,
        on_date: date,
        planned_minutes: int,
        actual_minutes: int,
        band: str | None = None,
    ) -> VisitPrice:
        """One visit: the agreement's payable minutes on that date at the rate in force, pro rata."""
        quote = self.rate_for(service, zone, on_date, band)
        return price_visit(quote, self.payment_basis_on(on_date), planned_minutes, actual_minutes)
