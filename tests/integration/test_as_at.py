"""Every read model as known at a past position equals an independent replay of the events up to it.

The demo is recorded once per database. For each projection the runner
follows, a second runner on a scratch database of the same kind, reading the
same event store but told the log ends at P, replays the events up to P into
fresh tables; at every position P each versioned table read "as at P"
(``table_at``) must hold exactly the scratch table's rows (every fifth P on PostgreSQL), and "as at the
head" exactly the live table's. Tables whose versions are not kept (the
visits) refuse to answer rather than show today's rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, Unavailable
from ledger.bootstrap import Openbook, open_openbook, read_models
from ledger.persistence.database import Database
from ledger.projections.activity import ActivityProjection, visits
from ledger.projections.base import Projection
from ledger.projections.runner import ProjectionRunner
from ledger.queries.as_at import AsAt, known_at, resolve_as_at, table_at
from tests.support import RUN_TAG, demo_copy, drop_database, maintenance_conninfo

#: Every read model, from the one list of them (the runner follows exactly these; a test below holds it so).
PROJECTIONS = sorted(p.name for p in read_models(None, None))  # type: ignore[arg-type]


class _Databases:
    """Fresh, empty databases of one kind: SQLite files, or PostgreSQL databases named with the run's tag (dropped
    at the end of the module, or with the run's other databases)."""

    def __init__(self, request: pytest.FixtureRequest, folder: Any):
        self.kind, self.folder, self.made = request.param, folder, []
        self.server = request.getfixturevalue("postgres_server_url") if self.kind == "postgres" else None

    def new(self) -> Database:
        name = f"{RUN_TAG}_{uuid.uuid4().hex[:8]}"
        if self.kind == "sqlite":
            return Database.from_url(f"sqlite:///{self.folder}/{name}.sqlite")
        with psycopg.connect(maintenance_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made = Database.from_url(make_url(self.server).set(database=name).render_as_string(hide_password=False))
        self.made.append(made)
        return made

    def drop(self) -> None:
        for database in self.made:
            drop_database(database)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def databases(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[_Databases]:
    made = _Databases(request, tmp_path_factory.mktemp("as_at"))
    yield made
    made.drop()


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Openbook]:
    database = demo_copy(request, databases.kind, databases.folder)
    book = open_openbook(database)
    # The demo records no arrears calculation; one here gives `activity arrears --last` something to show as at P.
    book.activity.calculate_arrears(Envelope(SYSTEM, date(2020, 6, 30), "arrears of the 2020-21 review", None),
                                    "wirral-homecare", "2020-21")  # fmt: skip
    book.checkpoints.record_checkpoint(Envelope(SYSTEM, date(2020, 3, 31), "year-end attestation", None))
    yield book
    book.close()
    drop_database(database)


class _UpTo:
    """The event store as it stood at ``stop``: the scratch runner sees no later event."""

    def __init__(self, recorder: Any, stop: int):
        self.recorder, self.stop = recorder, stop

    def max_notification_id(self) -> int:
        return min(self.recorder.max_notification_id() or 0, self.stop)

    def select_notifications(self, start: int, limit: int, stop: int | None = None, **kwargs: Any) -> Any:
        return self.recorder.select_notifications(start, limit, stop=min(stop or self.stop, self.stop), **kwargs)


class _ChunksOf:
    """The demo's chunk store, read on its own connection (the scratch database has no chunks)."""

    def __init__(self, chunks: Any):
        self.chunks = chunks

    def read(self, digest: str, conn: Any = None) -> str:
        return self.chunks.read(digest)


def _fresh(book: Openbook, name: str) -> Projection:
    """A new instance of the named read model, as the ledger makes them, reading the demo's chunks."""
    activity = book.projections.projections["activity"]
    assert isinstance(activity, ActivityProjection)
    fresh = read_models(book.records, _ChunksOf(activity.chunks))  # type: ignore[arg-type]
    return next(p for p in fresh if p.name == name)


def _rows(engine: Engine, selectable: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return sorted((tuple(row) for row in conn.execute(select(selectable))), key=repr)


def _as_at(book: Openbook, position: int) -> AsAt:
    return resolve_as_at(book.ledger.recorder, book.ledger.mapper, book.read_engine, str(position))


def test_the_projections_listed_are_every_projection_the_ledger_follows(demo):
    assert PROJECTIONS == sorted(demo.projections.projections)


@pytest.mark.parametrize("name", PROJECTIONS)
def test_every_table_as_at_each_position_equals_a_replay_up_to_it(demo, databases, name):
    projection = demo.projections.projections[name]
    head = demo.projections.head()
    scratch = databases.new()
    engine, _reader = scratch.create_engines()
    upto = _UpTo(demo.ledger.recorder, 0)
    runner = ProjectionRunner(engine, upto, demo.ledger.mapper, [_fresh(demo, name)])
    runner.create_tables()
    compared = 0
    try:
        every = 1 if databases.kind == "sqlite" else 5  # PostgreSQL's round trips: every fifth (and the head)
        for position in [*range(0, head, every), head]:
            upto.stop = position
            runner.catch_up()
            as_at = _as_at(demo, position)
            for table in projection.histories:
                expected = _rows(engine, table)
                assert _rows(demo.read_engine, table_at(table, as_at)) == expected, (table.name, position)
                compared += len(expected)
    finally:
        engine.dispose()
        _reader.dispose()
    assert compared > 0, "the demo writes this projection's tables"
    latest = _as_at(demo, head)
    for table in projection.histories:
        assert _rows(demo.read_engine, table_at(table, latest)) == _rows(demo.read_engine, table), table.name


def test_the_history_holds_earlier_versions_not_only_todays(demo):
    """Cost returns went through several states; as at each position, the rows then (not today's) are shown."""
    from ledger.projections.cost_returns import cost_returns

    shown = []
    for position in range(0, demo.projections.head() + 1):
        rows = _rows(known_at(demo.read_engine, _as_at(demo, position)), cost_returns.c.status)
        shown.append(tuple(r[0] for r in rows))
    distinct = list(dict.fromkeys(shown))
    assert distinct[0] == ()  # no return at first
    assert len(distinct) >= 3, distinct  # submitted, then moved on
    assert distinct[-1] == tuple(r[0] for r in _rows(demo.read_engine, cost_returns.c.status))


def test_a_table_whose_versions_are_not_kept_refuses_rather_than_shows_todays_rows(demo):
    as_at = _as_at(demo, 10)
    with pytest.raises(InvalidInput, match="visits is not kept as known at past positions"):
        table_at(visits, as_at)
    with pytest.raises(InvalidInput, match="visits is not kept"), known_at(demo.read_engine, as_at).connect() as conn:
        conn.execute(select(visits.c.visit_id).limit(1))
    assert table_at(visits, None) is visits  # live reads are the table itself


def test_a_read_model_behind_the_position_cannot_answer(databases, demo):
    """A projection that has not applied the events up to P says so instead of showing too little."""
    from ledger.projections.runner import positions
    from ledger.queries.organisations import list_organisations

    head = demo.projections.head()
    with demo.ledger.write_engine.begin() as conn:
        conn.execute(positions.update().where(positions.c.name == "organisations").values(position=head - 1))
    try:
        with pytest.raises(Unavailable, match=f"organisations read model has applied the events up to position {head - 1:,} only"):
            list_organisations(known_at(demo.read_engine, _as_at(demo, head)))
        assert list_organisations(known_at(demo.read_engine, _as_at(demo, head - 1)))  # as far as it got: fine
    finally:
        with demo.ledger.write_engine.begin() as conn:
            conn.execute(positions.update().where(positions.c.name == "organisations").values(position=head))


def _prefix_by(stamps: list[tuple[int, Any]], moment: Any) -> int:
    """Independently: the last position of the longest run of events from the start all recorded by ``moment``."""
    last = 0
    for position, stamp in stamps:
        if stamp > moment:
            break
        last = position
    return last


def test_as_at_a_time_is_the_last_position_recorded_by_then(demo):
    recorder, mapper, engine = demo.ledger.recorder, demo.ledger.mapper, demo.read_engine
    head = demo.projections.head()
    events = recorder.select_notifications(start=1, limit=head)
    stamps = [(n.id, mapper.to_domain_event(n).timestamp) for n in events]
    middle_id, middle_time = stamps[len(stamps) // 2]
    found = resolve_as_at(recorder, mapper, engine, middle_time.isoformat())
    by_then = _prefix_by(stamps, middle_time)
    assert (found.position, found.recorded_at) == (by_then, dict(stamps)[by_then])
    assert middle_id <= found.position
    assert resolve_as_at(recorder, mapper, engine, "2001-01-01").position == 0
    assert resolve_as_at(recorder, mapper, engine, "2999-12-31").position == head
    with pytest.raises(InvalidInput, match="after the last event recorded"):
        resolve_as_at(recorder, mapper, engine, str(head + 1))
    with pytest.raises(InvalidInput, match="neither a position"):
        resolve_as_at(recorder, mapper, engine, "last tuesday")


def test_as_at_a_time_is_exact_when_timestamps_fall_as_positions_rise(book):
    """An event stamped when its command built it can be stored after one stamped later (a slow import on SQLite).

    Positions 1..3 are stamped t2, t1, t3 with t1 < t2 < t3: as at t1 nothing was known yet (position 1 was
    recorded after t1), whatever position 2's own stamp says; as at t2 positions 1 and 2. The same answers come
    from the store when the event index has not applied the events yet.
    """
    from domain.organisations.organisation import Organisation, OrganisationKind
    from ledger.projections.event_index import EventIndexProjection
    from ledger.projections.runner import positions

    envelope = Envelope(SYSTEM, date(2024, 4, 1), "test")
    slow = Organisation.register(envelope, "slow-care", "Slow Care", OrganisationKind.PROVIDER)  # stamped t1
    book.organisations.register_organisation(envelope, "fast-care", "Fast Care", "provider")  # t2, position 1
    book.ledger.save(slow)  # position 2, stamped t1
    book.organisations.register_organisation(envelope, "late-care", "Late Care", "provider")  # t3, position 3
    book.projections.catch_up()
    recorder, mapper, engine = book.ledger.recorder, book.ledger.mapper, book.read_engine
    stamps = [(n.id, mapper.to_domain_event(n).timestamp) for n in recorder.select_notifications(start=1, limit=10)]
    (first, t2), (second, t1), (third, t3) = stamps
    assert t1 < t2 < t3  # the history really is out of order

    moments = (t1 - timedelta(microseconds=1), t1, t2 - timedelta(microseconds=1), t2, t3)

    def resolved() -> list[int]:
        return [resolve_as_at(recorder, mapper, engine, moment.isoformat()).position for moment in moments]

    expected = [0, 0, 0, second, third]
    assert [_prefix_by(stamps, moment) for moment in moments] == expected
    assert resolved() == expected
    assert resolve_as_at(recorder, mapper, engine, t2.isoformat()).recorded_at == t1  # the banner: position 2's stamp
    index = positions.c.name == EventIndexProjection.name
    try:
        for behind in (first, 0):  # the events the index has not applied are read from the store
            with book.ledger.write_engine.begin() as conn:
                conn.execute(positions.update().where(index).values(position=behind))
            assert resolved() == expected
    finally:
        with book.ledger.write_engine.begin() as conn:
            conn.execute(positions.update().where(index).values(position=third))


def test_as_at_a_time_is_one_search_of_the_latest_recorded_at_index_never_a_scan(tmp_path):
    """SQLite's plan for finding the first position recorded after a time: a search of that index, whatever the log."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, insert
    from sqlalchemy.event import listen

    from ledger.projections.event_index import EventIndexProjection, event_index
    from ledger.projections.runner import positions
    from ledger.queries.as_at import _last_recorded_by

    engine = create_engine(f"sqlite:///{tmp_path}/index.sqlite")
    event_index.create(engine)
    positions.create(engine)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    rows = [
        {"position": p, "topic": "t", "aggregate_kind": "k", "aggregate_id": "a", "version": 1, "actor": "x",
         "recorded_at": start + timedelta(seconds=p), "latest_recorded_at": start + timedelta(seconds=p)}
        for p in range(1, 101)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(event_index), rows)
        conn.execute(insert(positions).values(name=EventIndexProjection.name, position=100))
    statements: list[tuple[str, Any]] = []
    listen(engine, "before_cursor_execute", lambda conn, cursor, sql, params, *rest: statements.append((sql, params)))

    assert _last_recorded_by(None, None, engine, start + timedelta(seconds=40.5), 100) == 40
    [(sql, params)] = [(sql, params) for sql, params in statements if "latest_recorded_at >" in sql]
    with engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    searched = "SEARCH event_index USING COVERING INDEX event_index_by_latest_recorded_at (latest_recorded_at>?)"
    assert searched in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
    engine.dispose()


# --- the command line: "what did it show then?" is one command ---------------------------------------


def _cli(book: Openbook, *args: str) -> Any:
    from click.testing import CliRunner

    from cli.main import cli

    url = book.database.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli, ["--database", url, *args], env={"OPENBOOK_USER": None})


def _positions(book: Openbook, topic_part: str) -> list[tuple[int, str, Any]]:
    """(position, topic, event) of every event whose topic contains ``topic_part``, in order."""
    events = book.ledger.recorder.select_notifications(start=1, limit=book.projections.head())
    return [(n.id, n.topic, book.ledger.mapper.to_domain_event(n)) for n in events if topic_part in n.topic]


def test_returns_show_as_at_shows_the_return_as_it_stood_then(demo):
    returns = _positions(demo, "cost-return.")
    drafted = next(p for p, t, e in returns if t.endswith(".drafted") and e.provider == "premier-care")
    premier = next(e.originator_id for p, t, e in returns if p == drafted)
    steps = [(p, t.rsplit(".", 1)[1]) for p, t, e in returns if e.originator_id == premier]
    assert [s for _, s in steps] == ["drafted", "submitted", "accepted"]
    steps = [(p, {"drafted": "draft"}.get(s, s)) for p, s in steps]
    key = ["--agreement", "wirral-homecare", "--provider", "premier-care", "--period", "2019-20-Q1"]

    before = _cli(demo, "returns", "show", *key, "--as-at", str(drafted - 1))
    assert before.exit_code == 1 and "is not filed" in before.stderr
    for position, status in steps:
        shown = _cli(demo, "returns", "show", *key, "--as-at", str(position), "--json")
        assert shown.exit_code == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert data["as_at"]["position"] == position
        assert data["status"] == status
        text = _cli(demo, "returns", "show", *key, "--as-at", str(position)).stdout.splitlines()
        assert text[0].startswith(f"as known at position {position:,} (recorded ")
        assert text[1].endswith(f": {status}")
    assert data["rate"]["average_paid"] is None  # accepted before any activity was imported
    live = json.loads(_cli(demo, "returns", "show", *key, "--json").stdout)
    assert "as_at" not in live and live["rate"]["average_paid"] is not None
    now = json.loads(_cli(demo, "returns", "show", *key, "--as-at", str(demo.projections.head()), "--json").stdout)
    assert now.pop("as_at")["position"] == demo.projections.head()
    assert now == live


def test_market_as_at_counts_the_returns_accepted_by_then(demo):
    accepted = [p for p, t, e in _positions(demo, "cost-return.accepted")]
    providers = []
    for position in (accepted[0] - 1, accepted[1], accepted[3], demo.projections.head()):
        shown = _cli(demo, "market", "--agreement", "wirral-homecare", "--period", "2019-20-Q1", "--as-at",
                     str(position), "--json")  # fmt: skip
        assert shown.exit_code == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert data["as_at"]["position"] == position
        providers.append(data["providers"] if "providers" in data else data)
    live = json.loads(_cli(demo, "market", "--agreement", "wirral-homecare", "--period", "2019-20-Q1", "--json").stdout)
    assert providers[-1] == (live["providers"] if "providers" in live else live)
    assert providers[0] != providers[1] != providers[2]


def test_settle_show_as_at_before_the_draft_says_none_and_at_it_shows_the_draft(demo):
    [(drafted, _topic, _event)] = _positions(demo, "settlement.drafted")
    key = ["--agreement", "wirral-homecare", "--year", "2019-20"]
    before = _cli(demo, "settle", "show", *key, "--as-at", str(drafted - 1))
    assert before.exit_code == 1 and "has been drafted" in before.stderr
    then = json.loads(_cli(demo, "settle", "show", *key, "--as-at", str(drafted), "--json").stdout)
    live = json.loads(_cli(demo, "settle", "show", *key, "--json").stdout)
    assert then.pop("as_at")["position"] == drafted
    assert then == live
    by_time = json.loads(_cli(demo, "settle", "show", *key, "--as-at", "2999-01-01", "--json").stdout)
    assert by_time["as_at"]["position"] == demo.projections.head()


def test_activity_totals_as_at_before_and_after_the_import(demo):
    """The totals are versioned (the visits are not): what was spent is answerable as at any position."""
    imports = [p for p, t, e in _positions(demo, "activity-import.imported") if e.agreement == "wirral-homecare"]
    assert imports, "the demo imports activity"
    key = ["activity", "totals", "--agreement", "wirral-homecare", "--json"]
    before = json.loads(_cli(demo, *key, "--as-at", str(imports[0] - 1)).stdout)
    assert before["rows"] == []
    after = json.loads(_cli(demo, *key, "--as-at", str(imports[0])).stdout)
    assert after["rows"] and all(r["visits"] > 0 for r in after["rows"])
    now = json.loads(_cli(demo, *key, "--as-at", str(demo.projections.head())).stdout)
    assert now["rows"] == json.loads(_cli(demo, *key).stdout)


# --- every read-only view takes --as-at -----------------------------------------------------------------

#: Commands that take no --as-at, and why. Every other command that records nothing (no --effective) must take it.
NOT_AS_AT = {
    "projections status": "the read models' own progress now",
    "projections follow": "catches the read models up",
    "projections rebuild": "rebuilds the read models",
    "rates price": "prices a visit through the one pricing path, from the rate card as recorded now",
    "returns template": "writes a blank file",
    "activity template": "writes a blank file",
    "activity generate": "writes a file of invented visits",
    "activity sweep": "clears abandoned imports",
    "database grant-app-role": "grants a role",
    "keys generate": "makes a key pair",
    "keys show": "reads a key file",
    "checkpoint": "records a checkpoint",
    "export": "writes the history (--from/--to choose positions)",
    "verify": "checks the history",
    "init": "creates the tables",
    "demo": "records the demo",
    "serve": "the web server",
    "worker": "runs queued background jobs",
    "jobs list": "background jobs are operational state beside the history, not in it",
    "jobs show": "background jobs are operational state beside the history, not in it",
    "users invite": "makes a first-login link (credentials are never events)",
    "users set-password": "sets a password (credentials are never events)",
    "users security-log": "the security log is kept apart from the history",
    "statements settlement": "writes a statement file once, of now (the builders take as_at: test_statements)",
    "statements cost": "writes a statement file once, of now (the builders take as_at: test_statements)",
    "statements payment": "writes a statement file once, of now (the builders take as_at: test_statements)",
    "statements incentive": "writes a statement file once, of now (the builders take as_at: test_statements)",
    "statements rate-notice": "writes a statement file once, of now (the builder takes as_at: test_statement_batch)",
    "statements": "the batch writes a period's statement files once, of now (the builders take as_at)",
}

#: Every view that takes --as-at, with arguments that name something in the demo.
WIRRAL = ("--agreement", "wirral-homecare")
VIEWS = [
    ("organisations", "list"),
    ("users", "list"),
    ("events",),
    ("events", "history", "rate-card", "wirral-homecare"),
    ("agreements", "list"),
    ("agreements", "show", "wirral-homecare", "--on", "2020-05-01"),
    ("agreements", "history", "wirral-homecare"),
    ("postcode", "CH45", "3AB", "--on", "2020-05-01"),
    ("rates", "show", *WIRRAL, "--on", "2020-05-01"),
    ("rates", "history", *WIRRAL),
    ("rates", "review", "show", *WIRRAL, "--year", "2020-21"),
    ("rates", "review", "list"),
    ("returns", "show", *WIRRAL, "--provider", "premier-care", "--period", "2019-20-Q1"),
    ("returns", "list", *WIRRAL),
    ("returns", "history", *WIRRAL, "--provider", "premier-care"),
    ("market", *WIRRAL, "--period", "2019-20-Q1"),
    ("activity", "totals", *WIRRAL),
    ("activity", "imports", *WIRRAL),
    ("activity", "arrears", *WIRRAL, "--review", "2020-21", "--last"),
    ("kpis", "dashboard", *WIRRAL),
    ("kpis", "history", *WIRRAL, "--provider", "premier-care", "--period", "2019-20-Q1"),
    ("incentives", "scheme", "show", *WIRRAL),
    ("incentives", "show", *WIRRAL, "--year", "2019-20"),
    ("pool", "show", *WIRRAL, "--year", "2019-20"),
    ("payments", "statement", "--provider", "premier-care", *WIRRAL, "--month", "2019-04"),
    ("payments", "list", *WIRRAL, "--year", "2019-20"),
    ("settle", "list", *WIRRAL),
    ("settle", "show", *WIRRAL, "--year", "2019-20"),
    ("reconcile", *WIRRAL, "--year", "2019-20"),
]


def _commands() -> list[tuple[str, Any]]:
    import click

    from cli.main import cli

    found = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            found.append((" ".join((*path, name)), command))
            if isinstance(command, click.Group):
                walk(command, (*path, name))

    walk(cli, ())
    return found


def _options(command: Any) -> set[str]:
    return {o for p in command.params for o in getattr(p, "opts", [])}


def _command_of(view: tuple[str, ...]) -> str:
    """The command a view's arguments invoke, e.g. ``rates review show``."""
    import click

    from cli.main import cli

    path, group = [], cli
    for word in view:
        if not isinstance(group, click.Group) or word not in group.commands:
            break
        path.append(word)
        group = group.commands[word]
    return " ".join(path)


def test_every_command_that_records_nothing_takes_as_at_and_every_one_is_walked():
    import click

    commands = dict(_commands())
    shows = {
        name
        for name, command in commands.items()
        if "--effective" not in _options(command)  # a command that records takes the envelope's options
        and not (isinstance(command, click.Group) and not command.invoke_without_command)  # a group of commands
        and name not in NOT_AS_AT
    }
    assert sorted(name for name in shows if "--as-at" not in _options(commands[name])) == []
    takes = {name for name, command in commands.items() if "--as-at" in _options(command)}
    assert {_command_of(view) for view in VIEWS} == takes  # the walk below runs every one of them
    assert set(NOT_AS_AT) <= set(commands)  # the exemptions name real commands


@pytest.mark.parametrize("view", VIEWS, ids=[" ".join(v[:3]) for v in VIEWS])
def test_every_view_as_at_a_past_position_says_so_in_text_and_json(demo, view):
    """As at the arrears calculation (the event before the checkpoint): each view answers, says as known when."""
    [(position, _topic, _event)] = _positions(demo, "arrears.calculated")
    assert position < demo.projections.head()
    text = _cli(demo, *view, "--as-at", str(position))
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith(f"as known at position {position:,} (recorded "), text.stdout[:200]
    assert f"asked: {position})" in text.stdout.splitlines()[0]
    shown = _cli(demo, *view, "--as-at", str(position), "--json")
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["as_at"]["position"] == position and data["as_at"]["asked"] == str(position)
    live = _cli(demo, *view, "--json")
    assert live.exit_code == 0, live.stderr
    assert "as_at" not in json.loads(live.stdout) if live.stdout.lstrip().startswith("{") else True
    assert not _cli(demo, *view).stdout.startswith("as known at")


def test_reconcile_as_at_before_the_settlement_was_drafted_compares_no_settlement(demo):
    """The identities as known then: before Wirral 2019-20's settlement was drafted there was none to compare."""
    drafted = [p for p, _topic, e in _positions(demo, "settlement.drafted") if e.agreement == "wirral-homecare"]
    year = ("reconcile", *WIRRAL, "--year", "2019-20")
    assert _json(demo, *year)["settlement"] is not None
    before = _json(demo, *year, "--as-at", str(drafted[0] - 1))
    assert before["settlement"] is None and before["as_at"]["position"] == drafted[0] - 1
    assert _json(demo, *year, "--as-at", str(drafted[0]))["settlement"] == {"sequence": 1, "status": "draft"}


def _json(book: Openbook, *args: str) -> Any:
    shown = _cli(book, *args, "--json")
    assert shown.exit_code == 0, shown.stderr
    return json.loads(shown.stdout)


def test_rates_show_before_the_reviews_decision_shows_the_old_rate(demo):
    [(decided, _t, _e)] = _positions(demo, "rate-review.decided")
    key = ("rates", "show", *WIRRAL, "--on", "2020-05-01")
    zone_1 = lambda rows: [r for r in rows if r["service"] == "standard" and r["zone"] == "zone-1"]  # noqa: E731
    [then] = zone_1(_json(demo, *key, "--as-at", str(decided))["rows"])
    [now] = zone_1(_json(demo, *key))
    assert (then["hourly_rate"], then["effective_from"]) == ("15.60", "2019-04-01")
    assert (now["hourly_rate"], now["effective_from"]) == ("16.34", "2020-04-01")  # the decision's uplift, backdated


def test_pool_show_before_the_pool_was_set_says_none(demo):
    [(set_up, _t, _e)] = _positions(demo, "pooled-budget.set-up")
    key = ("pool", "show", *WIRRAL, "--year", "2019-20")
    before = _cli(demo, *key, "--as-at", str(set_up - 1))
    assert before.exit_code == 1 and "pooled budget of 'wirral-homecare' is not registered" in before.stderr
    at = _json(demo, *key, "--as-at", str(set_up))
    assert at["terms"][0] == "target £12,000,000.00; gain cap £250,000.00, loss cap £250,000.00"


def test_payments_list_before_a_run_lacks_it(demo):
    runs = [p for p, _t, _e in _positions(demo, "payments.run-recorded")]  # the demo pays wirral-homecare only
    key = ("payments", "list", *WIRRAL, "--year", "2019-20")
    first = _json(demo, *key, "--as-at", str(runs[0]))["rows"]
    assert {r["month"] for r in first} == {"2019-04"}
    assert {r["provider"]: r["amount"] for r in first}["premier-care"] == "3069.30"
    assert {r["month"] for r in _json(demo, *key, "--as-at", str(runs[1]))["rows"]} == {"2019-04", "2019-05"}
    assert len({r["month"] for r in _json(demo, *key)}) == len(runs)


def test_events_as_at_lists_the_events_up_to_it_and_a_records_history_then(demo):
    listed = _json(demo, "events", "--limit", "1000", "--as-at", "5")
    assert [e["position"] for e in listed["rows"]] == [p for p in _all_positions(demo) if p <= 5]
    [(decided, _t, _e)] = _positions(demo, "rate-review.decided")
    card = ("events", "history", "rate-card", "wirral-homecare")
    then, now = _json(demo, *card, "--as-at", str(decided)), _json(demo, *card)
    assert then["events"] == [e for e in now["events"] if e["position"] <= decided]
    assert len(then["events"]) < len(now["events"])  # the decision's new rates came after
    inside = _cli(demo, "events", "--as-at", "5", "history", "rate-card", "wirral-homecare")
    assert inside.exit_code == 2 and "give --as-at after `history`" in inside.output


def test_arrears_last_as_at_before_the_calculation_has_none(demo):
    [(calculated, _t, _e)] = _positions(demo, "arrears.calculated")
    key = ("activity", "arrears", *WIRRAL, "--review", "2020-21", "--last")
    before = _cli(demo, *key, "--as-at", str(calculated - 1))
    assert before.exit_code == 1 and "is not registered" in before.stderr
    assert _json(demo, *key, "--as-at", str(calculated))["calculations"] == 1
    recording = _cli(demo, "activity", "arrears", *WIRRAL, "--review", "2020-21", "--as-at", str(calculated))
    assert recording.exit_code == 2 and "give it with --last" in recording.output


def _all_positions(book: Openbook) -> list[int]:
    return [n.id for n in book.ledger.recorder.select_notifications(start=1, limit=book.projections.head())]
