"""The input checks every command shares: one wording for one kind of mistake.

Agreements, rate cards, rate reviews (and the areas still to come) take the
same kinds of input: a choice from a list, an exact number, a non-blank text,
a date, a financial year, a reason. Checking them in one place means a user
sees the same message for the same mistake wherever they make it, always
naming the field, and money can never slip in as a float.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.envelope import Envelope
from domain.errors import InvalidInput
from domain.money import MoneyFormatError, to_decimal
from domain.periods import FinancialYear, PeriodFormatError, parse_financial_year

__all__ = [
    "check_choice",
    "check_date",
    "check_decimal",
    "check_financial_year",
    "check_reason",
    "check_text",
]


def check_choice(enum: type[StrEnum], value: object, field: str) -> Any:
    """A member of ``enum`` from its value, refusing anything else with the list of choices."""
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not one of {', '.join(enum)}") from None


def check_decimal(
    value: object,
    field: str,
    *,
    places: int | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    above_minimum: bool = False,
) -> Decimal:
    """An exact number for a command: Decimal, int or text, never float (money is never float).

    Too many decimal places is refused, not rounded, so a figure is stored as given.
    """
    if isinstance(value, float):
        raise TypeError(f"{field} must be a Decimal, int or text, not float ({value!r}); money is never float")
    try:
        number = to_decimal(value, field=field, places=places)
    except MoneyFormatError as error:
        raise InvalidInput(str(error)) from None
    if minimum is not None and (number <= minimum if above_minimum else number < minimum):
        raise InvalidInput(f"{field}: {number} must be {'more than' if above_minimum else 'at least'} {minimum}")
    if maximum is not None and number > maximum:
        raise InvalidInput(f"{field}: {number} must be at most {maximum}")
    return number


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: object, field: str, max_length: int | None = None) -> str:
    """Text with its surrounding spaces removed; blank text, control characters
    (which no database column or page should carry) and over-long text are refused."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field}: must not be blank")
    if _CONTROL.search(value):
        raise InvalidInput(f"{field}: must not contain control characters")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"{field}: is {len(text)} characters long; at most {max_length} are allowed")
    return text


def check_date(value: object, field: str) -> date:
    if not isinstance(value, date):
        raise InvalidInput(f"{field}: {value!r} is not a date")
    return value


def check_reason(envelope: Envelope, what: str) -> None:
    """Every change after registration must say why."""
    if not (envelope.reason or "").strip():
        raise InvalidInput(f"reason: {what} needs a reason")


def check_financial_year(value: FinancialYear | str) -> str:
    """The canonical text of a financial year ("2019-20"), as stored in events."""
    if isinstance(value, FinancialYear):
        return str(value)
    try:
        return str(parse_financial_year(value))
    except PeriodFormatError as error:
        raise InvalidInput(f"financial_year: {error}") from None
