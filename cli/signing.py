"""``openbook keys generate|show`` and ``openbook checkpoint``: the signing key, and attesting the history's head.

The key file is the one thing that lets an auditor tell the history openbook
recorded from one rewritten by someone with database access alone, so it is
made here with mode 0600, never overwritten, and its public line is printed to
publish (docs/audit.md: Keys; README: configuring ``OPENBOOK_SIGNING_KEY``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.context import Context, emit, json_option, pass_context, recording
from domain.errors import Conflict, SettingsError
from ledger.audit.head_check import current_head
from ledger.audit.signing import checkpoint_json, generate_key_files, load_signing_key
from ledger.queries.checkpoints import latest_recorded_checkpoint
from ledger.settings import Settings

__all__ = ["checkpoint", "keys"]


@click.group()
def keys() -> None:
    """The Ed25519 key that signs every event and checkpoint (OPENBOOK_SIGNING_KEY)."""


def _key_lines(d: dict[str, Any]) -> list[str]:
    lines = [f"key id {d['key_id']}", f"public key (publish it): {d['public_key']}"]
    if d.get("private_key_file"):
        lines.insert(0, f"private key written to {d['private_key_file']} (mode 0600; keep it outside the database "
                        "and its backups)")  # fmt: skip
        lines.append(f"public key written to {d['public_key_file']}")
        lines.append(f"to sign with it: export OPENBOOK_SIGNING_KEY={d['private_key_file']}")
    return lines


@keys.command("generate")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The private key file to make.")
@json_option
def keys_generate(out: Path, as_json: bool) -> None:
    """Make a key pair: FILE (private, PEM PKCS#8, mode 0600) and FILE.pub (the public line); never overwrites."""
    key = generate_key_files(out)
    emit(
        {"key_id": key.key_id, "public_key": key.public_line, "private_key_file": str(out),
         "public_key_file": f"{out}.pub"},
        as_json,
        _key_lines,
    )  # fmt: skip


@keys.command("show")
@json_option
def keys_show(as_json: bool) -> None:
    """The configured key's id and public line (the key OPENBOOK_SIGNING_KEY names)."""
    path = Settings.from_environ().signing_key_path
    if not path:
        raise SettingsError(
            "no signing key configured: set OPENBOOK_SIGNING_KEY to the private key file "
            "(make one with `openbook keys generate --out FILE`)"
        )
    key = load_signing_key(path)
    emit({"key_id": key.key_id, "public_key": key.public_line, "file": path}, as_json, _key_lines)


def _checkpoint_lines(d: dict[str, Any]) -> list[str]:
    c = d["checkpoint"]
    signed = f"signed by key {c['key_id']}" if c["key_id"] else "unsigned: no signing key (OPENBOOK_SIGNING_KEY)"
    by = f" by {d['recorded_by']}" if d.get("recorded_by") else ""
    where = f"recorded as event {d['recorded_in']:,}{by}; " if d.get("recorded_in") else ""
    lines = [
        f"checkpoint of head position {c['position']:,} ({c['events']:,} event{'' if c['events'] == 1 else 's'}) "
        f"at {c['recorded_at']}",
        f"  hash {c['hash']}",
        f"  {where}{signed}",
    ]
    if d.get("out"):
        lines.append(f"  written to {d['out']}")
    return lines


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the checkpoint JSON here.")
@click.option("--head", "head_only", is_flag=True, help="Sign the current head without recording anything.")
@click.option("--latest", is_flag=True, help="Show the latest recorded checkpoint instead of recording one.")
@click.option("--reason", help="Why the head is attested now (kept in the history).")
@click.option("--key", "idempotency_key", help="Idempotency key: a retry with it records nothing new.")
@json_option
@pass_context
def checkpoint(
    context: Context, out: Path | None, head_only: bool, latest: bool, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Record a checkpoint of the history's head (signed with OPENBOOK_SIGNING_KEY), print it and write it as JSON.

    The checkpoint's own event then becomes the head: a checkpoint attests the
    head before it. Keep the file: `openbook verify --since FILE` later shows
    the history still extends it.
    """
    if head_only and latest:
        raise click.UsageError("--head and --latest: choose one")
    if (head_only or latest) and (reason or idempotency_key):
        raise click.UsageError("--reason and --key are for recording a checkpoint, not with --head or --latest")
    if out is not None and out.exists():  # checked before anything is recorded
        raise Conflict(f"--out: {out} already exists; a checkpoint file is evidence and is never overwritten")
    book = context.book
    if latest:
        found = latest_recorded_checkpoint(book.read_engine)
        if found is None:
            emit(None, as_json, lambda _d: ["no checkpoint recorded yet"])
            return
        result = found
    elif head_only:
        result = {"checkpoint": current_head(book), "recorded_in": None}
    else:
        result = book.checkpoints.record_checkpoint(recording(context, None, reason, idempotency_key))
    if out is not None:
        with open(out, "x", encoding="ascii") as f:
            f.write(checkpoint_json(result["checkpoint"]) + "\n")
    emit({**result, "out": str(out) if out else None}, as_json, _checkpoint_lines)
