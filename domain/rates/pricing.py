"""The pricing rules: the few lines every price in openbook is computed by.

A rate is per agreement, service type, zone or lot, and optional rate band
(Herefordshire's urban/rural, a property of the package), effective from a
date until superseded; the ``RateCard`` (``domain/rates/rate_card.py``) looks
it up and ``price_visit`` here turns it into a price. Every path that prices
anything goes through a ``Pricer`` (``domain/rates/pricer.py``), which asks
exactly these two.

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
from decimal import Decimal
from typing import Any

from domain.agreements.terms import PaymentBasis, ServiceType
from domain.checks import check_choice, check_decimal, check_hourly_rate
from domain.errors import InvalidInput
from domain.money import EXACT, format_gbp, format_rate, round_blended_rate, round_money, total

__all__ = [
    "BlendPart",
    "RateEntry",
    "RateKey",
    "RateQuote",
    "VisitPrice",
    "blend_rows",
    "blended_rate",
    "check_blend",
    "payable_minutes",
    "price_minutes",
    "price_visit",
    "recorded_rate",
    "weighted_rate",
]

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



def check_blend(parts: Iterable[Any]) -> tuple[BlendPart, ...]:
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
        rate = check_hourly_rate(rate, f"blend[{index}].rate")
        checked.append(BlendPart(weight, rate))
    if len(checked) < 2:
        raise InvalidInput("blend: a blended rate needs at least two parts; publish a single rate as hourly_rate")
    weights = total((p.weight for p in checked), start=Decimal(0))
    if weights != _ONE:
        raise InvalidInput(f"blend: the weights add up to {weights}, not exactly 1")
    return tuple(checked)


def blend_rows(blend: Iterable[Any] | None) -> list[dict[str, str]] | None:
    """Blend parts as a list of ``{"weight", "rate"}`` rows, exact text: a command's payload, and what ``--json``
    shows of a blended rate (never one string). Parts may be BlendParts, such rows, or (weight, rate) pairs."""
    if blend is None:
        return None
    rows = []
    for part in blend:
        if isinstance(part, BlendPart):
            weight, rate = part.weight, part.rate
        elif isinstance(part, dict):
            weight, rate = part.get("weight"), part.get("rate")
        else:
            weight, rate = part
        rows.append({"weight": str(weight), "rate": str(rate)})
    return rows


def blended_rate(parts: Iterable[Any]) -> Decimal:
    """The weighted average of the parts, rounded to 4 dp half up: 0.7×12.80 + 0.3×15.80 = 13.7000."""
    return weighted_rate(check_blend(parts))


def recorded_rate(hourly_rate: Decimal | None, blend: Iterable[dict[str, Decimal]] | None) -> Decimal | None:
    """The rate a recorded ``RatePublished`` stands for: its hourly rate, or its blend's weighted sum.

    Recorded facts are not re-checked (rules may tighten; history must still
    load), so read models replaying the event get the card's own figure.
    """
    parts = [BlendPart(row["weight"], row["rate"]) for row in blend or ()]
    return weighted_rate(parts) if parts else hourly_rate


def weighted_rate(parts: Iterable[BlendPart]) -> Decimal:
    """The blend arithmetic itself, for parts already checked (or recorded, when replaying)."""
    return round_blended_rate(total((EXACT.multiply(part.weight, part.rate) for part in parts), start=Decimal(0)))


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
    return round_money(EXACT.divide(EXACT.multiply(hourly, Decimal(count)), _SIXTY))


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
        f"× {format_rate(hourly)} ÷ 60 = {format_gbp(amount)}"
    )
    return VisitPrice(chosen, planned_minutes, actual_minutes, minutes, hourly, amount, working, quote)


