"""The bounds of what the ledger records, stated once: the longest text, the largest sums, the dates.

Why bounds at all: a value no agreement could hold (a rate of £999,999,999,999.99
an hour, a return for 2999-00-Q1, a 1e9 % continuity) is a typing mistake, and
once recorded it stays in the history for ever, to be shown on every page and
summed into every total. So a new command is refused when a value lies beyond
these bounds, with a message naming the field and the bound.

The bounds are generous on purpose: they refuse absurd values, never unusual
but real ones. The read models hold any text and any exact decimal, so an event
recorded before a bound existed (or under a looser one) still replays; the
bounds apply to new commands only, never to stored events.

``domain/checks.py`` applies them; docs/bounds.md lists them for people.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.periods import FinancialYear

__all__ = [
    "EARLIEST_DATE",
    "FILE_NAME_LENGTH",
    "FIRST_YEAR",
    "LAST_YEAR",
    "LATEST_DATE",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_DOCUMENT_BYTES",
    "MAX_EVENTS_LIMIT",
    "MAX_HOURLY_RATE",
    "MAX_HOURS",
    "MAX_POSITION",
    "MAX_SWEEP_GRACE_HOURS",
    "MAX_VISIT_MINUTES",
    "NAME_LENGTH",
    "TEXT_LENGTH",
]

# -- text (characters, after surrounding spaces are removed) --------------------------------------

#: A name: of an organisation, a person, an agreement, a zone or lot, a KPI.
NAME_LENGTH = 200
#: Free text: a reason, note, comment, question, answer, explanation, evidence, basis or measure.
TEXT_LENGTH = 2000
#: The name of an imported file (most file systems allow 255 characters).
FILE_NAME_LENGTH = 255
# Codes (2-63 characters) and usernames (2-128) keep the rules of domain/organisations.

# -- money and quantities ------------------------------------------------------------------------

#: The largest hourly rate (a rate card line, a blended rate's part, a wage floor, a payment per
#: hour). The dearest care in England costs well under £100 an hour; £1,000 leaves room for any
#: specialist service while refusing a slipped decimal point.
MAX_HOURLY_RATE = Decimal("1000.00")
#: The largest amount of money (a contribution, a pool's target or cap, a cost-return line, a
#: payment). England's whole adult social care spend is about £20bn a year and no single
#: partnership comes near £10bn; where a negative amount is allowed (a deficit, a refund) its
#: lower bound is minus this.
MAX_AMOUNT = Decimal("10000000000.00")
#: The largest number of hours (or other volume) in one figure: a provider's fixed baseline hours, a cost
#: return's contact hours or hours paid. All the homecare in England is about 250 million hours a year.
MAX_HOURS = Decimal("1000000000.00")
#: The largest count (a KPI counted in whole numbers, such as missed visits).
MAX_COUNT = 1_000_000_000
#: The most minutes one visit lasts, planned or delivered: a 24-hour live-in day. The same bound holds for a
#: visit in a file (``domain.activity.visits.check_minutes``) and one priced on its own (``rates price``).
MAX_VISIT_MINUTES = 24 * 60

# -- dates ---------------------------------------------------------------------------------------

#: The first and last days a fact may be about: the financial years 1990-91 to 2098-99. Every
#: effective date, term, rate, return, period and financial year lies between them.
EARLIEST_DATE = date(1990, 4, 1)
LATEST_DATE = date(2099, 3, 31)
FIRST_YEAR = FinancialYear(1990)
LAST_YEAR = FinancialYear(2098)

# -- reading the history -------------------------------------------------------------------------

#: The most events one ``openbook events`` call lists.
MAX_EVENTS_LIMIT = 10_000
#: The largest document an issued statement may be (docs/statements.md: Issuing): a statement of a provider with
#: five years of history is a few hundred kilobytes; 50 MB refuses a file that is no statement at all.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
#: The largest position the event store can hold (a 64-bit signed integer).
MAX_POSITION = 2**63 - 1
#: The longest grace ``openbook activity sweep --older-than-hours`` takes: ten years (a chunk older
#: than any import could run); beyond it a date cannot be computed.
MAX_SWEEP_GRACE_HOURS = 24 * 366 * 10
