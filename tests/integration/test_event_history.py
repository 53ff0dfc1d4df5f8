"""The event browser's query and a record's history, on the demo, on SQLite and PostgreSQL.

The demo records 281 events (positions 1-281). Premier Care's 2019-20-Q1
return is drafted at 155, submitted at 156 and accepted at 157 (revision 1:
contact pay £377,650.00, mileage £58,240.00); Wirral's 2019-20 settlement 1
is drafted at 278 (279 and 280 appoint the audit body, 281 records the demo's
checkpoint). The tests add what the demo stops short of (an amendment,
the settlement's review, approvals and issue) and read them back.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.event import listen

from domain.envelope import SYSTEM, Actor, Envelope
from domain.returns.cost_return import CostReturn
from domain.settlement.settlement import Settlement
from ledger.authorisation import history_access
from ledger.persistence.history import in_utc, read_events
from ledger.projections.event_index import event_index
from ledger.queries.events import EventFilter, event_page
from ledger.queries.rows import read_rows
from tests.support import DEMO_EVENTS, error_line, ok, ok_json

WIRRAL = "wirral-homecare"
RETURN = ("cost-return", WIRRAL, "premier-care", "2019-20-Q1")
COUNCIL = "accountant@wirral.example"
CCG = "accountant@wirralccg.example"
AUDITOR = "auditor@audit.example"
PREMIER = Actor("finance@premiercare.example", "premier-care")


def _amend_premier_care(book) -> None:
    """Reopen the accepted return and file revision 2: contact pay up £2,350.00, mileage down £240.00."""
    council = Actor(COUNCIL, "wirral-council")
    book.returns.reopen_cost_return(
        Envelope(council, date(2019, 9, 2), "mileage double-counted"), WIRRAL, "premier-care", "2019-20-Q1"
    )
    filing = book.returns.cost_return(WIRRAL, "premier-care", "2019-20-Q1").current.filing.to_data()
    filing["lines"] = {**filing["lines"], "contact_pay": "380000.00", "mileage": "58000.00"}
    book.returns.amend_cost_return(
        Envelope(PREMIER, date(2019, 9, 5), "payroll accrual and mileage corrected"),
        WIRRAL, "premier-care", "2019-20-Q1", filing,
    )  # fmt: skip


@pytest.mark.demo
def test_an_amended_cost_return_shows_which_lines_changed_old_and_new(book, openbook):
    _amend_premier_care(book)

    history = ok_json(openbook("events", "history", *RETURN, "--json", as_user=AUDITOR))

    assert history["aggregate_id"] == str(CostReturn.create_id(WIRRAL, "premier-care", "2019-20-Q1"))
    events = history["events"]
    assert [(e["position"], e["topic"].rsplit(".", 1)[1]) for e in events] == [
        (155, "drafted"), (156, "submitted"), (157, "accepted"), (282, "reopened"), (283, "amended"),
    ]  # fmt: skip
    drafted, _submitted, accepted, reopened, amended = events
    assert {"line": "filing.lines.contact_pay", "old": None, "new": "377650.00"} in drafted["changes"]
    assert accepted["changes"] == [
        {"line": "status", "old": "submitted", "new": "accepted"},
        {"line": "accepted_revision", "old": None, "new": "1"},
    ]
    assert reopened["what"] == "reopened: mileage double-counted"
    assert (reopened["actor"], reopened["organisation"], reopened["effective_date"]) == (
        COUNCIL, "wirral-council", "2019-09-02"
    )
    # The amendment: the revision number and exactly the two lines that changed, old -> new.
    assert amended["changes"] == [
        {"line": "revision", "old": "1", "new": "2"},
        {"line": "filing.lines.contact_pay", "old": "377650.00", "new": "380000.00"},
        {"line": "filing.lines.mileage", "old": "58240.00", "new": "58000.00"},
    ]
    assert (amended["what"], amended["reason"], amended["actor"]) == (
        "amended: revision 2", "payroll accrual and mileage corrected", PREMIER.user
    )
    assert amended["recorded_at"] >= reopened["recorded_at"]

    text = ok(openbook("events", "history", *RETURN, as_user=AUDITOR)).stdout
    assert "filing.lines.contact_pay: 377650.00 -> 380000.00" in text
    assert "filing.lines.mileage: 58240.00 -> 58000.00" in text
    assert "reason: payroll accrual and mileage corrected" in text

    # A rate card shows which rate each publication set: zone-1's 2020-21 rate beside its 2019-20 one.
    card = ok_json(openbook("events", "history", "rate-card", WIRRAL, "--json"))["events"]
    assert [e["topic"] for e in card][:2] == ["openbook:rate-card.created", "openbook:rate-card.rate-published"]
    published = [c for e in card for c in e["changes"] if c["line"].startswith("rates.service standard, zone zone-1 ")]
    assert published == [
        {"line": "rates.service standard, zone zone-1 from 2019-04-01", "old": None, "new": "15.60"},
        {"line": "rates.service standard, zone zone-1 from 2020-04-01", "old": None, "new": "16.34"},
    ]


@pytest.mark.demo
def test_unknown_kinds_keys_and_records_are_refused_in_one_line_naming_what_there_is(book, openbook):
    unknown = error_line(openbook("events", "history", "invoice", WIRRAL))
    assert unknown.startswith("error: kind: 'invoice' is not a kind of record; the kinds are activity-import, agreement,")
    assert "cost-return" in unknown and "pooled-budget" in unknown and "rate-card" in unknown
    short = error_line(openbook("events", "history", "cost-return", WIRRAL, "premier-care"))
    assert short == (
        "error: key: a cost-return is named by AGREEMENT PROVIDER PERIOD, not wirral-homecare premier-care"
    )
    assert error_line(openbook("events", "history", "settlement", WIRRAL, "2019-20", "2")) == (
        "error: no settlement wirral-homecare 2019-20 2 is recorded"
    )
    bad_period = openbook("events", "history", "cost-return", WIRRAL, "premier-care", "2019-Q1", "--json")
    assert json.loads(bad_period.stderr)["error"]["kind"] == "invalid-input"
    refused = openbook("events", "history", *RETURN, "--json", as_user=COUNCIL)
    assert refused.exit_code == 1 and json.loads(refused.stderr)["error"]["kind"] == "not-allowed"
    bad_type = error_line(openbook("events", "--type", "invoice"))
    assert bad_type.startswith("error: --type: 'invoice' is neither a kind of record nor an event type; the kinds are")


@pytest.mark.demo
def test_a_settlements_history_lists_its_draft_review_approvals_and_issue(book, openbook):
    common = ["--agreement", WIRRAL, "--year", "2019-20", "--number", "1"]
    ok(openbook("settle", "review", *common, "--note", "checked", "--effective", "2020-07-01", as_user=CCG))
    ok(openbook("settle", "approve", *common, "--effective", "2020-07-02", as_user=COUNCIL))
    ok(openbook("settle", "approve", *common, "--effective", "2020-07-03", as_user=CCG))
    ok(openbook("settle", "issue", *common, "--effective", "2020-07-06", "--reason", "signed", as_user=COUNCIL))

    history = ok_json(openbook("events", "history", "settlement", WIRRAL, "2019-20", "1", "--json", as_user=AUDITOR))

    assert history["aggregate_id"] == str(Settlement.create_id(WIRRAL, "2019-20", 1))
    shown = [(e["position"], e["topic"], e["actor"], e["effective_date"]) for e in history["events"]]
    assert shown == [
        (278, "openbook:settlement.drafted", COUNCIL, "2020-06-30"),
        (282, "openbook:settlement.reviewed", CCG, "2020-07-01"),
        (283, "openbook:settlement.approved", COUNCIL, "2020-07-02"),
        (284, "openbook:settlement.approved", CCG, "2020-07-03"),
        (285, "openbook:settlement.issued", COUNCIL, "2020-07-06"),
    ]
    drafted, reviewed, by_council, by_ccg, issued = history["events"]
    assert {"line": "inputs.target", "old": None, "new": "12000000.00"} in drafted["changes"]
    assert {"line": "reviewed.note", "old": None, "new": "checked"} in reviewed["changes"]
    assert by_council["what"] == "approved: commissioner wirral-council"
    assert {"line": "approvals.wirral-council.user", "old": None, "new": COUNCIL} in by_council["changes"]
    assert {"line": "approvals.wirral-ccg.user", "old": None, "new": CCG} in by_ccg["changes"]
    assert all(not c["line"].startswith("approvals.wirral-council") for c in by_ccg["changes"])
    assert (issued["what"], issued["reason"]) == ("issued", "signed")
    assert {"line": "issued.on", "old": None, "new": "2020-07-06"} in issued["changes"]

    # An agreement's contributions, by commissioner and year; a pool's terms.
    agreement = ok_json(openbook("events", "history", "agreement", WIRRAL, "--json"))["events"]
    contributions = [c for e in agreement for c in e["changes"] if c["line"].startswith("contributions.")]
    assert contributions == [
        {"line": "contributions.wirral-council 2019-20", "old": None, "new": "7200000.00"},
        {"line": "contributions.wirral-ccg 2019-20", "old": None, "new": "4800000.00"},
    ]
    (pool,) = ok_json(openbook("events", "history", "pooled-budget", WIRRAL, "2019-20", "--json"))["events"]
    assert {"line": "terms.target", "old": None, "new": "12000000.00"} in pool["changes"]

    # The event browser finds the same five by the settlement's aggregate id, and by kind.
    by_aggregate = ok_json(openbook("events", "--aggregate", history["aggregate_id"], "--json", as_user=AUDITOR))
    assert [e["position"] for e in by_aggregate] == [278, 282, 283, 284, 285]
    by_kind = ok_json(openbook("events", "--type", "settlement", "--json"))
    assert [e["position"] for e in by_kind] == [278, 282, 283, 284, 285]
    approvals = ok_json(openbook("events", "--type", "settlement.approved", "--organisation", "wirral-ccg", "--json"))
    assert [(e["position"], e["payload"]["commissioner"]) for e in approvals] == [(284, "wirral-ccg")]


@pytest.mark.demo
def test_each_filter_narrows_to_exactly_the_matching_events_and_pages_cover_each_once(book, openbook):
    access = history_access(book.records, SYSTEM, book.read_engine)
    everything = read_events(book.ledger.recorder, book.ledger.mapper, limit=10_000)  # the store itself
    assert len(everything) == DEMO_EVENTS
    indexed = read_rows(book.read_engine, event_index.select().order_by(event_index.c.position))
    assert [r["position"] for r in indexed] == [e.position for e in everything]  # one row per event, none missed
    assert [(r["topic"], r["actor"], r["organisation"], r["effective_date"], r["reason"]) for r in indexed] == [
        (e.topic, e.actor, e.organisation, e.effective_date, e.reason) for e in everything
    ]
    assert [in_utc(r["recorded_at"]) for r in indexed] == [in_utc(e.recorded_at) for e in everything]

    moments = sorted(in_utc(e.recorded_at) for e in everything)
    early, late = moments[60], moments[170]
    cost_return = str(CostReturn.create_id(WIRRAL, "premier-care", "2019-20-Q1"))
    cases = {
        "aggregate": (EventFilter(aggregate_id=cost_return), lambda e: str(e.aggregate_id) == cost_return),
        "topic": (
            EventFilter(topics=["openbook:cost-return.accepted", "openbook:rate-card.rate-published"]),
            lambda e: e.topic in {"openbook:cost-return.accepted", "openbook:rate-card.rate-published"},
        ),
        "kind": (EventFilter(kinds=["rate-review"]), lambda e: e.topic.startswith("openbook:rate-review.")),
        "actor": (EventFilter(actor=COUNCIL), lambda e: e.actor == COUNCIL),
        "organisation": (EventFilter(organisation="premier-care"), lambda e: e.organisation == "premier-care"),
        "effective": (
            EventFilter(effective_from=date(2019, 7, 1), effective_to=date(2019, 9, 30)),
            lambda e: date(2019, 7, 1) <= e.effective_date <= date(2019, 9, 30),
        ),
        "recorded": (
            EventFilter(recorded_from=early, recorded_to=late),
            lambda e: early <= in_utc(e.recorded_at) <= late,
        ),
        "combined": (
            EventFilter(kinds=["cost-return"], organisation="wirral-council", effective_from=date(2019, 8, 1)),
            lambda e: e.topic.startswith("openbook:cost-return.")
            and e.organisation == "wirral-council"
            and e.effective_date >= date(2019, 8, 1),
        ),
    }
    for name, (where, matches) in cases.items():
        expected = [e.position for e in everything if matches(e)]
        assert 0 < len(expected) < DEMO_EVENTS, (name, len(expected))  # each filter really narrows
        assert [r["position"] for r in event_page(book.read_engine, access, where, limit=1000)] == expected, name
        assert _paged(book, access, where, 7) == expected, name  # keyset pages: every event exactly once

    assert _paged(book, access, EventFilter(), 13) == [e.position for e in everything]
    tomorrow = (late + timedelta(days=1)).date().isoformat()
    after_today = openbook("events", "--recorded-from", tomorrow, "--json")
    assert ok_json(after_today) == []

    # The command line's filters are the query's: one page of the council's August-September events.
    shown = ok_json(openbook(
        "events", "--actor", COUNCIL, "--effective-from", "2019-08-01", "--effective-to", "2019-09-30",
        "--limit", "3", "--after", "100", "--json", as_user=AUDITOR,
    ))  # fmt: skip
    expected = [
        e for e in everything
        if e.position > 100 and e.actor == COUNCIL and date(2019, 8, 1) <= e.effective_date <= date(2019, 9, 30)
    ][:3]  # fmt: skip
    assert shown == [json.loads(json.dumps(e.as_json())) for e in expected]
    assert len(shown) == 3


def _paged(book, access, where: EventFilter, size: int) -> list[int]:
    """Every position matching ``where``, page by page: each page starts after the last position of the one before."""
    seen: list[int] = []
    after = 0
    while page := event_page(book.read_engine, access, where, after=after, limit=size):
        assert len(page) <= size
        seen.extend(r["position"] for r in page)
        after = page[-1]["position"]
    return seen


def test_every_filter_of_a_page_searches_an_index_never_scans_the_table(tmp_path):
    """SQLite's plan for each filter's page: an index search (the bench measures it at 1,000,000 rows)."""
    engine = create_engine(f"sqlite:///{tmp_path}/index.sqlite")
    event_index.create(engine)
    access = history_access(None, SYSTEM, None)  # the operator: no records are looked up
    statements: list[tuple[str, tuple]] = []
    listen(engine, "before_cursor_execute", lambda conn, cursor, sql, params, *rest: statements.append((sql, params)))
    moment = datetime(2026, 11, 30, tzinfo=UTC)
    cases = {
        "aggregate": (EventFilter(aggregate_id="9539cf02-4668-5862-ba4f-494a35075142"), "event_index_by_aggregate"),
        "topic": (EventFilter(topics=["openbook:cost-return.amended"]), "event_index_by_topic"),
        "kind": (EventFilter(kinds=["settlement"]), "event_index_by_kind"),
        "actor": (EventFilter(actor=COUNCIL), "event_index_by_actor"),
        "organisation": (EventFilter(organisation="premier-care"), "event_index_by_organisation"),
        "effective": (EventFilter(effective_from=date(2019, 7, 1), effective_to=date(2019, 7, 31)),
                      "event_index_by_effective_date"),
        "recorded": (EventFilter(recorded_from=moment, recorded_to=moment + timedelta(days=1)),
                     "event_index_by_recorded_at"),
    }
    for name, (where, index) in cases.items():
        event_page(engine, access, where, after=100, limit=50)
        sql, params = statements[-1]
        with engine.connect() as conn:
            plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
        assert f"SEARCH event_index USING INDEX {index} " in plan, (name, plan)
        assert "SCAN event_index" not in plan, (name, plan)
    engine.dispose()
