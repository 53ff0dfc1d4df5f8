"""The benchmark harness's figures (``bench/figures.py``) and that the append benchmark's baselines measure the
same events as openbook does (issue 17): a ratio is only meaningful on the same data."""

from __future__ import annotations

import sqlite3

from bench.append import phase_batched, phase_raw, phase_raw_rebuild, phase_rebuild
from bench.figures import figure, table


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
