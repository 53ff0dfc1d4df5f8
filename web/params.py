"""Reading a page's query arguments: one reader per kind, each refusing a bad value with a 400 naming the argument.

A page's figures are about a date (``?on=YYYY-MM-DD``) or a numbered thing
(``?revision=2``, ``?run=1``). A value no page could answer for - not a date,
a date before or after every date the ledger records (``domain.bounds``), a
number that is not one or is out of range - is the user's mistake: it is
refused as ``InvalidInput`` (a 400 page naming the argument), never ignored
(which would show another figure than the one asked for) and never left to
fail deeper down as a 500.
"""

from __future__ import annotations

from datetime import date

from flask import request

from domain.checks import check_day
from domain.errors import InvalidInput
from domain.periods import DateFormatError, parse_date

__all__ = ["MAX_NUMBER", "int_arg", "on_date"]

#: The largest revision, run or sequence number a URL may name: far beyond any the ledger holds, small enough
#: for every database (an unbounded number overflows SQLite's 64-bit integers: a 500).
MAX_NUMBER = 100_000


def on_date(name: str = "on") -> date:
    """``?name=`` (the date a page's figures are about), today if not given; within the ledger's dates."""
    text = request.args.get(name, "").strip()
    if not text:
        return date.today()
    try:
        day = parse_date(text)
    except DateFormatError as error:
        raise InvalidInput(f"{name}: {error}") from None
    return check_day(day, name)


def int_arg(name: str, low: int, high: int) -> int | None:
    """``?name=`` as a whole number from ``low`` to ``high``, None if not given; anything else is refused."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InvalidInput(f"{name}: {text[:20]!r} is not a whole number from {low} to {high}")
    return int(text)
