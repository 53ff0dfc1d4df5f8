"""``openbook statements``: write a statement as PDF (or its HTML) for a reader, with that reader's access.

A statement is of now: it writes a file once, so it takes no ``--as-at``; the builders do
(``reports.statements``: ``as_at=``), for the web app and for tests that rebuild a statement as at a checkpoint.

The statement is built by ``reports.statements`` from the queries, with the
access ``ledger.authorisation`` gives the acting user (``--as``): a provider
gets its own statement, another provider's is not found; an accountant may
ask for any provider's, or one commissioner's, statement.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import Context, emit, json_option, pass_context
from domain.errors import Conflict
from ledger.authorisation import access_for, provider_access
from reports.statements import Statement, render_html, render_pdf
from reports.statements.cost import cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
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


@click.group()
def statements() -> None:
    """Statements to send out, as PDF: settlement (per year, per party), cost (per return), payment (per month) and
    incentive (per year)."""


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
