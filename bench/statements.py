"""Statements: seconds to build and render one PDF statement, against WeasyPrint rendering a plain one-page document.

On the demo ledger (SQLite), in its own process each, ``--repeat`` times
interleaved (best of each counts; each process renders once first, unmeasured,
since loading Pango and the fonts is paid once per process, not per statement):

* ``statement``: the 2019-20 settlement statement and Premier Care's cost
  statement for 2019-20-Q1 as the partnership's accountant asks for them —
  the queries, the charts, the HTML and WeasyPrint's PDF — seconds per statement;
* ``plain``: WeasyPrint rendering a plain one-page HTML document (a heading, a
  paragraph and a small table), the least a PDF costs on this machine.

The ratio says how many plain pages' time one statement takes. Usage:
``python -m bench.statements [--repeat R]``; ``python -m bench`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from typing import Any

from bench.figures import RESULTS, figure, machine, run_phase, table

YEAR = "2019-20"
QUARTER = "2019-20-Q1"
PROVIDER = "premier-care"
RENDERS = 3

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


def phase_plain() -> dict[str, Any]:
    from weasyprint import HTML

    HTML(string=PLAIN).write_pdf()  # warm
    began = time.perf_counter()
    for _ in range(RENDERS):
        HTML(string=PLAIN).write_pdf()
    return {"seconds": (time.perf_counter() - began) / RENDERS}


PHASES = {"statement": phase_statement, "plain": phase_plain}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase; the best counts (default 3)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("phase_args", nargs="*", help=argparse.SUPPRESS)
    args, _others = parser.parse_known_args(argv)  # ``python -m bench`` passes every benchmark's options
    if args.phase:
        print(json.dumps(PHASES[args.phase](*args.phase_args)))
        return 0
    statements, plain = [], []
    with tempfile.TemporaryDirectory(prefix="openbook-bench-statements-") as work:
        print("the demo ledger ...", file=sys.stderr)
        database = _demo(work)
        for run in range(1, args.repeat + 1):  # interleaved, so both see the same machine
            print(f"statements run {run}/{args.repeat}: a settlement and a cost statement; a plain page ...",
                  file=sys.stderr)  # fmt: skip
            statements.append(run_phase("bench.statements", "statement", database))
            plain.append(run_phase("bench.statements", "plain"))
    best = min(statements, key=lambda r: r["seconds"])
    page = min(plain, key=lambda r: r["seconds"])
    result = {
        "benchmark": "statements",
        "machine": machine(),
        "statement": best,
        "plain": page,
        "figures": [
            figure(f"statement PDF (settlement {YEAR}, cost {QUARTER}), each", best["seconds"], page["seconds"], "s",
                   "demo ledger", baseline_name="WeasyPrint: a plain one-page HTML document", lower_is_better=True),
        ],  # fmt: skip
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "statements.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result["figures"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
