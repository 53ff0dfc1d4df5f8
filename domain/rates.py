"""Rate cards and the pricing rules: the only place in openbook that prices anything.

A rate is per agreement, service type, zone or lot, and optional rate band
(Herefordshire's urban/rural, a property of the package), effective from a
date until superseded. The ledger's ``rate_for(agreement, ...)`` and
``price_visit(...)`` are thin wrappers over ``RateCard.rate_for`` and
``price_visit`` here, so every price is computed by the same few lines.

The rules, in plain words (also in docs/pricing.md):

* **Supersession.** A rate published for the same (service, zone, band) with a
  later ``effective_from`` applies from that date. One published for the same
  key and the *same* date is a correction: it replaces the earlier one for
  every question asked afterwards, and both stay in the history. A
  withdrawal ends a key's own rate from its date.
* **Bands.** Asked for a band, the card uses that band's rate in force on the
  date; only if the band has no rate in force does it fall back to the rate
  without a band, and the quote says it did. Asked without a band, only a
  rate without a band will do. So a flat rate replacing an urban/rural split
  is published without a band and the banded rates are withdrawn from the
  same date: nothing is inferred.
* **Blended rates** are computed from their parts, never typed: the weights
  must add up to exactly 1, and the weighted sum is rounded to 4 decimal
  places, half up (70% × £12.80 + 30% × £15.80 = £13.7000).
* **Payable minutes** follow the agreement's payment basis: actual minutes,
  planned minutes, or actual capped at planned.
* **Pro rata.** A visit is paid rate × minutes ÷ 60, computed exactly and
  rounded to the penny **once per visit**, ROUND_HALF_UP: at £15.80, 15 min
  is £3.95, 30 is £7.90, 45 is £11.85 and 20 is £5.2666… → £5.27. Rates,
  minutes and partial products are never rounded on the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from domain.agreements import Agreement, PaymentBasis, ServiceType, check_service
from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_choice, check_date, check_decimal, check_text
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from domain.money import format_gbp, round_blended_rate, round_money
from domain.organisations import check_code

__all__ = [
    "BlendPart",
    "RateCard",
    "RateEntry",
    "RateKey",
    "RateQuote",
    "VisitPrice",
    "blended_rate",
    "payable_minutes",
    "price_minutes",
    "price_visit",
    "recorded_rate",
]

# Exact working arithmetic whatever the caller's decimal context: 40 digits is
# far more than any rate × minutes needs, so only round_money/round_blended_rate round.
_EXACT = Context(prec=40, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
_ONE = Decimal(1)
_SIXTY = Decimal(60)


@dataclass(frozen=True)
class BlendPart:
    """One part of a blended rate: ``weight`` (a fraction of the hours) at ``rate``."""

    weight: Decimal
    rate: Decimal


@dataclass(frozen=True)
class RateKey:
    service: ServiceType
    zone: str
    band: str | None

    def __str__(self) -> str:
        band = f", band {self.band}" if self.band else ""
        return f"service {self.service}, zone {self.zone}{band}"


@dataclass(frozen=True)
class RateEntry:
    """A published rate (or a withdrawal, ``hourly_rate`` None) as the card holds it."""

    key: RateKey
    effective_from: date
    hourly_rate: Decimal | None
    parts: tuple[BlendPart, ...]
    reason: str


@dataclass(frozen=True)
class RateQuote:
    """The rate that applies, where it came from, and how it was derived, in words."""

    service: ServiceType
    zone: str
    band: str | None  # the band asked for
    rate_band: str | None  # the band of the rate used (None: the rate without a band)
    on: date
    hourly_rate: Decimal
    effective_from: date
    parts: tuple[BlendPart, ...]
    derivation: str


@dataclass(frozen=True)
class VisitPrice:
    """One priced visit with its working: minutes paid, at what rate, for how much."""

    basis: PaymentBasis
    planned_minutes: int
    actual_minutes: int
    payable_minutes: int
    hourly_rate: Decimal
    amount: Decimal
    working: str
    quote: RateQuote | None = None


# -- pure rules -------------------------------------------------------------------------


def _percent(weight: Decimal) -> str:
    value = _EXACT.multiply(weight, Decimal(100)).normalize(_EXACT)
    return f"{value:f}%"


def _parts(parts: Iterable[Any]) -> tuple[BlendPart, ...]:
    """Blend parts from BlendParts, (weight, rate) pairs or {"weight", "rate"} dicts, checked."""
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable):
        raise InvalidInput("blend: give the parts as (weight, rate) pairs")
    checked = []
    for index, part in enumerate(parts):
        if isinstance(part, BlendPart):
            weight, rate = part.weight, part.rate
        elif isinstance(part, dict):
            weight, rate = part.get("weight"), part.get("rate")
        else:
            weight, rate = part
        weight = check_decimal(weight, f"blend[{index}].weight", minimum=Decimal(0), maximum=_ONE, above_minimum=True)
        rate = check_decimal(rate, f"blend[{index}].rate", places=2, minimum=Decimal(0), above_minimum=True)
        checked.append(BlendPart(weight, rate))
    if len(checked) < 2:
        raise InvalidInput("blend: a blended rate needs at least two parts; publish a single rate as hourly_rate")
    total = sum((p.weight for p in checked), Decimal(0))
    if total != _ONE:
        raise InvalidInput(f"blend: the weights add up to {total}, not exactly 1")
    return tuple(checked)


def blended_rate(parts: Iterable[Any]) -> Decimal:
    """The weighted average of the parts, rounded to 4 dp half up: 0.7×12.80 + 0.3×15.80 = 13.7000."""
    return _weighted(_parts(parts))


def recorded_rate(hourly_rate: Decimal | None, blend: Iterable[dict[str, Decimal]] | None) -> Decimal | None:
    """The rate a recorded ``RatePublished`` stands for: its hourly rate, or its blend's weighted sum.

    Recorded facts are not re-checked (rules may tighten; history must still
    load), so read models replaying the event get the card's own figure.
    """
    parts = [BlendPart(row["weight"], row["rate"]) for row in blend or ()]
    return _weighted(parts) if parts else hourly_rate


def _weighted(parts: Iterable[BlendPart]) -> Decimal:
    """The blend arithmetic itself, for parts already checked (or recorded, when replaying)."""
    total = Decimal(0)
    for part in parts:
        total = _EXACT.add(total, _EXACT.multiply(part.weight, part.rate))
    return round_blended_rate(total)


def _minutes(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field}: {value!r} is not a whole number of minutes")
    if value < 0:
        raise InvalidInput(f"{field}: {value} must not be negative")
    return value


def payable_minutes(basis: PaymentBasis | str, planned_minutes: int, actual_minutes: int) -> int:
    """The minutes paid for a visit under the agreement's payment basis."""
    chosen = check_choice(PaymentBasis, basis, "basis")
    planned = _minutes(planned_minutes, "planned_minutes")
    actual = _minutes(actual_minutes, "actual_minutes")
    if chosen is PaymentBasis.PLANNED:
        return planned
    if chosen is PaymentBasis.ACTUAL_CAPPED:
        return min(actual, planned)
    return actual


def price_minutes(rate: Decimal, minutes: int) -> Decimal:
    """round_money(rate × minutes ÷ 60): exact arithmetic, then one rounding to the penny, half up."""
    hourly = check_decimal(rate, "rate", minimum=Decimal(0))
    count = _minutes(minutes, "minutes")
    return round_money(_EXACT.divide(_EXACT.multiply(hourly, Decimal(count)), _SIXTY))


def price_visit(
    rate: RateQuote | Decimal, basis: PaymentBasis | str, planned_minutes: int, actual_minutes: int
) -> VisitPrice:
    """Price one visit: the payable minutes under ``basis`` at the quoted rate, pro rata."""
    quote = rate if isinstance(rate, RateQuote) else None
    hourly = quote.hourly_rate if quote else check_decimal(rate, "rate", minimum=Decimal(0))
    chosen = check_choice(PaymentBasis, basis, "basis")
    minutes = payable_minutes(chosen, planned_minutes, actual_minutes)
    amount = price_minutes(hourly, minutes)
    working = (
        f"{minutes} min ({chosen} basis: planned {planned_minutes}, actual {actual_minutes}) "
        f"× {format_gbp(hourly)} ÷ 60 = {format_gbp(amount)}"
    )
    return VisitPrice(chosen, planned_minutes, actual_minutes, minutes, hourly, amount, working, quote)


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
            rate = _weighted(parts) if parts else self.hourly_rate
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
        check_date(effective_from, "effective_from")
        why = check_text(reason, "reason")
        if (hourly_rate is None) == (blend is None):
            raise InvalidInput("hourly_rate: give either an hourly rate or a blend, not both or neither")
        if agreement is not None:
            agreement.check_rate_key(key.service, key.zone, effective_from)
        rows = None
        parts: tuple[BlendPart, ...] = ()
        rate: Decimal
        if blend is not None:
            parts = _parts(blend)
            rate = blended_rate(parts)
            rows = [{"weight": p.weight, "rate": p.rate} for p in parts]
        else:
            rate = check_decimal(hourly_rate, "hourly_rate", places=2, minimum=Decimal(0), above_minimum=True)
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
        check_date(effective_from, "effective_from")
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
        """The entry in force for ``key`` on ``on``: latest effective_from, a later correction winning a tie."""
        best: RateEntry | None = None
        for entry in self._entries:
            if entry.key != key or entry.effective_from > on or (exact_day and entry.effective_from != on):
                continue
            if best is None or entry.effective_from >= best.effective_from:
                best = entry
        return best

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
        terms = " + ".join(f"{_percent(p.weight)} × {format_gbp(p.rate)}" for p in entry.parts)
        how = f"blended {terms} = {format_gbp(entry.hourly_rate)} (4 dp, half up)"
    else:
        how = format_gbp(entry.hourly_rate)
    return f"{how} an hour for {key}, effective from {since} ({entry.reason})"
