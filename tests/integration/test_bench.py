"""The benchmark harness's figures (``bench/figures.py``), that the append benchmark's baselines measure the
same events as openbook does (issue 17): a ratio is only meaningful on the same data, and the web benchmark's
percentiles and ratios (its run needs gunicorn, PostgreSQL and a loaded demo: a minute, too long for here) and its
pages and concurrent import on the scale demo (on the scale demo's agreement alone: loading even its small size
takes too long for here)."""

from __future__ import annotations

import json
import sqlite3
import statistics

import pytest

from bench.append import phase_batched, phase_raw, phase_raw_rebuild, phase_rebuild
from bench.figures import figure, table
from bench.web import (
    GOAL,
    LIGHT,
    MAIN,
    api_token,
    page_figures,
    percentile,
    scale_data,
    schedule,
    summary,
    visits_file,
)


def test_a_rate_is_held_to_a_floor_and_a_time_to_a_ceiling():
    fast = figure("append", 300.0, 1000.0, "events/s", "10 events", goal=0.33)
    assert (fast["ratio"], fast["goal"], fast["met"]) == (0.3, "≥ 0.33", False)
    quick = figure("read", 0.5, 0.1, "s", "10 rows", goal=10, lower_is_better=True)
    assert (quick["ratio"], quick["goal"], quick["met"]) == (5.0, "≤ 10", True)
    reported = figure("pdf", 2.0, 0.25, "s", "demo", lower_is_better=True)
    assert (reported["ratio"], reported["goal"], reported["met"]) == (8.0, None, None)
    lines = table([fast, quick, reported]).splitlines()
    assert len(lines) == 5
    assert lines[2].split()[-6:] == ["0.300", "≥", "0.33", "NO", "10", "events"]
    assert lines[4].split()[-2:] == ["8.000", "demo"]  # no goal: nothing said met or not


def test_the_baselines_write_and_replay_exactly_the_events_openbook_recorded(tmp_path):
    ledger, raw, replay = (str(tmp_path / n) for n in ("ledger.sqlite", "raw.sqlite", "replay.sqlite"))
    recorded = phase_batched(ledger, "30")
    assert recorded["events"] == 30
    copied = phase_raw(ledger, raw, "1")
    with sqlite3.connect(ledger) as a, sqlite3.connect(raw) as b:
        query = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY notification_id"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert copied["events"] == 30
    rebuilt = phase_rebuild(ledger, replay)
    assert rebuilt["events"] == 30
    with sqlite3.connect(replay) as db:
        assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] == 30
    assert phase_raw_rebuild(ledger, replay)["events"] == 30


def test_web_percentiles_interpolate_between_ranks_as_statistics_does():
    samples = [0.120, 0.010, 0.030, 0.020, 0.500, 0.040, 0.050, 0.060, 0.070, 0.080]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")  # cuts[k - 1] is the k-th percentile
    for q in (50, 95, 99):
        assert percentile(samples, q) == pytest.approx(cuts[q - 1])
    assert (percentile(samples, 0), percentile(samples, 100), percentile([0.3], 95)) == (0.010, 0.500, 0.3)
    with pytest.raises(ValueError):
        percentile([], 50)
    stats = summary(samples)
    assert (stats["requests"], stats["p50_ms"], stats["max_ms"]) == (10, 55.0, 500.0)


def test_each_main_page_p95_is_held_to_three_times_the_light_page_p95_of_the_same_run():
    run = {"pages": {LIGHT.name: {"p95_ms": 20.0}, "market view": {"p95_ms": 70.0}, "rate card": {"p95_ms": 50.0}}}
    held = {f["name"]: f for f in page_figures(run, "tiny", GOAL)}
    assert set(held) == {"web p95: market view", "web p95: rate card"}  # the light page is the baseline, not a row
    assert (held["web p95: market view"]["ratio"], held["web p95: market view"]["met"]) == (3.5, False)
    assert (held["web p95: rate card"]["ratio"], held["web p95: rate card"]["goal"]) == (2.5, "≤ 3.0")
    during = page_figures(run, "tiny", None, when=" (import)")
    assert all(f["met"] is None and f["name"].endswith("(import)") for f in during)


def test_every_client_alternates_the_light_page_with_the_main_pages_from_its_own_start():
    first, third = schedule(MAIN, 0), schedule(MAIN, 2)
    assert first[::2] == [LIGHT] * len(MAIN) and first[1::2] == list(MAIN)
    assert third[1] == MAIN[2] and sorted(p.path for p in third[1::2]) == sorted(p.path for p in MAIN)
    assert schedule((), 3) == [LIGHT]


def test_a_phase_runs_in_its_own_process_and_results_are_kept_where_the_harness_gathers_them(tmp_path, monkeypatch):
    import bench.figures as figures

    ledger = str(tmp_path / "ledger.sqlite")
    assert figures.run_phase("bench.append", "batched", ledger, "3")["events"] == 3  # a fresh `python -m` process
    with pytest.raises(SystemExit, match="bench.append phase nonesuch failed"):
        figures.run_phase("bench.append", "nonesuch")
    monkeypatch.setattr(figures, "RESULTS", tmp_path / "results")
    written = figures.write_results("append", {"figures": [figure("x", 1.0, 2.0, "s", "1")]})
    assert written == tmp_path / "results" / "append.json"
    assert json.loads(written.read_text())["figures"][0]["ratio"] == 0.5


@pytest.fixture(scope="module")
def northshire(tmp_path_factory: pytest.TempPathFactory):
    """A ledger on SQLite holding the small scale demo's first steps: its organisations, users and agreement (zones,
    awards, KPIs, rate card, auditor) and its first year's pool, up to (not including) its first month's visits."""
    from demo.scale import SIZES, scale_steps
    from demo.steps import run_steps
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    steps = scale_steps(SIZES["small"])
    first_visits = next(i for i, (label, _run) in enumerate(steps) if ": visits " in label)
    book = open_openbook(Database.from_url(f"sqlite:///{tmp_path_factory.mktemp('northshire')}/ledger.sqlite"))
    run_steps(book, steps[:first_visits])
    yield book
    book.close()


def test_the_scale_demos_pages_are_the_same_kinds_on_the_app_routes_with_its_own_codes_and_users(northshire, tmp_path):
    from demo.scale import AGREEMENT, SIZES, scale_users
    from tests.web.support import make_app

    data = scale_data("2020-21")
    assert [p.name for p in data.pages] == [p.name for p in MAIN]  # the same kinds of page as the demo's
    assert [p.role for p in data.pages] == [p.role for p in MAIN]
    assert set(data.roles.values()) <= set(scale_users(SIZES["small"])) and set(data.roles) == {
        p.role for p in MAIN if p.role != "api"
    }
    routes = make_app(northshire, tmp_path).url_map.bind("localhost")
    arguments: dict[str, set] = {}
    for page in (LIGHT, *data.pages):
        _endpoint, found = routes.match(page.path, method="GET")  # NotFound: no such page in the app
        for name, value in found.items():
            arguments.setdefault(name, set()).add(value)
    assert arguments == {"agreement": {AGREEMENT}, "period": {"2020-21-Q4"}, "financial_year": {"2020-21"},
                         "sequence": {1}}  # fmt: skip
    assert not any("wirral" in p.path for p in data.pages)


def test_the_concurrent_import_on_the_scale_demo_is_its_accountants_file_of_its_agreements_visits(northshire, tmp_path):
    from domain.envelope import Actor, Envelope

    data = scale_data("2019-20")
    path = visits_file(northshire, str(tmp_path / "more.csv"), 300, seed=1, id_prefix="L", data=data)
    accountant = Actor(data.roles["accountant"], "northshire-council")
    imported = northshire.activity.import_activity(Envelope(accountant, data.imported_on, "benchmark"),
                                                   data.agreement, path)  # fmt: skip
    assert (imported.recorded, imported.visits) == (True, 300)
    assert data.roles["provider"] == "finance@ashgrove-homecare.example"  # its dashboard has visits of its own
    assert "ashgrove-homecare" in {line["provider"] for line in imported.totals}
    token = api_token(northshire, data.roles["accountant"])
    assert northshire.security.tokens.user_of(token) == data.roles["accountant"]
