"""``openbook users``: the people who record and read the ledger, their organisation and roles."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, as_at_option, command_options, emit, json_option, pass_context, recording
from domain.errors import NotFound
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


@users.command("deactivate")
@click.argument("username")
@command_options
@json_option
@pass_context
def users_deactivate(
    context: Context, username: str, effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool
) -> None:
    """USERNAME may no longer log in or record anything; what they recorded stays, with their name on it."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.organisations.deactivate_user(envelope, username)
    emit({"deactivated": result}, as_json, lambda d: [f"deactivated user {d['deactivated']}"])


@users.command("set-password")
@click.argument("username")
@json_option
@pass_context
def users_set_password(context: Context, username: str, as_json: bool) -> None:
    """Set USERNAME's web password, prompted twice and never echoed (never given on the command line)."""
    _known(context, username)
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    context.book.security.set_password(username, password)
    emit({"password_set": username}, as_json, lambda d: [f"password set for {d['password_set']}"])


@users.command("invite")
@click.argument("username")
@click.option("--base-url", default="", help="The site's address, e.g. https://openbook.example.org, to print a full link.")
@json_option
@pass_context
def users_invite(context: Context, username: str, base_url: str, as_json: bool) -> None:
    """Make a one-use first-login link (valid 7 days) for USERNAME to choose a password."""
    _known(context, username)
    token = context.book.security.issue_link(username)
    link = f"{base_url.rstrip('/')}/first-login/{token}"
    emit({"username": username, "link": link}, as_json, lambda d: [f"first-login link for {d['username']}: {d['link']}"])


@users.command("security-log")
@click.option("--user", "username", help="Only this user's entries.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@pass_context
def users_security_log(context: Context, username: str | None, limit: int, as_json: bool) -> None:
    """Logins, failed attempts and credential changes, newest first (kept apart from the event history)."""
    rows = context.book.security.recent(limit, username)
    emit(
        [{**row, "at": row["at"].isoformat()} for row in rows],
        as_json,
        lambda rs: [f"{r['at'][:19]}  {r['kind']:<17} {r['username'] or '-':<36} {r['address'] or ''}" for r in rs]
        or ["none"],
    )


def _known(context: Context, username: str) -> None:
    if not any(u["username"] == username for u in queries.list_users(context.book.read_engine)):
        raise NotFound(f"user {username} is not registered (openbook users register)")
