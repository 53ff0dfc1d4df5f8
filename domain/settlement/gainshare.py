"""Risk and gain share of a pooled budget's variance against its target.

After the year the pooled budget's actual spend is compared with its target.
The difference (the *variance*, ``target - actual``; positive is an
underspend) is shared between the provider side and the commissioners in
*bands*.  A band is a slice of the axis of actual spend, expressed as a
fraction of target (``Decimal("0.9")`` is 90% of target), and its
``provider_share`` applies only to the part of the variance lying inside that
slice.  The DOMAIN.md example::

    Band(None, Decimal("0.9"), Decimal("0.25"))   # 25% of underspend beyond 10%
    Band(Decimal("0.9"), Decimal("1.0"), Decimal("0.5"))  # 50% down to 90%
    Band(Decimal("1.0"), Decimal("1.1"), Decimal("0.5"))  # 50% up to 110%
    Band(Decimal("1.1"), None, Decimal("1.0"))    # 100% of overspend beyond

Because the provider amount is a *sum over bands of overlaps*, it does not
matter which band "owns" a boundary point: a point has no length.

Rounding (so a statement always adds up): the money range of each band and
the variance lying in it are exact Decimals, never rounded; each band's
provider share is rounded once to the penny with ``round_money``; the total
provider share is the sum of those rounded band shares.  Every line printed
on a statement therefore adds exactly to the total printed beneath it.

What the provider side does not carry, the commissioners do:
``commissioner_cost = actual + provider_share_amount``.  A cap on the
provider side's gain or loss is applied separately with ``apply_cap``; what
the cap removes stays with the commissioners.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Sequence

from domain.errors import InvalidInput
from domain.money import EXACT, format_percent, round_money, total

__all__ = [
    "Band",
    "BandSetError",
    "GainShareInputError",
    "BandShare",
    "CappedAmount",
    "GainShareOutcome",
    "SpendRange",
    "apply_cap",
    "share_variance",
    "validate_bands",
]


class GainShareInputError(InvalidInput, ValueError):
    """A figure given to the gain share that cannot be used (e.g. target <= 0).

    An ``InvalidInput`` so the web layer and CLI report it to the user, and a
    ``ValueError`` so plain Python callers can catch it the usual way.
    """


class BandSetError(GainShareInputError):
    """A band set that does not partition the spend axis, or a bad share."""


def _as_decimal(value: object, name: str) -> Decimal:
    """Accept Decimal or int (money is never float); return a Decimal."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal or int, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise GainShareInputError(f"{name} must be a finite number, got {value}")
    return Decimal(value)



def _describe_range(lower: Decimal | None, upper: Decimal | None) -> str:
    """Words for a stretch of the axis, in percentages of target."""
    if lower is None and upper is None:
        return "across all actual spend"
    if lower is None:
        return f"below {format_percent(upper)} of target"
    if upper is None:
        return f"above {format_percent(lower)} of target"
    return f"between {format_percent(lower)} and {format_percent(upper)} of target"


def _no_negative_zero(value: Decimal) -> Decimal:
    """Turn Decimal('-0.00') into Decimal('0.00') so statements never show '-0.00'."""
    return value.copy_abs() if value == 0 else value


@dataclass(frozen=True)
class Band:
    """One slice of the actual-spend axis and the provider side's share of it.

    ``lower`` and ``upper`` are fractions of target (``None`` = open-ended);
    ``provider_share`` is the provider side's fraction (0..1) of the variance
    lying inside the slice.  Ranges are checked as a set by
    ``validate_bands``, since whether a band is right depends on its
    neighbours.
    """

    lower: Decimal | None
    upper: Decimal | None
    provider_share: Decimal

    def __post_init__(self) -> None:
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _as_decimal(value, f"Band.{name}"))
        share = _as_decimal(self.provider_share, "Band.provider_share")
        object.__setattr__(self, "provider_share", share)

    def describe(self) -> str:
        """'between 90% and 100% of target', 'below 90% of target', ..."""
        return _describe_range(self.lower, self.upper)


class SpendRange(NamedTuple):
    """A band's stretch of actual spend in pounds (``None`` = open-ended)."""

    low: Decimal | None
    high: Decimal | None


class BandShare(NamedTuple):
    """One line of the statement: ``(band, spend_range, variance_in_band,
    provider_share_amount)``.

    ``variance_in_band`` is exact and carries the variance's sign (positive
    for an underspend, negative for an overspend); ``provider_share_amount``
    is ``variance_in_band * band.provider_share`` rounded to the penny.
    """

    band: Band
    spend_range: SpendRange
    variance_in_band: Decimal
    provider_share_amount: Decimal


@dataclass(frozen=True)
class GainShareOutcome:
    """The result of sharing one year's variance, with its arithmetic."""

    target: Decimal
    actual: Decimal
    variance: Decimal
    provider_share_amount: Decimal
    commissioner_cost: Decimal
    bands: tuple[BandShare, ...]


def _min_upper(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The lower of two upper limits, where None means no limit."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _sort_key(band: Band) -> tuple[int, Decimal]:
    return (0, Decimal(0)) if band.lower is None else (1, band.lower)


def validate_bands(bands: Sequence[Band]) -> tuple[Band, ...]:
    """Check the bands partition the whole axis; return them sorted by lower.

    Refuses (``BandSetError``) an empty set, a band that is empty or reversed,
    a share outside 0..1, and any gap or overlap, naming the offending range.
    """
    bands = tuple(bands)
    if not bands:
        raise BandSetError("no bands given: bands must cover all actual spend")
    for band in bands:
        if not isinstance(band, Band):
            raise TypeError(f"expected Band, got {type(band).__name__}")
        if band.lower is not None and band.upper is not None and band.lower >= band.upper:
            raise BandSetError(
                f"band from {format_percent(band.lower)} to {format_percent(band.upper)} of target "
                "is empty or reversed: lower must be below upper"
            )
        if not Decimal(0) <= band.provider_share <= Decimal(1):
            raise BandSetError(
                f"band {band.describe()} has provider share {band.provider_share}; "
                "it must be between 0 and 1"
            )

    ordered = tuple(sorted(bands, key=_sort_key))
    if ordered[0].lower is not None:
        raise BandSetError(
            f"bands leave a gap {_describe_range(None, ordered[0].lower)}: "
            "the lowest band must have no lower limit (None)"
        )
    for before, after in zip(ordered, ordered[1:]):
        open_ended = before.upper is None or after.lower is None
        if not open_ended and before.upper < after.lower:
            raise BandSetError(
                f"bands leave a gap {_describe_range(before.upper, after.lower)}"
            )
        if open_ended or before.upper > after.lower:
            # Sorted by lower, so the shared stretch starts at after.lower.
            shared_to = _min_upper(before.upper, after.upper)
            raise BandSetError(f"bands overlap {_describe_range(after.lower, shared_to)}")
    if ordered[-1].upper is not None:
        raise BandSetError(
            f"bands leave a gap {_describe_range(ordered[-1].upper, None)}: "
            "the highest band must have no upper limit (None)"
        )
    return ordered


def _overlap(lo: Decimal, hi: Decimal, band_lo: Decimal | None, band_hi: Decimal | None) -> Decimal:
    """Length of [lo, hi] ∩ [band_lo, band_hi] (None = unbounded), never negative."""
    start = lo if band_lo is None else max(lo, band_lo)
    end = hi if band_hi is None else min(hi, band_hi)
    return max(Decimal(0), EXACT.subtract(end, start))


def share_variance(target: Decimal, actual: Decimal, bands: Sequence[Band]) -> GainShareOutcome:
    """Share ``target - actual`` between the provider side and commissioners.

    For each band, the variance lying in it is the overlap of
    [min(actual, target), max(actual, target)] with the band's money range
    [lower × target, upper × target]; the provider side's share of it is that
    overlap × ``provider_share``, positive for an underspend and negative for
    an overspend, rounded to the penny.  The total is the sum of the rounded
    band shares, so the breakdown adds up exactly.  Bands may be given in any
    order; the breakdown is listed from the lowest band up.
    """
    target = _as_decimal(target, "target")
    actual = _as_decimal(actual, "actual")
    if target <= 0:
        raise GainShareInputError(f"target must be positive, got {target}")
    if actual < 0:
        raise GainShareInputError(f"actual spend cannot be negative, got {actual}")
    ordered = validate_bands(bands)

    variance = EXACT.subtract(target, actual)
    sign = Decimal(1) if variance >= 0 else Decimal(-1)
    lo, hi = min(actual, target), max(actual, target)

    lines = []
    for band in ordered:
        spend = SpendRange(
            None if band.lower is None else EXACT.multiply(band.lower, target),
            None if band.upper is None else EXACT.multiply(band.upper, target),
        )
        in_band = _no_negative_zero(EXACT.multiply(sign, _overlap(lo, hi, spend.low, spend.high)))
        share = _no_negative_zero(round_money(EXACT.multiply(in_band, band.provider_share)))
        lines.append(BandShare(band, spend, in_band, share))

    provider_amount = _no_negative_zero(total(line.provider_share_amount for line in lines))
    return GainShareOutcome(
        target=target,
        actual=actual,
        variance=variance,
        provider_share_amount=provider_amount,
        commissioner_cost=EXACT.add(actual, provider_amount),
        bands=tuple(lines),
    )


@dataclass(frozen=True)
class CappedAmount:
    """A provider-side amount before and after its cap.

    ``uncapped == capped + removed``.  ``removed`` is what the cap kept from
    the provider side and so stays with the commissioners: positive is a gain
    the commissioners keep, negative a loss they carry instead.
    """

    uncapped: Decimal
    capped: Decimal
    removed: Decimal

    @property
    def was_capped(self) -> bool:
        return self.removed != 0


def apply_cap(amount: Decimal, gain_cap: Decimal | None, loss_cap: Decimal | None) -> CappedAmount:
    """Limit the provider side's gain (positive ``amount``) or loss (negative).

    Both caps are given as non-negative pounds (``None`` = no cap): a loss cap
    of £50,000 means the provider side bears at most −£50,000.
    """
    amount = _as_decimal(amount, "amount")
    caps = {}
    for name, cap in (("gain_cap", gain_cap), ("loss_cap", loss_cap)):
        if cap is not None:
            cap = _as_decimal(cap, name)
            if cap < 0:
                raise GainShareInputError(f"{name} must be zero or more pounds, got {cap}")
        caps[name] = cap

    capped = amount
    if caps["gain_cap"] is not None and amount > caps["gain_cap"]:
        capped = caps["gain_cap"]
    elif caps["loss_cap"] is not None and amount < caps["loss_cap"].copy_negate():
        capped = _no_negative_zero(caps["loss_cap"].copy_negate())
    return CappedAmount(uncapped=amount, capped=capped, removed=EXACT.subtract(amount, capped))
