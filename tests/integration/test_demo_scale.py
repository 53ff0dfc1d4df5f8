"""The scale demo (``openbook demo --scale``, ``demo/scale.py``) at CI's size, on SQLite only (its commands are the
ones every other test runs on both databases): it loads through the CLI, every read model equals a replay, each
year is settled, a return breaches the wage floor (explained), the rate reviews owe arrears, the same seed gives the
same history, and a second load is refused.

One small load is shared by the module's tests (they only read it); the determinism check loads a smaller size
twice on its own ledgers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli.main import cli
from demo.scale import AGREEMENT, SIZES, ScaleRun, ScaleSize, load_scale
from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries.checkpoints import latest_recorded_checkpoint

SMALL = SIZES["small"]


def run_cli(url: str, *args: str):
    return CliRunner().invoke(cli, ["--database", url, *args], env={"OPENBOOK_USER": None})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    """The small scale demo loaded by ``openbook demo --scale small --json``: (database URL, its JSON summary)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('scale')}/scale.sqlite"
    result = run_cli(url, "demo", "--scale", "small", "--json")
    assert result.exit_code == 0, result.output
    return url, json.loads(result.stdout)


@pytest.fixture
def book(loaded):
    opened = open_openbook(Database.from_url(loaded[0]))
    yield opened
    opened.close()


def rows(book: Openbook, sql: str) -> list[tuple]:
    with book.read_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_the_small_load_records_every_year_and_its_users_get_the_demo_password(loaded, book):
    _url, summary = loaded
    assert summary["events_recorded"] == book.projections.head() > summary["commands"] > 100
    users = {u["username"] for u in summary["users"]}
    assert {"accountant@northshire.example", "accountant@northshireicb.example", "auditor@northshire-audit.example",
            "finance@ashgrove-homecare.example"} <= users and summary["password"] == "demo"  # fmt: skip
    assert book.security.password_matches("accountant@northshire.example", "demo")
    visits = rows(book, f"SELECT sum(visits) FROM activity_totals WHERE agreement = '{AGREEMENT}'")[0][0]
    assert abs(visits - SMALL.visits_a_year * SMALL.years) <= 12 * SMALL.years  # each month's share, rounded down
    recorded = latest_recorded_checkpoint(book.read_engine)  # the load ends with the auditor's checkpoint of the head
    assert recorded and recorded["recorded_in"] == book.projections.head() == recorded["checkpoint"]["position"] + 1
    assert recorded["recorded_by"] == "auditor@northshire-audit.example (northshire-audit)"


def test_every_read_model_equals_a_replay_of_the_history(book):
    assert read_model_differences(book) == []


def test_each_year_is_settled_and_closed_near_its_target(book):
    settled = rows(book, "SELECT financial_year, status, target, actual FROM settlements ORDER BY financial_year")
    assert [(year, status) for year, status, _t, _a in settled] == [("2019-20", "issued"), ("2020-21", "issued")]
    for _year, _status, target, actual in settled:
        assert 0.8 < float(actual) / float(target) < 1.1  # a plausible year, not the plain demo's far underspend
    assert rows(book, "SELECT financial_year FROM year_ends ORDER BY financial_year") == [("2019-20",), ("2020-21",)]
    assert rows(book, "SELECT count(*) FROM incentive_records")[0][0] > 0


def test_returns_have_an_explained_wage_floor_breach_and_an_answered_query_and_all_are_accepted(book):
    statuses = rows(book, f"SELECT status, count(*) FROM cost_returns WHERE agreement = '{AGREEMENT}' GROUP BY status")
    assert statuses == [("accepted", SMALL.providers * 4 * SMALL.years)]
    breaches = rows(book, "SELECT provider, period, lowest_hourly_pay, nlw_floor FROM cost_returns "
                          "WHERE nlw_breach = 1 AND nlw_explained = 1")  # fmt: skip
    assert ("cedar-lodge-care", "2019-20-Q1") in [(p, q) for p, q, _low, _floor in breaches]
    assert all(float(low) < float(floor) for _p, _q, low, floor in breaches)
    topics = {t for (t,) in rows(book, "SELECT DISTINCT topic FROM stored_events")}
    assert {"openbook:cost-return.queried", "openbook:cost-return.answered"} <= topics


def test_the_april_rate_review_is_backdated_and_owes_arrears_on_the_months_paid_at_the_old_rate(book):
    (year, total, basis), = rows(book, "SELECT financial_year, total, basis FROM arrears_calculations")
    assert year == "2020-21" and float(total) > 0 and "dated up to 2020-05-31" in basis
    old, new = rows(book, "SELECT DISTINCT old_rate, new_rate FROM arrears_lines")[0]
    assert (old, new) == ("15.60", "16.34")  # the uplift calculator on the 2020 wage floor, as the plain demo's


def test_a_second_load_on_the_same_database_is_refused_and_records_nothing(loaded, book):
    head = book.projections.head()
    result = run_cli(loaded[0], "demo", "--scale", "small")
    assert result.exit_code == 1
    assert "northshire-homecare is already in this database" in result.stderr
    assert book.projections.head() == head
    seed_alone = run_cli(loaded[0], "demo", "--seed", "3")
    assert seed_alone.exit_code == 2 and "only the scale demo" in seed_alone.stderr


def test_the_same_seed_gives_the_same_history_and_another_seed_another(tmp_path: Path):
    tiny = ScaleSize(providers=4, years=1, visits_a_year=1_200, months_a_file=2)

    def figures(name: str) -> tuple:
        book = open_openbook(Database.from_url(f"sqlite:///{tmp_path}/{name}.sqlite"))
        try:
            load_scale(book, tiny, seed=7)
            return (
                rows(book, "SELECT topic FROM stored_events ORDER BY notification_id"),
                rows(book, "SELECT statement FROM settlements"),
                rows(book, "SELECT provider, month, visits, payable_minutes, spend_pence FROM activity_totals "
                           "ORDER BY provider, month"),
            )  # fmt: skip
        finally:
            book.close()

    assert figures("first") == figures("second")
    first_rows = list(ScaleRun(tiny, 7).visit_rows(0, 2019, 4))
    assert first_rows == list(ScaleRun(tiny, 7).visit_rows(0, 2019, 4))
    assert first_rows != list(ScaleRun(tiny, 8).visit_rows(0, 2019, 4))
