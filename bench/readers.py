"""Readers during a large import: the longest a read takes while the visits are priced, against an idle database.

An import prices its visits in the activity projection. When that was one
write transaction (about 12 s for a million visits on SQLite), every other
command failed with "database is locked" or waited for it to end. Now readers
read the last committed state (WAL) and the import commits every
``STEP_VISITS`` visits, so a read during the import should take about as long
as on an idle database, and a command that writes should wait at most one step.

Each phase runs in its own process (``python -m bench.activity --phase ...``):

* ``reader``: reads in a loop until told to stop (or ``reads`` times): open
  openbook on the file, read the totals by provider, close — what a read-only
  command does — and, separately, take SQLite's write lock and give it back
  (``BEGIN IMMEDIATE``, ``ROLLBACK``): how long a command that writes would wait.
* ``readers``: the reader on the idle database (the baseline), then the reader
  beside an import with the activity projection (the value).

The figure is the longest read during the import ÷ the longest read on the
idle database; the goal is at most ``GOAL``. The longest wait to take the
write lock during the import is reported beside it: about one step.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

#: The longest read during the import may take at most this many times the longest on an idle database:
#: it shares the machine with the import, but never waits for it (before, it failed after 10 s).
GOAL = 10.0


def phase_reader(database: str, stop: str, reads: str) -> dict[str, Any]:
    from demo.partnerships import WIRRAL
    from domain.envelope import SYSTEM
    from ledger.authorisation import access_for
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database
    from ledger.queries.activity import totals

    url = Database.from_url(f"sqlite:///{database}")
    wanted = int(reads)
    read_seconds: list[float] = []
    lock_seconds: list[float] = []
    failed: list[str] = []
    lock = sqlite3.connect(database, isolation_level=None, timeout=60)
    while (len(read_seconds) < wanted + 1) if wanted else not os.path.exists(stop):
        began = time.perf_counter()
        try:
            book = open_openbook(url)
            try:
                totals(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), ("provider",))
            finally:
                book.close()
        except Exception as e:  # noqa: BLE001 - a read that fails is what this measures
            failed.append(f"{type(e).__name__}: {e}".splitlines()[0])
        read_seconds.append(time.perf_counter() - began)
        if not wanted and len(read_seconds) == 1:
            Path(stop + ".ready").touch()
        began = time.perf_counter()
        lock.execute("BEGIN IMMEDIATE")
        lock.execute("ROLLBACK")
        lock_seconds.append(time.perf_counter() - began)
    lock.close()
    read_seconds = read_seconds[1:]  # the first read of a process also imports modules and connects: not counted
    return {
        "reads": len(read_seconds),
        "longest_read_seconds": max(read_seconds),
        "median_read_seconds": sorted(read_seconds)[len(read_seconds) // 2],
        "longest_write_lock_wait_seconds": max(lock_seconds),
        "failed": len(failed),
        "first_failure": failed[0] if failed else None,
    }


def phase_readers(csv_path: str, pristine: str, database: str) -> dict[str, Any]:
    from demo.partnerships import WIRRAL
    from domain.envelope import SYSTEM, Envelope
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    shutil.copyfile(pristine, database)  # the demo ledger, before any activity
    idle = _finish(_reader(database, database + ".idle", 20))
    stop = database + ".stop"
    reader = _reader(database, stop, 0)
    while not os.path.exists(stop + ".ready"):  # it has read once: it is running
        if reader.poll() is not None:
            raise RuntimeError("the reader stopped before the import began")
        time.sleep(0.05)
    book = open_openbook(Database.from_url(f"sqlite:///{database}"))
    began = time.perf_counter()
    summary = book.activity.import_activity(
        Envelope(SYSTEM, date(2021, 4, 5), "benchmark: reads during an import", None), WIRRAL, csv_path
    )
    seconds = time.perf_counter() - began
    book.close()
    Path(stop).touch()
    return {"visits": summary.visits, "import_seconds": seconds, "idle": idle, "during_import": _finish(reader)}


def _reader(database: str, stop: str, reads: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.activity", "--phase", "reader", database, stop, str(reads)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )


def _finish(reader: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = reader.communicate()
    if reader.returncode:
        raise RuntimeError(f"the reader failed (exit {reader.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def figure(result: dict[str, Any], rows: int) -> dict[str, Any]:
    """The benchmark's figure: value, baseline, ratio, size and goal, with what they came from."""
    value = result["during_import"]["longest_read_seconds"]
    baseline = result["idle"]["longest_read_seconds"]
    ratio = value / baseline
    return {
        "benchmark": "longest read during an import ÷ longest read on an idle database",
        "value": round(value, 3),
        "baseline": round(baseline, 3),
        "ratio": round(ratio, 2),
        "size": rows,
        "goal": GOAL,
        "goal_met": ratio <= GOAL and result["during_import"]["failed"] == 0,
        **result,
    }


def as_figure(found: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's figure in the harness's shape (``bench/figures.py``)."""
    from bench.figures import figure as shaped

    made = shaped("longest read during an import", found["value"], found["baseline"], "s",
                  f"{found['size']:,} rows", goal=GOAL, lower_is_better=True,
                  baseline_name="longest read on an idle database")  # fmt: skip
    made["met"] = bool(made["met"]) and found["during_import"]["failed"] == 0  # a read that failed misses it
    return made
