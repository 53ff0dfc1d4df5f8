"""A read model that cannot apply an event, or a catch-up that fails after a commit, never jams the ledger.

Proven here, on SQLite and PostgreSQL:
- a projection whose handler raises on one event stops just before it, with the
  event and the error in ``openbook projections status --json``; the other read
  models reach the head; commands still record, exit 0 and say how far behind
  the read models are; once the fault is gone the next catch-up applies the
  event and clears the error;
- a catch-up that fails after the commit (a lock wait timed out): exit 0, a
  warning, the event recorded once; a retry with its key records nothing;
- an import whose process died after its commit, before pricing: running it
  again says "already imported" and finishes the totals;
- a command that must compute from a stopped read model is refused
  (Unavailable) and records nothing;
- a follower (``projections follow``, ``serve``'s thread) outlives a failed
  catch-up and applies what other processes record;
- the web app: ``/healthz`` never touches the database, ``/status`` shows how
  far behind each read model is without the error's text, pages say they are
  behind, and a request never replays events.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from domain.activity.activity_import import ActivityImport
from domain.envelope import SYSTEM, Envelope
from domain.errors import Unavailable
from domain.organisations.organisation import Organisation
from ledger.authorisation import access_for
from ledger.bootstrap import Openbook
from ledger.projections.activity import ActivityProjection
from ledger.projections.organisations import OrganisationsProjection
from ledger.projections.runner import ProjectionRunner
from ledger.queries import activity as views
from ledger.queries.organisations import list_organisations
from ledger.settings import Settings
from tests.integration.activity_setup import HAND_VISITS, WIRRAL, imported_on, write_csv
from tests.integration.agreement_setup import wirral
from tests.web.support import log_in
from web.app import create_app

POISON = "Poison Care"
REGISTERED = Organisation.Registered.TOPIC


def set_up(day: date = date(2024, 4, 1)) -> Envelope:
    return Envelope(SYSTEM, day, "test set-up")


def poison_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """The organisations read model fails on the registration of "Poison Care" (a bug in one handler)."""
    original = OrganisationsProjection.registered

    def registered(self: OrganisationsProjection, conn: Connection, e: Organisation.Registered, position: int) -> None:
        if e.name == POISON:
            raise ValueError(f"cannot show the name {e.name!r}")
        original(self, conn, e, position)

    monkeypatch.setattr(OrganisationsProjection, "registered", registered)


def fail_every_batch(conn: Connection) -> None:
    raise RuntimeError("the process died before the read models caught up")


def status_of(book: Openbook) -> dict[str, dict]:
    return {row["name"]: row for row in book.projections.status()}


def codes(book: Openbook) -> list[str]:
    return sorted(o["code"] for o in list_organisations(book.read_engine))


def stored(book: Openbook, topic: str) -> int:
    return sum(n.topic == topic for n in book.ledger.recorder.select_notifications(start=None, limit=10_000))


# -- a poison event stops one read model, not the ledger ---------------------------------------------


def test_a_read_model_stops_just_before_an_event_it_cannot_apply_and_the_others_carry_on(book, monkeypatch):
    book.organisations.register_organisation(set_up(), "wirral-council", "Wirral Council", "council")  # 1
    book.projections.before_commit = fail_every_batch  # these three are recorded; the read models fall behind
    book.organisations.register_organisation(set_up(), "gamma", "Gamma Care", "provider")  # 2
    book.organisations.register_organisation(set_up(), "poison", POISON, "provider")  # 3
    book.organisations.register_organisation(set_up(), "delta", "Delta Care", "provider")  # 4
    book.projections.before_commit = lambda conn: None
    assert {row["position"] for row in book.projections.status()} == {1}
    poison_registrations(monkeypatch)

    # organisations: events 2-4 in one batch, rolled back, then event 2 alone; the event index: events 2-4
    assert book.projections.catch_up() == 4

    shown = status_of(book)
    stopped = shown.pop("organisations")
    assert (stopped["position"], stopped["head"], stopped["lag"]) == (2, 4, 2)
    assert {k: stopped["error"][k] for k in ("position", "topic", "kind", "message")} == {
        "position": 3, "topic": REGISTERED, "kind": "ValueError", "message": "cannot show the name 'Poison Care'",
    }  # fmt: skip
    assert {(row["position"], row["lag"], row["error"]) for row in shown.values()} == {(4, 0, None)}
    assert codes(book) == ["gamma", "wirral-council"]  # what came before the event is applied

    first_failure = status_of(book)["organisations"]["error"]
    assert book.projections.catch_up() == 0  # each catch-up tries the event again
    assert status_of(book)["organisations"]["error"] == first_failure  # the same failure, since then

    monkeypatch.undo()  # the bug is fixed
    assert book.projections.catch_up() == 2
    assert {(row["position"], row["error"]) for row in book.projections.status()} == {(4, None)}
    assert codes(book) == ["delta", "gamma", "poison", "wirral-council"]


def test_a_database_failure_inside_a_handler_is_raised_not_taken_for_a_poison_event(book, monkeypatch):
    book.organisations.register_organisation(set_up(), "wirral-council", "Wirral Council", "council")
    book.projections.before_commit = fail_every_batch  # recorded; the read models fall behind
    book.organisations.register_organisation(set_up(), "gamma", "Gamma Care", "provider")
    book.projections.before_commit = lambda conn: None

    def lock_wait(self: OrganisationsProjection, conn: Connection, e: Organisation.Registered, position: int) -> None:
        raise OperationalError("INSERT INTO organisations ...", {}, Exception("canceling statement: lock timeout"))

    monkeypatch.setattr(OrganisationsProjection, "registered", lock_wait)
    with pytest.raises(OperationalError):  # the database's failure, not the event's: raised, for a retry
        book.projections.catch_up()
    assert status_of(book)["organisations"]["error"] is None  # nothing blames the event
    monkeypatch.undo()
    book.projections.catch_up()
    assert codes(book) == ["gamma", "wirral-council"]


def test_commands_record_and_exit_0_while_a_read_model_is_stopped_and_status_shows_why(openbook, monkeypatch):
    assert openbook("organisations", "register", "wirral-council", "Wirral Council", "--kind", "council").exit_code == 0
    poison_registrations(monkeypatch)

    poisoned = openbook("organisations", "register", "poison", POISON, "--kind", "provider")
    assert poisoned.exit_code == 0, poisoned.output
    assert poisoned.stdout == "registered organisation poison\n"
    behind = "organisations stopped before event 2 (ValueError)"
    assert poisoned.stderr == f"recorded; read models 1 event behind ({behind}); see `openbook projections status`\n"

    later = openbook("organisations", "register", "acme", "Acme Care", "--kind", "provider")
    assert later.exit_code == 0, later.output
    assert later.stderr == f"recorded; read models 2 events behind ({behind}); see `openbook projections status`\n"

    status = openbook("projections", "status", "--json")
    assert status.exit_code == 0 and status.stderr == ""
    rows = {row["name"]: row for row in json.loads(status.stdout)}
    stopped = rows.pop("organisations")
    assert (stopped["position"], stopped["head"], stopped["lag"]) == (1, 3, 2)
    assert stopped["error"]["position"] == 2 and stopped["error"]["topic"] == REGISTERED
    assert stopped["error"]["kind"] == "ValueError"
    assert stopped["error"]["message"] == "cannot show the name 'Poison Care'"
    assert {(row["position"], row["lag"], row["error"]) for row in rows.values()} == {(3, 0, None)}
    text = openbook("projections", "status")
    assert "stopped before event 2 (openbook:organisation.registered)" in text.stdout
    assert "ValueError: cannot show the name 'Poison Care'" in text.stdout

    listed = openbook("organisations", "list", "--json")  # a read: what the read model has, and a note
    assert listed.exit_code == 0
    assert [o["code"] for o in json.loads(listed.stdout)] == ["wirral-council"]
    assert listed.stderr == f"read models 2 events behind ({behind}); see `openbook projections status`\n"

    rebuilt = openbook("projections", "rebuild", "--json")  # a rebuild stops at the same event, and says so
    assert rebuilt.exit_code == 1
    refusal = json.loads(rebuilt.stderr[rebuilt.stderr.index("{"):])["error"]  # after the progress bar
    assert refusal["kind"] == "unavailable" and "organisations at 1 stopped before the head 3" in refusal["message"]
    assert {row["name"]: row["position"] for row in json.loads(rebuilt.stdout)["projections"]}["organisations"] == 1

    monkeypatch.undo()  # the bug is fixed: the next catch-up applies the event and clears the error
    followed = openbook("projections", "follow", "--once", "--json")
    assert followed.exit_code == 0, followed.output
    assert json.loads(followed.stdout)["events_applied"] == 2
    rows = json.loads(openbook("projections", "status", "--json").stdout)
    assert {(row["position"], row["lag"], row["error"]) for row in rows} == {(3, 0, None)}
    listed = openbook("organisations", "list", "--json")
    assert sorted(o["code"] for o in json.loads(listed.stdout)) == ["acme", "poison", "wirral-council"]
    assert listed.stderr == ""


# -- a catch-up that fails after the commit ------------------------------------------------------------


def test_a_catch_up_failing_after_the_commit_still_reports_success_and_records_once(openbook, book, monkeypatch):
    def lock_timeout(self: ProjectionRunner, progress: object = None) -> int:
        raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("canceling statement due to lock timeout"))

    monkeypatch.setattr(ProjectionRunner, "catch_up", lock_timeout)
    args = ("organisations", "register", "acme", "Acme Care", "--kind", "provider", "--key", "acme-1")

    first = openbook(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == "registered organisation acme\n"
    assert first.stderr == "recorded; read models 1 event behind; see `openbook projections status`\n"
    assert stored(book, REGISTERED) == 1

    retried = openbook(*args)  # the user retries with the same key: the first result, nothing new
    assert retried.exit_code == 0 and retried.stdout == (
        "registered organisation acme\n"
        "already recorded (key 'acme-1'): the result above is the first one; nothing new recorded\n"
    )
    assert retried.stderr == "read models 1 event behind; see `openbook projections status`\n"
    assert stored(book, REGISTERED) == 1

    followed = openbook("projections", "follow", "--once")  # a scheduled follower: one line, exit 1
    assert followed.exit_code == 1
    assert followed.stderr.splitlines()[-1] == (
        "error: the read models could not catch up (OperationalError: (builtins.Exception) canceling statement "
        "due to lock timeout); run it again"
    )

    monkeypatch.undo()
    assert codes(book) == []  # a read never replays ...
    again = openbook(*args)  # ... the next command (here the retry) catches up
    assert again.exit_code == 0 and again.stderr == ""
    assert codes(book) == ["acme"] and stored(book, REGISTERED) == 1


def test_an_import_whose_process_died_after_the_commit_is_finished_by_running_it_again(open_book, tmp_path):
    first = open_book()
    wirral(first)
    path = write_csv(tmp_path / "april-july.csv", HAND_VISITS)
    first.projections.before_commit = fail_every_batch

    summary = first.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)

    assert summary.recorded and summary.visits == 5
    assert summary.spend is None  # not priced yet: unknown, not £0.00
    everyone = access_for(first.records, SYSTEM, WIRRAL)
    assert views.totals(first.read_engine, everyone) == []

    again = open_book()  # a new process runs the same import again
    rerun = again.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)

    assert not rerun.recorded and rerun.message.startswith("already imported: this file")
    totals = {r["provider"]: (r["visits"], r["spend"]) for r in views.totals(again.read_engine, everyone)}
    assert totals == {
        "carewatch": (1, D("5.20")),
        "haven-care": (1, D("14.30")),
        "premier-care": (2, D("19.50")),  # 7.80 + 11.70
        "wirral-home-care-alliance": (1, D("10.40")),
    }
    assert stored(again, ActivityImport.Imported.TOPIC) == 1
    assert {row["lag"] for row in again.projections.status()} == {0}


def test_a_command_computing_from_a_stopped_read_model_is_refused_and_records_nothing(book, tmp_path, monkeypatch):
    wirral(book)
    original = ActivityProjection.imported

    def imported(self: ActivityProjection, conn: Connection, e: ActivityImport.Imported, position: int) -> None:
        if e.file_name == "april.csv":
            raise ValueError("a bug in pricing")
        original(self, conn, e, position)

    monkeypatch.setattr(ActivityProjection, "imported", imported)
    april_file = write_csv(tmp_path / "april.csv", HAND_VISITS[:2])
    april = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, april_file)
    assert april.recorded and april.spend is None
    assert status_of(book)["activity"]["error"]["kind"] == "ValueError"
    head = book.projections.head()

    later = write_csv(tmp_path / "later.csv", HAND_VISITS[2:])
    with pytest.raises(Unavailable, match=r"importing later\.csv: the activity read model is stopped at position"):
        book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, later)
    assert book.projections.head() == head

    monkeypatch.undo()  # the bug is fixed, but now the catch-up itself fails (a lock wait timed out)
    book.projections.before_commit = fail_every_batch
    with pytest.raises(Unavailable, match=r"importing later\.csv: the activity read model could not catch up"):
        book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, later)
    assert book.projections.head() == head

    book.projections.before_commit = lambda conn: None
    summary = book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, later)
    assert summary.recorded and summary.spend == D("29.90")  # 14.30 + 5.20 + 10.40
    everyone = access_for(book.records, SYSTEM, WIRRAL)
    assert sum(r["spend"] for r in views.totals(book.read_engine, everyone)) == D("49.40")  # with April's 19.50


def test_a_follower_outlives_a_failed_catch_up_and_applies_what_others_record(open_book, caplog):
    follower, other = open_book(), open_book()
    other.projections.before_commit = fail_every_batch
    other.organisations.register_organisation(set_up(), "acme", "Acme Care", "provider")  # recorded, not applied
    looks = 0

    def lock_wait_on_the_first_look(conn: Connection) -> None:
        nonlocal looks
        looks += 1
        if looks == 1:
            raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("lock wait timed out"))
        if looks > 50:  # never loop for ever in a test
            stop.set()

    follower.projections.before_commit = lock_wait_on_the_first_look
    stop, applied = threading.Event(), []

    def reported(count: int) -> None:
        applied.append(count)
        stop.set()

    follower.projections.keep_up(stop, 0.01, reported)

    assert applied == [2]  # the organisations read model and the event index
    assert "read models could not catch up (trying again in 0.01s): OperationalError" in caplog.text
    assert codes(follower) == ["acme"]


# -- the web app -----------------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database():
    app = create_app({"OPENBOOK": object(), "SETTINGS": Settings(secret_key="test")})  # no ledger behind it at all
    answer = app.test_client().get("/healthz")
    assert (answer.status_code, answer.data, answer.mimetype) == (200, b"ok", "text/plain")


def test_pages_say_how_far_behind_they_are_and_a_request_never_replays(open_book, monkeypatch, tmp_path):
    served = open_book()
    served.organisations.register_organisation(set_up(), "wirral-council", "Wirral Council", "council")
    served.organisations.register_user(set_up(), "admin@wirral.example", "Admin", "wirral-council", ["admin"])
    served.security.set_password("admin@wirral.example", "a long enough password")
    app = create_app({"OPENBOOK": served, "SETTINGS": Settings(secret_key="t" * 64, instance_path=str(tmp_path))})
    client = log_in(app.test_client(), "admin@wirral.example", "a long enough password")
    assert b'class="behind"' not in client.get("/admin/").data
    assert client.get("/status").get_json()["behind"] == 0

    other = open_book()  # another process records, and its catch-up fails
    other.projections.before_commit = fail_every_batch
    other.organisations.register_organisation(set_up(), "acme", "Acme Care", "provider")
    other.organisations.register_organisation(set_up(), "poison", POISON, "provider")

    page = client.get("/admin/")
    assert page.status_code == 200
    assert b'data-behind="2"' in page.data and b"figures shown are 2 events behind the ledger" in page.data
    assert b"Acme Care" not in page.data
    assert {row["position"] for row in served.projections.status()} == {2}  # the request replayed nothing
    status = client.get("/status").get_json()
    assert (status["head"], status["behind"], status["stopped"]) == (4, 2, False)
    assert {(p["name"], p["position"], p["behind"], p["stopped"]) for p in status["projections"]} == {
        (name, 2, 2, None) for name in served.projections.projections
    }

    poison_registrations(monkeypatch)
    other.projections.before_commit = lambda conn: None
    other.projections.catch_up()  # a follower: the organisations read model stops at the poison event

    page = client.get("/admin/")
    assert b"A read model has stopped at an event it could not apply" in page.data
    assert b"figures shown are 1 event behind the ledger" in page.data and b"Acme Care" in page.data
    answer = client.get("/status")
    status = answer.get_json()
    assert (status["behind"], status["stopped"]) == (1, True)
    (stopped,) = [p for p in status["projections"] if p["stopped"]]
    assert stopped["name"] == "organisations" and stopped["position"] == 3
    assert {k: stopped["stopped"][k] for k in ("before_event", "topic", "kind")} == {
        "before_event": 4, "topic": REGISTERED, "kind": "ValueError",
    }  # fmt: skip
    assert b"Poison" not in answer.data  # the error's text may quote the event's data: not for anyone to read
