"""A job as a progress bar and a page show it: whole per cent done, and nothing of its arguments (they name files
on the server)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.envelope import Actor
from ledger.jobs.store import Job

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def job(state: str, done: int, total: int) -> Job:
    return Job(
        id="j1", kind="activity-import", title="import april.csv into wirral-homecare",
        actor=Actor("accountant@wirral.example", "wirral-council"),
        arguments={"path": "/srv/openbook/var/uploads/0f/april.csv"}, state=state, done=done, total=total,
        message="checking rows", result=None, error=None, attempts=1, created_at=WHEN, started_at=WHEN,
        finished_at=None, lease_owner="host:1:ab", lease_expires=WHEN,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "done", "total", "percent"),
    [
        ("queued", 0, 0, 0),  # nothing counted yet
        ("running", 250_000, 1_000_000, 25),
        ("running", 999_999, 1_000_000, 99),  # whole per cent, rounded down: 100 only when done
        ("running", 1_200, 1_000, 100),  # an estimate of rows that came out short never shows more than 100
        ("done", 5, 7, 100),
    ],
)
def test_percent_done(state, done, total, percent):
    assert job(state, done, total).percent == percent


def test_a_job_shown_names_no_file_on_the_server():
    shown = job("running", 1, 2).as_json()
    assert "arguments" not in shown and "/srv/" not in str(shown) and "lease_owner" not in shown
    assert shown["progress"] == {"done": 1, "total": 2, "percent": 50, "message": "checking rows"}
    assert shown["created_at"] == "2026-11-30T12:00:00+00:00"
