"""Jinja filters: how figures read on a page (money as £1,234.50, never a float), one definition each."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from domain.money import format_count, format_gbp
from domain.returns.filing import field_label
from domain.returns.unit_costs import format_per_hour
from reports.tables import Column


def gbp(value: Decimal | int | None) -> str:
    return "" if value is None else format_gbp(value)


def cell(value: Any, column: Column) -> str:
    """A table cell's text: money as pounds, numbers with thousands separators, dates ISO."""
    if value is None:
        return ""
    if column.kind == "money" and isinstance(value, (Decimal, int)):
        return format_gbp(value)
    if column.kind == "number" and isinstance(value, (Decimal, int)):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def init_app(app: Flask) -> None:
    app.add_template_filter(gbp)
    app.add_template_filter(format_per_hour, "per_hour")
    app.add_template_filter(field_label)  # a cost line or volume by its name, not its code
    app.add_template_filter(format_count, "counted")  # {{ n|counted("event") }}: "1 event", "2,000 events"
    app.add_template_filter(cell)
