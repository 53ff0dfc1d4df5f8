"""Plausibility findings through the ledger and its read model, on both databases.

Haven Care files 2019-20 Q1 as 2,500 contact hours (the 2020-21 worked example per hour) but 6,000 visits of
30 minutes (6,000 × 30 ÷ 60 = 3,000 hours: 16.7% apart, beyond the 10% default), 16 travel minutes a visit
(60 ÷ 30 × 16 = 32.00 travel minutes per contact hour, above 30) and a surplus of £2.60 an hour (2.60 ÷ 22.69
= 11.46% of the total, above 10%). The contact hours must be explained before acceptance; the other two are
shown and block nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from cli.returns import _sheet_lines
from domain.errors import RuleBroken
from domain.returns.filing import CostReturnFiling
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL, on
from tests.integration.returns_setup import ADMIN, COUNCIL_ACCOUNTANT, by, filing_data, finance, setup, snapshot
from tests.integration.test_cost_returns_ledger import head, row, sheet

HAVEN = finance("haven-care")
Q1 = "2019-20-Q1"


def _implausible() -> CostReturnFiling:
    data = filing_data(surplus="2.60")
    data["volumes"].update(visits="6000", average_travel_minutes="16")
    return CostReturnFiling.parse(data)


def test_an_implausible_return_shows_its_findings_and_is_accepted_only_after_an_explanation(book):
    setup(book)
    book.returns.draft_cost_return(by(HAVEN, date(2019, 7, 19)), WIRRAL, "haven-care", Q1, _implausible(), submit=True)

    findings = sheet(book, "haven-care", Q1)["findings"]
    assert [(f["kind"], f["needs_explanation"]) for f in findings] == [
        ("contact-hours", True), ("travel-minutes", False), ("surplus-margin", False),
    ]  # fmt: skip
    hours, travel, surplus = findings
    assert hours["message"].startswith("2,500 contact hours filed, but 6,000 visits × 30 minutes ÷ 60 = 3,000 hours")
    assert hours["explained"] is False
    assert travel["message"] == "32.00 travel minutes per contact hour (60 ÷ 30 × 16) is outside 2 to 30"
    assert surplus["message"] == "a surplus margin of 11.46% of the total is above 10%"
    shown = _sheet_lines(sheet(book, "haven-care", Q1))
    assert any(line.startswith("contact-hours: 2,500 contact hours") and "[NOT YET EXPLAINED]" in line
               for line in shown)  # fmt: skip

    before = head(book)
    with pytest.raises(RuleBroken, match="cannot be accepted: revision 1's 2,500 contact hours filed"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "haven-care", Q1)
    assert head(book) == before  # refused: nothing recorded

    why = "6,000 includes 1,000 double-handed visits counted once per carer"
    book.returns.explain_wage_breach(by(COUNCIL_ACCOUNTANT, date(2019, 8, 2)), WIRRAL, "haven-care", Q1, why)
    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 5)), WIRRAL, "haven-care", Q1)
    assert row(book, "haven-care", Q1)["status"] == "accepted"
    hours = sheet(book, "haven-care", Q1)["findings"][0]
    assert (hours["explained"], hours["explanation"]) == (True, why)
    assert any(f"[explained: {why}]" in line for line in _sheet_lines(sheet(book, "haven-care", Q1)))

    tables = snapshot(book)
    book.projections.rebuild(["cost-returns"])
    assert snapshot(book) == tables


def test_a_plausible_return_has_nothing_to_explain(book):
    setup(book)
    book.returns.draft_cost_return(
        by(HAVEN, date(2019, 7, 19)), WIRRAL, "haven-care", Q1, CostReturnFiling.parse(filing_data()), submit=True
    )
    assert sheet(book, "haven-care", Q1)["findings"] == []
    with pytest.raises(RuleBroken, match="has no wage breach or implausible figure to explain"):
        book.returns.explain_wage_breach(by(COUNCIL_ACCOUNTANT, date(2019, 8, 2)), WIRRAL, "haven-care", Q1, "none")


def test_a_wage_floor_recorded_with_its_band_is_named_in_the_finding(book):
    setup(book)
    # An invented National Living Wage of £8.40 from 1 July 2019 for workers aged 24 and over, to prove the band
    # recorded by the admin is the band the finding names.
    book.returns.add_wage_floor(
        by(ADMIN, date(2019, 10, 6), "test"), "national-living-wage", date(2019, 7, 1), "8.40", "24 and over"
    )
    low = CostReturnFiling.parse(filing_data(lowest="8.30"))
    book.returns.draft_cost_return(by(HAVEN, date(2019, 10, 5)), WIRRAL, "haven-care", "2019-20-Q2", low)
    [finding] = sheet(book, "haven-care", "2019-20-Q2")["findings"]
    assert finding["message"].startswith(
        "£8.30 is below the National Living Wage of £8.40 (for workers aged 24 and over) in force on 2019-07-01"
    )
    added = views.wage_floors_added(book.read_engine)
    assert [(r["hourly_rate"], r["band"]) for r in added] == [(D("8.40"), "24 and over")]


def test_the_agreements_profit_cap_is_its_surplus_level_and_the_rule_and_read_model_agree(book):
    setup(book)
    # The worked example's surplus: £0.60 of £20.69 = 2.90% of the total, under the 10% default.
    plausible = CostReturnFiling.parse(filing_data())
    book.returns.draft_cost_return(by(HAVEN, date(2019, 7, 19)), WIRRAL, "haven-care", Q1, plausible, submit=True)
    assert sheet(book, "haven-care", Q1)["findings"] == []

    # A 2% maximum profit margin from the start of the year (invented, to prove the override).
    book.agreements.set_profit_cap(on(date(2019, 4, 1), "open-book profit cap"), WIRRAL, "0.02")
    [surplus] = sheet(book, "haven-care", Q1)["findings"]
    assert (surplus["kind"], surplus["needs_explanation"]) == ("surplus-margin", False)
    assert surplus["message"] == "a surplus margin of 2.90% of the total is above 2%"
    bounds = book.returns.plausibility_bounds(book.returns.cost_return(WIRRAL, "haven-care", Q1))
    assert bounds.surplus_margin_highest_percent == 2

    tables = snapshot(book)
    book.projections.rebuild(["cost-returns"])
    assert snapshot(book) == tables
    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 5)), WIRRAL, "haven-care", Q1)  # shown only
