"""Every ``--json`` command of the CLI, run on the demo: no float anywhere, money to the penny, rates as carded.

The rule (docs/money.md, "Figures in --json"): an amount of money is a
decimal string with exactly 2 places ("1234.50", "-3.00"); an hourly rate has
the places its card states (2 for a published rate, 4 for a blend, whose parts
are a list of ``{"weight", "rate"}``); no figure is a JSON number with a
fraction, an exponent or a thousands separator. Every command whose click
definition takes ``--json`` is listed in ``STEPS`` (a command added without a
step fails ``test_every_json_command_is_walked``) and run once, in order, on
the demo loaded once per database; later steps build on earlier ones.

Under ``--json`` a refusal is JSON on stderr with a stable kind and a non-zero
exit, in every command group, a usage mistake (a bad date, a missing option)
included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from demo.partnerships import HEREFORDSHIRE, WIRRAL
from domain.errors import KINDS
from domain.money import BLENDED_RATE_QUANTUM, RATE_QUANTUM
from ledger.files.cost_returns import template_csv
from tests.integration.activity_setup import visit, write_csv
from tests.integration.returns_setup import filing
from tests.support import demo_copy, drop_database

COUNCIL = "accountant@wirral.example"
CCG = "accountant@wirralccg.example"
PREMIER = "finance@premiercare.example"
HEREFORDSHIRE_ACCOUNTANT = "accountant@herefordshire.example"

#: Keys whose figures are amounts of money wherever they appear: exactly 2 places.
MONEY = {
    "activity", "actual", "adjustments", "amount", "arrears", "arrears_in_adjustments", "balance", "base", "budget",
    "capped", "clawback", "clawback_total", "commissioner_cost", "contribution", "cost", "cumulative_paid", "due",
    "excess", "forecast", "gain_cap", "headroom", "incentives", "loss_cap", "paid", "paid_for_the_month",
    "paid_to_date", "payment", "permitted", "pool_balance", "pooled_budget", "priced", "priced_activity_to_date",
    "priced_less_paid", "priced_to_date", "provider_amount", "provider_amount_uncapped", "removed_by_cap", "share",
    "spend", "spend_from", "spend_to", "surplus", "target", "total", "total_cost", "uncapped", "variance", "difference",
    "previous", "new",
}  # fmt: skip
#: Where a key above holds something else: (a command, or a key on the path to it; the key) -> what it is instead.
NOT_MONEY = {
    ("bands", "share"): "a band's provider share, a fraction",
    ("clawbacks", "share"): "the clawback share, a fraction",
    ("kpis", "target"): "a KPI's target, in the KPI's unit",
    ("rows", "target"): "a KPI's target, in the KPI's unit",
    ("kpis record", "target"): "a KPI's target, in the KPI's unit",
    ("proposals", "amount"): "a rate review's uplift working, per hour to 4 places (docs/pricing.md)",
    ("rates review propose", "amount"): "the uplift working, per hour to 4 places (docs/pricing.md)",
    ("per_line", "surplus"): "a cost per contact hour, to 4 places (docs/cost-returns.md)",
    ("groups", "surplus"): "a cost per contact hour, to 4 places (docs/cost-returns.md)",
    ("positions", "activity"): "a read model's position",
    ("positions", "incentives"): "a read model's position",
    ("changes", "old"): "a record's history: any field's value as its event recorded it (a revision, a status, money)",
    ("changes", "new"): "a record's history: any field's value as its event recorded it (a revision, a status, money)",
}
#: Keys whose figures are hourly rates from a card: the card's places.
RATES = {"hourly_rate"}
NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def places(text: str) -> int:
    return -Decimal(text).as_tuple().exponent


def _json_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        if any(p.name == "as_json" for p in command.params):
            yield (*path, name)
        if isinstance(command, click.Group):
            yield from _json_commands(command, (*path, name))


JSON_COMMANDS = set(_json_commands(cli))


def returns_file(tmp: Path, name: str, **kwargs: Any) -> str:
    path = tmp / name
    path.write_text(template_csv(filing(**kwargs)), encoding="utf-8")
    return str(path)


def visits_file(tmp: Path, name: str = "json-walk.csv", prefix: str = "JSON") -> str:
    rows = [visit(f"{prefix}-1", "premier-care", "CH41 2AB", "2020-04-02", 60, 60),
            visit(f"{prefix}-2", "premier-care", "CH41 2AB", "2020-04-03", 30, 25)]  # fmt: skip
    return str(write_csv(tmp / name, rows))


def kpis_file(tmp: Path) -> str:
    path = tmp / "kpis.csv"
    path.write_text("provider,period,kpi,value,evidence\npremier-care,2020-21-Q1,missed-visits,0.3,ECM report\n")
    return str(path)


def steps(tmp: Path) -> list[tuple[tuple[str, ...], list[str], str | None]]:
    """(command, its arguments, who acts) for every --json command, in an order in which each succeeds."""
    on = ["--effective", "2020-06-01", "--reason", "json walk"]
    period = ["--agreement", WIRRAL, "--provider", "premier-care"]
    return [
        (("keys", "generate"), ["--out", str(tmp / "signing.key")], None),  # the key OPENBOOK_SIGNING_KEY names
        (("keys", "show"), [], None),
        (("demo",), [], None),  # again: records nothing new
        (("organisations", "list"), [], None),
        (("organisations", "register"), ["json-care", "JSON Care", "--kind", "provider", *on], None),
        (("users", "list"), [], None),
        (("users", "register"), ["json@jsoncare.example", "Jason", "--organisation", "json-care",
                                 "--role", "provider", *on], None),
        (("users", "invite"), ["json@jsoncare.example", "--base-url", "https://openbook.example"], None),
        (("users", "security-log"), ["--limit", "5"], None),
        (("tokens", "create"), ["--user", "json@jsoncare.example", "--name", "json walk"], None),
        (("tokens", "list"), [], None),
        (("users", "deactivate"), ["json@jsoncare.example", *on], None),
        (("events",), ["--limit", "5"], None),
        (("projections", "status"), [], None),
        (("projections", "follow"), ["--once"], None),
        (("projections", "rebuild"), [], None),
        (("agreements", "list"), [], None),
        (("agreements", "show"), [WIRRAL, "--on", "2019-06-01"], None),
        (("agreements", "history"), [WIRRAL], None),
        (("agreements", "register"), ["json-deal", "JSON deal", "--kind", "framework", "--term-start", "01/04/2020",
                                      "--term-end", "2025-03-31", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "add-commissioner"), ["json-deal", "herefordshire-council", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "add-service"), ["json-deal", "standard", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "add-zone"), ["json-deal", "zone-j", "Zone J", "--district", "HR1", *on],
         HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "add-lot"), ["json-deal", "lot-j", "Lot J", "--covers", "zone-j", *on],
         HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "award"), ["json-deal", "hfd-provider-a", "zone-j", "--tier", "primary", *on],
         HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "end-award"), ["json-deal", "hfd-provider-a", "zone-j", "--effective", "2024-03-31",
                                       "--reason", "json walk"], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "define-kpi"), ["json-deal", "on-time", "--name", "On time", "--measure", "% of visits on time",
                                        "--target", "90", "--direction", "higher-is-better", *on],
         HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "set-contribution"), ["json-deal", "herefordshire-council", "2020-21", "1000000", *on],
         HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "set-payment-basis"), ["json-deal", "planned", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "extend-term"), ["json-deal", "2026-03-31", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("agreements", "appoint-auditor"), ["json-deal", "partnership-audit", *on], None),
        (("agreements", "auditors"), ["json-deal"], None),
        (("agreements", "end-auditor-appointment"), ["json-deal", "partnership-audit", "--effective", "2024-04-01",
                                                     "--reason", "json walk"], None),
        (("postcode",), ["CH45 3AB", "--agreement", WIRRAL, "--on", "2019-06-01"], None),
        (("rates", "show"), ["--agreement", HEREFORDSHIRE, "--on", "2017-07-01"], None),
        (("rates", "history"), ["--agreement", HEREFORDSHIRE], None),
        (("rates", "publish"), ["--agreement", "json-deal", "--service", "standard", "--zone", "zone-j",
                                "--blend", "0.7@12.80", "--blend", "0.3@15.85", *on], HEREFORDSHIRE_ACCOUNTANT),
        (("rates", "withdraw"), ["--agreement", "json-deal", "--service", "standard", "--zone", "zone-j",
                                 "--effective", "2024-04-01", "--reason", "json walk"], HEREFORDSHIRE_ACCOUNTANT),
        (("rates", "price"), ["--agreement", "json-deal", "--service", "standard", "--zone", "zone-j",
                              "--on", "2020-07-01", "--planned", "30", "--actual", "25"], None),
        (("rates", "review", "list"), [], None),
        (("rates", "review", "show"), ["--agreement", WIRRAL, "--year", "2020-21"], None),
        (("rates", "review", "open"), ["--agreement", WIRRAL, "--year", "2022-23", "--effective", "2022-02-01",
                                       "--reason", "json walk"], COUNCIL),
        (("rates", "review", "propose"), ["--agreement", WIRRAL, "--year", "2022-23", "--median-cost", "16.34",
                                          "--pay-share", "0.65", "--inflation", "0.03", "--zone", "zone-1",
                                          "--effective", "2022-02-07", "--reason", "json walk"], COUNCIL),
        (("rates", "review", "comment"), ["--agreement", WIRRAL, "--year", "2022-23", "--provider", "premier-care",
                                          "--comment", "Fuel costs have risen.", "--effective", "2022-02-14"], PREMIER),
        (("rates", "review", "decide"), ["--agreement", WIRRAL, "--year", "2022-23", "--outcome", "rejected",
                                         "--reasons", "no evidence yet", "--effective", "2022-03-01"], COUNCIL),
        (("returns", "template"), [], None),
        (("returns", "list"), ["--agreement", WIRRAL], None),
        (("returns", "show"), [*period, "--period", "2019-20-Q1"], None),
        (("returns", "history"), period, None),
        (("market",), ["--agreement", WIRRAL, "--period", "2019-20-Q1"], None),
        (("returns", "import"), [returns_file(tmp, "q2.csv"), *period, "--period", "2020-21-Q2"], PREMIER),
        (("returns", "submit"), [*period, "--period", "2020-21-Q2"], PREMIER),
        (("returns", "query"), [*period, "--period", "2020-21-Q2", "--line", "mileage", "--question", "why?"], COUNCIL),
        (("returns", "answer"), [*period, "--period", "2020-21-Q2", "--query", "Q1", "--answer", "rural rounds"],
         PREMIER),
        (("returns", "amend"), [returns_file(tmp, "q2b.csv", hours=2600), *period, "--period", "2020-21-Q2",
                                "--reason", "hours corrected"], PREMIER),
        (("returns", "accept"), [*period, "--period", "2020-21-Q2"], CCG),
        (("returns", "reopen"), [*period, "--period", "2020-21-Q2", "--reason", "json walk"], COUNCIL),
        (("returns", "reject"), [*period, "--period", "2020-21-Q2", "--because", "incomplete"], COUNCIL),
        (("returns", "import"), [returns_file(tmp, "q1.csv"), *period, "--period", "2021-22-Q1", "--submit"], PREMIER),
        (("returns", "explain"), [*period, "--period", "2021-22-Q1", "--explanation", "apprentices"], CCG),
        (("returns", "add-wage-floor"), ["--floor", "national-living-wage", "--from", "2030-04-01", "--rate", "15.00",
                                         "--reason", "json walk"], None),
        (("activity", "import"), [visits_file(tmp), "--agreement", WIRRAL, "--effective", "2020-05-01"], COUNCIL),
        (("activity", "totals"), ["--agreement", WIRRAL, "--by", "provider"], None),
        (("activity", "imports"), ["--agreement", WIRRAL], None),
        (("activity", "arrears"), ["--agreement", WIRRAL, "--review", "2020-21", "--effective", "2020-07-01"], COUNCIL),
        (("activity", "import"), [visits_file(tmp, "json-job.csv", "JOB"), "--agreement", WIRRAL, "--background"],
         COUNCIL),
        (("worker",), ["--once"], None),
        (("jobs", "list"), [], COUNCIL),
        (("jobs", "show"), [], COUNCIL),  # the newest: the import the worker ran
        (("kpis", "dashboard"), ["--agreement", WIRRAL], None),
        (("kpis", "history"), ["--agreement", WIRRAL, "--provider", "carewatch", "--period", "2019-20"], None),
        (("kpis", "record"), ["--agreement", WIRRAL, "--provider", "premier-care", "--period", "2020-21-Q1",
                              "--kpi", "starts-within-48h", "--value", "97", "--evidence", "brokerage"], COUNCIL),
        (("kpis", "import"), [kpis_file(tmp), "--agreement", WIRRAL], COUNCIL),
        (("incentives", "scheme", "show"), ["--agreement", WIRRAL], None),
        (("incentives", "show"), ["--agreement", HEREFORDSHIRE, "--year", "2017-18"], None),
        (("incentives", "scheme", "set"), ["--agreement", HEREFORDSHIRE, "--from-year", "2019-20",
                                           "--minimum-reduction", "0.04", "--per-hour", "2.00",
                                           "--effective", "2019-04-01", "--reason", "json walk"],
         HEREFORDSHIRE_ACCOUNTANT),
        (("incentives", "assess"), ["--agreement", HEREFORDSHIRE, "--year", "2017-18", "--effective", "2018-06-01"],
         HEREFORDSHIRE_ACCOUNTANT),
        (("pool", "show"), ["--agreement", WIRRAL, "--year", "2019-20"], None),
        (("pool", "set"), ["--agreement", WIRRAL, "--year", "2020-21", "--target", "12200000.00",
                           "--band", "-:0.9:0.25", "--band", "0.9:1:0.5", "--band", "1:1.1:0.5", "--band", "1.1:-:1",
                           "--gain-cap", "250000", "--loss-cap", "250000.00", "--effective", "2020-04-01",
                           "--reason", "json walk"], COUNCIL),
        (("payments", "run"), ["--agreement", WIRRAL, "--month", "2020-04", "--effective", "2020-05-01"], COUNCIL),
        (("payments", "list"), ["--agreement", WIRRAL, "--year", "2019-20"], None),
        (("payments", "statement"), ["--provider", "premier-care", "--agreement", WIRRAL, "--month", "2019-05"], None),
        (("settle",), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-01"], COUNCIL),
        (("settle", "withdraw"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-02",
                                  "--reason", "json walk"], COUNCIL),
        (("settle",), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-02"], COUNCIL),
        (("settle", "review"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-03"], CCG),
        (("settle", "approve"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-06"], COUNCIL),
        (("settle", "approve"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-07"], CCG),
        (("settle", "issue"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-08"], COUNCIL),
        (("settle", "close"), ["--agreement", WIRRAL, "--year", "2019-20", "--effective", "2020-07-20",
                               "--reason", "json walk"], COUNCIL),
        (("settle", "list"), ["--agreement", WIRRAL], COUNCIL),
        (("settle", "show"), ["--agreement", WIRRAL, "--year", "2019-20"], COUNCIL),
        (("reconcile",), ["--agreement", WIRRAL, "--year", "2019-20"], COUNCIL),
        # issuing statements (docs/statements.md: Issuing); fetch is walked in tests/integration/test_issued_statements.py
        (("statements", "issue", "settlement"), ["--agreement", WIRRAL, "--year", "2019-20", "--out",
                                                 str(tmp / "issued.pdf")], COUNCIL),
        (("statements", "issue", "cost"), ["--agreement", WIRRAL, "--provider", "premier-care", "--period",
                                           "2019-20-Q1"], COUNCIL),
        (("statements", "issue", "payment"), ["--agreement", WIRRAL, "--provider", "premier-care", "--month",
                                              "2019-06"], COUNCIL),
        (("statements", "issue", "incentive"), ["--agreement", WIRRAL, "--year", "2019-20"], COUNCIL),
        (("statements", "issued"), [], COUNCIL),
        (("statements", "check"), [str(tmp / "issued.pdf")], COUNCIL),
        (("checkpoint",), ["--reason", "json walk"], None),
        (("checkpoint",), ["--latest"], None),
        # one statement written as PDF, the others as their HTML (the same JSON; a PDF takes a second or two to lay out)
        (("statements", "settlement"), ["--agreement", WIRRAL, "--year", "2019-20", "--out",
                                        str(tmp / "settlement.pdf")], COUNCIL),
        (("statements", "cost"), ["--agreement", WIRRAL, "--provider", "premier-care", "--period", "2019-20-Q1",
                                  "--out", str(tmp / "cost.html"), "--html"], COUNCIL),
        (("statements", "payment"), ["--agreement", WIRRAL, "--provider", "premier-care", "--month", "2019-06",
                                     "--out", str(tmp / "payment.html"), "--html"], COUNCIL),
        (("statements", "incentive"), ["--agreement", WIRRAL, "--year", "2019-20", "--out",
                                       str(tmp / "incentive.html"), "--html"], COUNCIL),
        (("statements", "rate-notice"), ["--agreement", WIRRAL, "--review", "2020-21", "--provider", "premier-care",
                                         "--out", str(tmp / "rate-notice.html"), "--html"], COUNCIL),
        (("statements", "issue", "rate-notice"), ["--agreement", WIRRAL, "--review", "2020-21", "--provider",
                                                  "premier-care"], COUNCIL),
        (("statements",), ["--agreement", WIRRAL, "--period", "2021-22-Q3", "--out", str(tmp / "batch")], COUNCIL),
        (("events", "history"), ["cost-return", WIRRAL, "premier-care", "2019-20-Q1"], None),
        (("events", "history"), ["settlement", WIRRAL, "2019-20", "1"], None),
        (("export",), ["--out", str(tmp / "history.jsonl")], None),
        (("verify",), [str(tmp / "history.jsonl"), "--public-key", str(tmp / "signing.key.pub")], None),
        (("verify",), ["--database", "--public-key", str(tmp / "signing.key.pub")], None),
        (("verify",), ["--read-models"], None),
    ]  # fmt: skip


#: --json commands the walk leaves out, and why: none of them shows a figure.
NOT_WALKED = {
    ("users", "set-password"): "prompts for the password: tests/web/test_cli_users.py answers the prompt",
    ("database", "grant-app-role"): "changes the server's roles (PostgreSQL only); refused below on both databases",
    ("tokens", "revoke"): "takes the id `tokens create` printed: tests/web/test_api.py revokes one; refused below",
    ("statements", "fetch"): "needs the digest of a statement issued in the walk: tests/integration/test_issued_statements.py",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A copy of the demo, shared by the module's tests, on each database."""
    database = demo_copy(request, request.param, tmp_path_factory.mktemp("json"))
    yield database.url.render_as_string(hide_password=False)
    drop_database(database)


def run(url: str, command: tuple[str, ...], args: list[str], as_user: str | None = None, key: Path | None = None
        ) -> Result:  # fmt: skip
    who = ["--as", as_user] if as_user else []
    env = {"OPENBOOK_USER": None, "OPENBOOK_SIGNING_KEY": str(key) if key else None}
    return CliRunner().invoke(cli, ["--database", url, *who, *command, *args], env=env)


def floats_in(text: str) -> list[str]:
    """Every JSON number with a fraction or an exponent in ``text``."""
    found: list[str] = []
    json.loads(text, parse_float=lambda s: found.append(s) or 0)
    return found


def figure_problems(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every figure in ``value`` (parsed JSON) that breaks the rule, with where it is (``path[0]``: the command)."""
    where = ".".join(path)
    if isinstance(value, dict):
        blend = value.get("blend")
        if "blend" in value and blend is not None:
            pairs = isinstance(blend, list) and all(isinstance(p, dict) and set(p) == {"weight", "rate"} for p in blend)
            if not pairs:
                yield f"{where}.blend is not a list of weight/rate objects: {blend!r}"
            for part in blend if isinstance(blend, list) else ():
                if isinstance(part, dict) and places(str(part.get("rate"))) != -RATE_QUANTUM.as_tuple().exponent:
                    yield f"{where}.blend: a part's rate {part.get('rate')!r} is not to the penny"
        for key, item in value.items():
            inner = (*path, str(key))
            if isinstance(item, str) and NUMBER_TEXT.fullmatch(item):
                if key in MONEY and not any((up, key) in NOT_MONEY for up in path):
                    if places(item) != 2:
                        yield f"{'.'.join(inner)}: money {item!r} is not to 2 places"
                if key in RATES:
                    quantum = BLENDED_RATE_QUANTUM if blend else RATE_QUANTUM
                    if places(item) != -quantum.as_tuple().exponent:
                        yield f"{'.'.join(inner)}: rate {item!r} is not at the card's places"
            elif isinstance(item, str) and re.fullmatch(r"-?£?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", item):
                yield f"{'.'.join(inner)}: {item!r} has thousands separators"
            else:
                yield from figure_problems(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from figure_problems(item, (*path, str(index)))


def test_every_json_command_is_walked(tmp_path):
    walked = {command for command, _args, _user in steps(tmp_path)}
    assert JSON_COMMANDS - walked - set(NOT_WALKED) == set(), "give each new --json command a step in STEPS"


def test_every_json_command_writes_money_to_the_penny_and_rates_as_carded(demo_url, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBOOK_INSTANCE", str(tmp_path / "instance"))  # where --background keeps its copy
    problems: list[str] = []
    for command, args, user in steps(tmp_path):
        result = run(demo_url, command, [*args, "--json"], user, key=tmp_path / "signing.key")
        name = " ".join(command)
        assert result.exit_code == 0, f"{name}: {result.stderr or result.output}"
        floats = floats_in(result.stdout)
        problems.extend(f"{name}: {f} is a JSON float" for f in floats)
        problems.extend(f"{name}: {p}" for p in figure_problems(json.loads(result.stdout), (name,)))
    assert problems == []


#: For each command group (and command outside a group), one refusal: (command and arguments, the kind expected).
REFUSALS = [
    (["organisations", "register", "x", "X", "--kind", "provider", "--effective", "1800-01-01"], "invalid-input"),
    (["users", "register", "nobody@x.example", "N", "--organisation", "nowhere", "--role", "provider"], "not-found"),
    (["events", "--limit", "0"], "invalid-input"),
    (["agreements", "show", "nowhere"], "not-found"),
    (["postcode", "ZZ1 1ZZ", "--agreement", WIRRAL], "not-found"),
    (["rates", "show", "--agreement", WIRRAL, "--on", "2019/04/01"], "invalid-input"),
    (["rates", "price", "--agreement", WIRRAL, "--service", "standard", "--zone", "zone-2", "--on", "2020-05-01",
      "--planned", "0", "--actual", "30"], "invalid-input"),
    (["returns", "show", "--agreement", WIRRAL, "--provider", "premier-care", "--period", "2019-21"], "invalid-input"),
    (["market", "--agreement", WIRRAL, "--period", "2019-20-Q5"], "invalid-input"),
    (["activity", "totals", "--agreement", WIRRAL, "--period", "April"], "invalid-input"),
    (["kpis", "dashboard", "--agreement", "nowhere"], "not-found"),
    (["incentives", "show", "--agreement", WIRRAL, "--year", "2030-31"], "not-found"),
    (["pool", "show", "--agreement", HEREFORDSHIRE, "--year", "2017-18"], "not-found"),
    (["payments", "list", "--agreement", WIRRAL, "--year", "2019"], "invalid-input"),
    (["settle", "show", "--agreement", WIRRAL, "--year", "2030-31"], "not-found"),
    (["settle", "--agreement", WIRRAL], "invalid-input"),  # a usage mistake: no --year
    (["reconcile", "--agreement", "nowhere", "--year", "2019-20"], "not-found"),
    (["statements", "settlement", "--agreement", WIRRAL, "--year", "2030-31", "--out", "never.pdf"], "not-found"),
    (["projections", "status", "--name", "nowhere"], "invalid-input"),
    (["keys", "show"], "settings"),  # no OPENBOOK_SIGNING_KEY
    (["checkpoint", "--head", "--reason", "now"], "invalid-input"),
    (["database", "grant-app-role", "no-such-role"], "settings"),
    (["export", "--out", "history.jsonl", "--from", "0"], "invalid-input"),
    (["verify"], "invalid-input"),  # neither an export nor --database
    (["jobs", "show", "no-such-job"], "not-found"),
    (["tokens", "revoke", "no-such-token"], "not-found"),
    (["worker"], "invalid-input"),  # --json lists the jobs run: only with --once
]  # fmt: skip


@pytest.mark.parametrize(("args", "kind"), REFUSALS, ids=[" ".join(a[:2]) for a, _ in REFUSALS])
def test_a_refusal_under_json_is_json_on_stderr_with_its_kind_and_a_non_zero_exit(demo_url, args, kind):
    result = run(demo_url, (), [*args, "--json"])
    assert result.exit_code != 0 and result.stdout == "", (result.exit_code, result.stdout)
    error = json.loads(result.stderr)["error"]
    assert (error["kind"], error["kind"] in KINDS) == (kind, True), error
    assert error["message"] and error["problems"]


def test_every_command_group_has_a_refusal_above():
    groups = {name for name in cli.commands if name not in ("init", "serve", "demo")}
    assert groups - {args[0] for args, _kind in REFUSALS} == set()
