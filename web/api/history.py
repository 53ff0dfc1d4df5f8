"""The recorded history for auditors (events paged by position) and the checkpoints of its head (anyone).

Events come from the event index, a page at a time by position (keyset:
``?after=`` the last position seen, never an offset), so the thousandth page
costs what the first does. Reading the history is the ledger's rule
(``history_access``): an auditor of an audit body reads the events of the
agreements it is appointed to (appointed to none: 404); a council's auditor is
refused (403) like any other role.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from flask import request
from pydantic import BaseModel, Field

from domain.bounds import MAX_POSITION
from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.authorisation import history_access
from ledger.jsonable import json_ready
from ledger.queries.checkpoints import latest_recorded_checkpoint
from ledger.queries.events import EventFilter, event_at, event_page, recorded_days
from web.access import EVERY_ROLE, allow, current_actor
from web.api import bp
from web.api.models import Day, Open, Strict
from web.api.spec import answers, spec
from web.services import book_of

PAGE_LIMIT = 500


class EventsQuery(Strict):
    """The event browser's filters (they combine); date ranges include both ends, recorded days are UTC days."""

    after: Annotated[int, Field(ge=0, le=MAX_POSITION)] = 0
    limit: Annotated[int, Field(ge=1, le=PAGE_LIMIT)] = 100
    kind: Annotated[str, Field(max_length=100)] | None = Field(None, description='A kind of record: "cost-return"')
    topic: Annotated[str, Field(max_length=200)] | None = Field(
        None, description='An event type: "openbook:cost-return.amended"')
    aggregate_id: UUID | None = None
    actor: Annotated[str, Field(max_length=128)] | None = None
    organisation: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="The organisation of whoever recorded the event")
    effective_from: Day | None = None
    effective_to: Day | None = None
    recorded_from: Day | None = None
    recorded_to: Day | None = None


class Event(Open):
    position: int
    topic: str
    aggregate_kind: str
    aggregate_id: str
    version: int
    actor: str
    organisation: str | None
    agreement: str | None = Field(None, description="The agreement the event's record is under; null for none")
    effective_date: str | None
    recorded_at: str
    reason: str | None


class EventWhole(Event):
    idempotency_key: str | None
    payload: dict[str, Any] = Field(description="The event's own fields as recorded (money as decimal strings)")
    chain_hash: str | None = Field(description="The stored hash linking the event to the one before it (SHA-256)")


class Events(BaseModel):
    events: list[Event]
    next_after: int | None = Field(description="Send as ?after= for the next page; null on the last page")


class Checkpoints(BaseModel):
    head: int = Field(description="The position of the last event the read models have applied")
    latest: dict[str, Any] | None = Field(description="The latest checkpoint recorded in the history, as signed")


@bp.get("/events")
@allow(Role.AUDITOR)
@spec.validate(query=EventsQuery, resp=answers(Events), tags=["audit"])
def events() -> dict[str, Any]:
    """The history's events after ``?after=``, by position, with their envelopes: an auditor of an audit body sees
    those of the agreements it is appointed to (and of organisations, wage floors, checkpoints)."""
    book = book_of()
    access = history_access(book.records, current_actor(), book.read_engine)
    asked: EventsQuery = request.context.query
    recorded_from, recorded_to = recorded_days(asked.recorded_from, asked.recorded_to)
    where = EventFilter(
        aggregate_id=None if asked.aggregate_id is None else str(asked.aggregate_id),
        kinds=[asked.kind] if asked.kind else (),
        topics=[asked.topic] if asked.topic else (),
        actor=asked.actor,
        organisation=asked.organisation,
        effective_from=asked.effective_from,
        effective_to=asked.effective_to,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
    )
    rows = event_page(book.read_engine, access, where, after=asked.after, limit=asked.limit + 1)
    shown = rows[: asked.limit]
    next_after = shown[-1]["position"] if len(rows) > asked.limit else None
    return {"events": [json_ready(row) for row in shown], "next_after": next_after}


@bp.get(f"/events/<int(max={MAX_POSITION}):position>")
@allow(Role.AUDITOR)
@spec.validate(resp=answers(EventWhole), tags=["audit"])
def event(position: int) -> dict[str, Any]:
    """One event whole: its envelope, its payload and its chain hash, as the event browser's page shows it; an
    event outside the auditor's appointments is 404, as if it did not exist."""
    book = book_of()
    access = history_access(book.records, current_actor(), book.read_engine)
    shown = event_at(book, access, position)
    if shown is None:
        raise NotFound(f"no event is recorded at position {position}")
    return json_ready(shown)


@bp.get("/checkpoints")
@allow(*EVERY_ROLE)
@spec.validate(resp=answers(Checkpoints), tags=["audit"])
def checkpoints() -> dict[str, Any]:
    """The read models' head and the latest recorded checkpoint: a position, a hash and a count, no figure."""
    book = book_of()
    return {"head": book.projections.head(), "latest": json_ready(latest_recorded_checkpoint(book.read_engine))}
