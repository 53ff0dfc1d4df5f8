"""A record's history: each event that changed it, and what changed between revisions, line by line.

``openbook events history cost-return wirral-homecare premier-care 2019-20-Q1``
names a record by its kind (the aggregate's topic without ``openbook:``) and
the natural key its id is made from (the parameters of the aggregate's
``create_id``), reads that aggregate's events straight from the history and
replays them one at a time. After each event the record's state is written
out as lines ("filing.lines.care_worker_pay" -> "52000.00"); the difference
from the lines before it is what the event changed: an amended cost return
shows which lines changed, old and new; a rate card, which rates.

This reads events, as the history itself is what an auditor asks about; it
is not a query over the read models (those never load aggregates) and records
nothing. It shows raw figures, so it takes a ``HistoryAccess``: a record the
access does not hold (under an agreement the auditor's audit body is not
appointed to, a user) is ``NotFound``, exactly like one never recorded.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from eventsourcing.utils import get_topic
from sqlalchemy import Engine

from domain.aggregate import LedgerAggregate
from domain.errors import InvalidInput, NotFound
from domain.rates.rate_card import RateCard
from domain.returns.cost_return import CostReturn
from ledger.authorisation import HistoryAccess
from ledger.persistence.history import STORED_AGGREGATES, aggregate_events, aggregate_kind, created_under, in_utc

#: Each kind of record by the name people give it: "cost-return", "rate-card", "settlement", ...
RECORD_KINDS: dict[str, type[LedgerAggregate]] = {aggregate_kind(cls.TOPIC): cls for cls in STORED_AGGREGATES}

#: What the library keeps on every aggregate for itself: not part of any record's state.
_BOOKKEEPING = {"_id", "_version", "_created_on", "_modified_on", "_pending_events", "_changes"}
_NOTHING = "—"


def key_parts(kind: str) -> tuple[str, ...]:
    """The parts of a record's natural key, in order: a cost return's are agreement, provider and period."""
    return tuple(inspect.signature(_kind(kind).create_id).parameters)  # type: ignore[attr-defined]


def record_history(
    engine: Engine, mapper: Mapper, access: HistoryAccess, kind: str, key: Sequence[str], up_to: int | None = None
) -> dict[str, Any]:
    """Every event of the record ``kind`` ``key``: position, envelope, what it did and the lines it changed.

    ``up_to``: only the events at or before that log position (the record's history as known then).

    ``changes`` lists ``{"line", "old", "new"}`` in the order of the record's
    state (``old`` None: a line added; ``new`` None: a line removed).
    """
    if not isinstance(access, HistoryAccess):
        raise TypeError(f"a record's history needs a HistoryAccess from ledger.authorisation, not {type(access).__name__}")
    aggregate_class = _kind(kind)
    parts = key_parts(kind)
    if len(key) != len(parts):
        named = " ".join(p.upper() for p in parts) or "nothing (there is one)"
        raise InvalidInput(f"key: a {kind} is named by {named}, not {' '.join(key) or 'nothing'}")
    aggregate_id = aggregate_class.create_id(*key)  # type: ignore[attr-defined]
    events = aggregate_events(engine, mapper, aggregate_id, up_to)
    if not _shown(access, events):
        raise NotFound(f"no {kind} {' '.join(key)} is recorded".replace("  ", " "))
    return {"kind": kind, "key": list(key), "aggregate_id": str(aggregate_id), "events": _replayed(events)}


def aggregate_history(
    engine: Engine, mapper: Mapper, access: HistoryAccess, aggregate_id: UUID, up_to: int | None = None
) -> dict[str, Any]:
    """``record_history`` of the record whose id an event names (the event browser knows the id, not the key).

    ``key`` is empty: a record's id is made from its key, and cannot be turned back into it.
    """
    if not isinstance(access, HistoryAccess):
        raise TypeError(f"a record's history needs a HistoryAccess from ledger.authorisation, not {type(access).__name__}")
    events = aggregate_events(engine, mapper, aggregate_id, up_to)
    if not _shown(access, events):
        raise NotFound(f"no record {aggregate_id} is recorded")
    kind = aggregate_kind(get_topic(type(events[0][1])))
    return {"kind": kind, "key": [], "aggregate_id": str(aggregate_id), "events": _replayed(events)}


def _shown(access: HistoryAccess, events: list[tuple[int, Any]]) -> bool:
    """Whether the record has events and ``access`` holds them: its first event says which agreement it is under."""
    if not events:
        return False
    first = events[0][1]
    return access.shows(created_under(first), aggregate_kind(get_topic(type(first))))


def _replayed(events: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    """Each event replayed in turn: its envelope, what it did, and the lines it changed."""
    aggregate: Any = None
    before: dict[str, str | None] = {}
    logged = 0
    shown = []
    for position, event in events:
        aggregate = event.mutate(aggregate)
        after = record_lines(aggregate)
        said = aggregate.__dict__.get("_changes", [])
        what = "; ".join(change.what for change in said[logged:]) or describe_event(event)
        logged = len(said)
        shown.append(
            {
                "position": position,
                "topic": get_topic(type(event)),
                "version": event.originator_version,
                "actor": event.envelope.actor.user,
                "organisation": event.envelope.actor.organisation,
                "effective_date": event.envelope.effective_date,
                "recorded_at": in_utc(event.timestamp),
                "reason": event.envelope.reason,
                "what": what,
                "changes": differences(before, after),
            }
        )
        before = after
    return shown


def _kind(kind: str) -> type[LedgerAggregate]:
    found = RECORD_KINDS.get(kind)
    if found is None:
        raise InvalidInput(f"kind: {kind!r} is not a kind of record; the kinds are {', '.join(sorted(RECORD_KINDS))}")
    return found


def record_lines(aggregate: Any) -> dict[str, str | None]:
    """A record's state as lines, "name.part" -> text: what one revision is compared with the next by.

    Every attribute the aggregate keeps, except the library's bookkeeping; a
    cost return shows its current revision's filing (its earlier revisions
    are the earlier events' lines), a rate card each rate by key and date.
    """
    state = {name.lstrip("_"): value for name, value in vars(aggregate).items() if name not in _BOOKKEEPING}
    if isinstance(aggregate, CostReturn):
        del state["revisions"]
        state = {"status": aggregate.status, "revision": aggregate.current.number,
                 "filing": aggregate.current.filing.to_data(), **state}  # fmt: skip
        state.pop("state", None)  # the status says it (and "queried" besides)
    if isinstance(aggregate, RateCard):
        rates: dict[str, Any] = {}
        for entry in state.pop("entries"):  # in recording order: a correction on the same key and date replaces
            blend = " + ".join(f"{p.weight} × {p.rate}" for p in entry.parts)
            shown = _NOTHING if entry.hourly_rate is None else str(entry.hourly_rate)
            rates[f"{entry.key} from {entry.effective_from.isoformat()}"] = (
                "withdrawn" if entry.hourly_rate is None else f"{shown} ({blend})" if blend else shown
            )
        state["rates"] = rates
    lines: dict[str, str | None] = {}
    _flatten(state, "", lines)
    return lines


def differences(before: dict[str, str | None], after: dict[str, str | None]) -> list[dict[str, str | None]]:
    """The lines that differ: changed and added in ``after``'s order, then the removed ones."""
    changed = [
        {"line": line, "old": before.get(line), "new": value} for line, value in after.items() if before.get(line) != value
    ]
    removed = [{"line": line, "old": value, "new": None} for line, value in before.items() if line not in after]
    return changed + [r for r in removed if r["old"] is not None]


def describe_event(event: Any) -> str:
    """An event in words, for records that keep no history lines of their own: "approved: commissioner wirral-council"."""
    action = get_topic(type(event)).rsplit(".", 1)[-1].replace("-", " ")
    payload = {
        name: value
        for name, value in vars(event).items()
        if name not in {"originator_id", "originator_version", "timestamp", "originator_topic", "envelope"}
    }
    said = []
    for name, value in payload.items():
        text = _scalar(value)
        if text is not None and len(text) <= 80:
            said.append(f"{name.replace('_', ' ')} {text}")
    return f"{action}: {', '.join(said)}" if said else action


def _flatten(value: Any, prefix: str, into: dict[str, str | None]) -> None:
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    elif is_dataclass(value) and type(value).__str__ is not object.__str__:  # a value with a name: a period
        into[prefix] = str(value)
        return
    elif is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        for name, part in value.items():
            _flatten(part, f"{prefix}.{_key(name)}" if prefix else _key(name), into)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        scalars = [_scalar(item) for item in items]
        if all(s is not None or item is None for s, item in zip(scalars, items, strict=True)):
            into[prefix] = ", ".join(s or _NOTHING for s in scalars) if items else None
            return
        for number, item in enumerate(items, start=1):
            _flatten(item, f"{prefix}.{number}", into)
        return
    into[prefix] = _scalar(value) if value is not None else None
    if into[prefix] is None and value is not None:
        into[prefix] = str(value)


def _key(name: Any) -> str:
    """A mapping's key as text: a pair (a commissioner and a year) as its parts with a space between."""
    if isinstance(name, tuple):
        return " ".join(_key(part) for part in name)
    text = _scalar(name)
    return str(name) if text is None else text


def _scalar(value: Any) -> str | None:
    """A single value as text (Decimals exact, dates ISO); None for anything with parts, or None itself."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, Decimal, UUID)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return None
