"""``openbook export`` and ``openbook verify``: the history for auditors, and its independent check.

``verify FILE`` runs ``ledger/audit/verify.py`` itself — the same code an
auditor copies and runs with ``python3 -I`` — so openbook never has a check of
its own that could disagree with theirs. ``verify --database`` feeds that check
the live store's events directly, as the export would write them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import click

from cli.context import Context, emit, json_option, pass_context
from domain.bounds import MAX_POSITION
from domain.errors import Conflict, InvalidInput
from domain.money import format_count
from ledger.audit import verify as verifier
from ledger.audit.export import export_range, export_records, write_export
from ledger.audit.read_models import read_model_differences
from ledger.authorisation import check_may_export_history, check_may_verify_history
from ledger.jsonable import json_ready

__all__ = ["export", "verify"]


def _position(name: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_POSITION:
        raise InvalidInput(f"{name}: {value} is not a position; positions run from 1 to {MAX_POSITION:,}")


@click.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option("--from", "start", type=int, help="First position (default: the first event).")
@click.option("--to", "stop", type=int, help="Last position (default: the head when the export starts).")
@click.option("--force", is_flag=True, help="Replace an existing --out file (an export is evidence: never by default).")
@json_option
@pass_context
def export(context: Context, out: Path, start: int | None, stop: int | None, force: bool, as_json: bool) -> None:
    """Write the history as canonical JSON lines (docs/audit.md) for `verify` or any auditor's own check."""
    if out.exists() and not force:  # as `checkpoint --out`: checked before anything is read or written
        raise Conflict(f"--out: {out} already exists; an export is evidence and is not overwritten (--force to replace)")
    _position("--from", start)
    _position("--to", stop)
    if start is not None and stop is not None and stop < start:
        raise InvalidInput(f"--to: {stop} is before --from {start}")
    book = context.book
    check_may_export_history(book.records, context.actor(), book.read_engine)
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
    emit({"out": str(out), **summary}, as_json, lambda _summary: [
        f"exported {summary['events']:,} events (positions {summary['from']} to {head['position']}) and "
        f"{summary['chunks']:,} activity chunks to {out}; head hash {head['hash']}"
    ])


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=str))
@click.option("--database", "live", is_flag=True, help="Check the live event store instead of an export file.")
@click.option("--public-key", "keys", multiple=True, metavar="KEY_OR_FILE",
              help="A trusted public key (ed25519:BASE64) or a file of them (repeatable).")
@click.option("--since", type=click.Path(dir_okay=False, path_type=str), help="Show the log extends this checkpoint.")
@click.option("--read-models", "read_models", is_flag=True,
              help="Replay the history into scratch read models and list every live row that differs.")
@json_option
@pass_context
def verify(context: Context, file: str | None, live: bool, keys: tuple[str, ...], since: str | None,
           read_models: bool, as_json: bool) -> None:
    """Check an export (or with --database the live store): chain, signatures, chunks, checkpoints.

    With --read-models, check the live read models against a replay of the history instead.
    Exit status 0 verified, 1 broken (the first failing position is named), 2 unusable input.
    """
    if read_models:
        if file is not None or live or keys or since:
            raise InvalidInput("verify --read-models checks the live read models alone: give no FILE or other option")
        _verify_read_models(context, as_json)
        return
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
            check_may_verify_history(book.records, context.actor())
            records = export_records(book.ledger.recorder, book.ledger.write_engine)
            report = verifier.verify_records(records, trusted, kept)
        else:
            report = verifier.verify_file(file or "", trusted, kept)
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else "\n".join(report.lines()))
    click.get_current_context().exit(report.exit_code)


def _verify_read_models(context: Context, as_json: bool) -> None:
    """Every live read-model row that differs from a replay; exit 1 when any does (an edited row shows a forged figure)."""
    book = context.book
    check_may_export_history(book.records, context.actor(), book.read_engine)  # a differing row shows its figures
    head = book.projections.head()
    reached: dict[str, int] = {}
    with click.progressbar(length=max(head * len(book.ledger.projections.projections), 1), label="replaying",
                           file=sys.stderr) as bar:

        def progress(name: str, position: int, _head: int) -> None:
            bar.update(max(position - reached.get(name, 0), 0))
            reached[name] = position

        found = read_model_differences(book, progress)
    if as_json:
        click.echo(json.dumps({"read_models": "differ" if found else "match", "head": head,
                               "differences": [json_ready(dataclasses.asdict(d)) for d in found]}, indent=2))
    elif not found:
        click.echo(f"read models: every row matches a replay of the history to position {head:,}")
    else:
        click.echo(f"read models: {format_count(len(found), 'difference')} from a replay of the history to position {head:,}")
        for d in found:
            key = ", ".join(f"{k}={v}" for k, v in d.key.items())
            if d.column is None:
                where = "only in the live read model" if d.replayed is None else "missing from the live read model"
                click.echo(f"  {d.table} ({key}): {where}")
            else:
                click.echo(f"  {d.table} ({key}): {d.column} is {d.live!r}, the replay gives {d.replayed!r}")
    click.get_current_context().exit(1 if found else 0)
