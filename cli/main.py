"""The ``openbook`` command line: the main group, set-up commands, and every command group (one module each).

Errors print one ``error:`` line and exit non-zero; ``--json`` for machines.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import click

from cli.activity import activity
from cli.agreements import agreements, postcode
from cli.audit import export, verify
from cli.context import Context, OpenbookGroup, emit, json_option, pass_context
from cli.database import database
from cli.events import events
from cli.incentives import incentives, kpis
from cli.organisations import organisations
from cli.projections import projections, say_when_a_read_model_stops
from cli.rates import rates
from cli.reconcile import reconcile
from cli.returns import market, returns
from cli.settlements import payments, pool, settle
from cli.signing import checkpoint, keys
from cli.statements import statements
from cli.statements_issue import COMMANDS as ISSUING
from cli.tokens import tokens
from cli.users import users
from cli.worker import jobs, worker
from domain.money import format_count
from ledger.jobs.worker import start_worker_thread

# After a command the CLI says itself when the read models are behind (Context.say_if_behind);
# the ledger's own warnings about it, printed by logging's last resort, would say it twice.
# (``projections follow`` and ``serve`` print the stopping of a read model themselves: cli/projections.py.)
for _quiet in ("ledger.application", "ledger.projections.runner.stopped"):
    logging.getLogger(_quiet).addHandler(logging.NullHandler())


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


cli.add_command(organisations)
cli.add_command(users)
cli.add_command(tokens)
cli.add_command(events)
cli.add_command(projections)
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
cli.add_command(reconcile)
cli.add_command(statements)
for command in ISSUING:  # issue, issued, fetch, check: issuing statements (cli/statements_issue.py)
    statements.add_command(command)
cli.add_command(database)
cli.add_command(keys)
cli.add_command(checkpoint)
cli.add_command(export)
cli.add_command(verify)
cli.add_command(worker)
cli.add_command(jobs)


@cli.command()
@pass_context
def init(context: Context) -> None:
    """Create the event store and read-model tables (safe to run again)."""
    book = context.book
    click.echo(f"ready: {book.database} (head position {book.projections.head()})")


@cli.command()
@click.option("--scale", type=click.Choice(["small", "full"]), default=None,
              help="Load the generated five-year partnership instead (demo/scale.py): small for CI, full for "
              "about 1,000,000 visits a year. Loads once per database.")
@click.option("--seed", type=int, default=None, help="The scale demo's seed (same seed, same history).")
@json_option
@pass_context
def demo(context: Context, scale: str | None, seed: int | None, as_json: bool) -> None:
    """Load the demo partnerships (Wirral, Herefordshire) and give every demo user the password "demo".

    It ends with a checkpoint of the head, recorded by the demo's auditor (signed with OPENBOOK_SIGNING_KEY when
    one is set), which every statement built from the demo cites. Running it again records nothing new. Only this
    command sets such a password. With ``--scale`` it loads the generated Northshire partnership instead (refused
    if already loaded; it ends with a checkpoint too).
    """
    from demo.partnerships import DEMO_PASSWORD, give_demo_passwords, load_demo, steps

    if seed is not None and scale is None:
        raise click.UsageError("--seed: only the scale demo (--scale small|full) is seeded")
    book = context.book
    before = book.projections.head()
    if scale is None:
        with click.progressbar(length=len(steps()), label="loading demo data", file=sys.stderr) as bar:
            commands = load_demo(book, progress=lambda _step: bar.update(1))
        demo_users = give_demo_passwords(book)
    else:
        commands, demo_users = _load_scale(book, scale, seed)
    recorded = book.projections.head() - before
    emit(
        {
            "commands": commands,
            "events_recorded": recorded,
            "database": str(book.database),
            "users": [{"username": u["username"], "organisation": u["organisation"], "roles": u["roles"]}
                      for u in demo_users],
            "password": DEMO_PASSWORD,
        },
        as_json,
        lambda d: [
            f"demo loaded into {d['database']}: {format_count(d['events_recorded'], 'new event')} "
            f"from {format_count(d['commands'], 'command')}",
            f"every demo user below logs in with the password \"{d['password']}\":",
            *(f"  {u['username']:<36} {u['organisation']:<22} {', '.join(u['roles'])}" for u in d["users"]),
        ],
    )


def _load_scale(book: Any, scale: str, seed: int | None) -> tuple[int, list[dict[str, Any]]]:
    """Load the scale demo with a progress bar (one tick a command: each month's import is one); its users get
    the demo password."""
    from demo.partnerships import DEMO_PASSWORD
    from demo.scale import DEFAULT_SEED, SIZES, load_scale, scale_steps, scale_users
    from ledger.queries.organisations import list_users

    size, chosen = SIZES[scale], DEFAULT_SEED if seed is None else seed
    with click.progressbar(length=len(scale_steps(size, chosen)), label=f"loading the {scale} scale demo",
                           file=sys.stderr, item_show_func=lambda label: label) as bar:  # fmt: skip
        commands = load_scale(book, size, chosen, progress=lambda label: bar.update(1, label))
    names = set(scale_users(size))
    users = [u for u in list_users(book.read_engine) if u["username"] in names]
    for user in users:
        book.security.set_password(user["username"], DEMO_PASSWORD, check=False)
    return commands, users


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Run no background jobs here (an `openbook worker` runs them).")
@pass_context
def serve(context: Context, host: str, port: int, no_worker: bool) -> None:
    """Serve the web app, with a thread keeping the read models up to date (as ``projections follow`` does) and,
    unless ``--no-worker``, a thread running background jobs (as ``openbook worker`` does)."""
    from web.app import create_app

    book = context.open(say_if_behind=False)
    app = create_app({"OPENBOOK": book})
    stop = threading.Event()
    say_when_a_read_model_stops()
    follower = threading.Thread(target=book.projections.keep_up, args=(stop, 1.0), name="openbook-follow", daemon=True)
    follower.start()
    if not no_worker:
        start_worker_thread(book, stop=stop)
    click.echo(f"openbook is serving {book.database} at http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        stop.set()
        follower.join()


def main() -> None:
    cli(prog_name="openbook")


if __name__ == "__main__":
    main()
