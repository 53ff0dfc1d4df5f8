"""``openbook projections status|follow|rebuild``: the read models, how far each has got, and replaying them.

Every figure on screen is a projection of the history. ``status`` shows each
read model's position, how far it is behind the head, and the event it
stopped at if it could not apply one; ``follow`` keeps them up to date as
other processes record (a worker beside the web app; ``openbook serve`` runs
one itself); ``rebuild`` replays the whole history into new tables beside
them, with a progress bar, and switches to those in one transaction (readers
see the old read models or the new, never a mix: docs/projections.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import click

from cli.context import Context, emit, json_option, pass_context
from domain.errors import InvalidInput, Unavailable
from domain.money import format_count
from ledger.projections.runner import describe, stopped_logger

__all__ = ["projections", "say_when_a_read_model_stops"]


def say_when_a_read_model_stops() -> None:
    """A long-running follower prints each read model that stops on an event (commands print their own note)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    stopped_logger.addHandler(handler)


@click.group()
def projections() -> None:
    """The read models: status, follow, rebuild."""


def _status_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'projection':<16} {'position':>10} {'behind':>8}  error"]
    lines += [f"{r['name']:<16} {r['position']:>10,} {r['lag']:>8,}  {_error_text(r['error'])}".rstrip() for r in rows]
    head = rows[0]["head"] if rows else 0
    return [*lines, f"head of the history: position {head:,}"]


def _error_text(error: dict[str, Any] | None) -> str:
    if error is None:
        return ""
    message = error["message"].splitlines()[0] if error["message"] else ""
    where = f"stopped before event {error['position']:,} ({error['topic']}) since {error['failed_at']}"
    return f"{where}: {error['kind']}: {message}"


@projections.command("status")
@json_option
@pass_context
def projections_status(context: Context, as_json: bool) -> None:
    """Each read model's position, how many events it is behind the head, and the event it stopped at if any;
    removes the scratch tables a killed rebuild left (saying so on stderr)."""
    runner = context.open(say_if_behind=False).projections
    for name in runner.clear_leftover_scratch():
        click.echo(f"removed {name}: the scratch tables of a rebuild or read-model check that was killed", err=True)
    emit(runner.status(), as_json, _status_lines)


class _Bar:
    """One progress bar over the events a catch-up or rebuild applies (positions, across projections)."""

    def __init__(self, bar: Any):
        self.bar = bar
        self.reached: dict[str, int] = {}

    def __call__(self, name: str, reached: int, _head: int) -> None:
        before = self.reached.get(name, 0)
        self.reached[name] = reached
        self.bar.update(max(reached - before, 0))


@projections.command("follow")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.05), help="Seconds between looks.")
@click.option("--once", is_flag=True, help="Catch up once and stop (for a scheduled job).")
@json_option
@pass_context
def projections_follow(context: Context, interval: float, once: bool, as_json: bool) -> None:
    """Keep every read model up to date as events are recorded (Ctrl+C to stop)."""
    runner = context.open(say_if_behind=False).projections
    behind = sum(row["lag"] for row in runner.status())
    try:
        with click.progressbar(length=max(behind, 1), label="catching up", file=sys.stderr) as bar:
            applied = runner.catch_up(progress=_Bar(bar))
    except Exception as e:  # noqa: BLE001 - a lock wait or a lost connection: one line, and run it again
        raise Unavailable(f"the read models could not catch up ({describe(e)}); run it again") from e
    if not once:
        click.echo(f"following {len(runner.projections)} read models; Ctrl+C to stop", err=True)
        say_when_a_read_model_stops()

        def report(now: int) -> None:
            nonlocal applied
            applied += now
            click.echo(f"applied {format_count(now, 'event')}; head {runner.head():,}", err=True)

        try:
            runner.keep_up(threading.Event(), interval, report)
        except KeyboardInterrupt:
            pass
    emit(
        {"events_applied": applied, "projections": runner.status()},
        as_json,
        lambda d: [f"{format_count(d['events_applied'], 'event')} applied", *_status_lines(d["projections"])],
    )


@projections.command("rebuild")
@click.option("--projection", "names", multiple=True, help="Rebuild only this read model (repeatable).")
@json_option
@pass_context
def projections_rebuild(context: Context, names: tuple[str, ...], as_json: bool) -> None:
    """Replay the whole history into new read models (or the named ones) beside the live ones, then switch to them."""
    runner = context.open(say_if_behind=False).projections
    unknown = sorted(set(names) - set(runner.projections))
    if unknown:
        raise InvalidInput(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(runner.projections)}")
    head = runner.head()
    chosen = list(names) or list(runner.projections)
    with click.progressbar(length=max(head * len(chosen), 1), label="replaying", file=sys.stderr) as bar:
        applied = runner.rebuild(chosen, progress=_Bar(bar))
    rows = [row for row in runner.status() if row["name"] in chosen]
    emit(
        {"head": head, "events_applied": applied, "positions": runner.positions(), "projections": rows},
        as_json,
        lambda d: [
            f"replayed to position {d['head']:,}: {format_count(d['events_applied'], 'event')} applied",
            *_status_lines(rows),
        ],
    )
    stopped = [f"{row['name']} at {row['position']:,}" for row in rows if row["error"] or row["position"] < head]
    if stopped:  # a read model that stopped on an event is not rebuilt: say so, and fail
        raise Unavailable(
            f"not every read model was rebuilt: {', '.join(stopped)} stopped before the head {head:,}; "
            "see `openbook projections status`"
        )
