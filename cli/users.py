"""``openbook users``: the people who record and read the ledger, their organisation and roles."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, as_at_option, command_options, emit, json_option, pass_context, recording
from domain.organisations.user import Role
from ledger.queries import organisations as queries

__all__ = ["users"]


@click.group()
def users() -> None:
    """People who record and read the ledger."""


@users.command("list")
@click.option("--organisation")
@as_at_option
@json_option
@pass_context
def users_list(context: Context, organisation: str | None, as_at: str | None, as_json: bool) -> None:
    rows = queries.list_users(context.read_engine(as_at), organisation)
    emit(
        rows,
        as_json,
        lambda rs: [f"{r['username']:<36} {r['organisation']:<28} {','.join(r['roles'])}" for r in rs] or ["none"],
    )


@users.command("register")
@click.argument("username")
@click.argument("display_name")
@click.option("--organisation", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@command_options
@json_option
@pass_context
def users_register(
    context: Context, username: str, display_name: str, organisation: str, roles: tuple[str, ...], effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.organisations.register_user(envelope, username, display_name, organisation, roles)
    emit({"registered": result}, as_json, lambda d: [f"registered user {d['registered']}"])
