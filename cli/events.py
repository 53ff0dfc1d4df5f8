"""``openbook events``: the recorded history itself, by position, as auditors read it; and one record's history.

``openbook events [filters]`` pages through the event index (``ledger.queries.events``:
keyset by position, every filter indexed) and shows each event's envelope and
payload; ``openbook events history KIND KEY...`` shows what each event did to
one record and the lines it changed (``ledger.audit.record_history``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

import click

from cli.context import DATE, Context, as_at_option, emit, json_option, pass_context
from domain.bounds import MAX_EVENTS_LIMIT, MAX_POSITION
from domain.errors import InvalidInput
from ledger.audit.record_history import RECORD_KINDS, key_parts, record_history
from ledger.authorisation import history_access
from ledger.persistence.history import events_at
from ledger.projections.event_index import event_topics
from ledger.queries.events import EventFilter, event_page

__all__ = ["events"]


def _kinds_and_keys() -> str:
    """Every kind of record and the parts of its key, for ``events history --help``."""
    return "; ".join(f"{kind} {' '.join(p.upper() for p in key_parts(kind))}".strip() for kind in sorted(RECORD_KINDS))


@click.group(invoke_without_command=True)
@click.option("--after", default=0, type=int, help="Only events after this position (the last one of the page before).")
@click.option("--limit", default=50, type=int, show_default=True)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable), e.g. openbook:user.registered.")
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Only this kind of record (cost-return) or event type (cost-return.amended); repeatable: "
    "kinds match any of theirs, event types (with --topic) any of theirs, and the two narrow together.",
)
@click.option("--aggregate", help="Only events of this aggregate id.")
@click.option("--actor", help="Only events recorded by this username.")
@click.option("--organisation", help="Only events recorded by someone of this organisation (its code).")
@click.option("--effective-from", type=DATE, help="Only events effective on or after this date.")
@click.option("--effective-to", type=DATE, help="Only events effective on or before this date.")
@click.option("--recorded-from", help="Only events recorded at or after this UTC date or time (ISO 8601).")
@click.option("--recorded-to", help="Only events recorded at or before this UTC date (the whole day) or time.")
@as_at_option
@json_option
@pass_context
@click.pass_context
def events(
    ctx: click.Context, context: Context, after: int, limit: int, topics: tuple[str, ...], types: tuple[str, ...],
    aggregate: str | None, actor: str | None, organisation: str | None, effective_from: date | None,
    effective_to: date | None, recorded_from: str | None, recorded_to: str | None, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """List recorded events: position, recorded-at, actor, effective date, topic (auditors and the operator).

    Filters combine; page on with --after set to the last position shown. `openbook events history` shows one record.
    With --as-at, the events the ledger held then: those up to that position (or recorded by that time).
    """
    if ctx.invoked_subcommand is not None:
        if as_at is not None:
            raise click.UsageError(f"give --as-at after `{ctx.invoked_subcommand}`: it is that command's option")
        return
    if not 1 <= limit <= MAX_EVENTS_LIMIT:
        raise InvalidInput(f"--limit: {limit} must be from 1 to {MAX_EVENTS_LIMIT:,}")
    if not 0 <= after <= MAX_POSITION:
        raise InvalidInput(f"--after: {after} is not a position; positions run from 0 to {MAX_POSITION:,}")
    try:
        aggregate_id = str(UUID(aggregate)) if aggregate else None
    except ValueError:
        raise InvalidInput(f"--aggregate: {aggregate!r} is not an aggregate id (a UUID)") from None
    kinds, typed = _types(types)
    where = EventFilter(
        aggregate_id=aggregate_id,
        topics=(*topics, *typed),
        kinds=kinds,
        actor=actor,
        organisation=organisation,
        effective_from=effective_from,
        effective_to=effective_to,
        recorded_from=_moment("--recorded-from", recorded_from, end_of_day=False),
        recorded_to=_moment("--recorded-to", recorded_to, end_of_day=True),
    )
    book = context.book
    access = history_access(book.records, context.actor(), book.read_engine)
    page = event_page(context.read_engine(as_at), access, where, after=after, limit=limit)
    found = events_at(book.read_engine, book.ledger.mapper, [row["position"] for row in page])
    emit(
        [e.as_json() for e in found],
        as_json,
        lambda rows: [
            f"{r['position']:>6}  {r['recorded_at'][:19]}  {r['effective_date']}  {r['actor']:<28} {r['topic']}"
            for r in rows
        ]
        or ["no events"],
    )


def _types(types: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--type`` values as (kinds of record, event topics); an unknown one names the kinds there are."""
    known = set(event_topics())
    kinds: list[str] = []
    topics: list[str] = []
    for value in types:
        name = value.removeprefix("openbook:")
        if name in RECORD_KINDS:
            kinds.append(name)
        elif f"openbook:{name}" in known:
            topics.append(f"openbook:{name}")
        else:
            raise InvalidInput(
                f"--type: {value!r} is neither a kind of record nor an event type; the kinds are "
                f"{', '.join(sorted(RECORD_KINDS))} (an event type is KIND.EVENT, e.g. cost-return.amended)"
            )
    return tuple(kinds), tuple(topics)


def _moment(option: str, value: str | None, *, end_of_day: bool) -> datetime | None:
    """An ISO date or time as a UTC moment; a date alone is its first moment, or with ``end_of_day`` its last."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min)
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS)") from None


@events.command("history", epilog=f"The kinds and their keys: {_kinds_and_keys()}.")
@click.argument("kind")
@click.argument("key", nargs=-1)
@as_at_option
@json_option
@pass_context
def events_history(context: Context, kind: str, key: tuple[str, ...], as_at: str | None, as_json: bool) -> None:
    """Each event that changed one record, with who, when and why, and the lines it changed (old -> new).

    KIND and KEY name the record, e.g. `cost-return wirral-homecare premier-care 2019-20-Q1`,
    `rate-card wirral-homecare`, `settlement wirral-homecare 2019-20 1`, `agreement wirral-homecare`,
    `pooled-budget wirral-homecare 2019-20`.
    """
    book = context.book
    access = history_access(book.records, context.actor(), book.read_engine)
    up_to = context.as_at_position(as_at)  # the record's own events, read from the store: those up to the position
    emit(record_history(book.read_engine, book.ledger.mapper, access, kind, key, up_to), as_json, _history_lines)


def _history_lines(h: dict[str, Any]) -> list[str]:
    lines = [f"{h['kind']} {' '.join(h['key'])} (aggregate {h['aggregate_id']}): {len(h['events'])} events"]
    for e in h["events"]:
        who = f"{e['actor']} ({e['organisation']})" if e["organisation"] else e["actor"]
        lines.append(
            f"{e['position']:>6}  recorded {e['recorded_at'].isoformat()[:19]}  effective {e['effective_date']}  "
            f"{who}  {e['topic']}"
        )
        lines.append(f"        {e['what']}")
        if e["reason"]:
            lines.append(f"        reason: {e['reason']}")
        for c in e["changes"]:
            old = "—" if c["old"] is None else c["old"]
            new = "—" if c["new"] is None else c["new"]
            lines.append(f"        {c['line']}: {old} -> {new}")
    return lines
