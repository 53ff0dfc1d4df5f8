"""The ``openbook`` command line. Errors print one line and exit non-zero; ``--json`` for machines."""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.activity import activity
from cli.agreements import agreements, postcode
from cli.context import Context, OpenbookGroup, _date, command_options, emit, json_option, pass_context
from cli.incentives import incentives, kpis
from cli.rates import rates
from cli.returns import market, returns
from cli.settlements import payments, pool, settle
from domain.errors import OpenbookError
from domain.organisations.organisation import OrganisationKind
from domain.organisations.user import Role
from ledger.queries import organisations as views
from ledger.queries.events import read_events


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


cli.add_command(agreements)
cli.add_command(postcode)
cli.add_command(rates)
cli.add_command(returns)
cli.add_command(market)
cli.add_command(activity)
cli.add_command(kpis)
cli.add_command(incentives)
cli.add_command(pool)
cli.add_command(payments)
cli.add_command(settle)


@cli.command()
@pass_context
def init(context: Context) -> None:
    """Create the event store and read-model tables (safe to run again)."""
    book = context.book
    click.echo(f"ready: {book.database} (head position {book.projections.head()})")


@cli.command()
@json_option
@pass_context
def demo(context: Context, as_json: bool) -> None:
    """Load the demo partnerships (Wirral, Herefordshire); running it again records nothing new."""
    from demo.partnerships import load_demo, steps

    book = context.book
    before = book.projections.head()
    with click.progressbar(length=len(steps()), label="loading demo data", file=sys.stderr) as bar:
        commands = load_demo(book, progress=lambda _step: bar.update(1))
    recorded = book.projections.head() - before
    emit(
        {"commands": commands, "events_recorded": recorded, "database": str(book.database)},
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

    app = create_app({"OPENBOOK": context.book})
    click.echo(f"openbook is serving {context.book.database} at http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@cli.command()
@click.option("--projection", "names", multiple=True, help="Rebuild only this projection (repeatable).")
@json_option
@pass_context
def rebuild(context: Context, names: tuple[str, ...], as_json: bool) -> None:
    """Empty the read models and replay the whole history into them."""
    runner = context.book.projections
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
    book = context.book
    found = read_events(
        book.ledger.recorder, book.ledger.mapper, after=after, limit=limit, topics=topics, aggregate_id=aggregate_id
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
    rows = views.list_organisations(context.book.read_engine, kind)
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
    result = context.book.organisations.register_organisation(envelope, code, name, kind, member_of)
    emit({"registered": result}, as_json, lambda d: [f"registered organisation {d['registered']}"])


@cli.group()
def users() -> None:
    """People who record and read the ledger."""


@users.command("list")
@click.option("--organisation")
@json_option
@pass_context
def users_list(context: Context, organisation: str | None, as_json: bool) -> None:
    rows = views.list_users(context.book.read_engine, organisation)
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
    result = context.book.organisations.register_user(envelope, username, display_name, organisation, roles)
    emit({"registered": result}, as_json, lambda d: [f"registered user {d['registered']}"])


def main() -> None:
    cli(prog_name="openbook")
