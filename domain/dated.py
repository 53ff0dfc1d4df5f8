"""Dated facts: which of a record's dated entries applies on a date.

Agreements' settings and KPIs, rates on a card, a Real Living Wage
commitment, an incentive scheme's terms: each is a history of entries, each
applying from a date. One rule says which applies on a day, wherever the
entries come from (an aggregate's events or a read model's rows): the latest
starting on or before it, and of two starting on the same date the one
recorded later, which corrects the earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

T = TypeVar("T")

__all__ = ["in_force"]


def in_force(history: Iterable[tuple[date, T]], on: date) -> tuple[bool, T | None]:
    """(found, value) of the latest entry starting on or before ``on``; a later-recorded one wins a tie.

    ``history`` is (first day, value) in recording order.
    """
    best: tuple[date, T] | None = None
    for start, value in history:
        if start <= on and (best is None or start >= best[0]):
            best = (start, value)
    return (False, None) if best is None else (True, best[1])
