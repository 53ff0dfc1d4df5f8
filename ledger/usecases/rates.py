"""Use cases: publishing rates on an agreement's rate card, and the one pricing function.

A rate card is created with the first rate published for its agreement, in
the same save. Every rate is checked against the agreement (the service type
and zone must be the agreement's on the rate's effective date) and must say
why it was published: the envelope's reason becomes the rate's reason.

``rate_for`` and ``price_visit`` are the ledger's only pricing functions; both
go through ``Pricer`` (domain/rates/pricer.py), and so does any batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from domain.activity.visits import RowProblem, check_visit_minutes
from domain.aggregate import LedgerAggregate
from domain.agreements.terms import ServiceType
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from domain.rates.pricer import Pricer
from domain.rates.pricing import RateQuote, VisitPrice, blend_rows
from domain.rates.rate_card import RateCard
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.jsonable import json_ready
from ledger.records import Records

#: How a stated rate is written, on the command line (``--rate``) and in the web's rates box (one a line).
RATE_SPEC = "SERVICE:ZONE[:BAND]=RATE"


def parse_rate_specs(specs: Iterable[str], field: str) -> list[dict[str, Any]]:
    """``["standard:zone-1=16.34", "standard:zone-a:rural=17.10"]`` as rate rows; every bad one named (by its
    place, counting from 1, when there are several) in one ``InvalidInput``. Blank entries are skipped."""
    given = [spec.strip() for spec in specs]
    rows, problems = [], []
    for number, spec in enumerate(given, start=1):
        if not spec:
            continue
        key, sep, rate = spec.partition("=")
        parts = [p.strip() for p in key.split(":")]
        if not sep or not rate.strip() or len(parts) not in (2, 3) or not all(parts):
            where = f"line {number}, " if len(given) > 1 else ""
            problems.append(f"{field}: {where}{spec!r} is not {RATE_SPEC}, e.g. standard:zone-1=16.34")
            continue
        band = parts[2] if len(parts) == 3 else None
        rows.append({"service": parts[0], "zone": parts[1], "band": band, "hourly_rate": rate.strip()})
    if problems:
        raise InvalidInput(problems)
    return rows


def rate_line(
    service: ServiceType | str,
    zone: str,
    *,
    band: str | None = None,
    hourly_rate: Decimal | str | None = None,
    blend: Iterable[Any] | None = None,
    withdraw: bool = False,
) -> dict[str, Any]:
    """One line of a rate card as JSON-able data: a rate, a blend, or a withdrawal of a key's rate.

    Figures are kept as exact text; the rate card checks them when they are applied.
    """
    return {
        "service": str(service),
        "zone": zone,
        "band": band,
        "hourly_rate": None if hourly_rate is None else str(hourly_rate),
        "blend": blend_rows(blend),
        "withdraw": bool(withdraw),
    }


class RateUseCases:
    """Rates are published on an agreement's rate card, checked against the agreement."""

    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    def card_for_update(self, envelope: Envelope, agreement: str) -> RateCard:
        """The agreement's rate card, or a new one to be saved with its first rate."""
        found = self.records.find(RateCard.create_id(agreement))
        return found if found is not None else RateCard.create(envelope, agreement)

    def publish_rate(
        self,
        envelope: Envelope,
        agreement: str,
        service: ServiceType | str,
        zone: str,
        *,
        hourly_rate: Decimal | str | None = None,
        blend: Iterable[Any] | None = None,
        band: str | None = None,
        effective_from: date | None = None,
    ) -> dict[str, Any]:
        """Publish an hourly rate, or a blend of rates computed from its parts, from a date.

        ``effective_from`` defaults to the envelope's effective date; the envelope's
        reason is the rate's reason. Returns the rate as the card now quotes it.
        """
        authorise(self.records, envelope.actor, "publish_rate", agreement=agreement)
        line = rate_line(service, zone, band=band, hourly_rate=hourly_rate, blend=blend)
        start = effective_from or envelope.effective_date
        payload = {"agreement": agreement, **line, "effective_from": start}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            card = self._apply_rate_lines(envelope, agreement, [line], start)
            quote = card.rate_for(service, zone, start, band)
            return [card], json_ready({"agreement": agreement, **_quote_fields(quote)})

        return self.ledger._execute("publish_rate", payload, envelope, build)

    def withdraw_rate(
        self,
        envelope: Envelope,
        agreement: str,
        service: ServiceType | str,
        zone: str,
        *,
        band: str | None = None,
        effective_from: date | None = None,
    ) -> dict[str, Any]:
        """End a key's own rate from a date (a banded question then falls back to the rate without a band)."""
        authorise(self.records, envelope.actor, "withdraw_rate", agreement=agreement)
        line = rate_line(service, zone, band=band, withdraw=True)
        start = effective_from or envelope.effective_date
        payload = {"agreement": agreement, **line, "effective_from": start}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            card = self._apply_rate_lines(envelope, agreement, [line], start)
            return [card], json_ready({"agreement": agreement, **line, "withdrawn_from": start})

        return self.ledger._execute("withdraw_rate", payload, envelope, build)

    def publish_rates(
        self, envelope: Envelope, agreement: str, lines: Iterable[dict[str, Any]], effective_from: date | None = None
    ) -> dict[str, Any]:
        """Publish a rate card: several rates and withdrawals from one date, all recorded or none.

        Each line is ``rate_line(...)``-shaped: service, zone, band, and an
        hourly rate, a blend, or ``withdraw``. A new flat rate replacing banded
        ones is published with the banded rates' withdrawals in the same call.
        """
        authorise(self.records, envelope.actor, "publish_rates", agreement=agreement)
        rows = [rate_line(**line) for line in lines]
        start = effective_from or envelope.effective_date
        payload = {"agreement": agreement, "lines": rows, "effective_from": start}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            card = self._apply_rate_lines(envelope, agreement, rows, start)
            return [card], json_ready({"agreement": agreement, "effective_from": start, "lines": len(rows)})

        return self.ledger._execute("publish_rates", payload, envelope, build)

    def _apply_rate_lines(
        self, envelope: Envelope, agreement: str, lines: list[dict[str, Any]], start: date
    ) -> RateCard:
        """Apply rate lines to the agreement's card (created if need be), checked against the agreement."""
        found = self.records.agreement(agreement)
        card = self.card_for_update(envelope, agreement)
        for line in lines:
            if line["withdraw"]:
                card.withdraw_rate(
                    envelope, line["service"], line["zone"], start, envelope.reason or "", band=line["band"]
                )
            else:
                card.publish_rate(
                    envelope,
                    line["service"],
                    line["zone"],
                    start,
                    envelope.reason or "",
                    hourly_rate=line["hourly_rate"],
                    blend=line["blend"],
                    band=line["band"],
                    agreement=found,
                )
        return card

    # -- the one pricing function --------------------------------------------------------

    def rate_card(self, agreement: str) -> RateCard:
        card = self.records.find(RateCard.create_id(agreement))
        if card is None:
            self.records.agreement(agreement)  # an unknown agreement says so first
            raise NotFound(f"agreement {agreement!r} has no rates published yet")
        return card

    def pricer(self, agreement: str) -> Pricer:
        """A Pricer for the agreement as recorded now: build one per batch of visits."""
        return Pricer(self.records.agreement(agreement), self.rate_card(agreement))

    def rate_for(
        self, agreement: str, service: ServiceType | str, zone: str, on_date: date, band: str | None = None
    ) -> RateQuote:
        """The rate for a service in a zone (and package band) on a date, with how it was derived."""
        return self.pricer(agreement).rate_for(service, zone, on_date, band)

    def price_visit(
        self,
        agreement: str,
        service: ServiceType | str,
        zone: str,
        on_date: date,
        planned_minutes: int,
        actual_minutes: int,
        band: str | None = None,
    ) -> VisitPrice:
        """Price one visit on a date: payable minutes under the agreement's basis, at ``rate_for``, pro rata.

        Its minutes are held to the bounds a visit in a file is (``check_visit_minutes``), with the same words,
        so a price is never quoted for a visit no import would record.
        """
        problems = []
        for field, minutes in (("planned_minutes", planned_minutes), ("actual_minutes", actual_minutes)):
            try:
                check_visit_minutes(minutes)
            except RowProblem as e:
                problems.append(f"{field}: {e}")
        if problems:
            raise InvalidInput(problems)
        return self.pricer(agreement).price(service, zone, on_date, planned_minutes, actual_minutes, band)


def _quote_fields(quote: RateQuote) -> dict[str, Any]:
    return {
        "service": quote.service.value,
        "zone": quote.zone,
        "band": quote.band,
        "hourly_rate": quote.hourly_rate,
        "blend": blend_rows(quote.parts) if quote.parts else None,
        "effective_from": quote.effective_from,
        "derivation": quote.derivation,
    }
