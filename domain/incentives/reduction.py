"""Incentive triggers: paying providers for reducing hours beyond a minimum.

Herefordshire's rule (DOMAIN.md, "Incentives"): providers must reduce hours
by at least a minimum fraction a year (5%); an incentive payment is made only
for the reduction *beyond* that minimum, and only if no KPI was missed.  So a
provider who merely meets the minimum earns nothing, and one who misses a KPI
earns nothing however far hours fell.

Every assessment keeps its inputs beside its result and a plain-English
``reason``, so "no payment, because KPI X was missed" is on the record, not
just a zero.  Hours are exact Decimals (they may have 2 dp); the only rounding
is the payment, once, to the penny (``round_money``).

Two ways of pricing the eligible hours are supported:

* ``assess_reduction``: a fixed payment per eligible hour;
* ``assess_reduction_share_of_saving``: a share of the saving at the rate,
  i.e. eligible hours × hourly rate × share (the effective payment per hour
  is recorded as ``payment_per_hour = rate × saving_share``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import InvalidInput
from domain.money import EXACT, ZERO, format_gbp, format_percent, format_quantity, round_money

__all__ = [
    "IncentiveInputError",
    "ReductionAssessment",
    "assess_reduction",
    "assess_reduction_share_of_saving",
]


class IncentiveInputError(InvalidInput, ValueError):
    """An input to an incentive assessment that cannot be used; names the field.

    An ``InvalidInput`` so the web layer and CLI report it to the user, and a
    ``ValueError`` so plain Python callers can catch it the usual way.
    """


@dataclass(frozen=True)
class ReductionAssessment:
    """One incentive assessment: its inputs, the arithmetic and the outcome.

    ``reduction_hours`` is ``baseline - actual`` (negative if hours rose);
    ``threshold_hours`` is ``baseline × minimum_reduction``;
    ``eligible_hours`` is ``max(0, reduction - threshold)``.  ``payment`` is
    in pounds to 2 dp, zero when a KPI was missed.  ``rate`` and
    ``saving_share`` are set only for the share-of-saving scheme.
    """

    baseline_hours: Decimal
    actual_hours: Decimal
    minimum_reduction: Decimal
    payment_per_hour: Decimal
    missed_kpis: tuple[str, ...]
    cap: Decimal | None
    reduction_hours: Decimal
    threshold_hours: Decimal
    eligible_hours: Decimal
    payment: Decimal
    capped: bool
    reason: str
    rate: Decimal | None = None
    saving_share: Decimal | None = None


def _number(value: object, field: str) -> Decimal:
    """Accept Decimal or int (never float); return a finite Decimal."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{field} must be a Decimal or int, not {type(value).__name__} ({value!r})")
    result = Decimal(value)
    if not result.is_finite():
        raise IncentiveInputError(f"{field} must be a finite number, got {value}")
    return result


def _fraction(value: object, field: str) -> Decimal:
    result = _number(value, field)
    if not Decimal(0) <= result <= Decimal(1):
        raise IncentiveInputError(f"{field} must be a fraction between 0 and 1, got {result}")
    return result


def _kpi_names(missed_kpis: Iterable[str]) -> tuple[str, ...]:
    if isinstance(missed_kpis, str):
        raise TypeError(
            "missed_kpis must be a collection of KPI names, not a single string; "
            f"did you mean ({missed_kpis!r},)?"
        )
    names = tuple(missed_kpis)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise IncentiveInputError(f"missed_kpis must hold KPI names, got {name!r}")
    return names



def _assess(
    baseline_hours: object,
    actual_hours: object,
    minimum_reduction: object,
    payment_per_hour: Decimal,
    pricing: str,
    missed_kpis: Iterable[str],
    cap: object,
    rate: Decimal | None = None,
    saving_share: Decimal | None = None,
) -> ReductionAssessment:
    """The rule itself; ``pricing`` words how eligible hours are paid."""
    baseline = _number(baseline_hours, "baseline_hours")
    actual = _number(actual_hours, "actual_hours")
    minimum = _fraction(minimum_reduction, "minimum_reduction")
    kpis = _kpi_names(missed_kpis)
    if baseline <= 0:
        raise IncentiveInputError(f"baseline_hours must be positive, got {baseline}")
    if actual < 0:
        raise IncentiveInputError(f"actual_hours cannot be negative, got {actual}")
    cap_amount = None if cap is None else _number(cap, "cap")
    if cap_amount is not None and (cap_amount < 0 or cap_amount != round_money(cap_amount)):
        raise IncentiveInputError(f"cap must be zero or more whole pence, got {cap_amount}")

    reduction = EXACT.subtract(baseline, actual)
    threshold = EXACT.multiply(baseline, minimum)
    eligible = max(Decimal(0), EXACT.subtract(reduction, threshold))
    earned = round_money(EXACT.multiply(eligible, payment_per_hour))

    shown = format_quantity  # hours as people write them: 10,000 and 9,200.5
    from_to = f"(from {shown(baseline)} to {shown(actual)})"
    minimum_words = f"the {shown(threshold)}-hour minimum reduction ({format_percent(minimum)} of {shown(baseline)})"
    if reduction <= 0:
        change = "did not change" if reduction == 0 else f"rose by {shown(reduction.copy_negate())}"
        outcome = f"hours {change} {from_to}, so there was no reduction beyond {minimum_words}"
    elif eligible == 0:
        how = "exactly meets" if reduction == threshold else "is short of"
        outcome = f"hours fell by {shown(reduction)} {from_to}, which {how} {minimum_words}; "
        outcome += "only a reduction beyond it is paid"
    else:
        outcome = (
            f"hours fell by {shown(reduction)} {from_to}, {shown(eligible)} hours beyond {minimum_words}, "
            f"worth {format_gbp(earned)} at {pricing}"
        )

    payment, capped = earned, False
    if kpis:
        payment = ZERO
        reason = (
            f"No payment: {outcome}, but these KPIs were missed: {', '.join(kpis)}; "
            "a payment is made only if every KPI is met."
        )
    elif eligible == 0:
        reason = f"No payment: {outcome}."
    elif cap_amount is not None and earned > cap_amount:
        payment, capped = round_money(cap_amount), True
        reason = (
            f"Payment {format_gbp(payment)}: {outcome}, limited by the "
            f"{format_gbp(payment)} cap; all KPIs were met."
        )
    else:
        reason = f"Payment {format_gbp(payment)}: {outcome}; all KPIs were met."

    return ReductionAssessment(
        baseline_hours=baseline,
        actual_hours=actual,
        minimum_reduction=minimum,
        payment_per_hour=payment_per_hour,
        missed_kpis=kpis,
        cap=cap_amount,
        reduction_hours=reduction,
        threshold_hours=threshold,
        eligible_hours=eligible,
        payment=payment,
        capped=capped,
        reason=reason,
        rate=rate,
        saving_share=saving_share,
    )


def assess_reduction(
    baseline_hours: Decimal | int,
    actual_hours: Decimal | int,
    minimum_reduction: Decimal | int,
    payment_per_hour: Decimal | int,
    missed_kpis: Iterable[str] = (),
    cap: Decimal | int | None = None,
) -> ReductionAssessment:
    """Assess a year's hours against the baseline, paying per hour beyond the minimum.

    Baseline 10,000 h, actual 9,200 h, minimum 0.05, £2.00 per hour, no KPI
    missed: reduction 800, threshold 500, eligible 300, payment £600.00.
    Any missed KPI makes the payment £0.00 and the reason names it; a cap
    limits the payment (``capped=True``).
    """
    per_hour = _number(payment_per_hour, "payment_per_hour")
    if per_hour < 0:
        raise IncentiveInputError(f"payment_per_hour cannot be negative, got {per_hour}")
    pricing = f"{format_gbp(per_hour)} per hour"
    return _assess(baseline_hours, actual_hours, minimum_reduction, per_hour, pricing, missed_kpis, cap)


def assess_reduction_share_of_saving(
    baseline_hours: Decimal | int,
    actual_hours: Decimal | int,
    minimum_reduction: Decimal | int,
    rate: Decimal | int,
    saving_share: Decimal | int,
    missed_kpis: Iterable[str] = (),
    cap: Decimal | int | None = None,
) -> ReductionAssessment:
    """As ``assess_reduction``, but paying a share of the saving at the hourly rate.

    payment = eligible hours × rate × saving_share, rounded once to the penny;
    e.g. 300 eligible hours at £15.80 with a 50% share is £2,370.00.
    """
    hourly = _number(rate, "rate")
    if hourly < 0:
        raise IncentiveInputError(f"rate cannot be negative, got {hourly}")
    share = _fraction(saving_share, "saving_share")
    pricing = f"{format_percent(share)} of the saving at {format_gbp(hourly)} per hour"
    return _assess(
        baseline_hours, actual_hours, minimum_reduction, EXACT.multiply(hourly, share), pricing,
        missed_kpis, cap, rate=hourly, saving_share=share,
    )
