"""What keeping every version of the read models costs, and what an "as at" read costs against a live one.

Measured in one run, on SQLite, on the demo ledger plus generated Wirral visits:

* ``import``: the activity projection pricing and writing an import, with the
  read models' histories kept (as openbook runs) and with them switched off
  (each projection's ``histories`` emptied), on copies of the same ledger;
* ``rebuild``: ``openbook projections rebuild`` of every read model, with and without;
* ``visits history``: what versioning the visits too would add, which openbook
  does not do (docs/as-at.md): the time to copy every visit into a history
  table once (an import writes each visit once; each repricing would again
  copy every visit it reprices) and the bytes it adds to the database;
* ``queries``: the market view, a cost return and the settlement, live and as
  known at the head and just before the import (head - 1) (``ledger.queries.as_at``), best
  of ``--repeat``.

Usage: ``python -m bench.as_at`` (100,000 rows) or ``python -m bench.as_at --rows 1000000``;
writes bench/results/as_at.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bench.activity import open_book, prepare
from bench.figures import figure, write_results


def _without_history(book: Any) -> None:
    for projection in book.projections.projections.values():
        projection.histories = {}


def _import(pristine: str, csv_path: str, database: str, history: bool) -> dict[str, Any]:
    from demo.partnerships import WIRRAL
    from domain.envelope import SYSTEM, Envelope

    shutil.copyfile(pristine, database)
    book = open_book(database)
    if not history:
        _without_history(book)
    began = time.perf_counter()
    book.activity.import_activity(Envelope(SYSTEM, date(2021, 4, 5), "benchmark", None), WIRRAL, csv_path)
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    book.projections.rebuild()
    rebuild = time.perf_counter() - began
    book.close()
    return {"import_seconds": seconds, "rebuild_seconds": rebuild}


def _visits_history(database: str) -> dict[str, Any]:
    """Copy every visit into a history table once, as versioning the visits would on import: time and bytes."""
    before = os.path.getsize(database)
    db = sqlite3.connect(database)
    columns = [row[1] for row in db.execute("PRAGMA table_info(visits)")]
    db.execute(
        f"CREATE TABLE visits__history AS SELECT {', '.join(columns)}, 0 AS recorded_from, 0 AS superseded_at "
        "FROM visits WHERE 0"
    )
    db.execute("CREATE UNIQUE INDEX visits__history_key ON visits__history (agreement, visit_id, recorded_from)")
    db.commit()
    began = time.perf_counter()
    db.execute(
        f"INSERT INTO visits__history SELECT {', '.join(columns)}, position, NULL FROM visits"
    )
    db.commit()
    seconds = time.perf_counter() - began
    count = db.execute("SELECT count(*) FROM visits").fetchone()[0]
    db.execute("VACUUM")
    db.close()
    return {"visits": count, "copy_seconds": seconds, "added_mb": (os.path.getsize(database) - before) / 1e6}


def _best(repeat: int, read: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return min(times)


def _queries(database: str, repeat: int) -> dict[str, Any]:
    from ledger.authorisation import access_for
    from ledger.queries import returns, settlements
    from ledger.queries.as_at import known_at, resolve_as_at

    book = open_book(database)
    head = book.projections.head()
    access = access_for(book.records, _system(), "wirral-homecare")
    reads = {
        "market 2019-20-Q1": lambda engine: returns.market(engine, access, "2019-20-Q1"),
        "cost return premier-care 2019-20-Q1": lambda engine: returns.return_sheet(
            engine, access, "premier-care", "2019-20-Q1", None
        ),
        "settlement wirral-homecare 2019-20": lambda engine: settlements.settlement(
            engine, access, "wirral-homecare", "2019-20", None
        ),
    }

    def engine_at(position: int) -> Any:
        found = resolve_as_at(book.ledger.recorder, book.ledger.mapper, book.read_engine, str(position))
        return known_at(book.read_engine, found)

    at_head = engine_at(head)
    at_middle = engine_at(head - 1)
    result = {}
    for name, read in reads.items():
        live = _best(repeat, lambda: read(book.read_engine))
        result[name] = {
            "live_ms": live * 1000,
            "as_at_head_ms": _best(repeat, lambda: read(at_head)) * 1000,
            "as_at_middle_ms": _best(repeat, lambda: read(at_middle)) * 1000,
        }
    book.close()
    return result


def _system() -> Any:
    from domain.envelope import SYSTEM

    return SYSTEM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.as_at", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="visit rows to generate (default 100,000)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query; the best counts (default 20)")
    args, _others = parser.parse_known_args(argv)  # ``python -m bench`` passes every benchmark's options
    with tempfile.TemporaryDirectory(prefix="openbook-bench-as-at-") as work:
        print(f"demo ledger and {args.rows:,} visit rows ...", file=sys.stderr)
        csv_path, pristine, _ = prepare(work, args.rows)
        runs = {}
        for history in (True, False, True, False):  # interleaved; the best of each counts
            print(f"import and rebuild, {'with' if history else 'without'} histories ...", file=sys.stderr)
            database = os.path.join(work, f"ledger-{history}.sqlite")
            found = _import(pristine, csv_path, database, history)
            best = runs.setdefault(history, found)
            runs[history] = {k: min(v, found[k]) for k, v in best.items()}
        print("queries, live and as at ...", file=sys.stderr)
        queries = _queries(os.path.join(work, "ledger-True.sqlite"), args.repeat)
        print("what a history of the visits would add ...", file=sys.stderr)
        visits = _visits_history(os.path.join(work, "ledger-True.sqlite"))
    with_h, without = runs[True], runs[False]
    result = {
        "benchmark": "read models as at a past position",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "import_projection_seconds": {"with_history": with_h["import_seconds"], "without": without["import_seconds"]},
        "rebuild_seconds": {"with_history": with_h["rebuild_seconds"], "without": without["rebuild_seconds"]},
        "visits_history_if_kept": visits,
        "queries": queries,
    }
    size = f"{args.rows:,} rows"
    result["figures"] = [
        figure("import priced, read-model histories kept", with_h["import_seconds"], without["import_seconds"], "s",
               size, baseline_name="the same without histories", lower_is_better=True),
        figure("rebuild, read-model histories kept", with_h["rebuild_seconds"], without["rebuild_seconds"], "s",
               size, baseline_name="the same without histories", lower_is_better=True),
        *(figure(f"as at head-1: {name}", q["as_at_middle_ms"], q["live_ms"], "ms", size,
                 baseline_name="the same, live", lower_is_better=True) for name, q in queries.items()),
    ]  # fmt: skip
    written = write_results("as_at", result)
    print(f"\nread-model histories, {args.rows:,} visit rows on the demo ledger (SQLite)")
    for name, figures in (("import (record + price)", result["import_projection_seconds"]),
                          ("rebuild every read model", result["rebuild_seconds"])):  # fmt: skip
        ratio = figures["with_history"] / figures["without"]
        print(f"{name:<28} with {figures['with_history']:7.2f} s  without {figures['without']:7.2f} s  ×{ratio:.2f}")
    print(f"a visits history (not kept): copying {visits['visits']:,} visits once {visits['copy_seconds']:.2f} s, "
          f"+{visits['added_mb']:.1f} MB")  # fmt: skip
    for name, q in queries.items():
        print(f"{name:<40} live {q['live_ms']:7.1f} ms  as at head {q['as_at_head_ms']:7.1f} ms  "
              f"as at head-1 {q['as_at_middle_ms']:7.1f} ms")  # fmt: skip
    print(f"written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
