"""Figures as JSON-ready data: Decimals as exact text (never a float), dates as ISO text.

What a command returns, what ``--json`` prints and what the API sends all pass
through ``json_ready``, so money crosses every boundary as "15.60".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def json_ready(value: Any) -> Any:
    """JSON-ready: Decimals as strings (exact), dates as ISO text."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: json_ready(getattr(value, k)) for k in value.__dataclass_fields__}
    return value
