"""``openbook database``: setting up a PostgreSQL deployment in which the application cannot rewrite the history.

    OPENBOOK_DATABASE_URL=postgresql://openbook_owner@host/openbook openbook database grant-app-role openbook_app

Run as the schema-owner role (``docs/deployment.md``); it never opens the
ledger, so it creates no read models (those belong to the application's role).
"""

from __future__ import annotations

import dataclasses

import click

from cli.context import Context, emit, json_option, pass_context
from ledger.persistence.database import Database
from ledger.persistence.roles import grant_app_role
from ledger.settings import Settings


@click.group()
def database() -> None:
    """Database roles (PostgreSQL)."""


@database.command("grant-app-role")
@click.argument("app_role")
@json_option
@pass_context
def grant_app_role_command(context: Context, app_role: str, as_json: bool) -> None:
    """As the schema owner: create the event store's tables and let APP_ROLE only INSERT into and SELECT from them."""
    settings = Settings.from_environ()
    if context.database_url:
        settings = dataclasses.replace(settings, database_url=context.database_url)
    target = Database.from_url(settings.database_url)
    target.check_reachable()
    tables = grant_app_role(target, app_role)
    emit(
        {"database": str(target), "app_role": app_role, "append_only_tables": tables},
        as_json,
        lambda d: [
            f"{d['app_role']} may only INSERT into and SELECT from {', '.join(d['append_only_tables'])} "
            f"in {d['database']}; its read models are its own"
        ],
    )
