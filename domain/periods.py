"""Financial periods and dates: the UK public-sector financial year, its quarters, and how a date is written.

Budgets, cost returns and settlements are all about a period, and every
command and file in openbook names it the same way: the financial year
running 1 April to 31 March is written ``2019-20`` and its quarters
``2019-20-Q1`` (April-June) to ``2019-20-Q4`` (January-March of the following
calendar year). Periods are small frozen value types so they can be event
attributes, dictionary keys and sort keys; parsing is strict so a typo such
as ``2019-21`` is refused rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "DATE_FORMS",
    "DateFormatError",
    "FinancialYear",
    "Period",
    "PeriodFormatError",
    "Quarter",
    "days_between",
    "financial_year_of",
    "parse_date",
    "parse_financial_year",
    "parse_period",
    "parse_quarter",
    "quarter_of",
]

# Four-digit start years keep the canonical text unambiguous, and the last
# year must still end on a representable date (31 March 9999).
MIN_START_YEAR = 1000
MAX_START_YEAR = 9998

_YEAR_FORM = "2019-20 (April 2019 to March 2020)"
_QUARTER_FORM = "2019-20-Q1 (quarters Q1 April-June to Q4 January-March)"

# (start month, end month, end day); Q4's months fall in the next calendar year.
_QUARTER_MONTHS = {1: (4, 6, 30), 2: (7, 9, 30), 3: (10, 12, 31), 4: (1, 3, 31)}

_YEAR_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_QUARTER_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-Q([0-9])", re.ASCII)


class PeriodFormatError(ValueError):
    """Text that is not a financial year or quarter in the canonical form."""


#: The forms ``parse_date`` reads, as every message about a date names them.
DATE_FORMS = "2019-04-01 (ISO) or 01/04/2019 (UK day first)"

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", re.ASCII)


class DateFormatError(ValueError):
    """Text that is not a date in one of ``DATE_FORMS``; ``in_form``: written in a form, but no such day."""

    def __init__(self, message: str, *, in_form: bool = False):
        super().__init__(message)
        self.in_form = in_form


def parse_date(text: str) -> date:
    """A date typed by a person, in a file or an option: ``2019-04-01`` or ``01/04/2019`` (day first).

    One reader, so a date a file accepts is a date an option accepts, with the
    same message when it is refused. A US month-first date is never guessed
    at: 04/01/2019 is 4 January. Surrounding spaces are ignored; anything else
    (2019/04/01, 20190401, a time of day) is refused with DateFormatError.
    """
    if not isinstance(text, str):
        raise DateFormatError(f"{text!r} is not a date; write it as {DATE_FORMS}")
    stripped = text.strip()
    match = _ISO_DATE.fullmatch(stripped)
    if match:
        year, month, day = match.groups()
    else:
        match = _UK_DATE.fullmatch(stripped)
        if not match:
            raise DateFormatError(f"{text!r} is not a date; write it as {DATE_FORMS}")
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise DateFormatError(
            f"{text!r} is not a date (there is no such day); write it as {DATE_FORMS}", in_form=True
        ) from None


@dataclass(frozen=True, order=True)
class FinancialYear:
    """The financial year starting on 1 April of ``start_year``."""

    start_year: int

    def __post_init__(self) -> None:
        if isinstance(self.start_year, bool) or not isinstance(self.start_year, int):
            raise TypeError(f"start_year must be an int, not {self.start_year!r}")
        if not MIN_START_YEAR <= self.start_year <= MAX_START_YEAR:
            raise ValueError(
                f"start_year must be between {MIN_START_YEAR} and {MAX_START_YEAR}, "
                f"not {self.start_year}"
            )

    def __str__(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        """The last day of the year, inclusive (31 March)."""
        return date(self.start_year + 1, 3, 31)

    def contains(self, d: date) -> bool:
        return self.start <= _as_date(d) <= self.end

    def quarters(self) -> tuple[Quarter, Quarter, Quarter, Quarter]:
        return (Quarter(self, 1), Quarter(self, 2), Quarter(self, 3), Quarter(self, 4))

    def next(self) -> FinancialYear:
        return FinancialYear(self.start_year + 1)

    def previous(self) -> FinancialYear:
        return FinancialYear(self.start_year - 1)


@dataclass(frozen=True, order=True)
class Quarter:
    """Quarter ``number`` (1-4) of a financial year; orders by year then number."""

    year: FinancialYear
    number: int

    def __post_init__(self) -> None:
        if not isinstance(self.year, FinancialYear):
            raise TypeError(f"year must be a FinancialYear, not {self.year!r}")
        if isinstance(self.number, bool) or not isinstance(self.number, int):
            raise TypeError(f"quarter number must be an int, not {self.number!r}")
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1 to 4, not {self.number}")

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    def _calendar_year(self) -> int:
        return self.year.start_year + (1 if self.number == 4 else 0)

    @property
    def start(self) -> date:
        return date(self._calendar_year(), _QUARTER_MONTHS[self.number][0], 1)

    @property
    def end(self) -> date:
        """The last day of the quarter, inclusive."""
        _, month, day = _QUARTER_MONTHS[self.number]
        return date(self._calendar_year(), month, day)

    def contains(self, d: date) -> bool:
        return self.start <= _as_date(d) <= self.end

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year.next(), 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year.previous(), 4)
        return Quarter(self.year, self.number - 1)


Period = FinancialYear | Quarter


def _as_date(d: object) -> date:
    if not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, not {d!r}")
    return d


def _year_from_digits(text: str, first: str, second: str, form: str) -> FinancialYear:
    start_year = int(first)
    expected = (start_year + 1) % 100
    if int(second) != expected:
        raise PeriodFormatError(
            f"{text!r} is not a financial year: {first} must be followed by "
            f"{expected:02d}; expected the form {form}"
        )
    try:
        return FinancialYear(start_year)
    except ValueError as error:
        raise PeriodFormatError(f"{text!r}: {error}; expected the form {form}") from None


def _require_text(text: object, form: str) -> str:
    if not isinstance(text, str):
        raise PeriodFormatError(f"{text!r} is not text; expected the form {form}")
    return text


def parse_financial_year(text: str) -> FinancialYear:
    """Parse ``2019-20``; anything else is refused with PeriodFormatError."""
    match = _YEAR_TEXT.fullmatch(_require_text(text, _YEAR_FORM))
    if match is None:
        raise PeriodFormatError(
            f"{text!r} is not a financial year; expected the form {_YEAR_FORM}"
        )
    return _year_from_digits(text, match[1], match[2], _YEAR_FORM)


def parse_quarter(text: str) -> Quarter:
    """Parse ``2019-20-Q1`` .. ``2019-20-Q4``; anything else is refused."""
    match = _QUARTER_TEXT.fullmatch(_require_text(text, _QUARTER_FORM))
    if match is None or not 1 <= int(match[3]) <= 4:
        raise PeriodFormatError(
            f"{text!r} is not a financial quarter; expected the form {_QUARTER_FORM}"
        )
    return Quarter(_year_from_digits(text, match[1], match[2], _QUARTER_FORM), int(match[3]))


def parse_period(text: str) -> Period:
    """Parse either a financial year or a quarter in its canonical form."""
    form = f"{_YEAR_FORM} or {_QUARTER_FORM}"
    text = _require_text(text, form)
    if _QUARTER_TEXT.fullmatch(text):
        return parse_quarter(text)
    if _YEAR_TEXT.fullmatch(text):
        return parse_financial_year(text)
    raise PeriodFormatError(f"{text!r} is not a financial period; expected the form {form}")


def financial_year_of(d: date) -> FinancialYear:
    """The financial year a date falls in (January-March belong to the year before)."""
    d = _as_date(d)
    return FinancialYear(d.year if d.month >= 4 else d.year - 1)


def quarter_of(d: date) -> Quarter:
    """The financial quarter a date falls in."""
    d = _as_date(d)
    return Quarter(financial_year_of(d), (d.month - 4) % 12 // 3 + 1)


def days_between(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included (none if ``last`` is before ``first``)."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)
