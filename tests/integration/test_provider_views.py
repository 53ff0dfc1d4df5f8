"""A provider's views hold its own figures and the pool's shared totals, never a figure summed over other providers.

The settlement is the partnership's, but each provider's figures are its own
business: a total over providers that is not one the partnership shares
(target, actual, variance, the provider side's amount before and after the
caps) would give, less the provider's own, the other providers' — the total
clawed back, the pool's priced activity or incentive payments, the
commissioners' cost (actual + provider side − clawbacks). From the
accountant's full view every sum over the other providers (of each figure,
over every group of them) and every total over all providers is computed,
and none of those amounts may appear anywhere in what the provider is shown
(its JSON, or the CLI's text), while each of its own figures does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal as D
from itertools import combinations
from typing import Any

import pytest

from demo.partnerships import PREMIER_CARE_FINANCE
from demo.returns import DEMO_PERIOD
from demo.settlements import DEMO_YEAR, WIRRAL
from domain.envelope import SYSTEM
from ledger.authorisation import access_for
from ledger.jsonable import json_ready
from ledger.queries import incentives as incentive_views
from ledger.queries import returns as return_views
from ledger.queries import settlements as views
from tests.integration.settlement_setup import HAVEN_FINANCE, PREMIER_FINANCE, YEAR
from tests.integration.test_settlements_ledger import draft, year_of_care

PROVIDER_FIGURES = ("activity", "incentives", "share", "clawback", "paid", "balance")
POOL_TOTALS = ("target", "actual", "variance", "provider_amount_uncapped", "provider_amount", "removed_by_cap")


def amounts(shown: Any) -> set[D]:
    """Every amount written in ``shown`` (JSON or text), "−£1,234.56" and "-1234.56" alike."""
    text = shown if isinstance(shown, str) else json.dumps(json_ready(shown), ensure_ascii=False)
    found = re.findall(r"[-−]?£?\d[\d,]*\.\d+", text)
    return {D(x.replace(",", "").replace("£", "").replace("−", "-")) for x in found}


def group_sums(rows: Mapping[str, Mapping[str, Any]], figures: Iterable[str]) -> set[D]:
    """Each figure summed over every group of two or more of ``rows`` (a group of one is a row itself)."""
    found = set()
    for figure in figures:
        for size in range(2, len(rows) + 1):
            for group in combinations(rows.values(), size):
                found.add(sum((D(str(row[figure])) for row in group), D(0)))
    return found


def others_sums(rows: Mapping[str, Mapping[str, Any]], own: str, figures: Iterable[str]) -> set[D]:
    """Each figure summed over every group of the other providers (and of them all, the provider included)."""
    others = {p: row for p, row in rows.items() if p != own}
    singles = {D(str(row[f])) for row in others.values() for f in figures}
    return singles | group_sums(others, figures) | group_sums(rows, figures)


def settlement_secrets(full: Mapping[str, Any], own: str) -> set[D]:
    """What ``own`` must not see of a settlement: the other providers' figures and any providers' total
    beyond the pool's shared ones, with the commissioners' cost and its split (they give the clawbacks)."""
    s = full["statement"]
    rows = {p: {**x, "funded": D(str(x["balance"])) + D(str(x["paid"]))} for p, x in s["providers"].items()}
    secret = others_sums(rows, own, (*PROVIDER_FIGURES, "funded"))
    secret |= {D(str(s["clawback_total"])), D(str(s["commissioner_cost"]))}
    secret |= {D(str(x[f])) for x in s["commissioners"].values() for f in ("cost", "pool_balance")}
    shared = {D(str(s[name])) for name in POOL_TOTALS} | {D(str(b["provider_amount"])) for b in s["bands"]}
    shared |= {D(str(x["contribution"])) for x in s["commissioners"].values()}
    return secret - shared - {D(str(v)) for v in s["providers"][own].values()} - {D(0)}


def own_figures(full: Mapping[str, Any], own: str) -> set[D]:
    return {D(str(v)) for v in full["statement"]["providers"][own].values()}


def test_a_providers_settlement_holds_its_own_lines_and_the_shared_totals_only(book, tmp_path, openbook):
    """The worked example of test_settlements_ledger: haven-care's £150.00 clawback makes the commissioners'
    cost £338.00 (£468.00 + £20.00 − £150.00); premier-care sees neither, nor any total that gives them."""
    year_of_care(book, tmp_path)
    draft(book)
    full = views.settlement(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), WIRRAL, YEAR)
    assert full["statement"]["clawback_total"] == D("150.00") and full["statement"]["commissioner_cost"] == D("338.00")
    for actor, own in ((PREMIER_FINANCE, "premier-care"), (HAVEN_FINANCE, "haven-care")):
        seen = views.settlement(book.read_engine, access_for(book.records, actor, WIRRAL), WIRRAL, YEAR)
        s = seen["statement"]
        assert set(s["providers"]) == {own} and {c["provider"] for c in s["clawbacks"]} <= {own}
        assert "clawback_total" not in s and "commissioner_cost" not in s
        assert {name: s[name] for name in POOL_TOTALS} == {name: full["statement"][name] for name in POOL_TOTALS}
        assert s["commissioners"] == {c: {"contribution": x["contribution"]}
                                      for c, x in full["statement"]["commissioners"].items()}  # fmt: skip
        secret = settlement_secrets(full, own)
        assert D("338.00") in secret and (D("150.00") in secret) == (own == "premier-care")  # haven's own clawback
        assert not amounts(seen) & secret, (own, sorted(amounts(seen) & secret))
        assert own_figures(full, own) <= amounts(seen)
        text = openbook("settle", "show", "--agreement", WIRRAL, "--year", YEAR, as_user=actor.user)
        assert text.exit_code == 0, text.output
        assert not amounts(text.stdout) & secret and own_figures(full, own) - {D(0)} <= amounts(text.stdout)


@pytest.mark.demo
def test_the_demos_provider_views_hold_no_figure_summed_over_other_providers(book, openbook):
    """Wirral 2019-20: premier-care's settlement, payment statements, payments, incentives, KPIs, returns, market."""
    engine, everyone = book.read_engine, access_for(book.records, SYSTEM, WIRRAL)
    mine, own = access_for(book.records, PREMIER_CARE_FINANCE, WIRRAL), "premier-care"
    full = views.settlement(engine, everyone, WIRRAL, DEMO_YEAR)
    others = set(full["statement"]["providers"]) - {own}
    assert others == {"carewatch", "haven-care", "wirral-home-care-alliance"}
    secret = settlement_secrets(full, own)
    assert D("261.52") in secret and D("35.56") in secret  # the pool's incentive payments, and carewatch's

    # The payment runs: each month's other payments, by group, and every month's and running total.
    runs = views.payment_runs(engine, everyone, DEMO_YEAR)
    months = sorted({r["month"] for r in runs})
    running: dict[str, dict[str, Any]] = {}
    for month in months:
        paid = {r["provider"]: {"amount": r["amount"]} for r in runs if r["month"] == month}
        secret |= others_sums(paid, own, ("amount",)) - {D(str(paid[own]["amount"]))}
        for p, row in paid.items():
            running[p] = {"amount": D(str(running.get(p, {"amount": 0})["amount"])) + D(str(row["amount"]))}
        secret |= others_sums(running, own, ("amount",)) - {running[own]["amount"]}
    assessed = incentive_views.incentive_assessment(engine, everyone, DEMO_YEAR)
    secret |= {D(str(assessed["total"]))} | {D(str(x["payment"])) for x in assessed["lines"] if x["provider"] != own}
    secret -= {D(0)}

    shown = {
        "settlement": views.settlement(engine, mine, WIRRAL, DEMO_YEAR),
        "payments": views.payment_runs(engine, mine, DEMO_YEAR),
        "statements": [views.payment_statement(engine, mine, own, month) for month in months],
        "incentives": incentive_views.incentive_assessment(engine, mine, DEMO_YEAR),
        "kpis": incentive_views.kpi_dashboard(engine, mine, DEMO_YEAR),
        "returns": return_views.list_returns(engine, mine),
        "market": return_views.market(engine, mine, DEMO_PERIOD),
    }
    for view, data in shown.items():
        assert not amounts(data) & secret, (view, sorted(amounts(data) & secret))
        assert not any(other in json.dumps(json_ready(data)) for other in others), view
    assert own_figures(full, own) <= amounts(shown["settlement"])
    assert D("225.96") in amounts(shown["incentives"]) and len(shown["statements"]) == 12
    assert {r["provider"] for r in shown["payments"]} == {own}
    for args in (("settle", "show", "--agreement", WIRRAL, "--year", DEMO_YEAR),
                 ("payments", "statement", "--provider", own, "--agreement", WIRRAL, "--month", months[-1])):  # fmt: skip
        for output in ((), ("--json",)):
            result = openbook(*args, *output, as_user=PREMIER_CARE_FINANCE.user)
            assert result.exit_code == 0, result.output
            assert not amounts(result.stdout) & secret, (args, sorted(amounts(result.stdout) & secret))
