"""The event browser at scale: a filtered page of 50 events out of 1,000,000 index rows.

The event index (``ledger/projections/event_index.py``) is bulk-inserted with
generated envelopes (15 kinds of record, 200 users of 60 organisations, six
years of effective dates, recorded-at rising with position), since recording
a million events through commands would take over an hour. Then, for each
filter the browser offers, the same pages are read twice:

* ``openbook``: ``ledger.queries.event_page`` (SQLAlchemy, the read engine, the
  rows as dicts with recorded-at in UTC), walking 20 pages by keyset from the
  middle of the history;
* ``baseline``: the same statement written by hand with plain ``sqlite3``.

The figures per filter are the milliseconds a page takes, baseline time ÷
openbook time (what SQLAlchemy, the rows as dicts and the UTC moments cost
beside the bare statement), and SQLite's query plan for the openbook
statement: each names one of the index's indexes (SEARCH ... USING INDEX),
never a bare SCAN of the table. An equality filter reads one page of its
index; a date range reads its range of the date index and sorts it by
position, so its page costs in proportion to the events in the range.

Usage: ``python -m bench.event_index`` (1,000,000 rows) or ``--rows 100000``;
writes ``bench/results/event_index.json``. ``python -m bench`` runs it last, with the same ``--rows`` and
``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from bench.figures import figure, write_results
from domain.envelope import SYSTEM
from ledger.authorisation import HistoryAccess, history_access
from ledger.projections.event_index import event_index, event_topics
from ledger.queries.events import EventFilter, event_page

PAGES = 20
PAGE = 50
SEED = 20190401
START = datetime(2020, 1, 1, tzinfo=UTC)


def generate(path: Path, rows: int) -> None:
    """The index table as openbook creates it, filled with ``rows`` generated envelopes in one transaction."""
    engine = create_engine(f"sqlite:///{path}")
    event_index.create(engine)
    engine.dispose()
    rng = random.Random(SEED)
    topics = event_topics()
    organisations = [f"org-{n:02}" for n in range(60)]
    actors = [(f"user{n:03}@example.org", organisations[n % 60]) for n in range(200)]
    aggregates = [f"{n:08x}-0000-5000-8000-000000000000" for n in range(rows // 20 or 1)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")

    def row(position: int) -> tuple[Any, ...]:
        topic = rng.choice(topics)
        user, organisation = rng.choice(actors)
        effective = date(2017, 4, 1) + timedelta(days=rng.randrange(6 * 365))
        recorded = START + timedelta(seconds=position * 3)
        return (
            position, topic, topic.removeprefix("openbook:").split(".")[0], rng.choice(aggregates), rng.randrange(1, 20),
            user, organisation, effective.isoformat(), recorded.strftime("%Y-%m-%d %H:%M:%S.%f"), "generated",
            recorded.strftime("%Y-%m-%d %H:%M:%S.%f"),  # recorded-at rises with position: it is its own latest
        )  # fmt: skip

    with conn:
        conn.executemany(
            "INSERT INTO event_index (position, topic, aggregate_kind, aggregate_id, version, actor, organisation, "
            "effective_date, recorded_at, reason, latest_recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (row(p) for p in range(1, rows + 1)),
        )
    conn.execute("ANALYZE")
    conn.close()


def cases(rows: int) -> dict[str, tuple[EventFilter, str, tuple[Any, ...]]]:
    """Each filter: the query's filter, and the baseline's WHERE clause and parameters for the same rows."""
    middle = START + timedelta(seconds=rows // 2 * 3)
    return {
        "aggregate": (EventFilter(aggregate_id=f"{7:08x}-0000-5000-8000-000000000000"), "aggregate_id = ?",
                      (f"{7:08x}-0000-5000-8000-000000000000",)),
        "event type": (EventFilter(topics=["openbook:cost-return.amended"]), "topic IN (?)",
                       ("openbook:cost-return.amended",)),
        "kind of record": (EventFilter(kinds=["settlement"]), "aggregate_kind IN (?)", ("settlement",)),
        "actor": (EventFilter(actor="user042@example.org"), "actor = ?", ("user042@example.org",)),
        "organisation": (EventFilter(organisation="org-07"), "organisation = ?", ("org-07",)),
        "effective dates (one month)": (
            EventFilter(effective_from=date(2019, 7, 1), effective_to=date(2019, 7, 31)),
            "effective_date >= ? AND effective_date <= ?", ("2019-07-01", "2019-07-31"),
        ),
        "recorded (one day)": (
            EventFilter(recorded_from=middle, recorded_to=middle + timedelta(days=1)),
            "recorded_at >= ? AND recorded_at <= ?",
            (middle.strftime("%Y-%m-%d %H:%M:%S.%f"), (middle + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.%f")),
        ),
    }  # fmt: skip


def walk_openbook(engine: Any, access: HistoryAccess, where: EventFilter, after: int) -> tuple[float, list[int]]:
    seen: list[int] = []
    began = time.perf_counter()
    for _ in range(PAGES):
        page = event_page(engine, access, where, after=after, limit=PAGE)
        if not page:
            break
        seen.extend(r["position"] for r in page)
        after = page[-1]["position"]
    return time.perf_counter() - began, seen


def walk_baseline(path: Path, clause: str, params: tuple[Any, ...], after: int) -> tuple[float, list[int]]:
    statement = f"SELECT * FROM event_index WHERE position > ? AND {clause} ORDER BY position LIMIT ?"
    seen: list[int] = []
    began = time.perf_counter()
    for _ in range(PAGES):
        with sqlite3.connect(path) as conn:  # a connection per page, as each openbook read takes one from its pool
            page = conn.execute(statement, (after, *params, PAGE)).fetchall()
        if not page:
            break
        seen.extend(r[0] for r in page)
        after = page[-1][0]
    return time.perf_counter() - began, seen


def plan(engine: Any, access: HistoryAccess, where: EventFilter) -> str:
    """SQLite's plan for openbook's page statement: which index it searches."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        event_page(engine, access, where, limit=PAGE)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = statements[-1]
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        return "; ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event_index", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="index rows to generate (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="Walk each filter this many times; the best counts.")
    args, _others = parser.parse_known_args(argv)  # ``python -m bench`` passes every benchmark's options
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.sqlite"
        began = time.perf_counter()
        generate(path, args.rows)
        generated = time.perf_counter() - began
        engine = create_engine(f"sqlite:///{path}")
        access = _operator_access()
        figures = {}
        for name, (where, clause, params) in cases(args.rows).items():
            after = args.rows // 2
            walk_openbook(engine, access, where, after)  # warm: the statement compiled, a connection pooled
            ours = min(walk_openbook(engine, access, where, after) for _ in range(args.repeat))
            base = min(walk_baseline(path, clause, params, after) for _ in range(args.repeat))
            assert ours[1] == base[1], f"{name}: openbook and the baseline read different events"
            pages = max(1, -(-len(ours[1]) // PAGE))
            figures[name] = {
                "events": len(ours[1]),
                "openbook_ms_per_page": round(ours[0] / pages * 1000, 3),
                "baseline_ms_per_page": round(base[0] / pages * 1000, 3),
                "ratio": round(base[0] / ours[0], 3),
                "plan": plan(engine, access, where),
            }
        engine.dispose()
    result = {
        "benchmark": "event index: a filtered page of 50 events (keyset, from the middle of the history)",
        "rows": args.rows,
        "bulk_insert_seconds": round(generated, 1),
        "filters": figures,
        "worst_ratio": min(f["ratio"] for f in figures.values()),
    }
    result["figures"] = [
        figure(f"event browser page, {name}", 1000 / f["openbook_ms_per_page"], 1000 / f["baseline_ms_per_page"],
               "pages/s", f"{args.rows:,} rows", baseline_name="the same statement in plain sqlite3")
        for name, f in figures.items()
    ]  # fmt: skip
    write_results("event_index", result)
    print(json.dumps(result, indent=2))
    return 0


def _operator_access() -> HistoryAccess:
    """The operator's access (the system actor), as the CLI without ``--as`` has: no records are looked up."""
    return history_access(None, SYSTEM, None)  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
