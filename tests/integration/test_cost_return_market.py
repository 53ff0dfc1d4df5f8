"""The market view, history and privacy through the ledger and read model, on SQLite and PostgreSQL.

Proven here: the quartiles equal ``statistics.quantiles(method="inclusive")``
on the same accepted figures; only accepted provider returns count (not
drafts, not reopened ones, not in-house costs); the 5-provider threshold;
a provider never sees another provider's code, name or figures from any
provider-facing view; history carries the rate over the same periods.
Figures: variations of DOMAIN.md's 2020-21 breakdown (£20.69), invented.
"""

from __future__ import annotations

import json
import statistics
from datetime import date
from decimal import Decimal as D
from fractions import Fraction

import pytest

from domain.envelope import SYSTEM
from domain.errors import NotAllowed, NotFound
from domain.returns.filing import CostGroup, CostLine, lines_in
from domain.returns.market import QUANTILE_METHOD
from domain.returns.unit_costs import unit_costs
from ledger.authorisation import AccountantAccess, accountant_access, provider_access
from ledger.jsonable import json_ready
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL, on
from tests.integration.returns_setup import (
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    by,
    filing,
    finance,
    setup,
)

Q = "2020-21-Q2"
FILED, ACCEPTED = date(2020, 10, 5), date(2020, 11, 2)

#: provider -> (contact hours, £ per hour changes): distinct totals so no quartile equals anyone's figure.
MARKET = {
    "premier-care": (12_000, {"contact_pay": "8.72"}),
    "haven-care": (9_500, {"contact_pay": "8.80", "mileage": "1.52"}),
    "carewatch": (7_300, {"contact_pay": "8.95", "office_staff": "2.35"}),
    "community-caring": (2_100, {"contact_pay": "9.10", "surplus": "-0.20"}),
    "professional-carers": (1_900, {"contact_pay": "9.30", "travel_pay": "1.95"}),
    "peripheral-a": (3_300, {"contact_pay": "9.55", "premises": "0.72"}),
    "peripheral-b": (2_700, {"contact_pay": "9.05", "recruitment": "0.61", "surplus": "0.95"}),
}


def file(book, provider: str, period: str = Q, accept: bool = True, **kwargs) -> None:
    hours, changes = MARKET.get(provider, (2_000, {}))
    hours = kwargs.pop("hours", hours)
    book.returns.draft_cost_return(
        by(finance(provider), FILED), WIRRAL, provider, period, filing(hours=hours, **{**changes, **kwargs}), submit=True
    )
    if accept:
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, ACCEPTED), WIRRAL, provider, period)


def reference(values: list[D]) -> dict[str, Fraction]:
    lower, median, upper = statistics.quantiles([Fraction(v) for v in values], n=4, method="inclusive")
    return {"lower": lower, "median": median, "upper": upper}


def as_fractions(q: dict[str, D]) -> dict[str, Fraction]:
    return {k: Fraction(v) for k, v in q.items()}


def test_market_quartiles_are_statistics_quantiles_of_the_accepted_returns_only(book):
    setup(book)
    for provider in MARKET:
        file(book, provider)
    file(book, "aspire", accept=False, contact_pay="12.00")  # submitted, not accepted: not in the market
    file(book, "peripheral-c", contact_pay="11.00")
    book.returns.reopen_cost_return(by(COUNCIL_ACCOUNTANT, date(2020, 11, 9)), WIRRAL, "peripheral-c", Q, "recheck")
    book.returns.draft_cost_return(by(COUNCIL_ACCOUNTANT, FILED), WIRRAL, "wirral-council", Q, filing(contact_pay="10.50"), submit=True)
    book.returns.accept_cost_return(by(CCG_ACCOUNTANT, ACCEPTED), WIRRAL, "wirral-council", Q)  # never its own council

    market = views.market(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), Q)

    costs = {p: unit_costs(filing(hours=h, **changes)) for p, (h, changes) in MARKET.items()}
    assert market["contributors"] == 7 and market["market"]["method"] == QUANTILE_METHOD
    assert [e["provider"] for e in market["providers"]] == sorted(MARKET)
    assert {e["provider"]: e["name"] for e in market["providers"]}["premier-care"] == "Premier Care"
    assert as_fractions(market["market"]["total"]) == reference([c.total_per_hour for c in costs.values()])
    for line in CostLine:
        expected = reference([c.per_line[line] for c in costs.values()])
        assert as_fractions(market["market"]["lines"][line.value]) == expected, line
    for group in CostGroup:
        expected = reference([c.per_hour_of(lines_in(group)) for c in costs.values()])
        assert as_fractions(market["market"]["groups"][group.value]) == expected, group
    # The council's in-house costs are beside the market, not in it.
    [in_house] = market["in_house"]
    assert in_house["provider"] == "wirral-council" and in_house["total_per_hour"] == D("22.4700")
    by_code = {e["provider"]: e for e in market["providers"]}
    assert by_code["premier-care"]["gap"] == D("15.60") - D("20.6900")


def test_providers_see_the_market_only_once_five_providers_returns_are_accepted(book):
    setup(book)
    first_four = list(MARKET)[:4]
    for provider in first_four:
        file(book, provider)
    file(book, "peripheral-a", accept=False)

    seen = views.market(book.read_engine, provider_access(book.records, finance("premier-care"), WIRRAL, "premier-care"), Q)
    assert seen["market"] is None
    assert seen["not_enough_providers"]["contributors"] == 4 and seen["not_enough_providers"]["required"] == 5
    assert seen["own"]["total_per_hour"] == D("20.6900")  # its own figures are always its own to see
    accountant = views.market(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), Q)
    assert accountant["providers_would_see"] == "nothing: 4 of the 5 providers needed"

    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, ACCEPTED), WIRRAL, "peripheral-a", Q)
    seen = views.market(book.read_engine, provider_access(book.records, finance("premier-care"), WIRRAL, "premier-care"), Q)
    assert seen["market"]["contributors"] == 5 and "not_enough_providers" not in seen

    book.returns.reopen_cost_return(by(COUNCIL_ACCOUNTANT, date(2020, 12, 1)), WIRRAL, "peripheral-a", Q, "late correction")
    seen = views.market(book.read_engine, provider_access(book.records, finance("premier-care"), WIRRAL, "premier-care"), Q)
    assert seen["market"] is None and seen["not_enough_providers"]["contributors"] == 4


def _leaks(shown: object, provider: str) -> list[str]:
    """Every other provider's code, name, contact hours or distinctive figure found in what ``provider`` is shown."""
    text = json.dumps(json_ready(shown))
    found = []
    for other, (hours, changes) in MARKET.items():
        if other == provider:
            continue
        costs = unit_costs(filing(hours=hours, **changes))
        for secret in (other, other.replace("-", " ").title(), str(costs.total_cost), f'"{costs.total_per_hour}"',
                       f'"{costs.per_line[CostLine.CONTACT_PAY]}"'):  # fmt: skip
            if secret in text:
                found.append(f"{other}: {secret}")
    return found


def test_a_provider_cannot_learn_another_providers_figures_from_any_view(book):
    setup(book)
    providers = list(MARKET)[:6]
    for provider in providers:
        file(book, provider)

    for provider in providers:
        access = provider_access(book.records, finance(provider), WIRRAL, provider)
        for shown in (
            views.market(book.read_engine, access, Q),
            views.return_sheet(book.read_engine, access, provider, Q),
            views.list_returns(book.read_engine, access),
            views.history(book.read_engine, access, provider),
        ):
            assert _leaks(shown, provider) == [], provider
        market = views.market(book.read_engine, access, Q)
        assert market["market"]["contributors"] == 6 and set(market) == {
            "agreement", "period", "provider", "own", "market"
        }  # fmt: skip

        other = "haven-care" if provider != "haven-care" else "carewatch"
        with pytest.raises(NotFound):  # another provider's figures, as if there were none
            provider_access(book.records, finance(provider), WIRRAL, other)
        with pytest.raises(NotAllowed):
            accountant_access(book.records, finance(provider), WIRRAL)
        for asking in (  # a provider's access names one provider: another's figures are not there
            lambda: views.return_sheet(book.read_engine, access, other, Q),
            lambda: views.history(book.read_engine, access, other),
            lambda: provider_access(book.records, finance(provider), WIRRAL, other),
            lambda: views.rate_paid(book.read_engine, access, other, Q, in_house=False),
        ):
            with pytest.raises(NotFound, match=f"{other}'s figures under {WIRRAL} are not found"):
                asking()
        with pytest.raises(TypeError, match="needs an access from ledger.authorisation"):
            views.market(book.read_engine, finance(provider), Q)  # type: ignore[arg-type]
        # An accountant asking what this provider sees (``market --as-provider``) gets exactly the provider's view.
        as_provider = provider_access(book.records, COUNCIL_ACCOUNTANT, WIRRAL, provider)
        assert views.market(book.read_engine, as_provider, Q) == market
    with pytest.raises(NotFound, match="organisation 'nobody-care' is not registered"):
        provider_access(book.records, SYSTEM, WIRRAL, "nobody-care")
    with pytest.raises(TypeError, match="comes from ledger.authorisation"):
        AccountantAccess(WIRRAL, finance("premier-care"))
    # The check itself finds a leak where there is one: the accountants' view names everyone.
    assert _leaks(views.market(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), Q), "premier-care")


def test_history_shows_cost_per_hour_over_time_with_the_rate_over_the_same_time(book):
    setup(book)
    file(book, "premier-care", "2020-21-Q1", hours=2_500)
    file(book, "premier-care", "2019-20-Q4", hours=2_500, contact_pay="8.21", lowest="8.21")
    book.rates.publish_rate(on(date(2020, 4, 1), "2020-21 review"), WIRRAL, "standard", "zone-1", hourly_rate=D("16.34"))
    book.rates.publish_rate(on(date(2020, 4, 1), "2020-21 review"), WIRRAL, "standard", "zone-2", hourly_rate=D("16.34"))

    own = provider_access(book.records, finance("premier-care"), WIRRAL, "premier-care")
    rows = views.history(book.read_engine, own, "premier-care")

    assert [r["period"] for r in rows] == ["2019-20-Q4", "2020-21-Q1"]
    assert [r["total_per_hour"] for r in rows] == [D("20.1800"), D("20.6900")]
    assert [r["per_line"]["contact_pay"] for r in rows] == [D("8.2100"), D("8.7200")]
    assert [r["rate"].rate for r in rows] == [D("15.60"), D("16.34")]
    assert [r["gap"] for r in rows] == [D("-4.5800"), D("-4.3500")]
    assert rows == views.history(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), "premier-care")
