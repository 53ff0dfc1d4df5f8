"""``openbook activity import --background``, ``openbook worker --once`` and ``openbook jobs list|show`` on the demo,
on SQLite and PostgreSQL: the file is queued as a copy, the worker imports it and removes the copy, the operator
and the council's accountant see the job and its outcome (a bad file's problems by row and column), and a
provider's user sees none of it."""

from __future__ import annotations

import pytest

from tests.integration.activity_setup import WIRRAL, visit, write_csv
from tests.support import error_line, ok, ok_json

ACCOUNTANT = "accountant@wirral.example"
PROVIDER = "finance@premiercare.example"
COUNCIL_ADMIN = "admin@wirral.example"  # a commissioner's admin: activity is its accountants' to import

ROWS = [
    visit("J1", "premier-care", "CH41 2AB", "2019-04-01", 30, 30),
    visit("J2", "premier-care", "CH44 1AA", "2019-04-02", 30, 45),
    visit("J3", "haven-care", "CH60 3XY", "2019-05-10", 60, 55),
]


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBOOK_INSTANCE", str(tmp_path / "instance"))
    return tmp_path / "instance" / "uploads"


def test_a_queued_import_is_run_by_the_worker_and_shown_by_openbook_jobs(openbook, tmp_path, uploads):
    ok(openbook("demo"))
    path = write_csv(tmp_path / "april.csv", ROWS)
    queued = ok_json(openbook("activity", "import", str(path), "--agreement", WIRRAL, "--background", "--json",
                              as_user=ACCOUNTANT))  # fmt: skip
    job = queued["job"]
    assert queued["queued"] is True
    [copy] = list(uploads.glob("*/upload.csv"))  # the job's own copy (a fixed name: never one a user chose)
    listed = ok(openbook("jobs", "list", as_user=ACCOUNTANT)).stdout
    assert job in listed and "queued" in listed and f"import april.csv into {WIRRAL}" in listed
    assert ok(openbook("jobs", "list", as_user=PROVIDER)).stdout == "no jobs\n"
    assert "not found" in error_line(openbook("jobs", "show", job, as_user=PROVIDER))

    ran = ok(openbook("worker", "--once")).stdout
    assert ran.splitlines() == [f"job {job} done: import april.csv into {WIRRAL}", "ran 1 job(s)"]
    assert not copy.exists()

    shown = ok_json(openbook("jobs", "show", job, "--json", as_user=ACCOUNTANT))
    assert (shown["state"], shown["user"], shown["organisation"]) == ("done", ACCOUNTANT, "wirral-council")
    assert shown["result"]["visits"] == 3 and shown["result"]["recorded"] is True and shown["error"] is None
    assert shown["progress"]["percent"] == 100
    text = ok(openbook("jobs", "show", job)).stdout
    assert "result: recorded 3 new visits from april.csv" in text
    imports = ok_json(openbook("activity", "imports", "--agreement", WIRRAL, "--json"))
    assert imports[-1]["file_name"] == "april.csv" and imports[-1]["visits"] == 3


def test_a_bad_file_queued_fails_and_openbook_jobs_shows_its_rows(openbook, tmp_path, uploads):
    ok(openbook("demo"))
    bad = write_csv(tmp_path / "bad.csv", [ROWS[0], visit("B2", "acme-care", "CH41 2AB", "2019-04-03", 30, 30)])
    job = ok_json(openbook("activity", "import", str(bad), "--agreement", WIRRAL, "--background", "--json"))["job"]

    assert ok(openbook("worker", "--once")).stdout.splitlines()[0] == f"job {job} failed: import bad.csv into {WIRRAL}"

    shown = ok(openbook("jobs", "show", job)).stdout.splitlines()
    assert shown[0].startswith(f"{job}  ") and " failed " in shown[0]
    assert shown[3] == "error (invalid-input):"
    assert shown[4] == "  bad.csv: 1 problem(s); nothing was recorded"
    assert shown[5].startswith("  row 3, column provider:")
    assert ok(openbook("jobs", "list", "--state", "failed")).stdout.startswith(job)
    assert ok(openbook("jobs", "list", "--state", "done")).stdout == "no jobs\n"


def test_a_refused_import_queues_nothing_and_keeps_no_copy(openbook, tmp_path, uploads):
    ok(openbook("demo"))
    path = write_csv(tmp_path / "april.csv", ROWS)
    refused = openbook("activity", "import", str(path), "--agreement", WIRRAL, "--background", as_user=COUNCIL_ADMIN)
    assert error_line(refused).startswith("error: import activity: only an accountant of a commissioner")
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert ok(openbook("jobs", "list")).stdout == "no jobs\n"
