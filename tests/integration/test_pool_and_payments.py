"""The pooled budget, payments on account and the running position, on SQLite and PostgreSQL.

Every visit is 60 minutes at £15.60 (``settlement_setup.visits``), so a
provider's priced activity is its visits × £15.60.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM
from domain.errors import InvalidInput, NotAllowed, NotFound, RuleBroken
from ledger.authorisation import access_for
from ledger.jsonable import json_ready
from ledger.queries import settlements as views
from tests.integration.settlement_setup import (
    BANDS,
    COUNCIL_ACCOUNTANT,
    HAVEN_FINANCE,
    PREMIER_FINANCE,
    YEAR,
    by,
    import_visits,
    setup,
    visits,
)

WIRRAL = "wirral-homecare"
APRIL = date(2019, 4, 1)


def pool(book, actor=COUNCIL_ACCOUNTANT, reason="section 75 pool agreed", **terms):
    chosen = {"target": "520.00", "bands": BANDS, **terms}
    return book.settlements.set_pooled_budget(by(actor, APRIL, reason), WIRRAL, YEAR, **chosen)


def pay(book, month: str, on: date):
    return book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, on, f"payments for {month}"), WIRRAL, month)


def reader(book, actor, provider=None):
    """The reader's access, as the CLI and pages get it."""
    return access_for(book.records, actor, WIRRAL, provider)


def test_a_pool_is_set_up_revised_and_refused_when_wrong(book):
    setup(book)
    with pytest.raises(NotAllowed, match="only an accountant of a commissioner"):
        pool(book, actor=HAVEN_FINANCE)
    with pytest.raises(InvalidInput, match="bands leave a gap between 90% and 95% of target"):
        pool(book, bands=[(None, "0.9", "0.25"), ("0.95", None, "0.5")])
    with pytest.raises(InvalidInput, match="carewatch holds no award in zone-1"):
        pool(book, mechanism="capitated", capitation=[("carewatch", "zone-1", "100.00")])
    with pytest.raises(RuleBroken, match="2030-31 is outside the term"):
        book.settlements.set_pooled_budget(by(COUNCIL_ACCOUNTANT, APRIL, "x"), WIRRAL, "2030-31", target="1.00", bands=BANDS)
    with pytest.raises(NotFound, match="pooled budget"):
        book.settlements.pooled_budget(WIRRAL, YEAR)

    first = pool(book, gain_cap="20.00")
    assert first["recorded"] and first["terms"]["gain_cap"] == "20.00"
    again = pool(book, gain_cap="20.00")
    assert again["recorded"] is False
    revised = pool(book, reason="loss cap agreed", gain_cap="20.00", loss_cap="30.00")
    assert revised["recorded"] and revised["revisions"] == 1
    found = book.settlements.pooled_budget(WIRRAL, YEAR)
    assert (found.terms.target, found.terms.loss_cap, found.version) == (D("520.00"), D("30.00"), 2)
    [listed] = views.list_pools(book.read_engine, WIRRAL)
    assert (listed["target"], listed["loss_cap"], listed["revisions"]) == (D("520.00"), D("30.00"), 1)
    assert listed["bands"].startswith("25% of the variance below 90% of target")


def test_the_read_model_gives_back_the_pools_terms_and_contributions_as_the_aggregates_hold_them(book):
    """The position reads the pool's terms and the contributions from read models: the same values, to the exponent,
    as ``PooledBudget.terms`` and ``Agreement.contributions``, after set-up and after each revision."""
    setup(book)
    pool(book, gain_cap="20.00", provider_split={"premier-care": "0.6", "haven-care": "0.40"})

    def check():
        terms = book.settlements.pooled_budget(WIRRAL, YEAR).terms
        found = views.pool_terms(book.read_engine, WIRRAL, YEAR)
        assert found == terms and json_ready(found.to_data()) == json_ready(terms.to_data())
        contributions = book.records.agreement(WIRRAL).contributions(YEAR)
        assert views.contributions(book.read_engine, WIRRAL, YEAR) == contributions == {
            "wirral-council": D("7200000.00"), "wirral-ccg": D("4800000.00"),
        }  # fmt: skip

    check()
    pool(book, reason="loss cap and a capitated mechanism agreed", gain_cap="20.00", loss_cap="30.5",
         mechanism="capitated", capitation=[("premier-care", "zone-1", "150.00"), ("haven-care", "zone-3", "80")],
         clawback_share="0.50", margin_basis="cost")  # fmt: skip
    check()
    assert views.pool_terms(book.read_engine, WIRRAL, YEAR).loss_cap == D("30.5")
    with pytest.raises(NotFound, match="the 2020-21 pooled budget of 'wirral-homecare' is not registered"):
        views.pool_terms(book.read_engine, WIRRAL, "2020-21")


def test_payments_pay_priced_activity_month_by_month_and_the_position_runs(book, tmp_path):
    setup(book)
    pool(book)
    april = visits("premier-care", "zone-1", "2019-04", 10) + visits("haven-care", "zone-3", "2019-04", 5)
    import_visits(book, tmp_path, "april.csv", april, date(2019, 5, 3))
    run = pay(book, "2019-04", date(2019, 5, 10))
    assert run["providers"] == {"haven-care": "78.00", "premier-care": "156.00"}  # 5 and 10 hours at £15.60
    assert run["total"] == "234.00"

    # May's file brings May's visits and one late April visit of premier-care's.
    may = visits("premier-care", "zone-1", "2019-05", 10) + visits("haven-care", "zone-3", "2019-05", 5)
    late = visits("premier-care", "zone-1", "2019-04", 1, prefix="LATE")
    import_visits(book, tmp_path, "may.csv", may + late, date(2019, 6, 3))

    with pytest.raises(NotAllowed):
        book.settlements.run_payments(by(PREMIER_FINANCE, date(2019, 6, 10), "pay me"), WIRRAL, "2019-05")
    run = pay(book, "2019-05", date(2019, 6, 10))
    # premier: May £156.00 + the late April visit £15.60 (April priced £171.60, paid £156.00).
    assert run["providers"] == {"haven-care": "78.00", "premier-care": "171.60"}
    with pytest.raises(RuleBroken, match="already run for 2019-05"):
        pay(book, "2019-05", date(2019, 6, 11))
    with pytest.raises(NotFound, match="2020-21 pooled budget"):
        pay(book, "2020-04", date(2020, 5, 10))

    statement = views.payment_statement(book.read_engine, reader(book, PREMIER_FINANCE), "premier-care", "2019-05")
    assert [(line["label"][:24], line["amount"]) for line in statement["lines"]] == [
        ("priced activity 2019-05:", D("156.00")),
        ("adjustment for earlier m", D("15.60")),
    ]
    assert statement["lines"][0]["visits"] == 10 and statement["lines"][0]["payable_minutes"] == 600
    assert (statement["amount"], statement["cumulative_paid"]) == (D("171.60"), D("327.60"))
    assert statement["priced_activity_to_date"] == D("327.60") and statement["priced_less_paid"] == 0
    assert views.payment_statement(book.read_engine, reader(book, COUNCIL_ACCOUNTANT), "premier-care", "2019-05") == (
        statement
    )
    with pytest.raises(NotFound, match="premier-care's figures under wirral-homecare are not found"):
        haven_asks_for_premier = reader(book, HAVEN_FINANCE, "premier-care")
        views.payment_statement(book.read_engine, haven_asks_for_premier, "premier-care", "2019-05")
    with pytest.raises(NotFound, match="premier-care's figures under wirral-homecare are not found"):
        views.payment_statement(book.read_engine, reader(book, HAVEN_FINANCE), "premier-care", "2019-05")
    with pytest.raises(NotFound, match="no payment to premier-care"):
        views.payment_statement(book.read_engine, reader(book, SYSTEM), "premier-care", "2019-06")

    position = views.pool_position(book.read_engine, reader(book, COUNCIL_ACCOUNTANT), YEAR)
    # Priced to date: premier 21 h, haven 10 h = 31 h × £15.60 = £483.60, all paid; two months elapsed:
    # forecast £483.60 ÷ 2 × 12 = £2,901.60; variance £520.00 − £2,901.60 = −£2,381.60 (an overspend).
    assert (position["through_month"], position["months_elapsed"]) == ("2019-05", 2)
    assert (position["priced_to_date"], position["paid_to_date"], position["due"]) == (D("483.60"), D("483.60"), 0)
    assert (position["forecast"], position["variance"]) == (D("2901.60"), D("-2381.60"))
    assert position["budget"] == D("12000000.00") and position["target"] == D("520.00")
    # As at the end of April: priced £249.60 (the late visit counts), paid £234.00, so £15.60 is due.
    april_end = views.pool_position(book.read_engine, reader(book, SYSTEM), YEAR, "2019-04")
    assert (april_end["priced_to_date"], april_end["paid_to_date"], april_end["due"]) == (
        D("249.60"), D("234.00"), D("15.60"),
    )  # fmt: skip
    assert april_end["forecast"] == D("2995.20")  # £249.60 × 12
    with pytest.raises(NotAllowed):
        views.pool_position(book.read_engine, reader(book, PREMIER_FINANCE), YEAR)
    listed = views.payment_runs(book.read_engine, reader(book, COUNCIL_ACCOUNTANT), YEAR)
    assert [(r["month"], r["provider"], r["amount"]) for r in listed] == [
        ("2019-04", "haven-care", D("78.00")), ("2019-04", "premier-care", D("156.00")),
        ("2019-05", "haven-care", D("78.00")), ("2019-05", "premier-care", D("171.60")),
    ]  # fmt: skip
    # A provider's list is its own payments only.
    own = views.payment_runs(book.read_engine, reader(book, HAVEN_FINANCE), YEAR)
    assert [(r["month"], r["provider"], r["amount"]) for r in own] == [
        ("2019-04", "haven-care", D("78.00")), ("2019-05", "haven-care", D("78.00")),
    ]  # fmt: skip


def test_a_capitated_pool_pays_fixed_sums_and_the_settlement_reconciles_them(book, tmp_path):
    setup(book)
    pool(book, mechanism="capitated",
         capitation=[("premier-care", "zone-1", "150.00"), ("haven-care", "zone-3", "80.00")])  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5),
            *visits("premier-care", "zone-1", "2019-05", 10), *visits("haven-care", "zone-3", "2019-05", 5)]  # fmt: skip
    import_visits(book, tmp_path, "spring.csv", rows)
    for month, on in (("2019-04", date(2019, 4, 30)), ("2019-05", date(2019, 5, 31))):
        run = pay(book, month, on)
        assert run["providers"] == {"haven-care": "80.00", "premier-care": "150.00"}
        assert run["mechanism"] == "capitated"
    preview = book.settlements.preview_settlement(COUNCIL_ACCOUNTANT, WIRRAL, YEAR)
    providers = preview["statement"]["providers"]
    # Actual £468.00 is 90% of the £520.00 target: £52.00 × 50% = £26.00 for the provider side, split 312:156:
    # premier £17.33, haven £8.67 (allocate: the odd penny to the larger remainder).
    # Balances reconcile the sums on account: premier £312.00 + £17.33 − £300.00 = £29.33;
    #                                         haven £156.00 + £8.67 − £160.00 = £4.67.
    assert {p: (x["share"], x["paid"], x["balance"]) for p, x in providers.items()} == {
        "haven-care": ("8.67", "160.00", "4.67"),
        "premier-care": ("17.33", "300.00", "29.33"),
    }
    assert book.settlements.settlements(WIRRAL, YEAR) == []  # a preview records nothing
