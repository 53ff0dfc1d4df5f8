"""``openbook statements issue|issued|fetch|check``: sending a statement out, and checking a copy against the record.

``issue KIND`` takes the options of the command that builds that kind
(``openbook statements KIND``), builds the PDF with the acting user's access,
and issues it (``reports.statements.issuing``): the ledger keeps the bytes by
their SHA-256 digest and records the issue. ``--out`` writes the copy to send,
byte for byte the document kept. ``fetch`` gives back an issued statement's
bytes, ``check`` tells whether a file is an issued statement (exit status 0) or
not (1). Who may see which issue: docs/statements.md (Issuing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cli.context import Context, as_at_option, command_options, emit, json_option, pass_context, recording
from domain.errors import Conflict, NotAllowed, NotFound
from ledger.authorisation import access_for
from ledger.queries.agreements import list_agreements
from ledger.queries.issued_statements import issued_statements_under
from reports.statements.issuing import Asked, check_copy, fetch, issue

__all__ = ["COMMANDS"]

agreement_option = click.option("--agreement", required=True, help="The agreement's code.")
copy_option = click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
                           help="Also write the issued PDF here (never over an existing file).")  # fmt: skip
year_option = click.option("--year", "period", required=True, help="The financial year, e.g. 2019-20.")


def _refuse_existing(out: Path | None) -> None:
    if out is not None and out.exists():
        raise Conflict(f"--out: {out} already exists; a statement is never written over another file")


def _write(out: Path, data: bytes) -> None:
    with open(out, "xb") as f:
        f.write(data)


def _party(row: dict[str, Any]) -> str:
    return row["party"] or "the partnership"


def _issued_lines(d: dict[str, Any]) -> list[str]:
    said = "issued" if d["new"] else "already issued (the same bytes; nothing new recorded)"
    lines = [f"{said}: {d['title']} — {d['kind']} statement of {d['agreement']} for {_party(d)}, {d['period']}",
             f"  sha256 {d['digest']} ({d['size']:,} bytes), built at head position {d['head_position']:,}, "
             f"issued by {d['issued_by']}"]  # fmt: skip
    if d.get("out"):
        lines.append(f"  written to {d['out']}")
    return lines


def _issue(context: Context, asked: Asked, out: Path | None, effective, reason, key, as_json: bool) -> None:  # noqa: ANN001
    _refuse_existing(out)  # before anything is recorded
    issued, pdf = issue(context.book, recording(context, effective, reason, key), asked)
    if out is not None:
        _write(out, pdf)
    emit({**issued, "out": str(out) if out else None}, as_json, _issued_lines)


def _recording(func: Callable[..., Any]) -> Callable[..., Any]:
    """What every ``issue KIND`` takes beside its build options: --out, the envelope options, --json."""
    return copy_option(command_options(json_option(pass_context(func))))


@click.group("issue")
def issue_group() -> None:
    """Issue a statement: build its PDF, keep its bytes by SHA-256 digest and record the issue (accountants of a
    commissioner). Takes the options of `openbook statements KIND`."""


@issue_group.command("settlement")
@agreement_option
@year_option
@click.option("--number", "sequence", type=int, help="The settlement's number (default the latest).")
@click.option("--provider", help="This provider's own statement (its lines and the pool's totals only).")
@click.option("--commissioner", help="This commissioner's statement.")
@_recording
def issue_settlement(context: Context, agreement: str, period: str, sequence: int | None, provider: str | None,
                     commissioner: str | None, out: Path | None, effective, reason, idempotency_key,
                     as_json: bool) -> None:  # noqa: ANN001  # fmt: skip
    """Issue the year's settlement statement (the partnership's, or one party's)."""
    if provider and commissioner:
        raise click.UsageError("--provider and --commissioner: choose one party")
    asked = Asked("settlement", agreement, period, provider=provider, commissioner=commissioner, sequence=sequence)
    _issue(context, asked, out, effective, reason, idempotency_key, as_json)


@issue_group.command("cost")
@agreement_option
@click.option("--provider", required=True, help="The provider whose return it is.")
@click.option("--period", required=True, help="The return's period, e.g. 2019-20-Q1.")
@_recording
def issue_cost(context: Context, agreement: str, provider: str, period: str, out: Path | None, effective, reason,
               idempotency_key, as_json: bool) -> None:  # noqa: ANN001  # fmt: skip
    """Issue a provider's cost statement for one return."""
    _issue(context, Asked("cost", agreement, period, provider=provider), out, effective, reason, idempotency_key,
           as_json)  # fmt: skip


@issue_group.command("payment")
@agreement_option
@click.option("--provider", required=True, help="The provider paid.")
@click.option("--month", "period", required=True, help="The payment run's month, e.g. 2019-06.")
@_recording
def issue_payment(context: Context, agreement: str, provider: str, period: str, out: Path | None, effective, reason,
                  idempotency_key, as_json: bool) -> None:  # noqa: ANN001  # fmt: skip
    """Issue a provider's monthly payment statement."""
    _issue(context, Asked("payment", agreement, period, provider=provider), out, effective, reason, idempotency_key,
           as_json)  # fmt: skip


@issue_group.command("incentive")
@agreement_option
@year_option
@click.option("--provider", help="Only this provider's line: the statement issued to it.")
@click.option("--run", type=int, help="The assessment run (default the latest).")
@_recording
def issue_incentive(context: Context, agreement: str, period: str, provider: str | None, run: int | None,
                    out: Path | None, effective, reason, idempotency_key, as_json: bool) -> None:  # noqa: ANN001  # fmt: skip
    """Issue the year's incentive statement (every provider's, or one provider's)."""
    _issue(context, Asked("incentive", agreement, period, provider=provider, run=run), out, effective, reason,
           idempotency_key, as_json)  # fmt: skip


@issue_group.command("rate-notice")
@agreement_option
@click.option("--review", "period", required=True, help="The rate review's financial year, e.g. 2020-21.")
@click.option("--provider", required=True, help="The provider the notice goes to.")
@_recording
def issue_rate_notice(context: Context, agreement: str, period: str, provider: str, out: Path | None, effective,
                      reason, idempotency_key, as_json: bool) -> None:  # noqa: ANN001  # fmt: skip
    """Issue a provider's notice of a decided rate review."""
    _issue(context, Asked("rate-notice", agreement, period, provider=provider), out, effective, reason,
           idempotency_key, as_json)  # fmt: skip


def _list_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["no statements issued that you may see"]
    return [f"{r['issued_on']}  {r['agreement']}  {r['kind']:<11} {r['period']:<10} {_party(r)}: {r['title']} "
            f"({r['size']:,} bytes, sha256 {r['digest']}, by {r['issued_by']})" for r in rows]  # fmt: skip


@click.command("issued")
@click.option("--agreement", help="Only this agreement's (default: every agreement you have a part in).")
@as_at_option
@json_option
@pass_context
def issued(context: Context, agreement: str | None, as_at: str | None, as_json: bool) -> None:
    """The statements issued that you may see, newest first: a provider its own; accountants and auditors all."""
    book, actor, engine = context.book, context.actor(), context.read_engine(as_at)
    codes = [agreement] if agreement else [row["code"] for row in list_agreements(engine)]
    rows: list[dict[str, Any]] = []
    for code in codes:
        try:
            access = access_for(book.records, actor, code)
        except (NotFound, NotAllowed):
            if agreement:
                raise
            continue  # an agreement the actor has no part in: nothing of it to list
        rows += issued_statements_under(engine, access)
    rows.sort(key=lambda r: r["issued_in"], reverse=True)
    emit(rows, as_json, _list_lines)


@click.command("fetch")
@click.argument("digest")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write the issued statement to (never overwritten).")  # fmt: skip
@json_option
@pass_context
def fetch_command(context: Context, digest: str, out: Path, as_json: bool) -> None:
    """Write an issued statement's PDF, byte for byte as issued (checked against its SHA-256 digest)."""
    _refuse_existing(out)
    row, document = fetch(context.book, context.actor(), digest)
    _write(out, document.body)
    emit({**row, "out": str(out)}, as_json,
         lambda d: [f"wrote {d['title']} ({d['size']:,} bytes, sha256 {d['digest']}) to {d['out']}"])  # fmt: skip


def _check_lines(d: dict[str, Any]) -> list[str]:
    if not d["matches"]:
        return [f"no match: no issued statement you may see has sha256 {d['digest']} ({d['size']:,} bytes); "
                "this file is not a statement as issued"]  # fmt: skip
    i = d["issued"]
    return [f"matches: {i['title']} — {i['kind']} statement of {i['agreement']} for {_party(i)}, {i['period']}",
            f"  sha256 {d['digest']}, issued on {i['issued_on']} by {i['issued_by']} (event {i['issued_in']:,}), "
            f"built at head position {i['head_position']:,}"]  # fmt: skip


@click.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def check(context: Context, file: Path, as_json: bool) -> None:
    """Is FILE an issued statement? Exit status 0 when its SHA-256 digest is that of a statement issued (saying
    which), 1 when not."""
    result = check_copy(context.book, context.actor(), file.read_bytes())
    emit({**result, "file": str(file)}, as_json, _check_lines)
    if not result["matches"]:
        click.get_current_context().exit(1)


#: The commands this module adds to ``openbook statements``.
COMMANDS = (issue_group, issued, fetch_command, check)
