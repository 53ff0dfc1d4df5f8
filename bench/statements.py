"""Statements: seconds to build and render one PDF statement, against WeasyPrint rendering a plain one-page document.

On the demo ledger (SQLite), in its own process each, ``--repeat`` times
interleaved (best of each counts; each process renders once first, unmeasured,
since loading Pango and the fonts is paid once per process, not per statement):

* ``statement``: the 2019-20 settlement statement and Premier Care's cost
  statement for 2019-20-Q1 as the partnership's accountant asks for them —
  the queries, the charts, the HTML and WeasyPrint's PDF — seconds per statement;
* ``history``: Premier Care's cost statement for 2023-24-Q4 on a ledger holding
  five years of its returns (``demo.history``: 20 quarters filed and accepted,
  the ledger the statement history test bounds to 5 pages) — seconds;
* ``batch``: the batch of all providers' statements for the demo's 2019-20-Q1
  (``reports.statements.batch``, what ``openbook statements --agreement A
  --period P --out DIR`` writes, without the files): planned and rendered to
  PDF, seconds for the batch; its baseline is a plain page × its statements;
* ``plain``: WeasyPrint rendering a plain one-page HTML document (a heading, a
  paragraph and a small table), the least a PDF costs on this machine.

The ratio says how many plain pages' time one statement takes; each is held to
``GOAL`` (bench/README.md says why). Usage:
``python -m bench.statements [--repeat R]``; ``python -m bench`` runs it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures import arguments, figure, machine, parse, ran_phase, run_phase, table, write_results

YEAR = "2019-20"
QUARTER = "2019-20-Q1"
PROVIDER = "premier-care"
RENDERS = 3
#: A statement may take at most this many plain pages' time (bench/README.md: why 50).
GOAL = 50

PLAIN = """<!doctype html><html><head><meta charset="utf-8"><title>Plain page</title></head><body>
<h1>A plain page</h1><p>One paragraph of text, to compare a statement's rendering with the least a PDF costs.</p>
<table><tr><th>Item</th><th>Amount</th></tr><tr><td>One</td><td>£1.00</td></tr><tr><td>Two</td><td>£2.00</td></tr>
</table></body></html>"""


def _statements(book: Any) -> dict[str, Any]:
    from demo.partnerships import WIRRAL, WIRRAL_ACCOUNTANT
    from ledger.authorisation import accountant_access
    from reports.statements.cost import cost_statement
    from reports.statements.settlement import settlement_statement

    access = accountant_access(book.records, WIRRAL_ACCOUNTANT, WIRRAL)
    return {
        "settlement": lambda: settlement_statement(book, access, YEAR),
        "cost": lambda: cost_statement(book, access, PROVIDER, QUARTER),
    }


def phase_statement(database: str) -> dict[str, Any]:
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database
    from reports.statements import render_pdf

    book = open_openbook(Database.from_url(f"sqlite:///{database}"))
    kinds = _statements(book)
    for build in kinds.values():
        render_pdf(build())  # warm: Pango, the fonts, the templates
    seconds: dict[str, float] = {}
    for name, build in kinds.items():
        began = time.perf_counter()
        for _ in range(RENDERS):
            render_pdf(build())
        seconds[name] = (time.perf_counter() - began) / RENDERS
    book.close()
    return {"seconds": sum(seconds.values()) / len(seconds), "by_kind": seconds, "statements": len(seconds)}


def phase_history(database: str) -> dict[str, Any]:
    from demo.history import PROVIDER as HISTORY_PROVIDER
    from demo.history import QUARTERS
    from demo.partnerships import WIRRAL, WIRRAL_ACCOUNTANT
    from ledger.authorisation import accountant_access
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database
    from reports.statements import render_pdf
    from reports.statements.cost import cost_statement

    book = open_openbook(Database.from_url(f"sqlite:///{database}"))
    access = accountant_access(book.records, WIRRAL_ACCOUNTANT, WIRRAL)
    pdf = render_pdf(cost_statement(book, access, HISTORY_PROVIDER, QUARTERS[-1]))  # warm
    began = time.perf_counter()
    for _ in range(RENDERS):
        render_pdf(cost_statement(book, access, HISTORY_PROVIDER, QUARTERS[-1]))
    seconds = (time.perf_counter() - began) / RENDERS
    book.close()
    return {"seconds": seconds, "quarter": QUARTERS[-1], "periods": len(QUARTERS), "pdf_bytes": len(pdf)}


def phase_batch(database: str) -> dict[str, Any]:
    from demo.partnerships import WIRRAL, WIRRAL_ACCOUNTANT
    from ledger.authorisation import accountant_access
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database
    from reports.statements import render_pdf
    from reports.statements.batch import batch_period, plan_batch

    book = open_openbook(Database.from_url(f"sqlite:///{database}"))
    access = accountant_access(book.records, WIRRAL_ACCOUNTANT, WIRRAL)
    period = batch_period(QUARTER)
    render_pdf(plan_batch(book, access, period)[0].build())  # warm: Pango, the fonts, the templates
    began = time.perf_counter()
    planned = plan_batch(book, access, period)  # the plan's queries count: the CLI's batch makes them too
    for entry in planned:
        render_pdf(entry.build())
    seconds = time.perf_counter() - began
    book.close()
    return {"seconds": seconds, "statements": len(planned), "per_statement": seconds / len(planned),
            "files": [entry.file_name for entry in planned]}  # fmt: skip


def phase_plain() -> dict[str, Any]:
    from weasyprint import HTML

    HTML(string=PLAIN).write_pdf()  # warm
    began = time.perf_counter()
    for _ in range(RENDERS):
        HTML(string=PLAIN).write_pdf()
    return {"seconds": (time.perf_counter() - began) / RENDERS}


PHASES = {"statement": phase_statement, "history": phase_history, "batch": phase_batch, "plain": phase_plain}


def _demo(work: str) -> str:
    from demo.partnerships import load_demo
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    path = os.path.join(work, "demo.sqlite")
    book = open_openbook(Database.from_url(f"sqlite:///{path}"))
    load_demo(book)
    book.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _history(work: str) -> str:
    from demo.history import build_history
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    path = os.path.join(work, "history.sqlite")
    book = open_openbook(Database.from_url(f"sqlite:///{path}"))
    build_history(book, Path(work))
    book.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse(arguments("python -m bench.statements", __doc__), argv)
    if ran_phase(args, PHASES):
        return 0
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PHASES}
    with tempfile.TemporaryDirectory(prefix="openbook-bench-statements-") as work:
        print("the demo ledger; a ledger with five years of one provider's returns ...", file=sys.stderr)
        database, history = _demo(work), _history(work)
        for run in range(1, args.repeat + 1):  # interleaved, so all see the same machine
            print(f"statements run {run}/{args.repeat}: a settlement and a cost statement; the five-year cost "
                  f"statement; the {QUARTER} batch; a plain page ...", file=sys.stderr)  # fmt: skip
            runs["statement"].append(run_phase("bench.statements", "statement", database))
            runs["history"].append(run_phase("bench.statements", "history", history))
            runs["batch"].append(run_phase("bench.statements", "batch", database))
            runs["plain"].append(run_phase("bench.statements", "plain"))
    best = {name: min(found, key=lambda r: r["seconds"]) for name, found in runs.items()}
    page, batch = best["plain"]["seconds"], best["batch"]
    plain = "WeasyPrint: a plain one-page HTML document"
    result = {
        "benchmark": "statements",
        "machine": machine(),
        **best,
        "figures": [
            figure(f"statement PDF (settlement {YEAR}, cost {QUARTER}), each", best["statement"]["seconds"], page,
                   "s", "demo ledger", goal=GOAL, baseline_name=plain, lower_is_better=True),
            figure(f"cost statement {best['history']['quarter']} after 5 years", best["history"]["seconds"], page,
                   "s", f"{best['history']['periods']} quarters of returns", goal=GOAL, baseline_name=plain,
                   lower_is_better=True),
            figure(f"batch {QUARTER}: all providers' statements", batch["seconds"], page * batch["statements"], "s",
                   f"demo ledger, {batch['statements']} statements", goal=GOAL,
                   baseline_name=f"{plain}, × {batch['statements']}", lower_is_better=True),
            figure(f"batch {QUARTER}: per statement", batch["per_statement"], page, "s",
                   f"demo ledger, {batch['statements']} statements", goal=GOAL, baseline_name=plain,
                   lower_is_better=True),
        ],  # fmt: skip
    }
    write_results("statements", result)
    print(table(result["figures"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
