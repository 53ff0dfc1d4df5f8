"""``openbook activity ...``: the visit template, imports with a progress bar, totals, arrears.

``template`` writes the documented file layout; ``import`` checks a whole
file and records it (or records nothing and lists the problems by row and
column); ``totals`` shows hours and spend by provider, zone, service, month,
quarter or financial year; ``arrears`` calculates what a backdated rate review
owes each provider, with the arithmetic, and records it. ``generate`` writes a
plausible file of invented visits for the demo.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from cli.context import (
    DATE,
    Context,
    as_at_option,
    command_options,
    emit,
    hours_text,
    json_option,
    pass_context,
    recording,
)
from domain.activity.visits import COLUMN_HELP, COLUMNS, START_FORMS
from domain.bounds import MAX_SWEEP_GRACE_HOURS
from domain.money import format_count, format_gbp
from ledger.authorisation import access_for
from ledger.jobs import activity_import as import_job
from ledger.projections.activity import DIMENSIONS
from ledger.queries import activity as views
from ledger.settings import Settings

EXAMPLE_ROW = [
    "V00000001",
    "premier-care",
    "C000123",
    "CH41 2AB",
    "standard",
    "2019-04-01T08:30",
    "30",
    "2019-04-01T08:34",
    "28",
    "K00042",
    "",
    "",
]


@click.group()
def activity() -> None:
    """Delivered visits: import them from ECM files, price them, total them, and work out arrears."""


@activity.command("template")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: CSV to stdout).")
def template(fmt: str, output: Path | None) -> None:
    """The visit file template: its columns, with an example row, and what each column holds."""
    help_lines = [f"{c:<16} {COLUMN_HELP[c]}" for c in COLUMNS]
    notes = [
        "Column names match case-insensitively ('Visit ID' is visit_id); rate_band and lot may be left out.",
        f"Dates and times: {START_FORMS}. A CSV must be UTF-8.",
        "A file is checked in full first: one problem and nothing is recorded.",
    ]
    if fmt == "xlsx":
        import openpyxl

        if output is None:
            raise click.UsageError("--out is required for an xlsx template")
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "visits"
        sheet.append(list(COLUMNS))
        sheet.append(EXAMPLE_ROW)
        about = book.create_sheet("columns")
        about.append(["column", "what it holds"])
        for column in COLUMNS:
            about.append([column, COLUMN_HELP[column]])
        for note in notes:
            about.append(["", note])
        book.save(output)
        click.echo(f"wrote {output}", err=True)
        return
    text = ",".join(COLUMNS) + "\n" + ",".join(EXAMPLE_ROW) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    for line in [*help_lines, *notes]:
        click.echo(line, err=True)


class _Bars:
    """One progress bar per stage of an import (checking rows, then pricing visits), on stderr."""

    LABELS = {"checking": "checking rows", "pricing": "pricing visits"}

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=max(total, 1), label=self.LABELS.get(stage, stage), file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(max(done - self.done, 0))
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _decimal(value: Any) -> Decimal:
    """A figure from JSON-ready output (exact text) as a Decimal again."""
    return Decimal(str(value))


def _summary_lines(d: dict[str, Any]) -> list[str]:
    lines = [d["message"]]
    if d["rows"]:
        lines.append(
            f"rows {d['rows']:,}; new visits {d['visits']:,}; already recorded (skipped) {d['unchanged']:,}; "
            f"corrected {format_count(d['corrected_visits'], 'visit')} ({format_count(d['changes'], 'field')})"
        )
    for dimension in ("provider", "zone", "service"):
        hours = d.get(f"hours_by_{dimension}") or {}
        if hours:
            lines.append(f"hours by {dimension}: " + "; ".join(f"{k} {hours_text(v)}" for k, v in hours.items()))
    if d.get("spend") is not None and d["recorded"]:
        spend = format_gbp(_decimal(d["spend"]))
        lines.append(f"spend at the rate card: {spend}; unpriced visits: {d['unpriced_visits']:,}")
    return lines


@activity.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agreement", required=True, help="The agreement's code, e.g. wirral-homecare.")
@click.option("--name", help="The file's name to record (default: its own name).")
@click.option("--background", is_flag=True, help="Queue it as a job for `openbook worker` (see `openbook jobs`).")
@command_options
@json_option
@pass_context
def import_(
    context: Context, file: Path, agreement: str, name: str | None, background: bool, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Check a CSV or XLSX file of visits in full and record it; the same file again records nothing.

    With ``--background`` a copy of the file is queued as a job, and a worker imports it (``openbook jobs show``).
    """
    if background:
        if idempotency_key:
            raise click.UsageError("--key: a queued import's key is its job's; give no --key with --background")
        _queue_import(context, file, agreement, name or file.name, effective, reason, as_json)
        return
    envelope = recording(context, effective, reason or f"visits imported from {name or file.name}", idempotency_key)
    bars = _Bars()
    try:  # no bars under --json: stderr then holds the one JSON refusal a script parses, nothing before it
        summary = context.book.activity.import_activity(envelope, agreement, file, file_name=name,
                                                        progress=None if as_json else bars)
    finally:
        bars.close()
    emit(summary.as_json(), as_json, _summary_lines)


def _queue_import(
    context: Context, file: Path, agreement: str, name: str, effective: Any, reason: str | None, as_json: bool
) -> None:
    book = context.book
    actor = context.actor()
    kept = import_job.keep_upload(file, name, Settings.from_environ().uploads_folder)
    args = import_job.arguments(agreement, kept, name, reason=reason, effective=effective, uploaded=True)
    try:
        job_id = book.jobs.enqueue(import_job.NAME, actor, args)
    except Exception:
        _discard(kept)  # refused: nothing queued, so nothing will import the copy
        raise
    emit({"job": job_id, "queued": True}, as_json, lambda d: [f"queued job {d['job']}: `openbook jobs show {d['job']}`"])


def _discard(kept: Path) -> None:
    """The copy ``keep_upload`` made, and its folder."""
    kept.unlink(missing_ok=True)
    kept.parent.rmdir()


@activity.command("totals")
@click.option("--agreement", required=True)
@click.option("--by", "by", multiple=True, type=click.Choice(DIMENSIONS), help="Break down by (repeatable).")
@click.option("--period", help="Only a financial year (2020-21), quarter (2020-21-Q1) or month (2020-04).")
@click.option("--provider", help="Only this provider.")
@as_at_option
@json_option
@pass_context
def totals(
    context: Context, agreement: str, by: tuple[str, ...], period: str | None, provider: str | None,
    as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Visits, delivered hours and spend, by provider, zone, service, month, quarter or financial year.

    A provider sees its own visits only.
    """
    dimensions = by or ("provider",)
    book = context.book
    access = access_for(book.records, context.actor(), agreement)
    rows = views.totals(context.read_engine(as_at), access, dimensions, provider=provider, period=period)

    def render(rs: list[dict[str, Any]]) -> list[str]:
        if not rs:
            return ["no visits recorded"]
        head = "  ".join(f"{d:<26}" for d in dimensions)
        out = [f"{head}  {'visits':>9} {'hours':>12} {'spend':>15} {'unpriced':>8}"]
        for r in rs:
            keys = "  ".join(f"{r[d]:<26}" for d in dimensions)
            spend = format_gbp(r["spend"])
            out.append(f"{keys}  {r['visits']:>9,} {hours_text(r['hours']):>12} {spend:>15} {r['unpriced_visits']:>8,}")
        return out

    emit(rows, as_json, render)


@activity.command("imports")
@click.option("--agreement", required=True)
@as_at_option
@json_option
@pass_context
def imports(context: Context, agreement: str, as_at: str | None, as_json: bool) -> None:
    """The files imported under an agreement, in the order they were recorded."""
    book = context.book
    rows = views.imports(context.read_engine(as_at), access_for(book.records, context.actor(), agreement))
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['recorded_at']:%Y-%m-%d %H:%M}  {r['file_name']:<30} rows {r['rows']:>9,}  new {r['visits']:>9,}  "
            f"corrected {r['corrected_visits']:>6,}  {r['first_date']} to {r['last_date']}"
            for r in rs
        ]
        or ["no imports"],
    )


def _arrears_lines(d: dict[str, Any]) -> list[str]:
    out = [
        f"arrears of the {d['financial_year']} rate review of {d['agreement']}: visits from {d['window_start']} "
        f"to {d['window_end']} (decided {d['decided_on']}), calculation {d['calculations']}"
    ]
    if d.get("message"):
        out.append(d["message"])
    for line in d["lines"]:
        band = f" {line['band']}" if line["band"] else ""
        out.append(f"  {line['provider']:<28} {line['service']} {line['zone']}{band}: {line['working']}")
    for provider, amount in d["providers"].items():
        out.append(f"{provider:<30} {format_gbp(_decimal(amount)):>14}")
    out.append(f"{'total':<30} {format_gbp(_decimal(d['total'])):>14}")
    out.append(f"basis: {d['basis']}")
    return out


@activity.command("arrears")
@click.option("--agreement", required=True)
@click.option("--review", "financial_year", required=True, help="The rate review's financial year, e.g. 2020-21.")
@click.option("--last", is_flag=True, help="Show the last recorded calculation instead of calculating again.")
@as_at_option
@command_options
@json_option
@pass_context
def arrears(
    context: Context, agreement: str, financial_year: str, last: bool, as_at: str | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Calculate and record what a backdated rate review owes each provider (each visit's new price less its old).

    With ``--last`` it only shows the last calculation recorded (``--as-at``: the last one recorded by then).
    """
    if as_at is not None and not last:
        raise click.UsageError("--as-at shows a past calculation: give it with --last (a calculation records)")
    if last:
        book = context.book
        access = access_for(book.records, context.actor(), agreement)
        result = views.arrears(context.read_engine(as_at), access, financial_year)
    else:
        why = reason or f"arrears of the {financial_year} rate review"
        envelope = recording(context, effective, why, idempotency_key)
        result = context.book.activity.calculate_arrears(envelope, agreement, financial_year)
    emit(result, as_json, _arrears_lines)


@activity.command("generate")
@click.option("--agreement", required=True)
@click.option("--from", "start", type=DATE, required=True, help="First visit date, e.g. 2019-04-01.")
@click.option("--to", "end", type=DATE, required=True, help="Last visit date, e.g. 2020-03-31.")
@click.option("--rows", type=int, default=10_000, show_default=True)
@click.option("--seed", type=int, default=2019, show_default=True)
@click.option("--service", "services", multiple=True, default=("standard",), show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_context
def generate(
    context: Context, agreement: str, start: date, end: date, rows: int, seed: int, services: tuple[str, ...],
    fmt: str, output: Path,
) -> None:  # fmt: skip
    """Write a file of invented visits that follows the agreement's zones and awards (for demos and trials)."""
    from demo.visits import visit_rows, write_visits

    found = context.book.records.agreement(agreement)
    write_visits(output, visit_rows(found, rows, start, end, seed=seed, services=services), fmt)
    click.echo(f"wrote {format_count(rows, 'invented visit')} of {agreement} from {start} to {end} to {output}")


@activity.command("sweep")
@click.option(
    "--older-than-hours", type=click.FloatRange(0, MAX_SWEEP_GRACE_HOURS), default=24.0, show_default=True,
    help="Only chunks staged longer ago than this.",
)
@pass_context
def sweep(context: Context, older_than_hours: float) -> None:
    """Delete staged chunks no import references (from failed or killed imports) once they are old enough."""
    removed = context.book.activity.sweep_activity_chunks(context.actor(), timedelta(hours=older_than_hours))
    click.echo(f"removed {removed} unreferenced chunk(s)")
