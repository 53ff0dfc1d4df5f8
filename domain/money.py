"""The money policy for openbook: the single place where money is typed and rounded.

Rounding policy, in plain words:

* Money is always ``decimal.Decimal``. Floats never take part in money
  arithmetic, because a binary float cannot hold 15.80 or 0.01 exactly and
  the error surfaces as a penny that nobody can explain to an auditor.
* Values from outside (CSV text, spreadsheet cells, JSON) enter through
  ``to_decimal`` and are never rounded there. A figure with more decimal
  places than its field allows is refused, so a filed figure is stored exactly
  as filed or not at all.
* Rounding happens only at documented points, always ROUND_HALF_UP (a half
  rounds away from zero, so -2.675 becomes -2.68, the mirror of 2.675):
  an amount of money rounds to the penny once, at the point it becomes a sum
  payable (e.g. a priced visit); hourly rates round to 2 decimal places;
  blended rates round to 4 decimal places.
* All arithmetic on money, rates, hours and percentages is done in the one
  decimal context ``EXACT`` (40 digits, ROUND_HALF_UP, InvalidOperation
  trapped), never in the thread's default context: Python's default is 28
  digits, half even, and any library or caller may change it, so a sum done
  there could drop the pennies of a large figure or change with whoever ran
  before. One operation is ``EXACT.add``/``subtract``/``multiply``/``divide``;
  a sum is ``total``; a formula of several operators runs inside
  ``with localcontext(EXACT):``; ``quantize``, ``normalize`` and ``scaleb``
  are given ``context=EXACT``; a sign is changed with ``copy_abs`` and
  ``copy_negate`` (exact, no context), never ``abs()`` or unary minus.
* When an amount has to be split (a commissioner cost shared pro rata to
  pool contributions), ``allocate`` splits it into whole pennies by the
  largest-remainder method so the parts always add back to the amount
  exactly: no penny is created or lost.

See docs/money.md for the worked examples.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction

__all__ = [
    "BLENDED_RATE_QUANTUM",
    "EXACT",
    "PENNY",
    "RATE_QUANTUM",
    "ZERO",
    "MoneyFormatError",
    "allocate",
    "format_count",
    "format_gbp",
    "format_percent",
    "format_quantity",
    "format_rate",
    "money_places",
    "pence_from_pounds",
    "pounds_from_pence",
    "round_blended_rate",
    "round_money",
    "round_rate",
    "to_decimal",
    "total",
]

PENNY = Decimal("0.01")
RATE_QUANTUM = Decimal("0.01")
BLENDED_RATE_QUANTUM = Decimal("0.0001")
ZERO = Decimal("0.00")

#: The one decimal context for money and rates: exact working arithmetic (40 digits is far more
#: than any rate × hours needs) whatever the caller's thread context happens to be, so only the
#: documented rounding points round. Every module that does money arithmetic uses it.
EXACT = Context(prec=40, rounding=ROUND_HALF_UP, traps=[InvalidOperation])


def total(values: Iterable[Decimal | int], start: Decimal = ZERO) -> Decimal:
    """The exact sum of ``values`` from ``start``, added in ``EXACT``: what ``sum`` would give with 40 digits.

    The built-in ``sum`` adds in the thread's context (28 digits, half even by
    default), where a £1e30 line rounds a return's pennies away and a caller's
    lower precision changes the total; this never depends on the caller.
    """
    result = start
    for value in values:
        result = EXACT.add(result, value)
    return result


class MoneyFormatError(ValueError):
    """A value from outside the system that is not an acceptable amount.

    The message always names the field and quotes the offending value, so a
    provider can find the cell in the return they filed.
    """


def _require_exact(value: object, what: str) -> Decimal:
    """Return ``value`` as a finite Decimal; refuse floats, bools and other types."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(
            f"{what} must be a Decimal or int, not {type(value).__name__} ({value!r}); "
            "convert outside values with to_decimal"
        )
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return result


def _quantize(value: object, quantum: Decimal, what: str) -> Decimal:
    amount = _require_exact(value, what)
    result = amount.quantize(quantum, rounding=ROUND_HALF_UP, context=EXACT)
    return result.copy_abs() if result.is_zero() else result


def round_money(amount: Decimal | int) -> Decimal:
    """Round an amount to the penny, half up. Used once per sum payable."""
    return _quantize(amount, PENNY, "amount")


def round_rate(rate: Decimal | int) -> Decimal:
    """Round an hourly rate to 2 decimal places, half up."""
    return _quantize(rate, RATE_QUANTUM, "rate")


def round_blended_rate(rate: Decimal | int) -> Decimal:
    """Round a blended (weighted-average) rate to 4 decimal places, half up.

    Blended rates keep more places than ordinary rates because they are
    multiplied by large annual hour counts; rounding them to the penny would
    move a lot total by pounds.
    """
    return _quantize(rate, BLENDED_RATE_QUANTUM, "blended rate")


# Optional sign, optional pound sign (the sign may come before or after it),
# then digits with correctly grouped thousands commas, then an optional
# fraction. Scientific notation, NaN and infinity are deliberately not matched.
_NUMBER_TEXT = re.compile(
    r"(?P<sign1>[+-]?)(?P<gbp>£?)\s*(?P<sign2>[+-]?)"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)"
    r"(?:\.(?P<frac>[0-9]*))?",
    re.ASCII,
)


def _parse_text(text: str, field: str) -> Decimal:
    stripped = text.strip()
    match = _NUMBER_TEXT.fullmatch(stripped)
    if (
        match is None
        or (match["sign1"] and match["sign2"])
        or not (match["whole"] or match["frac"])
    ):
        raise MoneyFormatError(f"{field}: {text!r} is not a number")
    sign = match["sign1"] or match["sign2"]
    digits = match["whole"].replace(",", "") or "0"
    frac = match["frac"]
    return Decimal(f"{sign}{digits}.{frac}" if frac is not None else f"{sign}{digits}")


def to_decimal(value: object, *, field: str, places: int | None = None) -> Decimal:
    """Convert a value from outside the system into an exact Decimal.

    This is the input boundary: it accepts Decimal, int, text (surrounding
    whitespace, a leading '£' and thousands commas allowed) and, only here,
    float. A float is read through its shortest round-trip text, so a
    spreadsheet cell holding 15.8 becomes Decimal("15.8"), not the binary
    value 15.800000000000000710542735760100185871124267578125.

    Nothing is rounded. If ``places`` is given, a value with more decimal
    places than that is refused (MoneyFormatError); an accepted value is
    returned with exactly ``places`` places (15.8 -> 15.80), which is a change
    of representation only.
    """
    if places is not None and (isinstance(places, bool) or not isinstance(places, int) or places < 0):
        raise ValueError(f"places must be a non-negative int, not {places!r}")
    if isinstance(value, bool) or value is None:
        raise MoneyFormatError(f"{field}: {value!r} is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MoneyFormatError(f"{field}: {value!r} is not a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        result = _parse_text(value, field)
    else:
        raise MoneyFormatError(
            f"{field}: {value!r} is not a number (got {type(value).__name__})"
        )
    if not result.is_finite():
        raise MoneyFormatError(f"{field}: {value!r} is not a finite number")
    if result.as_tuple().exponent > 0:  # e.g. repr(1e20) == '1e+20'
        result = result.quantize(Decimal(1), context=EXACT)
    if places is not None:
        quantum = Decimal(1).scaleb(-places, context=EXACT)
        try:
            exact = result.quantize(quantum, context=EXACT)
        except InvalidOperation:
            raise MoneyFormatError(f"{field}: {value!r} is too large") from None
        if exact != result:
            raise MoneyFormatError(
                f"{field}: {value!r} has more than {places} decimal places"
            )
        result = exact
    return result.copy_abs() if result.is_zero() else result


def allocate(amount: Decimal | int, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split ``amount`` into whole-penny parts proportional to ``weights``.

    Largest-remainder method: every part first gets the whole pennies of its
    exact share, then the pennies left over go one each to the parts with the
    largest fractional remainders, ties going to the earlier position. So the
    parts always add up to ``amount`` exactly, each is within a penny of its
    exact share, a zero weight gets exactly zero, and the result is
    deterministic. A negative amount (an overspend) is split as its absolute
    value and the parts negated, so gains and losses split symmetrically.
    """
    amount_due = _require_exact(amount, "amount")
    if amount_due != amount_due.quantize(PENNY, context=EXACT):
        raise ValueError(
            f"amount {amount!r} is not a whole number of pennies; round it first"
        )
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(f"weights must be a sequence of numbers, not {weights!r}")
    if not weights:
        raise ValueError("weights must not be empty")
    exact_weights: list[Fraction] = []
    for index, weight in enumerate(weights):
        if isinstance(weight, bool) or not isinstance(weight, (Decimal, int)):
            raise ValueError(
                f"weights[{index}] must be a Decimal or int, not "
                f"{type(weight).__name__} ({weight!r})"
            )
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise ValueError(f"weights[{index}] must be finite, not {weight!r}")
        if weight < 0:
            raise ValueError(f"weights[{index}] must not be negative, got {weight!r}")
        exact_weights.append(Fraction(weight))
    weight_sum = sum(exact_weights)
    if weight_sum <= 0:
        raise ValueError(f"weights must have a positive sum, got {list(weights)!r}")

    pennies = int(Fraction(amount_due.copy_abs()) * 100)
    shares = [pennies * w / weight_sum for w in exact_weights]
    parts = [math.floor(share) for share in shares]
    left_over = pennies - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for index in by_remainder[:left_over]:
        parts[index] += 1
    sign = -1 if amount_due < 0 else 1
    return [Decimal(sign * part).scaleb(-2, context=EXACT) for part in parts]


def money_places(amount: Decimal) -> Decimal:
    """An exact amount written with 2 places when it is whole pennies (10800000.000 -> 10800000.00), else as it is.

    Changes how the amount is written, never its value (no rounding): a figure worked out exactly, such as a
    band's edge (90% of a £12,000,000.00 target), then crosses ``--json`` as money does, "10800000.00".
    """
    value = _require_exact(amount, "amount")
    penny = value.quantize(PENNY, context=EXACT)
    return penny if penny == value else value


def format_gbp(amount: Decimal | int) -> str:
    """Format an amount as pounds for people: '£1,234.50', '-£1,234.50'.

    Shows at least two decimal places and more only when the value really has
    them (a 4 dp blended rate such as 13.7025), so display never rounds.
    """
    value = _require_exact(amount, "amount")
    if value == value.quantize(PENNY, context=EXACT):
        body = f"{value.copy_abs().quantize(PENNY, context=EXACT):,.2f}"
    else:
        body = f"{value.copy_abs().normalize(context=EXACT):,f}"
    return f"-£{body}" if value < 0 else f"£{body}"


def format_count(count: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun agreeing in number, thousands separated: '1 visit', '2,000 visits', '1 zone/lot'.

    So no message says "1 providers'" or "1 visits"; ``plural`` for a noun that is not made with an s.
    """
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def format_quantity(quantity: Decimal | int, places: int = 0) -> str:
    """Hours (or any quantity) for people: thousands separators, no needless zeros; display only, never rounds.

    At least ``places`` decimal places, more only when the figure really has
    them (as ``format_gbp`` does for pounds): 12000.00 -> '12,000' and
    9200.50 -> '9,200.5' in a sentence; with ``places=2``, 1675 ->
    '1,675.00' in a column of hours. The one way hours are shown to people:
    the CLI, the plausibility findings, the filing's problems and the
    incentive working all call it.
    """
    number = _require_exact(quantity, "quantity").normalize(EXACT)
    if number.as_tuple().exponent > 0:  # 1E+4 -> 10000
        number = number.quantize(Decimal(1), context=EXACT)
    if -number.as_tuple().exponent < places:
        number = number.quantize(Decimal(1).scaleb(-places, context=EXACT), context=EXACT)
    return f"{number.copy_abs() if number.is_zero() else number:,f}"


def format_rate(rate: Decimal | int) -> str:
    """An hourly rate for people with the places its card states: '£15.80' as published, '£13.7000' for a blend.

    A card's rate carries its places (2 when published, checked by ``to_decimal``; 4 for a blend, from
    ``round_blended_rate``), and text shows them as ``--json`` does: "blended ... = £13.7000 (4 dp, half up)"
    never says £13.70 or £13.715. Display only, never rounds; at least 2 places.
    """
    value = _require_exact(rate, "rate")
    places = max(2, -value.as_tuple().exponent)
    body = f"{value.copy_abs():,.{places}f}"
    return f"-£{body}" if value < 0 else f"£{body}"


def format_percent(fraction: Decimal) -> str:
    """A fraction as a percentage for people, without needless zeros: 0.9 -> '90%', 0.025 -> '2.5%'."""
    return f"{EXACT.multiply(_require_exact(fraction, 'fraction'), Decimal(100)).normalize(EXACT):f}%"


def pence_from_pounds(amount: Decimal) -> int:
    """An amount as whole pence, as read models sum them: Decimal('12.34') -> 1234; a part of a penny is refused."""
    pence = _require_exact(amount, "amount").scaleb(2, context=EXACT)
    if pence != pence.to_integral_value(context=EXACT):
        raise ValueError(f"amount {amount!r} is not a whole number of pennies; round it first")
    return int(pence)


def pounds_from_pence(pence: int | None) -> Decimal:
    """Whole pence (as read models sum them) as pounds: 1234 -> Decimal('12.34'); None -> 0.00."""
    return Decimal(int(pence or 0)).scaleb(-2, context=EXACT)
