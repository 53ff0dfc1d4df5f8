"""Recording events and replaying them into the read models, against the least plain ``sqlite3`` can do.

Each phase runs in its own process, ``--repeat`` times, interleaved with its
baseline; the best of each counts. On SQLite, a fresh ledger each run:

* ``single``: ``--commands`` organisation registrations, one command each
  (check, event, chain hash, commit, read models caught up): commands per
  second, against the same stored payloads inserted with raw ``sqlite3``, one
  commit per insert (goal ≥ 0.33);
* ``batched``: the same registrations saved ``BATCH`` to a transaction
  (``Ledger.save``: mapper, chain hash, commit), against raw ``executemany`` of
  the same stored payloads, one commit per batch (goal ≥ 0.5);
* ``rebuild``: the batched registrations, every read model rebuilt from the history (``projections rebuild``), against the least any
  replay that writes read models must do: read the same stored rows, ``json.loads``
  each payload, write one row per event with ``executemany`` in batches of
  ``BATCH`` (goal ≥ 0.5). Beside it, the event mapper alone
  (``mapper.to_domain_event`` of every stored event) against ``json.loads`` alone.

Usage: ``python -m bench.append [--commands N] [--repeat R]``; ``python -m bench`` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date
from typing import Any

from bench.figures import arguments, figure, machine, parse, ran_phase, run_phase, table, write_results

BATCH = 500
GOALS = {"single": 0.33, "batched": 0.5, "rebuild": 0.5}
RAW_TABLE = (
    "CREATE TABLE stored_events (notification_id INTEGER PRIMARY KEY AUTOINCREMENT, originator_id TEXT NOT NULL, "
    "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, "
    "UNIQUE (originator_id, originator_version))"
)
RAW_INSERT = "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?,?,?,?)"


def _fresh(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def _open(path: str) -> Any:
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    return open_openbook(Database.from_url(f"sqlite:///{path}"))


def _envelope() -> Any:
    from domain.envelope import SYSTEM, Envelope

    return Envelope(SYSTEM, date(2020, 4, 1), "benchmark")


# -- phases (each in its own process) ------------------------------------------------------------


def phase_single(database: str, commands: str) -> dict[str, Any]:
    """One command per event, as a user records them: commands per second."""
    _fresh(database)
    book = _open(database)
    envelope = _envelope()
    began = time.perf_counter()
    for n in range(int(commands)):
        book.organisations.register_organisation(envelope, f"bench-{n}", f"Bench provider {n}", "provider")
    seconds = time.perf_counter() - began
    events = book.projections.head()
    book.close()
    return {"events": events, "seconds": seconds}


def phase_batched(database: str, commands: str) -> dict[str, Any]:
    """The same registrations saved ``BATCH`` aggregates to a transaction: events per second."""
    from domain.organisations.organisation import Organisation, OrganisationKind

    _fresh(database)
    book = _open(database)
    envelope = _envelope()
    count = int(commands)
    before = book.projections.head()
    began = time.perf_counter()
    for first in range(0, count, BATCH):
        book.ledger.save(*(
            Organisation.register(envelope, f"bench-{n}", f"Bench provider {n}", OrganisationKind.PROVIDER, None)
            for n in range(first, min(first + BATCH, count))
        ))  # fmt: skip
    seconds = time.perf_counter() - began
    events = book.projections.head() - before
    book.close()
    return {"events": events, "seconds": seconds}


def _stored_rows(database: str, after: int = 0) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE notification_id > ? "
            "ORDER BY notification_id",
            (after,),
        ).fetchall()


def phase_raw(source: str, database: str, batch: str) -> dict[str, Any]:
    """The baseline: the source's stored payloads inserted with plain ``sqlite3`` (WAL, as the ledger's),
    ``batch`` to a commit (1: a commit per insert)."""
    rows = _stored_rows(source)
    size = int(batch)
    _fresh(database)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(RAW_TABLE)
    began = time.perf_counter()
    for first in range(0, len(rows), size):
        db.execute("BEGIN")
        if size == 1:
            db.execute(RAW_INSERT, rows[first])
        else:
            db.executemany(RAW_INSERT, rows[first : first + size])
        db.execute("COMMIT")
    seconds = time.perf_counter() - began
    db.close()
    return {"events": len(rows), "seconds": seconds}


def phase_rebuild(pristine: str, database: str) -> dict[str, Any]:
    """Every read model rebuilt from the history; then the event mapper alone over the same events."""
    shutil.copyfile(pristine, database)
    book = _open(database)
    events = book.projections.head()
    began = time.perf_counter()
    book.projections.rebuild()
    seconds = time.perf_counter() - began
    recorder, mapper = book.ledger.recorder, book.ledger.mapper
    notifications = [n for first in range(0, events, 10_000) for n in recorder.select_notifications(
        start=first, limit=10_000, inclusive_of_start=False)]  # fmt: skip
    began = time.perf_counter()
    for notification in notifications:
        mapper.to_domain_event(notification)
    mapper_seconds = time.perf_counter() - began
    began = time.perf_counter()
    for notification in notifications:
        json.loads(notification.state)
    loads_seconds = time.perf_counter() - began
    book.close()
    return {
        "events": events,
        "seconds": seconds,
        "mapper_seconds": mapper_seconds,
        "json_loads_seconds": loads_seconds,
    }


def phase_raw_rebuild(pristine: str, database: str) -> dict[str, Any]:
    """The least a replay that writes read models must do: read each stored row, ``json.loads`` its payload,
    write one row per event, ``executemany`` in batches of ``BATCH``, a commit each."""
    shutil.copyfile(pristine, database)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE replayed (position INTEGER PRIMARY KEY, topic TEXT NOT NULL, fields INTEGER NOT NULL)")
    began = time.perf_counter()
    events = 0
    after = 0
    while True:
        rows = db.execute(
            "SELECT notification_id, topic, state FROM stored_events WHERE notification_id > ? "
            "ORDER BY notification_id LIMIT ?",
            (after, BATCH),
        ).fetchall()
        if not rows:
            break
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO replayed VALUES (?,?,?)", [(p, topic, len(json.loads(state))) for p, topic, state in rows]
        )
        db.execute("COMMIT")
        events += len(rows)
        after = rows[-1][0]
    seconds = time.perf_counter() - began
    db.close()
    return {"events": events, "seconds": seconds}


PHASES = {
    "single": phase_single,
    "batched": phase_batched,
    "raw": phase_raw,
    "rebuild": phase_rebuild,
    "raw_rebuild": phase_raw_rebuild,
}


# -- the driver ----------------------------------------------------------------------------------


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "per_second": best["events"] / best["seconds"], "all_seconds": [round(r["seconds"], 3)
                                                                                     for r in runs]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = arguments("python -m bench.append", __doc__)
    parser.add_argument("--commands", type=int, default=10_000, help="organisation registrations (default 10,000)")
    args = parse(parser, argv)
    if ran_phase(args, PHASES):
        return 0
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("single", "raw_single", "batched", "raw_batched",
                                                             "rebuild", "raw_rebuild")}  # fmt: skip
    n = str(args.commands)
    with tempfile.TemporaryDirectory(prefix="openbook-bench-append-") as work:
        ledger, raw, replay = (os.path.join(work, f) for f in ("ledger.sqlite", "raw.sqlite", "replay.sqlite"))
        history = os.path.join(work, "history.sqlite")
        run_phase("bench.append", "batched", history, n)
        with sqlite3.connect(history) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for run in range(1, args.repeat + 1):  # interleaved, so each pair sees the same machine
            print(f"append run {run}/{args.repeat}: {args.commands:,} commands, batched, rebuild; and baselines ...",
                  file=sys.stderr)  # fmt: skip
            runs["single"].append(run_phase("bench.append", "single", ledger, n))
            runs["raw_single"].append(run_phase("bench.append", "raw", ledger, raw, "1"))
            runs["batched"].append(run_phase("bench.append", "batched", ledger, n))
            runs["raw_batched"].append(run_phase("bench.append", "raw", ledger, raw, str(BATCH)))
            runs["rebuild"].append(run_phase("bench.append", "rebuild", history, replay))
            runs["raw_rebuild"].append(run_phase("bench.append", "raw_rebuild", history, replay))
    best = {k: _best(v) for k, v in runs.items()}
    rebuilt = best["rebuild"]
    size = f"{args.commands:,} events"
    history_size = f"{rebuilt['events']:,} events"
    result = {
        "benchmark": "event append and rebuild",
        "machine": machine(),
        "commands": args.commands,
        **best,
        "figures": [
            figure("event append, one command per event", best["single"]["per_second"],
                   best["raw_single"]["per_second"], "events/s", size, goal=GOALS["single"],
                   baseline_name="raw sqlite3 insert of the stored payload, a commit each"),
            figure(f"event append, batches of {BATCH}", best["batched"]["per_second"],
                   best["raw_batched"]["per_second"], "events/s", size, goal=GOALS["batched"],
                   baseline_name=f"raw sqlite3 executemany of the stored payloads, {BATCH} a commit"),
            figure("rebuild every read model", rebuilt["per_second"],
                   best["raw_rebuild"]["per_second"], "events/s", history_size, goal=GOALS["rebuild"],
                   baseline_name=f"sqlite3 read + json.loads + executemany a row per event, {BATCH} a commit"),
            figure("event mapper: stored event to domain event", rebuilt["events"] / rebuilt["mapper_seconds"],
                   rebuilt["events"] / rebuilt["json_loads_seconds"], "events/s", history_size,
                   baseline_name="json.loads of each payload"),
        ],  # fmt: skip
    }
    write_results("append", result)
    print(table(result["figures"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
