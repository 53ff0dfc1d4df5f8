"""``openbook tokens``: API tokens for machine clients (``/api/v1``), one user's each, shown once, revocable."""

from __future__ import annotations

import click

from cli.context import Context, emit, json_option, pass_context
from cli.users import _known
from ledger.security.tokens import DAYS_BOUNDS, DEFAULT_DAYS

__all__ = ["tokens"]


@click.group()
def tokens() -> None:
    """API tokens: a machine client acts as one user, with that user's roles (docs/api.md)."""


@tokens.command("create")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--name", default="", help="What the token is for, e.g. 'finance system'.")
@click.option(
    "--expires-in-days", type=click.IntRange(*DAYS_BOUNDS), default=DEFAULT_DAYS, show_default=True,
    help=f"How many days the token works ({DAYS_BOUNDS[0]} to {DAYS_BOUNDS[1]}).",
)  # fmt: skip
@json_option
@pass_context
def tokens_create(context: Context, username: str, name: str, expires_in_days: int, as_json: bool) -> None:
    """Make a token for USER. It is shown once, here: only its digest is kept."""
    _known(context, username)
    tokens = context.book.security.tokens
    token_id, token = tokens.create(username, name, expires_in_days)
    [made] = [row for row in tokens.list(username) if row["token_id"] == token_id]
    emit(
        {"token_id": token_id, "username": username, "name": name, "token": token,
         "expires_at": made["expires_at"].isoformat()},
        as_json,
        lambda d: [f"token {d['token_id']} for {d['username']}, until {d['expires_at'][:19]} UTC "
                   "(shown once; keep it safe):", d["token"]],
    )  # fmt: skip


@tokens.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
@json_option
@pass_context
def tokens_list(context: Context, username: str | None, as_json: bool) -> None:
    """Every token: its id, user, name, when made, last used, expires and revoked (never the token itself)."""
    rows = [
        {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
        for row in context.book.security.tokens.list(username)
    ]
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['token_id']}  {r['username']:<36} {r['name'] or '-':<20} made {r['created_at'][:19]}  "
            f"used {(r['last_used_at'] or 'never')[:19]}  expires {r['expires_at'][:19]}"
            + (f"  revoked {r['revoked_at'][:19]}" if r["revoked_at"] else "")
            for r in rs
        ]
        or ["none"],
    )


@tokens.command("revoke")
@click.argument("token_id")
@json_option
@pass_context
def tokens_revoke(context: Context, token_id: str, as_json: bool) -> None:
    """Stop token TOKEN_ID working, from the next request on."""
    result = context.book.security.tokens.revoke(token_id)
    emit({"revoked": result["token_id"]}, as_json, lambda d: [f"revoked token {d['revoked']}"])
