"""``python -m bench`` (``make bench``): run every benchmark, then print every figure in one table.

Each benchmark runs in its own process (and each of its timed phases in one of
its own, best of ``--repeat`` interleaved runs) and writes its full result to
``bench/results/NAME.json``; every one of them carries its figures in one shape
(``bench/figures.py``: value, baseline, ratio, size, goal, met). They are
gathered into ``bench/results/latest.json`` — ``figures`` (the table) and
``benchmarks`` (each one's full result) — and printed as one table.

``--rows``, ``--repeat`` and ``--commands`` are passed to every benchmark; each
takes what it uses (``make bench SIZE=small``: 20,000 rows, 1,000 commands, one
run). ``--only NAME ...`` runs some of them (the file then holds only theirs).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.figures import RESULTS, ROOT, machine, table

#: Every benchmark, in the order they run (``bench/NAME.py``, writing ``bench/results/NAME.json``).
BENCHMARKS = ("activity", "append", "statements", "audit", "event_index", "signing", "as_at", "web")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows and events to generate (default 1,000,000)")
    parser.add_argument("--commands", type=int, default=10_000, help="one-event commands recorded (default 10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each phase; the best counts")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    passed = ["--rows", str(args.rows), "--commands", str(args.commands), "--repeat", str(args.repeat)]
    began = time.perf_counter()
    wall: dict[str, float] = {}
    for name in args.only or BENCHMARKS:
        print(f"== {name} ==", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}", *passed], cwd=ROOT, check=False)
        wall[name] = round(time.perf_counter() - started, 1)
        if done.returncode:
            print(f"bench.{name} failed (exit {done.returncode})", file=sys.stderr)
            return done.returncode
    results = {name: json.loads((RESULTS / f"{name}.json").read_text()) for name in args.only or BENCHMARKS}
    figures = [{"benchmark": name, **f} for name, result in results.items() for f in result["figures"]]
    latest = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {"rows": args.rows, "commands": args.commands, "repeat": args.repeat},
        "wall_seconds": {**wall, "total": round(time.perf_counter() - began, 1)},
        "goals_met": all(f["met"] is not False for f in figures),
        "figures": figures,
        "benchmarks": results,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n")
    print()
    print(table(figures))
    missed = [f["name"] for f in figures if f["met"] is False]
    print(f"\n{len(figures)} figures, {sum(f['met'] is not None for f in figures)} with a goal; "
          + (f"missed: {'; '.join(missed)}" if missed else "every goal met")
          + f". {latest['wall_seconds']['total']:.0f} s in all; written to {RESULTS / 'latest.json'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
