"""``openbook statements``: write a statement as PDF (or its HTML) for a reader, with that reader's access.

A statement is of now: it writes a file once, so it takes no ``--as-at``; the builders do
(``reports.statements``: ``as_at=``), for the web app and for tests that rebuild a statement as at a checkpoint.

The statement is built by ``reports.statements`` from the queries, with the
access ``ledger.authorisation`` gives the acting user (``--as``): a provider
gets its own statement, another provider's is not found; an accountant may
ask for any provider's, or one commissioner's, statement.

Without a subcommand the group is the batch (``--agreement --period --out DIR``): every party's statements of a
period, planned by ``reports.statements.batch``, all written or, refused, none (docs/statements.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cli.context import Context, emit, json_option, pass_context
from domain.errors import Conflict
from ledger.authorisation import access_for, accountant_access, provider_access
from reports.statements import Statement, render_html, render_pdf
from reports.statements.batch import Planned, batch_period, nothing_to_state, plan_batch
from reports.statements.cost import cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import rate_notice
from reports.statements.settlement import settlement_statement

agreement_option = click.option("--agreement", required=True, help="The agreement's code.")
out_option = click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                          help="The file to write (never overwritten).")  # fmt: skip
html_option = click.option("--html", "as_html", is_flag=True, help="Write the statement's HTML instead of its PDF.")


def _write(statement: Statement, out: Path, as_html: bool, as_json: bool) -> None:
    """Write the statement once: an existing file is refused before anything is built into it."""
    if out.exists():
        raise Conflict(f"--out: {out} already exists; a statement is never written over another file")
    data = render_html(statement).encode("utf-8") if as_html else render_pdf(statement)
    with open(out, "xb") as f:
        f.write(data)
    p = statement.provenance
    written = {"out": str(out), "format": "html" if as_html else "pdf", "bytes": len(data), "title": statement.title,
               "head": dict(p.head), "checkpoint": dict(p.checkpoint) if p.checkpoint else None,
               "built_from": [{"what": what, "position": position} for what, position in p.built_from]}  # fmt: skip

    def lines(w: dict) -> list[str]:
        signed = f", signed by key {w['head']['key_id']}" if w["head"].get("signature") else ""
        return [f"wrote {w['title']} ({w['format'].upper()}, {w['bytes']:,} bytes) to {w['out']}; built at head "
                f"position {w['head']['position']}, hash {w['head']['hash']}{signed}"]  # fmt: skip

    emit(written, as_json, lines)


@click.group(invoke_without_command=True)
@click.option("--agreement", "batch_agreement", help="The batch: the agreement's code.")
@click.option("--period", "batch_period_text", help="The batch: a quarter (2019-20-Q1), a month (2019-06) or a "
              "financial year (2019-20).")  # fmt: skip
@click.option("--out", "batch_out", type=click.Path(file_okay=False, path_type=Path),
              help="The batch: the folder to write into (made if missing; no file in it is ever written over).")
@json_option
@pass_context
def statements(
    context: Context, batch_agreement: str | None, batch_period_text: str | None, batch_out: Path | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Statements to send out, as PDF: settlement (per year, per party), cost (per return), payment (per month),
    incentive (per year) and rate notice (per rate review decision).

    Without a subcommand, the batch: every party's statements for a period (--agreement, --period, --out).
    """
    _batch_or_subcommand(context, batch_agreement, batch_period_text, batch_out, as_json)


@statements.command("settlement")
@agreement_option
@click.option("--year", "financial_year", required=True, help="The financial year, e.g. 2019-20.")
@click.option("--number", "sequence", type=int, help="The settlement's number (default the latest).")
@click.option("--provider", help="This provider's own statement (its lines and the pool's totals only).")
@click.option("--commissioner", help="This commissioner's statement (an accountant's).")
@out_option
@html_option
@json_option
@pass_context
def settlement(
    context: Context, agreement: str, financial_year: str, sequence: int | None, provider: str | None,
    commissioner: str | None, out: Path, as_html: bool, as_json: bool,
) -> None:  # fmt: skip
    """The year's settlement statement: every step, caps, clawbacks, each party's amount, approvals, reconciliation."""
    if provider and commissioner:
        raise click.UsageError("--provider and --commissioner: choose one party")
    book = context.book
    actor = context.actor()
    if provider:
        access = provider_access(book.records, actor, agreement, provider)
    else:
        access = access_for(book.records, actor, agreement)
    statement = settlement_statement(book, access, financial_year, sequence=sequence, commissioner=commissioner)
    _write(statement, out, as_html, as_json)


@statements.command("cost")
@agreement_option
@click.option("--provider", help="The provider (default: the acting user's own organisation).")
@click.option("--period", required=True, help="The return's period, e.g. 2019-20-Q1.")
@out_option
@html_option
@json_option
@pass_context
def cost(context: Context, agreement: str, provider: str | None, period: str, out: Path, as_html: bool,
         as_json: bool) -> None:  # fmt: skip
    """A provider's cost statement for one return: costs per hour, rate paid and gap, the market, its history."""
    book = context.book
    actor = context.actor()
    access = access_for(book.records, actor, agreement, provider)
    statement = cost_statement(book, access, provider or actor.organisation or "", period)
    _write(statement, out, as_html, as_json)


@statements.command("payment")
@agreement_option
@click.option("--provider", help="The provider (default: the acting user's own organisation).")
@click.option("--month", required=True, help="The payment run's month, e.g. 2019-06.")
@out_option
@html_option
@json_option
@pass_context
def payment(context: Context, agreement: str, provider: str | None, month: str, out: Path, as_html: bool,
            as_json: bool) -> None:  # fmt: skip
    """A provider's monthly payment statement: the run's lines, arrears, and the year's payments to date."""
    book = context.book
    actor = context.actor()
    access = access_for(book.records, actor, agreement, provider)
    statement = payment_statement(book, access, provider or actor.organisation or "", month)
    _write(statement, out, as_html, as_json)


@statements.command("incentive")
@agreement_option
@click.option("--year", "financial_year", required=True, help="The financial year, e.g. 2019-20.")
@click.option("--provider", help="Only this provider's line (a provider's own access shows only its own anyway).")
@click.option("--run", type=int, help="The assessment run (default the latest).")
@out_option
@html_option
@json_option
@pass_context
def incentive(context: Context, agreement: str, financial_year: str, provider: str | None, run: int | None,
              out: Path, as_html: bool, as_json: bool) -> None:  # fmt: skip
    """The year's incentive statement: baseline, actual, threshold, eligible hours, each KPI and the gate, payment."""
    book = context.book
    access = access_for(book.records, context.actor(), agreement, provider)
    statement = incentive_statement(book, access, financial_year, provider=provider, run=run)
    _write(statement, out, as_html, as_json)


@statements.command("rate-notice")
@agreement_option
@click.option("--review", "financial_year", required=True, help="The rate review's financial year, e.g. 2020-21.")
@click.option("--provider", help="The provider (default: the acting user's own organisation).")
@out_option
@html_option
@json_option
@pass_context
def rate_notice_command(context: Context, agreement: str, financial_year: str, provider: str | None, out: Path,
                        as_html: bool, as_json: bool) -> None:  # fmt: skip
    """A provider's notice of a decided rate review: the new rates, the uplift arithmetic, its arrears line by line."""
    book = context.book
    actor = context.actor()
    access = access_for(book.records, actor, agreement, provider)
    statement = rate_notice(book, access, financial_year, provider or actor.organisation or "")
    _write(statement, out, as_html, as_json)


# -- the batch: a period's statements, every party's ----------------------------------------------------------


def _batch_or_subcommand(
    context: Context, agreement: str | None, period: str | None, out: Path | None, as_json: bool
) -> None:
    """Run the batch when no subcommand is named; its options given with a subcommand are a usage mistake."""
    given = {"--agreement": agreement, "--period": period, "--out": out}
    if click.get_current_context().invoked_subcommand is not None:
        if any(v is not None for v in given.values()) or as_json:
            raise click.UsageError("--agreement, --period, --out and --json before a subcommand are the batch's; "
                                   "give a subcommand's options after its name")  # fmt: skip
        return
    if all(v is None for v in given.values()):
        click.echo(click.get_current_context().get_help())
        return
    missing = [name for name, v in given.items() if v is None]
    if missing:
        raise click.UsageError(f"the batch needs {', '.join(missing)} (or name a subcommand)")
    _batch(context, agreement or "", period or "", out or Path(), as_json)


def _clashes(out: Path, planned: list[Planned]) -> None:
    """Refuse, before anything is built, a batch whose files' names are taken in the folder."""
    if out.exists() and not out.is_dir():
        raise Conflict(f"--out: {out} is a file, not a folder")
    taken = [p.file_name for p in planned if (out / p.file_name).exists() or (out / p.file_name).is_symlink()]
    if taken:
        raise Conflict(f"--out: {out} already holds {', '.join(taken)}; statements are never written over a file")


def _batch(context: Context, agreement: str, period_text: str, out: Path, as_json: bool) -> None:
    """Every party's statements for the period: planned, checked against the folder, built (the progress bar, on
    stderr), then written — all of them or, for a refused request, none."""
    period = batch_period(period_text)
    book = context.book
    access = accountant_access(book.records, context.actor(), agreement)
    planned = plan_batch(book, access, period)
    summary: dict[str, Any] = {"agreement": agreement, "period": period.text, "kind": period.kind, "out": str(out),
                               "files": []}  # fmt: skip
    if not planned:
        summary["message"] = nothing_to_state(agreement, period)
        emit(summary, as_json, lambda d: [d["message"]])
        return
    _clashes(out, planned)
    built: list[tuple[Planned, Statement, bytes]] = []
    with click.progressbar(planned, label=f"building {len(planned)} statements", file=sys.stderr,
                           item_show_func=lambda p: p.file_name if p else None) as bar:  # fmt: skip
        for entry in bar:
            statement = entry.build()
            built.append((entry, statement, render_pdf(statement)))
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for entry, _, data in built:
            with open(out / entry.file_name, "xb") as f:
                written.append(out / entry.file_name)
                f.write(data)
    except FileExistsError as error:  # a file of the batch's name appeared meanwhile: leave the folder as it was
        for path in written:
            path.unlink(missing_ok=True)
        raise Conflict(f"--out: {error.filename} appeared while the batch was built; nothing was written") from None
    summary["files"] = [
        {"file": str(out / entry.file_name), "kind": entry.kind, "party": entry.party, "period": entry.period,
         "title": statement.title, "bytes": len(data), "head_position": statement.provenance.head["position"]}
        for entry, statement, data in built
    ]  # fmt: skip

    def lines(d: dict[str, Any]) -> list[str]:
        rows = [f"  {f['kind']:<11} {f['party']:<28} {f['bytes']:>9,} bytes, head {f['head_position']}: {f['file']}"
                for f in d["files"]]  # fmt: skip
        return [f"wrote {len(d['files'])} statements of {d['agreement']} for {d['period']} into {d['out']}:", *rows]

    emit(summary, as_json, lines)
