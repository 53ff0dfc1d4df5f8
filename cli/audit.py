"""``openbook export`` and ``openbook verify``: the history for auditors, and its independent check.

``verify FILE`` runs ``ledger/audit/verify.py`` itself — the same code an
auditor copies and runs with ``python3 -I`` — so openbook never has a check of
its own that could disagree with theirs. ``verify --database`` feeds that check
the live store's events directly, as the export would write them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from cli.context import Context, pass_context
from domain.bounds import MAX_POSITION
from domain.errors import InvalidInput
from ledger.audit import verify as verifier
from ledger.audit.export import export_range, export_records, write_export
from ledger.authorisation import check_may_read_history

__all__ = ["export", "verify"]


def _position(name: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_POSITION:
        raise InvalidInput(f"{name}: {value} is not a position; positions run from 1 to {MAX_POSITION:,}")


@click.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option("--from", "start", type=int, help="First position (default: the first event).")
@click.option("--to", "stop", type=int, help="Last position (default: the head when the export starts).")
@pass_context
def export(context: Context, out: Path, start: int | None, stop: int | None) -> None:
    """Write the history as canonical JSON lines (docs/audit.md) for `verify` or any auditor's own check."""
    _position("--from", start)
    _position("--to", stop)
    if start is not None and stop is not None and stop < start:
        raise InvalidInput(f"--to: {stop} is before --from {start}")
    book = context.book
    check_may_read_history(book.records, context.actor())
    recorder = book.ledger.recorder
    last = min(stop, export_range(recorder)) if stop is not None else export_range(recorder)
    partial = out.with_name(out.name + ".partial")  # a failed export never leaves a file that looks whole
    try:
        f = partial.open("w", encoding="ascii", newline="\n")
    except OSError as e:
        raise InvalidInput(f"--out {out}: cannot write there ({e.strerror})") from None
    try:
        with f, click.progressbar(
            length=max(last - (start or 1) + 1, 1), label="exporting events", file=sys.stderr
        ) as bar:
            summary = write_export(
                f, recorder, book.ledger.write_engine, start, stop, progress=bar.update, key=book.ledger.signing_key
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    head = summary["checkpoint"]
    click.echo(
        f"exported {summary['events']:,} events (positions {summary['from']} to {head['position']}) and "
        f"{summary['chunks']:,} activity chunks to {out}; head hash {head['hash']}"
    )


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=str))
@click.option("--database", "live", is_flag=True, help="Check the live event store instead of an export file.")
@click.option("--public-key", "keys", multiple=True, metavar="KEY_OR_FILE",
              help="A trusted public key (ed25519:BASE64) or a file of them (repeatable).")
@click.option("--since", type=click.Path(dir_okay=False, path_type=str), help="Show the log extends this checkpoint.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@pass_context
def verify(context: Context, file: str | None, live: bool, keys: tuple[str, ...], since: str | None,
           as_json: bool) -> None:
    """Check an export (or with --database the live store): chain, signatures, chunks, checkpoints.

    Exit status 0 verified, 1 broken (the first failing position is named), 2 unusable input.
    """
    if live == (file is not None):
        raise InvalidInput("verify: give an export FILE, or --database for the live store (one of them)")
    try:
        trusted = verifier.public_keys(keys)
        kept = verifier.load_checkpoint(since) if since else None
    except verifier.Unusable as u:
        report = verifier.unusable(str(u))
    else:
        if live:
            book = context.book
            check_may_read_history(book.records, context.actor())
            records = export_records(book.ledger.recorder, book.ledger.write_engine)
            report = verifier.verify_records(records, trusted, kept)
        else:
            report = verifier.verify_file(file or "", trusted, kept)
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else "\n".join(report.lines()))
    click.get_current_context().exit(report.exit_code)
