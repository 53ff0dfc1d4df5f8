"""One shape for every benchmark figure, so ``python -m bench`` can put them all in one table and one file.

A figure is openbook's measurement (``value``) beside a baseline measured in
the same run on the same data (``baseline``), their ``ratio``, the ``size`` it
was measured at, and the ``goal`` the ratio is held to (None: reported, not
held to a goal; then ``met`` is None too). Rates (per second) are compared as
value ÷ baseline, so higher is better and a goal reads "≥"; times (seconds)
too, so lower is better and a goal reads "≤".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent


def figure(
    name: str,
    value: float,
    baseline: float,
    unit: str,
    size: str,
    *,
    goal: float | None = None,
    baseline_name: str = "",
    lower_is_better: bool = False,
) -> dict[str, Any]:
    """A figure: value, baseline, ratio (value ÷ baseline), size, goal and whether it is met.

    ``lower_is_better`` for times: the goal is then a ceiling on the ratio, not a floor.
    """
    ratio = value / baseline if baseline else float("nan")
    met = None if goal is None else (ratio <= goal if lower_is_better else ratio >= goal)
    return {
        "name": name,
        "value": _round(value),
        "baseline": _round(baseline),
        "unit": unit,
        "ratio": round(ratio, 3),
        "size": size,
        "goal": None if goal is None else f"{'≤' if lower_is_better else '≥'} {goal}",
        "met": met,
        "baseline_is": baseline_name,
    }


def _round(x: float) -> float:
    return round(x, 4) if abs(x) < 10 else round(x, 1)


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


def peak_mb() -> float:
    """This process's peak resident memory in MB: bounded, whatever the event count.

    ``VmHWM`` rather than ``ru_maxrss``, which Linux keeps across ``exec`` (so
    a phase would report the generating parent's peak).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_phase(module: str, name: str, *args: str) -> dict[str, Any]:
    """Run one phase of a benchmark in a fresh process (``python -m MODULE --phase NAME ARGS``): its JSON result."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--phase", name, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{module} phase {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def arguments(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A phased benchmark's options: ``--repeat`` (the best of that many interleaved runs counts) and the hidden
    ``--phase NAME ARGS...`` that ``run_phase`` starts each phase's fresh process with."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase; the best counts (default 3)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("phase_args", nargs="*", help=argparse.SUPPRESS)
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options this benchmark knows: ``python -m bench`` passes every benchmark's options to each."""
    args, _others = parser.parse_known_args(argv)
    return args


def ran_phase(args: argparse.Namespace, phases: dict[str, Any]) -> bool:
    """If this process was started for one phase (``--phase NAME``), run it and print its JSON result: True."""
    if not args.phase:
        return False
    print(json.dumps(phases[args.phase](*args.phase_args)))
    return True


def write_results(name: str, result: dict[str, Any]) -> Path:
    """Keep one benchmark's result as ``bench/results/NAME.json``, where ``python -m bench`` gathers them."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def table(figures: list[dict[str, Any]]) -> str:
    """The figures as one readable table."""
    head = f"{'figure':<58} {'value':>12} {'baseline':>12} {'unit':<10} {'ratio':>7} {'goal':>7} {'met':>4}  size"
    lines = [head, "-" * len(head)]
    for f in figures:
        met = "" if f["met"] is None else ("yes" if f["met"] else "NO")
        lines.append(
            f"{f['name'][:58]:<58} {_show(f['value']):>12} {_show(f['baseline']):>12} {f['unit'][:10]:<10} "
            f"{f['ratio']:>7.3f} {f['goal'] or '':>7} {met:>4}  {f['size']}"
        )
    return "\n".join(lines)


def _show(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"
