"""The rate card: an agreement's effective-dated rates per service, zone and band.

``RateCard.rate_for`` is the one place a rate is looked up; the arithmetic
that turns a rate into a price is in ``domain/rates/pricing.py``, whose
docstring (and docs/pricing.md) states the rules: supersession, corrections,
bands, blends, withdrawals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.agreement import Agreement
from domain.agreements.terms import ServiceType, check_service
from domain.checks import check_date, check_day, check_hourly_rate, check_text
from domain.dated import in_force
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from domain.money import format_percent, format_rate
from domain.organisations.organisation import check_code
from domain.rates.pricing import BlendPart, RateEntry, RateKey, RateQuote, blended_rate, check_blend, weighted_rate

__all__ = [
    "RateCard",
]

def _band(band: object) -> str | None:
    return None if band is None else check_code(band, "band")


# -- the rate card -----------------------------------------------------------------------


class RateCard(LedgerAggregate):
    """The effective-dated rates of one agreement."""

    TOPIC = "openbook:rate-card"

    class Created(LedgerCreated):
        TOPIC = "openbook:rate-card.created"
        agreement: str

    class RatePublished(LedgerEvent):
        """A rate (``hourly_rate``) or a blend (``blend``: [{"weight", "rate"}]) for a key from a date."""

        TOPIC = "openbook:rate-card.rate-published"
        service: str
        zone: str
        band: str | None
        hourly_rate: Decimal | None
        blend: list[dict[str, Decimal]] | None
        effective_from: date
        reason: str

        def apply(self, aggregate: RateCard) -> None:
            # Recorded facts are not re-checked on replay: rules may tighten, history must still load.
            parts = tuple(BlendPart(row["weight"], row["rate"]) for row in self.blend or ())
            rate = weighted_rate(parts) if parts else self.hourly_rate
            aggregate._record(self, rate, parts)

    class RateWithdrawn(LedgerEvent):
        TOPIC = "openbook:rate-card.rate-withdrawn"
        service: str
        zone: str
        band: str | None
        effective_from: date
        reason: str

        def apply(self, aggregate: RateCard) -> None:
            aggregate._record(self, None, ())

    @staticmethod
    def create_id(agreement: str) -> UUID:
        return natural_id("rate-card", agreement)

    def __init__(self, envelope: Envelope, agreement: str):
        self.agreement = agreement
        self._entries: list[RateEntry] = []  # in recording order

    def _record(self, event: Any, rate: Decimal | None, parts: tuple[BlendPart, ...]) -> None:
        key = RateKey(ServiceType(event.service), event.zone, event.band)
        self._entries.append(RateEntry(key, event.effective_from, rate, parts, event.reason))

    @classmethod
    def create(cls, envelope: Envelope, agreement: str) -> RateCard:
        check_code(agreement, "agreement")
        return cls._create(cls.Created, id=cls.create_id(agreement), envelope=envelope, agreement=agreement)

    # -- commands ---------------------------------------------------------------------------

    def publish_rate(
        self,
        envelope: Envelope,
        service: ServiceType | str,
        zone: str,
        effective_from: date,
        reason: str,
        hourly_rate: Decimal | None = None,
        blend: Iterable[Any] | None = None,
        band: str | None = None,
        agreement: Agreement | None = None,
    ) -> None:
        """Publish an hourly rate (2 dp) or a blend of rates for a key from a date.

        Pass the ``agreement`` to check it has the service type and zone on
        that date. Publishing exactly what is already in force from that date
        records nothing.
        """
        key = RateKey(check_service(service), check_code(zone, "zone"), _band(band))
        check_day(effective_from, "effective_from")
        why = check_text(reason, "reason")
        if (hourly_rate is None) == (blend is None):
            raise InvalidInput("hourly_rate: give either an hourly rate or a blend, not both or neither")
        if agreement is not None:
            agreement.check_rate_key(key.service, key.zone, effective_from)
        rows = None
        parts: tuple[BlendPart, ...] = ()
        rate: Decimal
        if blend is not None:
            parts = check_blend(blend)
            rate = blended_rate(parts)
            rows = [{"weight": p.weight, "rate": p.rate} for p in parts]
        else:
            rate = check_hourly_rate(hourly_rate, "hourly_rate")
        same_day = self._entry(key, effective_from, exact_day=True)
        if same_day is not None and (same_day.hourly_rate, same_day.parts) == (rate, parts):
            return
        self.trigger_event(
            self.RatePublished,
            envelope=envelope,
            service=key.service.value,
            zone=key.zone,
            band=key.band,
            hourly_rate=None if blend is not None else rate,
            blend=rows,
            effective_from=effective_from,
            reason=why,
        )

    def withdraw_rate(
        self,
        envelope: Envelope,
        service: ServiceType | str,
        zone: str,
        effective_from: date,
        reason: str,
        band: str | None = None,
    ) -> None:
        """End a key's own rate from a date (a banded request then falls back to the rate without a band)."""
        key = RateKey(check_service(service), check_code(zone, "zone"), _band(band))
        check_day(effective_from, "effective_from")
        why = check_text(reason, "reason")
        if self._rate_in_force(key, effective_from) is None:
            raise NotFound(f"no rate for {key} is in force on {effective_from.isoformat()} to withdraw")
        self.trigger_event(
            self.RateWithdrawn,
            envelope=envelope,
            service=key.service.value,
            zone=key.zone,
            band=key.band,
            effective_from=effective_from,
            reason=why,
        )

    # -- questions ------------------------------------------------------------------------------

    def _entry(self, key: RateKey, on: date, exact_day: bool = False) -> RateEntry | None:
        """The entry in force for ``key`` on ``on`` (``domain.dated.in_force``: a later correction wins a tie)."""
        history = [
            (e.effective_from, e) for e in self._entries if e.key == key and (not exact_day or e.effective_from == on)
        ]
        return in_force(history, on)[1]

    def _rate_in_force(self, key: RateKey, on: date) -> RateEntry | None:
        """The entry in force for ``key`` on ``on``, unless there is none or it is a withdrawal."""
        entry = self._entry(key, on)
        return None if entry is None or entry.hourly_rate is None else entry

    def history(self, service: ServiceType | str, zone: str, band: str | None = None) -> tuple[RateEntry, ...]:
        """Every rate and withdrawal recorded for a key, in recording order (corrections included)."""
        key = RateKey(check_service(service), zone, band)
        return tuple(e for e in self._entries if e.key == key)

    def rate_for(self, service: ServiceType | str, zone: str, on_date: date, band: str | None = None) -> RateQuote:
        """The rate for a service in a zone on a date, for a package in ``band`` (None: no band)."""
        key = RateKey(check_service(service), check_code(zone, "zone"), _band(band))
        check_date(on_date, "on_date")
        entry = self._rate_in_force(key, on_date)
        fallback = ""
        if key.band is not None and entry is None:
            fallback = f"no {key.band} rate is in force, so the rate without a band applies: "
            entry = self._rate_in_force(RateKey(key.service, key.zone, None), on_date)
        if entry is None:
            raise NotFound(self._no_rate_message(key, on_date))
        return RateQuote(
            service=key.service,
            zone=key.zone,
            band=key.band,
            rate_band=entry.key.band,
            on=on_date,
            hourly_rate=entry.hourly_rate,
            effective_from=entry.effective_from,
            parts=entry.parts,
            derivation=fallback + _derivation(entry),
        )

    def _no_rate_message(self, key: RateKey, on: date) -> str:
        message = f"no rate for {key} on {on.isoformat()}"
        same_place = [e for e in self._entries if (e.key.service, e.key.zone) == (key.service, key.zone)]
        banded = {e.key for e in same_place if e.key.band}
        in_force = sorted(k.band for k in banded if self._rate_in_force(k, on) is not None)
        if key.band is None and in_force:
            return f"{message}: rates here are banded ({', '.join(in_force)}); give the package's band"
        starts = [e.effective_from for e in same_place if e.key.band in (key.band, None)]
        if starts and min(starts) > on:
            return f"{message}: the first rate applies from {min(starts).isoformat()}"
        if starts:
            return f"{message}: the rate was withdrawn"
        return message


def _derivation(entry: RateEntry) -> str:
    key, since = entry.key, entry.effective_from.isoformat()
    if entry.parts:
        terms = " + ".join(f"{format_percent(p.weight)} × {format_rate(p.rate)}" for p in entry.parts)
        how = f"blended {terms} = {format_rate(entry.hourly_rate)} (4 dp, half up)"
    else:
        how = format_rate(entry.hourly_rate)
    return f"{how} an hour for {key}, effective from {since} ({entry.reason})"
