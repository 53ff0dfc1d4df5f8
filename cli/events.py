"""``openbook events``: the recorded history itself, by position, as auditors read it."""

from __future__ import annotations

from uuid import UUID

import click

from cli.context import Context, emit, json_option, pass_context
from domain.bounds import MAX_EVENTS_LIMIT, MAX_POSITION
from domain.errors import InvalidInput
from ledger.authorisation import check_may_read_history
from ledger.persistence.history import read_events

__all__ = ["events"]


@click.command()
@click.option("--after", default=0, type=int, help="Only events after this position.")
@click.option("--limit", default=50, type=int, show_default=True)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable), e.g. openbook:user.registered.")
@click.option("--aggregate", help="Only events of this aggregate id.")
@json_option
@pass_context
def events(
    context: Context, after: int, limit: int, topics: tuple[str, ...], aggregate: str | None, as_json: bool
) -> None:
    """List recorded events: position, recorded-at, actor, effective date, topic (auditors and the operator)."""
    if not 1 <= limit <= MAX_EVENTS_LIMIT:
        raise InvalidInput(f"--limit: {limit} must be from 1 to {MAX_EVENTS_LIMIT:,}")
    if not 0 <= after <= MAX_POSITION:
        raise InvalidInput(f"--after: {after} is not a position; positions run from 0 to {MAX_POSITION:,}")
    try:
        aggregate_id = UUID(aggregate) if aggregate else None
    except ValueError:
        raise InvalidInput(f"--aggregate: {aggregate!r} is not an aggregate id (a UUID)") from None
    book = context.book
    check_may_read_history(book.records, context.actor())
    ledger = book.ledger
    found = read_events(ledger.recorder, ledger.mapper, after=after, limit=limit, topics=topics, aggregate_id=aggregate_id)
    emit(
        [e.as_json() for e in found],
        as_json,
        lambda rows: [
            f"{r['position']:>6}  {r['recorded_at'][:19]}  {r['effective_date']}  {r['actor']:<28} {r['topic']}"
            for r in rows
        ]
        or ["no events"],
    )
