"""``openbook returns ...`` and ``openbook market`` round trips, and the demo returns, on SQLite and PostgreSQL.

The CLI is run as a user would run it (``--database URL``, ``--as USER``),
with the returns group added to the main group the way ``cli/main.py`` will
register it and the ledger built with the returns use cases, the way
``ledger/application.py`` will combine them.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from demo.returns import DEMO_PERIOD, return_steps
from demo.steps import run_steps
from domain.envelope import SYSTEM
from ledger.authorisation import accountant_access, provider_access
from ledger.files.cost_returns import template_csv
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL
from tests.integration.returns_setup import (
    COUNCIL_ACCOUNTANT,
    PROVIDERS,
    by,
    filing,
    finance,
    setup,
)
from tests.integration.settlement_setup import import_visits
from tests.support import error_line, ok_json

Q = "2020-21-Q2"
KEY = ["--agreement", WIRRAL, "--provider", "premier-care", "--period", Q]


def test_show_gives_the_gap_against_the_card_to_the_penny_and_the_average_paid_apart(openbook, book, tmp_path):
    """£15.93 on the card; three visits priced to the penny average £15.9347 an hour (25.23 × 60 ÷ 95)."""
    setup(book, rate=D("15.93"))
    book.returns.draft_cost_return(by(finance("premier-care"), date(2019, 7, 5)), WIRRAL, "premier-care", "2019-20-Q1",
                                   filing(lowest="8.21"))  # fmt: skip
    rows = [
        [f"V{minutes}", "premier-care", f"C{minutes}", "CH41 2AB", "standard", f"2019-05-0{day}T09:00", str(minutes),
         f"2019-05-0{day}T09:00", str(minutes), "K1"]
        for day, minutes in ((1, 30), (2, 45), (3, 20))
    ]  # fmt: skip
    import_visits(book, tmp_path, "may.csv", rows)
    key = ["--agreement", WIRRAL, "--provider", "premier-care", "--period", "2019-20-Q1"]

    text = openbook("returns", "show", *key, as_user=COUNCIL_ACCOUNTANT.user)
    assert text.exit_code == 0
    assert "rate on the card £15.93: agreement rate card: standard service £15.93 an hour" in text.stdout
    assert "gap (rate on the card - cost per hour): -£4.76\n" in text.stdout  # 15.93 − 20.69
    assert "average paid per hour £15.93: average actually paid per hour in 2019-20-Q1: £25.23 for" in text.stdout
    assert "15.9347" not in text.stdout and "4.7553" not in text.stdout  # rounded for display only

    shown = ok_json(openbook("returns", "show", *key, "--json", as_user=COUNCIL_ACCOUNTANT.user))
    assert (shown["rate"]["rate"], shown["gap"], shown["rate"]["average_paid"]) == ("15.93", "-4.7600", "15.9347")


def test_template_import_show_query_answer_accept_and_market(openbook, book, tmp_path):
    setup(book)
    premier, accountant = finance("premier-care").user, COUNCIL_ACCOUNTANT.user

    blank = tmp_path / "blank.xlsx"
    assert ok_json(openbook("returns", "template", "--format", "xlsx", "--out", str(blank), "--json"))["format"] == "xlsx"
    assert load_workbook(blank).sheetnames == ["Cost return", "How to fill in"]
    csv_template = openbook("returns", "template")
    assert csv_template.exit_code == 0 and csv_template.stdout.startswith("# openbook cost return")

    filled = tmp_path / "premier-2020-21-Q2.csv"
    filled.write_text(template_csv(filing(hours=2500)))
    bad = tmp_path / "bad.csv"
    bad.write_text(template_csv(filing(hours=2500)).replace("contact_pay,21800.00", "contact_pay,lots"))
    head = book.projections.head()
    line = error_line(openbook("returns", "import", str(bad), *KEY, "--effective", "2020-10-05", as_user=premier))
    assert "bad.csv: row 5, column B (amount)" in line
    assert book.projections.head() == head  # a refused file records nothing

    imported = ok_json(
        openbook("returns", "import", str(filled), *KEY, "--submit", "--effective", "2020-10-05", "--json", as_user=premier)
    )
    assert (imported["status"], imported["revision"]) == ("submitted", 1)

    shown = ok_json(openbook("returns", "show", *KEY, "--json", as_user=accountant))
    assert shown["totals"]["total_per_hour"] == "20.6900" and shown["totals"]["total_per_hour_shown"] == "20.69"
    assert shown["rate"]["rate"] == "15.60" and shown["rate"]["source"] == "rate card" and shown["gap"] == "-5.0900"
    assert [ln["line"] for ln in shown["lines"]][:3] == ["contact_pay", "travel_pay", "mileage"]

    asked = ok_json(
        openbook("returns", "query", *KEY, "--line", "mileage", "--question", "Which rate a mile?", "--effective",
                 "2020-10-20", "--json", as_user=accountant)
    )  # fmt: skip
    assert (asked["query_id"], asked["status"]) == ("Q1", "queried")
    assert "only an accountant" in error_line(openbook("returns", "accept", *KEY, as_user=premier))
    ok_json(openbook("returns", "answer", *KEY, "--query", "Q1", "--answer", "45p", "--json", as_user=premier))
    accepted = ok_json(openbook("returns", "accept", *KEY, "--effective", "2020-11-02", "--json", as_user=accountant))
    assert accepted["status"] == "accepted"

    text = openbook("returns", "show", *KEY, as_user=accountant)
    assert text.exit_code == 0 and "gap (rate on the card - cost per hour): -£5.09" in text.stdout
    assert "Q1 on Mileage and vehicle costs" in text.stdout and "-> 45p" in text.stdout  # the line by its name

    seen = ok_json(openbook("market", "--agreement", WIRRAL, "--period", Q, "--json", as_user=accountant))
    assert seen["contributors"] == 1 and seen["providers"][0]["provider"] == "premier-care"
    assert seen["market"]["total"] == {"lower": "20.6900", "median": "20.6900", "upper": "20.6900"}
    own = ok_json(openbook("market", "--agreement", WIRRAL, "--period", Q, "--json", as_user=premier))
    assert own["market"] is None and own["not_enough_providers"]["contributors"] == 1
    assert own["own"]["total_per_hour"] == "20.6900"
    listed = ok_json(openbook("returns", "list", "--agreement", WIRRAL, "--json", as_user=premier))
    assert [r["provider"] for r in listed] == ["premier-care"]
    # One query for both audiences: a provider's malformed period is refused as an accountant's is (not "none").
    for who in (premier, accountant):
        refused = openbook("returns", "list", "--agreement", WIRRAL, "--period", "2020-21-q2", as_user=who)
        assert "error: period: '2020-21-q2' is not a financial period" in error_line(refused)


def test_a_provider_sees_no_other_providers_figures_from_the_cli(openbook, book):
    setup(book)
    six = PROVIDERS[:6]
    for n, provider in enumerate(six):
        book.returns.draft_cost_return(
            by(finance(provider), date(2020, 10, 5)), WIRRAL, provider, Q,
            filing(hours=2000 + 100 * n, contact_pay=f"8.{72 + 7 * n}"), submit=True,
        )  # fmt: skip
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2020, 11, 2)), WIRRAL, provider, Q)

    for provider in six:
        others = [p for p in six if p != provider]
        for result in (
            openbook("market", "--agreement", WIRRAL, "--period", Q, "--as-provider", provider, "--json"),
            openbook("market", "--agreement", WIRRAL, "--period", Q, "--json", as_user=finance(provider).user),
            openbook("returns", "list", "--agreement", WIRRAL, "--json", as_user=finance(provider).user),
            openbook("returns", "history", "--agreement", WIRRAL, "--provider", provider, "--json",
                     as_user=finance(provider).user),
        ):  # fmt: skip
            shown = ok_json(result)
            text = json.dumps(shown)
            assert not [p for p in others if p in text or p.replace("-", " ").title() in text], provider
        market_seen = ok_json(openbook("market", "--agreement", WIRRAL, "--period", Q, "--as-provider", provider, "--json"))
        assert market_seen["market"]["contributors"] == 6 and market_seen["provider"] == provider
        other = others[0]
        refused = openbook("returns", "show", "--agreement", WIRRAL, "--provider", other, "--period", Q,
                           as_user=finance(provider).user)  # fmt: skip
        assert f"{other}'s figures under {WIRRAL} are not found" in error_line(refused)
        refused = openbook("market", "--agreement", WIRRAL, "--period", Q, "--as-provider", other,
                           as_user=finance(provider).user)  # fmt: skip
        assert f"{other}'s figures under {WIRRAL} are not found" in error_line(refused)


@pytest.mark.demo
def test_the_demo_returns_load_once_and_give_providers_a_market(book, openbook):
    loaded = book.projections.head()
    assert run_steps(book, return_steps()) == len(return_steps()) == 19 + 33  # Q1, then Q2 to Q4 of five providers
    assert book.projections.head() == loaded  # idempotency keys: the demo ran them once, so nothing new

    access = accountant_access(book.records, SYSTEM, WIRRAL)
    rows = {r["provider"]: r for r in views.list_returns(book.read_engine, access, DEMO_PERIOD)}
    assert rows["aspire"]["status"] == "queried"
    assert (rows["carewatch"]["nlw_breach"], rows["carewatch"]["nlw_explained"]) == (True, True)
    assert rows["wirral-council"]["in_house"] and rows["wirral-council"]["status"] == "accepted"
    market_view = views.market(book.read_engine, access, DEMO_PERIOD)
    assert market_view["contributors"] == 5 and [e["provider"] for e in market_view["in_house"]] == ["wirral-council"]
    assert all(e["gap"] < 0 for e in market_view["providers"])  # every provider costs more than the £15.60 paid
    aspire = views.market(book.read_engine, provider_access(book.records, SYSTEM, WIRRAL, "aspire"), DEMO_PERIOD)
    assert aspire["market"]["contributors"] == 5 and aspire["own"]["status"] == "queried"

    shown = ok_json(openbook("market", "--agreement", WIRRAL, "--period", DEMO_PERIOD, "--json",
                             as_user="finance@havencare.example"))  # fmt: skip
    assert shown["market"]["contributors"] == 5 and "premier-care" not in json.dumps(shown)
