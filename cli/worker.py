"""``openbook worker`` runs background jobs beside gunicorn; ``openbook jobs list|show`` shows them to operators.

A user sees their own organisation's jobs; the operator (no ``--as``) sees every job. docs/jobs.md tells the design.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

import click

from cli.context import Context, emit, json_option, pass_context
from domain.errors import NotFound
from ledger.jobs.table import STATES
from ledger.jobs.worker import LEASE_TIME, Worker


@click.command()
@click.option("--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True,
              help="Seconds between looks for a queued job when there is none.")  # fmt: skip
@click.option("--once", is_flag=True, help="Run the queued jobs, then stop (for cron and tests).")
@click.option("--lease-seconds", type=click.IntRange(10, 86_400), default=int(LEASE_TIME.total_seconds()),
              show_default=True, help="How long a job whose worker died waits before it runs again.")  # fmt: skip
@json_option
@pass_context
def worker(context: Context, poll: float, once: bool, lease_seconds: int, as_json: bool) -> None:
    """Run background jobs (activity imports) as they are queued, one at a time, until stopped (Ctrl+C).

    With ``--once`` it runs what is queued and stops, listing the jobs it ran and how each ended.
    """
    if as_json and not once:
        raise click.UsageError("--json lists the jobs run: give it with --once")
    book = context.open(say_if_behind=False)
    running = Worker(book, lease=timedelta(seconds=lease_seconds))
    if once:
        ran = []
        while (job := running.run_once()) is not None:
            ran.append(job.as_json())
        emit(ran, as_json, lambda rs: [*(f"job {r['id']} {r['state']}: {r['title']}" for r in rs),
                                       f"ran {len(rs)} job(s)"])  # fmt: skip
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"worker {running.id} is running jobs from {book.database}  (Ctrl+C to stop)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # a service manager's stop: hand the running job on
    try:
        running.run_forever(stop, poll)
    except KeyboardInterrupt:
        stop.set()
        click.echo(f"worker {running.id} stopped")


def _stop_on_sigterm(_signal: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@click.group()
def jobs() -> None:
    """Background jobs: what was asked, how far each has got, and how it ended."""


def _line(d: dict[str, Any]) -> str:
    progress = d["progress"]
    shown = f"{progress['done']:,}/{progress['total']:,} {progress['message']}" if progress["total"] else ""
    who = f"{d['user']} ({d['organisation']})" if d["organisation"] else d["user"]
    return f"{d['id']}  {d['created_at']}  {d['state']:<8} {d['title']}  by {who}  {shown}".rstrip()


@jobs.command("list")
@click.option("--state", type=click.Choice(STATES), help="Only jobs in this state.")
@json_option
@pass_context
def list_(context: Context, state: str | None, as_json: bool) -> None:
    """The jobs you may see, newest first."""
    rows = [job.as_json() for job in context.book.jobs.list_for(context.actor(), state)]
    emit(rows, as_json, lambda rs: [_line(r) for r in rs] or ["no jobs"])


def _show_lines(d: dict[str, Any]) -> list[str]:
    progress = d["progress"]
    lines = [
        _line(d),
        f"progress: {progress['done']:,} of {progress['total']:,} ({progress['percent']}%) {progress['message']}",
        f"created {d['created_at']}; started {d['started_at'] or '-'}; finished {d['finished_at'] or '-'}; "
        f"attempts {d['attempts']}",
    ]
    if d["result"] is not None:
        message = d["result"].get("message") if isinstance(d["result"], dict) else None
        lines.append(f"result: {message or d['result']}")
    error = d["error"]
    if error is not None and len(error["problems"]) > 1:
        lines.append(f"error ({error['kind']}):")
        lines.extend(f"  {problem}" for problem in error["problems"])
    elif error is not None:
        lines.append(f"error ({error['kind']}): {error['message']}")
    return lines


@jobs.command("show")
@click.argument("job_id", required=False)
@json_option
@pass_context
def show(context: Context, job_id: str | None, as_json: bool) -> None:
    """One job (without JOB_ID: the newest you may see): its progress, and its result or its error with every
    problem (file, row and column)."""
    book, actor = context.book, context.actor()
    if job_id is None:
        newest = book.jobs.list_for(actor)[:1]
        if not newest:
            raise NotFound("no jobs")
        job_id = newest[0].id
    emit(book.jobs.get(actor, job_id).as_json(), as_json, _show_lines)
