"""The input checks every command shares: one wording for one kind of mistake.

Agreements, rate cards, rate reviews (and the areas still to come) take the
same kinds of input: a choice from a list, an exact number, a non-blank text,
a date, a financial year, a reason. Checking them in one place means a user
sees the same message for the same mistake wherever they make it, always
naming the field, and money can never slip in as a float. The bounds a new
fact's values must keep within (longest text, largest sums, the dates) are
stated in ``domain/bounds.py`` and applied here.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.bounds import (
    EARLIEST_DATE,
    FILE_NAME_LENGTH,
    FIRST_YEAR,
    LAST_YEAR,
    LATEST_DATE,
    MAX_AMOUNT,
    MAX_HOURLY_RATE,
    NAME_LENGTH,
    TEXT_LENGTH,
)
from domain.envelope import Envelope
from domain.errors import InvalidInput
from domain.money import MoneyFormatError, to_decimal
from domain.periods import FinancialYear, Period, PeriodFormatError, parse_financial_year

__all__ = [
    "check_amount",
    "check_choice",
    "check_date",
    "check_day",
    "check_decimal",
    "check_envelope",
    "check_file_name",
    "check_financial_year",
    "check_hourly_rate",
    "check_name",
    "check_period_in_range",
    "check_reason",
    "check_text",
    "check_year",
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


def check_text(value: object, field: str, max_length: int = TEXT_LENGTH) -> str:
    """Text with its surrounding spaces removed; blank text, control characters
    (which no database column or page should carry) and text beyond its bound are refused."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field}: must not be blank")
    if _CONTROL.search(value):
        raise InvalidInput(f"{field}: must not contain control characters")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"{field}: is {len(text)} characters long; at most {max_length} are allowed")
    return text


def check_file_name(value: object, field: str = "file_name") -> str:
    """The name an imported file is recorded under: non-blank, at most ``FILE_NAME_LENGTH``."""
    return check_text(value, field, FILE_NAME_LENGTH)


def check_name(value: object, field: str = "name") -> str:
    """A name (of an organisation, person, agreement, zone, lot or KPI): non-blank, at most ``NAME_LENGTH``."""
    return check_text(value, field, NAME_LENGTH)


def check_date(value: object, field: str) -> date:
    if not isinstance(value, date):
        raise InvalidInput(f"{field}: {value!r} is not a date")
    return value


def check_day(value: object, field: str) -> date:
    """A date a new fact is about: within the ledger's dates (``EARLIEST_DATE`` to ``LATEST_DATE``)."""
    day = check_date(value, field)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidInput(
            f"{field}: {day.isoformat()} is outside the dates the ledger records "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return day


def check_amount(value: object, field: str, *, above_zero: bool = False) -> Decimal:
    """An amount of money in pounds and pence from zero (or above it, when ``above_zero``) to ``MAX_AMOUNT``.
    (A cost return's lines, where a deficit is negative, are bounded by the filing, ``domain/returns/filing.py``.)"""
    return check_decimal(value, field, places=2, minimum=Decimal(0), maximum=MAX_AMOUNT, above_minimum=above_zero)


def check_hourly_rate(value: object, field: str) -> Decimal:
    """An hourly rate in pounds and pence: more than zero and at most ``MAX_HOURLY_RATE``."""
    return check_decimal(value, field, places=2, minimum=Decimal(0), above_minimum=True, maximum=MAX_HOURLY_RATE)


def check_envelope(envelope: Envelope) -> None:
    """What every command's envelope must hold: an effective date within the ledger's dates and a
    reason within ``TEXT_LENGTH``. Checked once, for every command, before anything is built."""
    check_day(envelope.effective_date, "effective_date")
    if envelope.reason is not None and len(envelope.reason.strip()) > TEXT_LENGTH:
        raise InvalidInput(
            f"reason: is {len(envelope.reason.strip())} characters long; at most {TEXT_LENGTH} are allowed"
        )


def check_reason(envelope: Envelope, what: str) -> None:
    """Every change after registration must say why."""
    if not (envelope.reason or "").strip():
        raise InvalidInput(f"reason: {what} needs a reason")


def check_financial_year(value: FinancialYear | str, field: str = "financial_year") -> str:
    """The canonical text of a financial year ("2019-20"), as stored in events (any year: also for
    finding what was recorded; a new fact's year is checked by ``check_year``)."""
    if isinstance(value, FinancialYear):
        return str(value)
    try:
        return str(parse_financial_year(value))
    except PeriodFormatError as error:
        raise InvalidInput(f"{field}: {error}") from None


def check_year(value: FinancialYear | str, field: str = "financial_year") -> str:
    """The canonical text of the financial year a new fact is about: ``FIRST_YEAR`` to ``LAST_YEAR``."""
    text = check_financial_year(value, field)
    check_period_in_range(parse_financial_year(text), field)
    return text


def check_period_in_range(period: Period, field: str = "period") -> Period:
    """A financial year or quarter a new fact is about, within ``FIRST_YEAR`` to ``LAST_YEAR``."""
    year = period if isinstance(period, FinancialYear) else period.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            f"{field}: {period} is outside the financial years the ledger records ({FIRST_YEAR} to {LAST_YEAR})"
        )
    return period
