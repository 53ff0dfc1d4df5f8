"""The ``openbook`` command line. Errors print one line and exit non-zero; ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import click

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import OpenbookError
from domain.organisations import OrganisationKind
from domain.users import Role
from ledger import views
from ledger.application import Ledger
from ledger.history import json_ready, read_events
from web.settings import Settings


class OpenbookGroup(click.Group):
    """Turns the ledger's errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OpenbookError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)


class Context:
    """Built lazily so that ``--help`` never touches the database."""

    def __init__(self, database_url: str | None, acting_user: str | None):
        self.database_url = database_url
        self.acting_user = acting_user
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from web.bootstrap import bootstrap

            settings = Settings.from_environ()
            if self.database_url:
                settings = Settings(self.database_url, settings.secret_key, settings.signing_key_path)
            self._ledger = bootstrap(settings)
        return self._ledger

    def actor(self) -> Actor:
        if not self.acting_user:
            return SYSTEM
        user = self.ledger.user(self.acting_user)
        if not user.active:
            raise OpenbookError(f"user {user.username} is deactivated")
        return Actor(user.username, user.organisation)

    def envelope(self, effective: date | None, reason: str | None, key: str | None) -> Envelope:
        return Envelope(self.actor(), effective or date.today(), reason, key)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


pass_context = click.make_pass_decorator(Context)


def emit(data: Any, as_json: bool, render: Callable[[Any], Iterable[str]]) -> None:
    if as_json:
        click.echo(json.dumps(json_ready(data), indent=2))
    else:
        for line in render(data):
            click.echo(line)


def command_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The envelope options every recording command takes."""
    func = click.option("--key", "idempotency_key", help="Idempotency key: a retry with it records nothing new.")(func)
    func = click.option("--reason", help="Why this is recorded (kept in the history).")(func)
    func = click.option(
        "--effective", type=click.DateTime(["%Y-%m-%d"]), help="The date the fact is about (default today)."
    )(func)
    return func


def _date(value: Any) -> date | None:
    return value.date() if value is not None else None


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group(cls=OpenbookGroup)
@click.option("--database", envvar="OPENBOOK_DATABASE_URL", help="Database URL (default sqlite:///var/openbook.sqlite).")
@click.option("--as", "acting_user", envvar="OPENBOOK_USER", help="Username recorded as the actor (default: system).")
@click.version_option(package_name="openbook")
@click.pass_context
def cli(ctx: click.Context, database: str | None, acting_user: str | None) -> None:
    """openbook: the open-book accounting and gain-share ledger for homecare commissioning."""
    context = Context(database, acting_user)
    ctx.obj = context
    ctx.call_on_close(context.close)


@cli.command()
@pass_context
def init(context: Context) -> None:
    """Create the event store and read-model tables (safe to run again)."""
    ledger = context.ledger
    click.echo(f"ready: {ledger.database} (head position {ledger.projections.head()})")


@cli.command()
@json_option
@pass_context
def demo(context: Context, as_json: bool) -> None:
    """Load the demo partnerships (Wirral, Herefordshire); running it again records nothing new."""
    from ledger.demo import ORGANISATIONS, USERS, load_demo

    ledger = context.ledger
    before = ledger.projections.head()
    with click.progressbar(length=len(ORGANISATIONS) + len(USERS), label="loading demo data", file=sys.stderr) as bar:
        commands = load_demo(ledger, progress=lambda _step: bar.update(1))
    recorded = ledger.projections.head() - before
    emit(
        {"commands": commands, "events_recorded": recorded, "database": str(ledger.database)},
        as_json,
        lambda d: [f"demo loaded into {d['database']}: {d['events_recorded']} new events from {d['commands']} commands"],
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_context
def serve(context: Context, host: str, port: int) -> None:
    """Serve the web app."""
    from web.app import create_app

    app = create_app({"LEDGER": context.ledger})
    click.echo(f"openbook is serving {context.ledger.database} at http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@cli.command()
@click.option("--projection", "names", multiple=True, help="Rebuild only this projection (repeatable).")
@json_option
@pass_context
def rebuild(context: Context, names: tuple[str, ...], as_json: bool) -> None:
    """Empty the read models and replay the whole history into them."""
    runner = context.ledger.projections
    unknown = sorted(set(names) - set(runner.projections))
    if unknown:
        raise OpenbookError(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(runner.projections)}")
    head = runner.head()
    with click.progressbar(length=max(head, 1), label="replaying", file=sys.stderr) as bar:
        last = {"reached": 0}

        def progress(_name: str, reached: int, _head: int) -> None:
            bar.update(max(reached - last["reached"], 0))
            last["reached"] = reached

        applied = runner.rebuild(list(names) or None, progress=progress)
    emit(
        {"head": head, "events_applied": applied, "positions": runner.positions()},
        as_json,
        lambda d: [f"rebuilt to position {d['head']}: {d['events_applied']} events applied"],
    )


@cli.command()
@click.option("--after", default=0, type=int, help="Only events after this position.")
@click.option("--limit", default=50, type=int, show_default=True)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable), e.g. openbook:user.registered.")
@click.option("--aggregate", help="Only events of this aggregate id.")
@json_option
@pass_context
def events(
    context: Context, after: int, limit: int, topics: tuple[str, ...], aggregate: str | None, as_json: bool
) -> None:
    """List recorded events: position, recorded-at, actor, effective date, topic."""
    from uuid import UUID

    try:
        aggregate_id = UUID(aggregate) if aggregate else None
    except ValueError:
        raise OpenbookError(f"--aggregate: {aggregate!r} is not an aggregate id (a UUID)") from None
    ledger = context.ledger
    found = read_events(
        ledger.recorder, ledger.mapper, after=after, limit=limit, topics=topics, aggregate_id=aggregate_id
    )
    emit(
        [e.as_json() for e in found],
        as_json,
        lambda rows: [
            f"{r['position']:>6}  {r['recorded_at'][:19]}  {r['effective_date']}  {r['actor']:<28} {r['topic']}"
            for r in rows
        ]
        or ["no events"],
    )


@cli.group()
def organisations() -> None:
    """Councils, CCGs/ICBs, providers and audit bodies."""


@organisations.command("list")
@click.option("--kind", type=click.Choice([k.value for k in OrganisationKind]))
@json_option
@pass_context
def organisations_list(context: Context, kind: str | None, as_json: bool) -> None:
    rows = views.list_organisations(context.ledger.read_engine, kind)
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
) -> None:
    envelope = context.envelope(_date(effective), reason, idempotency_key)
    result = context.ledger.register_organisation(envelope, code, name, kind, member_of)
    emit({"registered": result}, as_json, lambda d: [f"registered organisation {d['registered']}"])


@cli.group()
def users() -> None:
    """People who record and read the ledger."""


@users.command("list")
@click.option("--organisation")
@json_option
@pass_context
def users_list(context: Context, organisation: str | None, as_json: bool) -> None:
    rows = views.list_users(context.ledger.read_engine, organisation)
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
) -> None:
    envelope = context.envelope(_date(effective), reason, idempotency_key)
    result = context.ledger.register_user(envelope, username, display_name, organisation, roles)
    emit({"registered": result}, as_json, lambda d: [f"registered user {d['registered']}"])


def main() -> None:
    cli(prog_name="openbook")
