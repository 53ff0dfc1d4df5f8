"""Text a spreadsheet would run as a formula: escaped on the way out of every CSV and XLSX openbook writes.

OWASP's "CSV Injection": a spreadsheet runs a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return as a formula, so user text
(a provider's name, a note, evidence, a reason, a reference from an import)
written as it is could run ``=HYPERLINK(…)`` or worse on the reader's machine.
Such text gets a leading single quote, which spreadsheets show as text. This
is the one helper every exporter uses (``reports.tables`` for every table and
statement, ``ledger.files.cost_returns`` for a filled-in template), and
``unescaped`` is its inverse for a template read back in. Numbers are never
passed through it: a negative amount is a number, not a formula.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "escaped", "unescaped"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escaped(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with a single quote (OWASP); other text unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescaped(text: str) -> str:
    """``escaped``'s inverse: a quote is dropped only where ``escaped`` would have added it."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
