"""What every ``openbook`` command shares: the lazy context, the envelope options, output and errors.

Errors print one line and exit non-zero; ``--json`` prints machine-readable
output (Decimals as exact text, dates as ISO). Commands that record facts take
``--effective``, ``--reason`` and ``--key`` (an idempotency key).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import InvalidInput, NotAllowed, OpenbookError
from domain.money import format_count, format_gbp, format_quantity, format_rate
from domain.periods import DateFormatError, parse_date
from ledger.bootstrap import Openbook, bootstrap
from ledger.jsonable import json_ready
from ledger.projections.runner import describe
from ledger.queries.as_at import AsAt, known_at, resolve_as_at
from ledger.settings import Settings


class OpenbookGroup(click.Group):
    """Turns the ledger's errors into one clear line on stderr and exit status 1.

    With ``--json`` the error goes to stderr as JSON instead, with its stable
    kind (``domain.errors.KINDS``), so a script can act on it; stdout stays
    for results. A usage mistake (a bad date, a missing option) is click's to
    report, with its usage text and exit status 2; under ``--json`` it is JSON
    on stderr too, of kind ``invalid-input``, still with status 2.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # ``--json`` may come after a usage mistake, whose error is raised before ``--json``'s own callback runs:
        # note it from what was typed (before any ``--``), so the mistake is reported as JSON too.
        typed = args[: args.index("--")] if "--" in args else args
        ctx.meta[JSON_TYPED] = "--json" in typed
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        wants_json = ctx.meta.get(JSON_TYPED, False)
        try:
            result = super().invoke(ctx)
        except OpenbookError as e:
            if ctx.meta.get(JSON_WANTED):
                click.echo(json.dumps(e.as_json(), indent=2), err=True)
            else:
                click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except click.UsageError as e:
            if not (wants_json or ctx.meta.get(JSON_WANTED)):
                raise
            problem = e.format_message()
            if isinstance(e, click.BadParameter) and e.param is not None:
                problem = f"{'/'.join(e.param.opts) or e.param.name}: {e.message}"
            error = InvalidInput(problem)
            click.echo(json.dumps(error.as_json(), indent=2), err=True)
            ctx.exit(e.exit_code)
        if isinstance(ctx.obj, Context):
            if not ctx.meta.get(JSON_WANTED):
                ctx.obj.say_if_replayed()
            ctx.obj.say_if_behind()
        return result


class Context:
    """Built lazily so that ``--help`` never touches the database.

    Reading never replays events: a command that records catches the read
    models up after recording (``Ledger._execute``); one that only reads shows
    them as they are and, if they are behind the history (another process
    recorded, a catch-up failed, a read model stopped at an event), says so on
    stderr when it is done.
    """

    def __init__(self, database_url: str | None, acting_user: str | None):
        self.database_url = database_url
        self.acting_user = acting_user
        self._book: Openbook | None = None
        self._say_if_behind = True
        #: What this command reads as known at (``--as-at``); None: the live read models.
        self.as_at: AsAt | None = None

    @property
    def book(self) -> Openbook:
        """The application, opened on first use (``ledger.bootstrap``)."""
        return self.open()

    def open(self, *, say_if_behind: bool = True) -> Openbook:
        """The application; ``say_if_behind=False`` for the projection commands, which show it themselves."""
        if not say_if_behind:
            self._say_if_behind = False
        if self._book is None:
            settings = Settings.from_environ()
            if self.database_url:
                settings = dataclasses.replace(settings, database_url=self.database_url)
            self._book = bootstrap(settings)
        return self._book

    def read_engine(self, as_at: str | None = None) -> Any:
        """The engine a view reads with: the live read models, or with ``--as-at`` as known at that position or time.

        Every query then answers as at it unchanged (``ledger.queries.as_at``);
        ``emit`` prints the banner (or adds ``"as_at"`` to the JSON).
        """
        book = self.book
        if as_at is not None:
            self.as_at = resolve_as_at(book.ledger.recorder, book.ledger.mapper, book.read_engine, as_at)
        return known_at(book.read_engine, self.as_at)

    def as_at_position(self, as_at: str | None) -> int | None:
        """``--as-at`` for a view that reads the event store itself rather than the read models: the position up to
        which it reads events (None: all). The banner is printed as for ``read_engine``."""
        self.read_engine(as_at)
        return self.as_at.position if self.as_at is not None else None

    def replayed(self) -> list[str]:
        """The idempotency keys of this command's retries answered with the first result (nothing recorded)."""
        return self._book.ledger.replayed if self._book is not None else []

    def say_if_replayed(self) -> None:
        """After a retried command's text output: that the result above is the first one and nothing was recorded."""
        for key in self.replayed():
            click.echo(f"already recorded (key {key!r}): the result above is the first one; nothing new recorded")

    def say_if_behind(self) -> None:
        """After a command that succeeded: one line on stderr if the read models are behind (exit status 0 still)."""
        if self._book is None or not self._say_if_behind:
            return
        try:
            rows = self._book.projections.status()
        except Exception as e:  # noqa: BLE001 - the command is done; only this note is lost
            click.echo(f"could not tell whether the read models are behind: {describe(e)}", err=True)
            return
        behind = max((row["lag"] for row in rows), default=0)
        if not behind:
            return
        stopped = [
            f"{row['name']} stopped before event {row['error']['position']} ({row['error']['kind']})"
            for row in rows
            if row["error"]
        ]
        recorded = "recorded; " if self._book.ledger.recorded else ""
        why = f" ({'; '.join(stopped)})" if stopped else ""
        events = format_count(behind, "event")
        click.echo(f"{recorded}read models {events} behind{why}; see `openbook projections status`", err=True)

    def actor(self) -> Actor:
        if not self.acting_user:
            return SYSTEM
        user = self.book.records.user(self.acting_user)
        if not user.active:
            raise NotAllowed(f"user {user.username} is deactivated")
        return Actor(user.username, user.organisation)

    def envelope(self, effective: date | None, reason: str | None, key: str | None) -> Envelope:
        """The envelope of a command; with no ``effective`` date, today's, which a retry on a later day keeps."""
        if effective is None:
            return Envelope(self.actor(), date.today(), reason, key, date_stated=False)
        return Envelope(self.actor(), effective, reason, key)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()


pass_context = click.make_pass_decorator(Context)


def money(value: Any) -> str:
    """Pounds for people from a Decimal or the exact text a command returned as JSON; ``-`` for none."""
    if value is None:
        return "-"
    return format_gbp(value if isinstance(value, Decimal) else Decimal(str(value)))


def rate(value: Any) -> str:
    """An hourly rate for people with its card's places (``format_rate``), from a Decimal or exact text."""
    return format_rate(value if isinstance(value, Decimal) else Decimal(str(value)))


def hours_text(value: Any) -> str:
    """Hours for people from a Decimal or the exact text a command returned as JSON (``format_quantity``, at least
    2 places, so a column of hours lines up); ``-`` for none."""
    if value is None:
        return "-"
    return format_quantity(value if isinstance(value, Decimal) else Decimal(str(value)), places=2)


def emit(data: Any, as_json: bool, render: Callable[[Any], Iterable[str]]) -> None:
    """A command's output: ``render``'s lines, or JSON. A retried command's JSON object says
    ``"replayed": true`` (and ``"recorded": false``): it is the first result, and nothing new was recorded."""
    ctx = click.get_current_context(silent=True)
    as_at = ctx.obj.as_at if ctx is not None and isinstance(ctx.obj, Context) else None
    if as_json:
        if isinstance(data, dict) and ctx is not None and isinstance(ctx.obj, Context) and ctx.obj.replayed():
            data = {**data, "replayed": True, **({"recorded": False} if "recorded" in data else {})}
        data = json_ready(data)
        if as_at is not None:  # an object (a sheet, dataclass or dict) gains "as_at"; a list goes under "rows"
            data = {"as_at": as_at.as_json(), **(data if isinstance(data, dict) else {"rows": data})}
        click.echo(json.dumps(data, indent=2))
    else:
        if as_at is not None:
            click.echo(as_at.banner())
        for line in render(data):
            click.echo(line)


def command_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The envelope options every recording command takes."""
    func = click.option("--key", "idempotency_key", help="Idempotency key: a retry with it records nothing new.")(func)
    func = click.option("--reason", help="Why this is recorded (kept in the history).")(func)
    func = click.option("--effective", type=DATE, help="The date the fact is about (default today).")(func)
    return func


#: Set in the context's shared ``meta`` by ``--json``, so an error is reported as JSON too.
JSON_WANTED = "openbook.json"
#: Set by the main group when ``--json`` was typed anywhere, for a usage mistake found before ``--json`` was read.
JSON_TYPED = "openbook.json-typed"


def _json_wanted(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_WANTED] = True
    return value


json_option = click.option(
    "--json", "as_json", is_flag=True, callback=_json_wanted, help="Machine-readable output (errors too)."
)


class DateType(click.ParamType):
    """A calendar date, given to the ledger as a ``datetime.date``: read by ``domain.periods.parse_date``, so an
    option takes a date in the forms a file does (2019-04-01 or 01/04/2019) and refuses one with the same words."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return parse_date(str(value))
        except DateFormatError as e:
            self.fail(str(e), param, ctx)


DATE = DateType()

#: ``--as-at`` beside ``--on``: what the ledger knew then (``Context.read_engine`` reads with it).
as_at_option = click.option(
    "--as-at",
    "as_at",
    metavar="TIME|POSITION",
    help="Show it as known at this log position, or at this time (YYYY-MM-DD[THH:MM], UTC; a date means its end).",
)


def recording(context: Context, effective: date | None, reason: str | None, key: str | None) -> Envelope:
    """The envelope of a recording command from its ``command_options``."""
    return context.envelope(effective, reason, key)
