"""The event browser: the recorded history page by page, filtered, and one event's envelope and payload.

The page is ``ledger.queries.events.event_page`` with the filters the form
sends (the same query ``openbook events`` runs), paged by position: "next
page" asks for the events after the last position shown, "previous page"
for those before the first, read backwards on the same index (keyset, never
OFFSET), so a deep page costs what the first did. Who may read the history, and
which of its events, is the ledger's rule (``history_access``): an auditor sees
the events of the agreements their audit body is appointed to; one appointed to
none gets 404 (NotFound), any other role 403 (NotAllowed), from the ledger.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from flask import render_template, request
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.fields import DateField
from wtforms.validators import NumberRange, Optional, ValidationError

from domain.bounds import MAX_POSITION
from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.audit.record_history import RECORD_KINDS
from ledger.authorisation import history_access
from ledger.persistence.history import aggregate_kind
from ledger.projections.event_index import event_topics
from ledger.queries.events import EventFilter, event_at, event_page, recorded_days
from web import as_at, navigation
from web.access import allow, current_actor
from web.auditor import bp
from web.services import book_of
from web.tables import Column, table

#: Events on one page of the browser.
PAGE_SIZE = 50

bp.record_once(lambda state: navigation.add(state.app, "Event history", "auditor.events", Role.AUDITOR))


def _is_uuid(_form: Form, field: StringField) -> None:
    if field.data:
        try:
            UUID(field.data)
        except ValueError:
            raise ValidationError(f"{field.data!r} is not an aggregate id (a UUID)") from None


def type_choices() -> list[tuple[str, str]]:
    """Every kind of record ("cost-return": all its events) and every event type, for the "type" filter."""
    kinds = [(kind, f"any {kind} event") for kind in sorted(RECORD_KINDS)]
    topics = [(topic, topic.removeprefix("openbook:")) for topic in sorted(event_topics())]
    return [("", "any type"), *kinds, *topics]


class EventFilterForm(Form):
    """The browser's filters, sent as a GET query (nothing is recorded, so no CSRF token)."""

    type = SelectField("Kind of record or event type", validators=[Optional()])
    aggregate = StringField("Aggregate id", validators=[Optional(), _is_uuid])
    actor = StringField("Recorded by (username)", validators=[Optional()])
    organisation = StringField("Recorded by someone of (organisation code)", validators=[Optional()])
    effective_from = DateField("Effective from", validators=[Optional()])
    effective_to = DateField("Effective to", validators=[Optional()])
    recorded_from = DateField("Recorded from (UTC day)", validators=[Optional()])
    recorded_to = DateField("Recorded to (UTC day, inclusive)", validators=[Optional()])
    after = IntegerField("After position", default=0, validators=[Optional(), NumberRange(0, MAX_POSITION)])
    #: Set by the "previous page" link only: the page of events just before this position.
    before = IntegerField("Before position", validators=[Optional(), NumberRange(1, MAX_POSITION)])

    def event_filter(self) -> EventFilter:
        chosen = self.type.data or ""
        recorded_from, recorded_to = recorded_days(self.recorded_from.data, self.recorded_to.data)
        return EventFilter(
            aggregate_id=str(UUID(self.aggregate.data)) if self.aggregate.data else None,
            topics=(chosen,) if chosen.startswith("openbook:") else (),
            kinds=(chosen,) if chosen in RECORD_KINDS else (),
            actor=self.actor.data or None,
            organisation=self.organisation.data or None,
            effective_from=self.effective_from.data,
            effective_to=self.effective_to.data,
            recorded_from=recorded_from,
            recorded_to=recorded_to,
        )


COLUMNS = (
    Column("position", "Position", "number"),
    Column("recorded_at", "Recorded at (UTC)"),
    Column("effective_date", "Effective date", "date"),
    Column("topic", "Topic"),
    Column("aggregate_id", "Aggregate"),
    Column("actor", "Actor"),
    Column("reason", "Reason"),
)


@bp.get("/events")
@allow(Role.AUDITOR)
def events() -> tuple[str, int] | str:
    book = book_of()
    access = history_access(book.records, current_actor(), book.read_engine)
    form = EventFilterForm(request.args)
    form.type.choices = type_choices()
    if request.args and not form.validate():
        return render_template("auditor/events/list.html", form=form, events=None, next_args=None), 400
    engine, where = as_at.read_engine(), form.event_filter()
    after, before = form.after.data or 0, form.before.data
    if before is not None:  # the previous page: the events just before, and whether any come before those
        found = event_page(engine, access, where, before=before, limit=PAGE_SIZE + 1)
        page, more = found[-PAGE_SIZE:], True  # the page it was asked from follows
        earlier = len(found) > PAGE_SIZE
    else:
        found = event_page(engine, access, where, after=after, limit=PAGE_SIZE + 1)
        page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        earlier = bool(page) and bool(event_page(engine, access, where, before=page[0]["position"], limit=1))
    rows = [
        {**row, "recorded_at": row["recorded_at"].isoformat(timespec="seconds"), "reason": row.get("reason") or ""}
        for row in page
    ]
    span = (f"at positions {page[0]['position']:,} to {page[-1]['position']:,}" if page
            else f"after position {after:,}")  # fmt: skip
    caption = f"Events {span}: this page, {len(rows)} of at most {PAGE_SIZE} (so are its downloads)"
    shown = table("events", caption, COLUMNS, rows)
    asked = {k: v for k, v in request.args.to_dict().items() if k not in ("after", "before")}
    # The next page follows the last event shown; from an empty previous page (before the first event matching),
    # it is the page the link was followed from.
    following = page[-1]["position"] if page else (before - 1 if before is not None else None)
    next_args = {**asked, "after": str(following)} if more and following is not None else None
    previous_args = {**asked, "before": str(page[0]["position"])} if earlier else None
    first_args = asked if earlier else None
    return render_template("auditor/events/list.html", form=form, events=shown, next_args=next_args,
                           previous_args=previous_args, first_args=first_args)  # fmt: skip


def payload_items(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The payload's fields as (name, text): plain values as they are, nested ones as indented JSON."""
    return [
        (name, value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False))
        for name, value in payload.items()
    ]


@bp.get(f"/events/<int(max={MAX_POSITION}):position>")
@allow(Role.AUDITOR)
def event(position: int) -> str:
    book = book_of()
    access = history_access(book.records, current_actor(), book.read_engine)
    known = as_at.current()  # a recorded event never changes: as at P, the events up to P are as they are now
    shown = event_at(book, access, position, up_to=None if known is None else known.position)
    if shown is None:
        raise NotFound(f"no event is recorded at position {position}")
    kind = aggregate_kind(shown["topic"])
    return render_template(
        "auditor/events/event.html", event=shown, payload=payload_items(shown["payload"]), kind=kind if kind in RECORD_KINDS else None,
        chain_hash=shown["chain_hash"],
    )
