"""``openbook organisations``: councils, CCGs/ICBs, providers and audit bodies."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, as_at_option, command_options, emit, json_option, pass_context, recording
from domain.organisations.organisation import OrganisationKind
from ledger.queries import organisations as queries

__all__ = ["organisations"]


@click.group()
def organisations() -> None:
    """Councils, CCGs/ICBs, providers and audit bodies."""


@organisations.command("list")
@click.option("--kind", type=click.Choice([k.value for k in OrganisationKind]))
@as_at_option
@json_option
@pass_context
def organisations_list(context: Context, kind: str | None, as_at: str | None, as_json: bool) -> None:
    rows = queries.list_organisations(context.read_engine(as_at), kind)
    emit(rows, as_json, lambda rs: [f"{r['kind']:<11} {r['code']:<28} {r['name']}" for r in rs] or ["none"])


@organisations.command("register")
@click.argument("code")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrganisationKind]))
@click.option("--member-of", help="Code of the provider alliance this provider belongs to.")
@command_options
@json_option
@pass_context
def organisations_register(
    context: Context, code: str, name: str, kind: str, member_of: str | None, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.organisations.register_organisation(envelope, code, name, kind, member_of)
    emit({"registered": result}, as_json, lambda d: [f"registered organisation {d['registered']}"])
