"""Figures as JSON-ready data: Decimals as exact text (never a float), dates as ISO text.

What a command returns, what ``--json`` prints and what the API sends all pass
through ``json_ready``, so money crosses every boundary as "15.60". A Decimal
is written exactly, in fixed point, with the places it carries: money has 2
(every amount is made with them, ``domain.money``), a rate its card's (2, or 4
for a blend); never a float, an exponent ("1E+4") or thousands separators.
The rule, for people, is docs/money.md "Figures in --json".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def json_ready(value: Any) -> Any:
    """JSON-ready: Decimals as exact fixed-point text, dates as ISO text, dataclasses and tuples as objects and lists."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:f}"  # fixed point: Decimal("1E+4") is "10000", never "1E+4"
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: json_ready(getattr(value, k)) for k in value.__dataclass_fields__}
    return value
