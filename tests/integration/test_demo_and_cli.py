"""The demo data and the ``openbook`` command line, on SQLite and PostgreSQL.

Proven here: loading the demo twice records it once; the CLI's JSON output
carries the real figures; every error is one line starting "error:" and exit
status 1, and a bad database URL is named (password hidden).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from click.testing import CliRunner

from cli.main import cli
from demo.partnerships import ORGANISATIONS, USERS, load_demo, steps
from domain.envelope import SYSTEM, Envelope
from domain.organisations.organisation import Organisation
from ledger.application import Ledger
from ledger.queries.organisations import list_organisations, list_users
from ledger.records import Records
from ledger.usecases.organisations import OrganisationUseCases
from tests.support import ok_json

DEMO_CODES = sorted(o.code for o in ORGANISATIONS)
#: Organisations to Wirral's 2019-20 settlement: the demo's one list of steps. 166 = 130 + Wirral's 2019-20
#: incentive scheme, its KPI results file and its assessment (demo.wirral_incentives) + Q2 to Q4 returns of the
#: five providers whose Q1 was accepted (demo.returns.LATER_QUARTERS: 3 × (5 filed + 5 accepted + 1 explained)).
DEMO_COMMANDS = 166
#: Some commands record several events; the settlement demo adds a pool, activity and payments. 278 = 212 + the
#: scheme (1) + the KPI results (4 providers × (opened + 3 results) = 16) + the assessment (1) + the later
#: quarters (3 × (5 × (drafted + submitted + accepted) + 1 explained) = 48).
DEMO_EVENTS = 278


def test_loading_the_demo_twice_records_it_once(book):
    assert len(ORGANISATIONS) == 15 and len(USERS) == 7

    assert len(steps()) == load_demo(book) == DEMO_COMMANDS  # every step, in one list (what the progress bar counts)
    head = book.ledger.recorder.max_notification_id()
    assert head == DEMO_EVENTS

    assert load_demo(book) == DEMO_COMMANDS  # every step ran again ...
    assert book.ledger.recorder.max_notification_id() == head  # ... and recorded nothing

    shown = list_organisations(book.read_engine)
    assert sorted(o["code"] for o in shown) == DEMO_CODES
    members = {o["code"] for o in shown if o["member_of"] == "wirral-home-care-alliance"}
    assert members == {"community-caring", "professional-carers", "aspire"}
    assert len(list_users(book.read_engine)) == 11
    assert set(book.projections.positions().values()) == {head}


def events_read_by_the_projections(book) -> int:
    """How many (projection, event) pairs a full replay applies: each projection reads only its topics."""
    topics = Counter(n.topic for n in book.ledger.recorder.select_notifications(start=None, limit=10_000))
    return sum(topics[t] for p in book.projections.projections.values() for t in p.topics)


def test_the_cli_loads_lists_shows_events_and_rebuilds(openbook, database, open_book):
    loaded = ok_json(openbook("demo", "--json"))
    assert loaded["commands"] == DEMO_COMMANDS and loaded["events_recorded"] == DEMO_EVENTS
    assert loaded["database"] == str(database)
    assert ok_json(openbook("demo", "--json"))["events_recorded"] == 0

    listed = ok_json(openbook("organisations", "list", "--json"))
    assert sorted(o["code"] for o in listed) == DEMO_CODES
    councils = ok_json(openbook("organisations", "list", "--kind", "council", "--json"))
    assert sorted((o["code"], o["name"]) for o in councils) == [
        ("herefordshire-council", "Herefordshire Council"),
        ("wirral-council", "Wirral Council"),
    ]
    assert {o["effective_date"] for o in councils} == {"2017-04-01", "2019-04-01"}

    events = ok_json(openbook("events", "--json", "--limit", "3"))
    assert [e["position"] for e in events] == [1, 2, 3]
    assert {e["topic"] for e in events} == {Organisation.Registered.TOPIC}
    assert [e["payload"]["code"] for e in events] == [o.code for o in ORGANISATIONS[:3]]
    assert events[0]["aggregate_id"] == str(Organisation.create_id("wirral-council"))
    assert events[0]["actor"] == "system" and events[0]["reason"] == "demo data"
    assert events[0]["idempotency_key"] == "demo:organisation:wirral-council"

    rebuilt = ok_json(openbook("projections", "rebuild", "--json"))
    assert rebuilt["head"] == DEMO_EVENTS
    assert "organisations" in rebuilt["positions"]
    assert set(rebuilt["positions"].values()) == {DEMO_EVENTS}  # every read model replayed to the head
    assert rebuilt["events_applied"] == events_read_by_the_projections(open_book())
    assert ok_json(openbook("organisations", "list", "--json")) == listed


def test_a_refused_command_prints_one_error_line_and_exits_1(openbook):
    ok_json(openbook("demo", "--json"))

    result = openbook("organisations", "register", "wirral-council", "Another Council", "--kind", "council")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["error: organisation 'wirral-council' is already registered"]
    assert len(ok_json(openbook("events", "--json", "--limit", "1000"))) == DEMO_EVENTS

    # With --json the error is JSON on stderr, with its stable kind; stdout stays empty.
    result = openbook("organisations", "register", "wirral-council", "Another Council", "--kind", "council", "--json")
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(result.stderr) == {
        "error": {
            "kind": "conflict",
            "message": "organisation 'wirral-council' is already registered",
            "problems": ["organisation 'wirral-council' is already registered"],
        }
    }


def test_projections_status_follow_and_rebuild(openbook, open_book, database):
    """Another process records; status shows each read model behind; follow catches up."""
    ok_json(openbook("demo", "--json"))
    status = ok_json(openbook("projections", "status", "--json"))
    assert {row["name"]: (row["position"], row["lag"]) for row in status} == {
        name: (DEMO_EVENTS, 0) for name in open_book().projections.projections
    }

    # A ledger that follows no read model records, leaving them all behind.
    ledger = Ledger(database)
    try:
        OrganisationUseCases(ledger, Records(ledger.repository)).register_organisation(
            Envelope(SYSTEM, date(2022, 7, 1)), "cheshire-icb", "NHS Cheshire and Merseyside ICB", "icb"
        )
    finally:
        ledger.close()
    behind = {row["name"]: row["lag"] for row in ok_json(openbook("projections", "status", "--json"))}
    assert behind["organisations"] == 1 and set(behind.values()) == {1}

    followed = ok_json(openbook("projections", "follow", "--once", "--json"))
    assert followed["events_applied"] == 2  # the organisations read model and the event index read that event
    assert {row["lag"] for row in followed["projections"]} == {0}
    assert "cheshire-icb" in {o["code"] for o in ok_json(openbook("organisations", "list", "--json"))}

    text = openbook("projections", "status")
    assert text.exit_code == 0 and "organisations" in text.stdout and f"position {DEMO_EVENTS + 1:,}" in text.stdout


def test_an_unknown_projection_is_an_error_line_too(openbook):
    result = openbook("projections", "rebuild", "--projection", "nope")

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: unknown projection(s) nope") and "organisations" in line


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("nonsense", "'nonsense'"),
        ("postgresql://postgres:s3cret@127.0.0.1:1/nowhere", "postgresql://postgres:***@127.0.0.1:1/nowhere"),
    ],
    ids=["not-a-url", "unreachable-server"],
)
def test_a_bad_database_url_is_one_line_naming_it(url, named):
    result = CliRunner().invoke(cli, ["--database", url, "organisations", "list"])

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and named in line
    assert "s3cret" not in result.output
