"""Read models on SQLite and PostgreSQL: every event applied exactly once, whatever fails or races.

Proven here:
- a batch that fails before commit leaves no trace, and the next catch-up
  applies it once (no double count, no skipped event);
- for random command sequences, catching up incrementally in small batches
  gives exactly the tables a full rebuild gives (and what the commands said);
- two runners catching up at once apply each event once between them;
- whatever the ledger records, its read model can store.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, inspect, select, update

import ledger.projections.runner as runner_module
from domain.envelope import SYSTEM, Envelope
from domain.errors import Conflict, InvalidInput, NotFound
from domain.organisations.organisation import Organisation, OrganisationKind
from domain.organisations.user import ROLES_BY_KIND, Role, User
from ledger.bootstrap import Openbook
from ledger.jobs import table as job_table
from ledger.projections.base import Projection, handles
from ledger.projections.organisations import organisations, users
from ledger.projections.runner import ProjectionRunner
from ledger.queries.organisations import list_organisations
from ledger.security import replies as security_replies
from ledger.security import store as security_store
from ledger.security import tokens as security_tokens
from tests.support import ledger_property

# --- a projection that counts what it applies -----------------------------------

topic_counts = Table(
    "test_projection_topic_counts",
    MetaData(),
    Column("topic", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
)


class TopicCounts(Projection):
    """Counts applied events per topic: any double application or skip shows in the counts."""

    name = "test-topic-counts"
    tables = (topic_counts,)

    @handles(Organisation.Registered, Organisation.Renamed, User.Registered, User.RolesChanged, User.Deactivated)
    def count(self, conn: Connection, event: object, position: int) -> None:
        topic = type(event).TOPIC
        bumped = conn.execute(
            update(topic_counts).where(topic_counts.c.topic == topic).values(count=topic_counts.c.count + 1)
        )
        if bumped.rowcount == 0:
            conn.execute(insert(topic_counts).values(topic=topic, count=1))


def counting_runner(book: Openbook) -> ProjectionRunner:
    runner = ProjectionRunner(book.ledger.write_engine, book.ledger.recorder, book.ledger.mapper, [TopicCounts()])
    runner.create_tables()
    return runner


def counted(runner: ProjectionRunner) -> dict[str, int]:
    with runner.engine.connect() as conn:
        return dict(conn.execute(select(topic_counts.c.topic, topic_counts.c.count)).all())


def stored_counts(book: Openbook) -> dict[str, int]:
    return dict(Counter(n.topic for n in book.ledger.recorder.select_notifications(start=None, limit=10_000)))


def env(key: str | None = None) -> Envelope:
    return Envelope(SYSTEM, date(2024, 4, 1), "test", key)


def record_sample(book: Openbook) -> int:
    """Eleven events of four topics; returns the head position."""
    for code, kind in [("council", "council"), ("icb", "icb"), ("acme", "provider"), ("beta", "provider")]:
        book.organisations.register_organisation(env(), code, code.title(), kind)
    book.organisations.rename_organisation(env(), "acme", "Acme Care")
    book.organisations.rename_organisation(env(), "beta", "Beta Care")
    book.organisations.register_user(env(), "ann@council.example", "Ann", "council", ["accountant"])
    book.organisations.register_user(env(), "ian@icb.example", "Ian", "icb", ["auditor"])
    book.organisations.register_user(env(), "pat@acme.example", "Pat", "acme", ["provider"])
    book.organisations.change_user_roles(env(), "ann@council.example", ["accountant", "admin"])
    book.organisations.change_user_roles(env(), "ian@icb.example", ["accountant"])
    return book.ledger.recorder.max_notification_id()


# --- fault injection ------------------------------------------------------------


@pytest.mark.parametrize("failing_batch", [1, 2])
def test_a_batch_that_fails_before_commit_is_applied_exactly_once_later(book, monkeypatch, failing_batch):
    monkeypatch.setattr(runner_module, "BATCH_SIZE", 3)
    head = record_sample(book)
    assert head == 11
    runner = counting_runner(book)
    batches = 0

    def fail_once(conn: Connection) -> None:
        nonlocal batches
        batches += 1
        if batches == failing_batch:
            raise RuntimeError("injected fault before commit")

    runner.before_commit = fail_once
    with pytest.raises(RuntimeError, match="injected fault"):
        runner.catch_up()

    committed = 3 * (failing_batch - 1)  # the batches before the failing one stay applied
    assert sum(counted(runner).values()) == committed
    assert runner.positions() == {TopicCounts.name: committed}

    runner.before_commit = lambda conn: None  # the fault is gone
    assert runner.catch_up() == head - committed

    assert counted(runner) == stored_counts(book)
    assert counted(runner) == {
        Organisation.Registered.TOPIC: 4,
        Organisation.Renamed.TOPIC: 2,
        User.Registered.TOPIC: 3,
        User.RolesChanged.TOPIC: 2,
    }
    assert runner.positions() == {TopicCounts.name: runner.head()} == {TopicCounts.name: head}
    assert runner.catch_up() == 0


# --- incremental catch-up equals a rebuild (property) ------------------------------

CODES = ("org-a", "org-b", "org-c")
USERNAMES = ("ann@a.example", "bob@b.example", "cy@c.example")
# Names of any printable text, blank ones included (refused); control characters are tested below.
names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
role_choices = st.sets(st.sampled_from(sorted(Role)), min_size=1)
commands = st.one_of(
    st.tuples(st.just("register_organisation"), st.sampled_from(CODES), names, st.sampled_from(sorted(OrganisationKind))),
    st.tuples(st.just("rename_organisation"), st.sampled_from(CODES), names),
    st.tuples(st.just("register_user"), st.sampled_from(USERNAMES), st.sampled_from(CODES), role_choices),
    st.tuples(st.just("change_user_roles"), st.sampled_from(USERNAMES), role_choices),
)
# Each command with whether the read model catches up right after it (else later, in bigger batches).
scripts = st.lists(st.tuples(commands, st.booleans()), min_size=1, max_size=14)


class Model:
    """What the read model should show, and which error each command should get."""

    def __init__(self) -> None:
        self.orgs: dict[str, tuple[str, str]] = {}  # code -> (name, kind)
        self.users: dict[str, tuple[str, str]] = {}  # username -> (organisation, roles)

    def allowed(self, code: str, chosen: set[str]) -> list[str]:
        allowed = ROLES_BY_KIND[OrganisationKind(self.orgs[code][1])]
        return sorted(allowed & {Role(r) for r in chosen}) or [min(allowed)]

    def run(self, book: Openbook, command: tuple) -> None:
        match command:
            case ("register_organisation", code, name, kind):
                if code in self.orgs:
                    with pytest.raises(Conflict):
                        book.organisations.register_organisation(env(), code, name, kind)
                elif not name.strip():
                    with pytest.raises(InvalidInput):
                        book.organisations.register_organisation(env(), code, name, kind)
                else:
                    book.organisations.register_organisation(env(), code, name, kind)
                    self.orgs[code] = (name.strip(), kind.value)
            case ("rename_organisation", code, name):
                if code not in self.orgs:
                    with pytest.raises(NotFound):
                        book.organisations.rename_organisation(env(), code, name)
                elif not name.strip():
                    with pytest.raises(InvalidInput):
                        book.organisations.rename_organisation(env(), code, name)
                else:
                    book.organisations.rename_organisation(env(), code, name)
                    self.orgs[code] = (name.strip(), self.orgs[code][1])
            case ("register_user", username, code, chosen):
                if username in self.users:
                    with pytest.raises(Conflict):
                        book.organisations.register_user(env(), username, username.title(), code, chosen)
                elif code not in self.orgs:
                    with pytest.raises(NotFound):
                        book.organisations.register_user(env(), username, username.title(), code, chosen)
                else:
                    roles = self.allowed(code, chosen)
                    book.organisations.register_user(env(), username, username.title(), code, roles)
                    self.users[username] = (code, " ".join(roles))
            case ("change_user_roles", username, chosen):
                if username not in self.users:
                    with pytest.raises(NotFound):
                        book.organisations.change_user_roles(env(), username, chosen)
                else:
                    code = self.users[username][0]
                    roles = self.allowed(code, chosen)
                    book.organisations.change_user_roles(env(), username, roles)
                    self.users[username] = (code, " ".join(roles))


def read_model(book: Openbook) -> tuple[list[tuple], list[tuple]]:
    with book.read_engine.connect() as conn:
        return (
            [tuple(row) for row in conn.execute(select(organisations).order_by(organisations.c.code))],
            [tuple(row) for row in conn.execute(select(users).order_by(users.c.username))],
        )


@ledger_property()
@given(script=scripts)
def test_incremental_catch_up_gives_the_same_tables_as_a_rebuild(fresh_book, monkeypatch, script):
    monkeypatch.setattr(runner_module, "BATCH_SIZE", 2)
    book = fresh_book()
    runner = book.projections
    catch_up = runner.catch_up
    deferred = False
    runner.catch_up = lambda progress=None: 0 if deferred else catch_up(progress)  # type: ignore[method-assign]
    model = Model()

    for command, catch_up_now in script:
        deferred = not catch_up_now
        model.run(book, command)
    catch_up()

    incremental = read_model(book)
    assert set(runner.positions().values()) == {runner.head()}  # every read model, not only this one
    with book.read_engine.connect() as conn:
        shown_orgs = {r.code: (r.name, r.kind) for r in conn.execute(select(organisations))}
        shown_users = {r.username: (r.organisation, r.roles) for r in conn.execute(select(users))}
    assert shown_orgs == model.orgs
    assert shown_users == model.users

    runner.rebuild()

    assert read_model(book) == incremental
    assert set(runner.positions().values()) == {runner.head()}


# --- concurrent runners ---------------------------------------------------------


def test_two_runners_starting_a_new_projection_at_once_apply_each_event_once(open_book):
    """Runner B starts while runner A's first batch (which creates the position row) is uncommitted."""
    a, b = open_book(), open_book()
    head = record_sample(a)
    runner_a, runner_b = counting_runner(a), counting_runner(b)
    in_first_batch = threading.Event()

    def hold_the_batch_open(conn: Connection) -> None:
        in_first_batch.set()
        time.sleep(0.3)

    runner_a.before_commit = hold_the_batch_open
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(a=_catch_up(runner_a)))
    thread.start()
    assert in_first_batch.wait(10)
    outcome["b"] = _catch_up(runner_b)
    thread.join(30)

    assert outcome == {"a": head, "b": 0}
    assert counted(runner_a) == stored_counts(a)
    assert runner_b.positions() == {TopicCounts.name: head}


def test_two_runners_racing_through_many_batches_apply_each_event_once(open_book, monkeypatch):
    monkeypatch.setattr(runner_module, "BATCH_SIZE", 2)
    a, b = open_book(), open_book()
    runner_a, runner_b = counting_runner(a), counting_runner(b)
    runner_a.catch_up()  # nothing to apply yet; the projection's position row now exists
    head = record_sample(a)
    start = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def race(name: str, runner: ProjectionRunner) -> None:
        start.wait()
        outcome[name] = _catch_up(runner)

    threads = [threading.Thread(target=race, args=(n, r)) for n, r in (("a", runner_a), ("b", runner_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(isinstance(applied, int) for applied in outcome.values()), outcome
    assert outcome["a"] + outcome["b"] == head  # between them, each event applied once
    assert counted(runner_a) == stored_counts(a)
    assert runner_b.positions() == {TopicCounts.name: head}


def _catch_up(runner: ProjectionRunner) -> int | str:
    try:
        return runner.catch_up()
    except Exception as e:  # noqa: BLE001 - reported in the assertion
        return f"{type(e).__name__}: {str(e).splitlines()[0]}"


# --- what the ledger records, the read model can hold ----------------------------


@pytest.mark.parametrize("name", ["Acme\x00Care", "A" * 201], ids=["nul-character", "201-characters"])
def test_a_name_the_ledger_accepts_never_stops_the_read_model(book, name):
    """Either the command is refused (InvalidInput, nothing recorded) or the read model shows the name.

    An event the read model cannot store would be recorded and then fail
    every later catch-up: the read model would stop for good.
    """
    try:
        book.organisations.register_organisation(env(), "odd", name, "provider")
    except InvalidInput:
        assert book.ledger.recorder.max_notification_id() is None
    book.organisations.register_organisation(env(), "next", "Next Care", "provider")

    shown = {o["code"]: o["name"] for o in list_organisations(book.read_engine)}
    assert set(book.projections.positions().values()) == {book.projections.head()}
    assert shown["next"] == "Next Care"
    if Organisation.create_id("odd") in book.ledger.repository:
        assert shown["odd"] == name


# --- each table has one owner ---------------------------------------------------------------------


@pytest.mark.empty_database  # it counts the tables a runner makes on a database that has none
def test_a_runner_creates_exactly_the_tables_of_the_projections_it_follows(database):
    """Importing every projection module creates nothing: a ledger following one projection gets its tables only."""
    import ledger.bootstrap  # noqa: F401 - imports every projection module
    from ledger.application import Ledger
    from ledger.projections.organisations import OrganisationsProjection

    ledger = Ledger(database)
    try:
        before = set(inspect(ledger.write_engine).get_table_names())
        ledger.projections.follow(OrganisationsProjection())
        ledger.projections.create_tables()
        created = set(inspect(ledger.write_engine).get_table_names()) - before
    finally:
        ledger.close()
    assert created == {
        "projection_positions", "projection_schemas", "projection_errors", "organisations", "users",
        "organisations__history", "users__history",
    }  # fmt: skip


def test_every_read_model_table_belongs_to_exactly_one_projection(book):
    owners: dict[str, list[str]] = {}
    for projection in book.projections.projections.values():
        for table in projection.stored_tables:
            owners.setdefault(table.name, []).append(projection.name)
    assert {name: found for name, found in owners.items() if len(found) > 1} == {}
    made = set(inspect(book.read_engine).get_table_names())
    assert set(owners) <= made
    # the store: events, their chain and signatures, and the bytes events name by digest (visit chunks, issued documents)
    event_store = {"stored_events", "event_hashes", "idempotency_keys", "openbook_event_signatures", "activity_chunks",
                   "chunk_leases", "documents"}
    # neither events nor read models: background jobs (ledger/jobs/), credentials and sessions (ledger/security/)
    operational = {t.name for t in (*job_table.metadata.sorted_tables, *security_store.metadata.sorted_tables,
                                    *security_tokens.metadata.sorted_tables, *security_replies.metadata.sorted_tables)}
    runner = {"projection_positions", "projection_schemas", "projection_errors"}
    assert made - set(owners) - event_store - operational - runner == set(), "a table no projection owns"


# --- read models built by an older openbook are rebuilt on opening --------------------------------


def _organisation_rows(book: Openbook) -> list[dict]:
    return list_organisations(book.read_engine)


def test_a_projection_whose_definition_changed_is_rebuilt_from_the_history_when_opened(
    open_book, monkeypatch, database
):
    book = open_book()
    book.organisations.register_organisation(env("reg-1"), "wirral-council", "Wirral Council", "council")
    book.organisations.rename_organisation(env("ren-1"), "wirral-council", "Wirral Metropolitan Borough Council")
    before = _organisation_rows(book)
    assert book.projections.create_tables() == []  # unchanged: nothing to rebuild

    from ledger.projections.organisations import OrganisationsProjection

    monkeypatch.setattr(OrganisationsProjection, "version", OrganisationsProjection.version + 1)
    again = open_book()  # opening creates the tables: the organisations' were built with version 1
    assert again.projections.positions()["organisations"] == 0
    assert again.projections.positions()["agreements"] == again.projections.head()
    assert _organisation_rows(again) == []  # emptied, not yet refilled
    again.projections.catch_up()
    assert _organisation_rows(again) == before
    assert again.projections.create_tables() == []


def test_a_database_from_before_fingerprints_has_every_read_model_rebuilt(book, raw_sql):
    book.organisations.register_organisation(env("reg-1"), "wirral-council", "Wirral Council", "council")
    before = _organisation_rows(book)
    raw_sql("DELETE FROM projection_schemas")
    assert sorted(book.projections.create_tables()) == sorted(book.projections.projections)
    book.projections.catch_up()
    assert _organisation_rows(book) == before
