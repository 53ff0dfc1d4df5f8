"""Incentive payments reach the year's settlement, by reference to the assessment, on SQLite and PostgreSQL.

The worked example (every visit 60 minutes at £15.60; Wirral's test agreement
defines no KPIs, so the scheme's gate has none to miss):

* premier-care 200 visits in April 2019 (200 h, £3,120.00), haven-care 100
  (100 h, £1,560.00): priced activity £4,680.00, all paid on account in the
  April run;
* the scheme: reduce hours by at least 5% against a fixed baseline, £2.50 an
  hour beyond it. premier-care's baseline is 400 h: threshold 400 × 5% = 20 h,
  reduction 400 − 200 = 200 h, eligible 200 − 20 = 180 h × £2.50 = **£450.00**;
  haven-care's baseline is 100 h: no reduction, £0.00;
* target £5,400.00, DOMAIN.md's bands, no cap, no profit cap.

With the assessment, actual = £4,680.00 + £450.00 = £5,130.00; variance
£270.00, all in the 90–100% band (from £4,860.00): × 50% = £135.00, split
3,120:1,560 — premier £90.00, haven £45.00. Commissioners' cost £5,130.00 +
£135.00 = £5,265.00: council 60% £3,159.00, CCG 40% £2,106.00. Balances:
premier £3,120.00 + £450.00 + £90.00 − £3,120.00 = £540.00; haven £1,560.00 +
£45.00 − £1,560.00 = £45.00; Σ balances £585.00 + Σ paid £4,680.00 = £5,265.00.

Without it (the settlement issued before the assessment): actual £4,680.00,
variance £720.00: £540.00 in the 90–100% band × 50% = £270.00 plus £180.00
below 90% × 25% = £45.00, so £315.00, split premier £210.00, haven £105.00;
cost £4,995.00: council £2,997.00, CCG £1,998.00; balances premier £210.00,
haven £105.00.
"""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import RuleBroken
from domain.incentives.incentive_assessment import IncentiveAssessment
from ledger.authorisation import access_for, provider_access
from ledger.jsonable import json_ready
from ledger.queries import settlements as views
from tests.integration.settlement_setup import (
    BANDS,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    PREMIER_FINANCE,
    YEAR,
    by,
    check_settlements_read_as_recorded,
    import_visits,
    setup,
    visits,
)
from tests.support import ok

WIRRAL = "wirral-homecare"
ASSESSMENT_ID = str(IncentiveAssessment.create_id(WIRRAL, YEAR))


def year_of_care(book, tmp_path) -> None:
    setup(book)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool agreed"), WIRRAL, YEAR, target="5400.00", bands=BANDS,
    )  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 200), *visits("haven-care", "zone-3", "2019-04", 100)]
    import_visits(book, tmp_path, "april.csv", rows)
    book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2019, 5, 10), "monthly payment"), WIRRAL, "2019-04")
    book.incentives.set_incentive_scheme(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "incentivisation model (action point 5.5)"), WIRRAL,
        from_year=YEAR, baseline="fixed", fixed_baselines={"premier-care": "400", "haven-care": "100"},
        minimum_reduction="0.05", payment_per_hour="2.50",
    )  # fmt: skip


def assess(book, on: date) -> dict:
    return book.incentives.assess_incentives(by(COUNCIL_ACCOUNTANT, on, "annual incentive assessment"), WIRRAL, YEAR)


def draft(book, on: date = date(2020, 6, 30)) -> dict:
    return book.settlements.draft_settlement(by(COUNCIL_ACCOUNTANT, on, "year-end settlement"), WIRRAL, YEAR)


def issue(book, sequence: int) -> None:
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 3)), WIRRAL, YEAR, sequence, "ties out")
    book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 6)), WIRRAL, YEAR, sequence)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 8)), WIRRAL, YEAR, sequence)
    book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 10), "signed off"), WIRRAL, YEAR, sequence)


def figures(view, kind: str, figure: str) -> dict[str, str]:
    return {party: x[figure] for party, x in view["statement"][kind].items()}


def step(view, label: str, party: str = "") -> dict:
    [found] = [s for s in view["statement"]["steps"] if s["label"] == label and s["party"] == party]
    return found


def test_an_assessed_payment_is_in_actual_spend_and_the_providers_balance_by_reference(book, tmp_path):
    year_of_care(book, tmp_path)
    assessed = assess(book, date(2020, 5, 15))
    paid = {line["provider"]: line["payment"] for line in assessed["lines"]}
    assert paid == {"premier-care": "450.00", "haven-care": "0.00", "carewatch": "0.00",
                    "wirral-home-care-alliance": "0.00"}  # fmt: skip  (no baseline stated: nothing to reduce from)

    first = draft(book)
    s = first["statement"]
    assert step(first, "actual spend") == {
        "label": "actual spend", "formula": "£4,680.00 + incentives £450.00", "amount": "5130.00", "party": "",
    }  # fmt: skip
    assert step(first, "provider's incentive payments", "premier-care")["amount"] == "450.00"
    assert (s["variance"], s["provider_amount"]) == ("270.00", "135.00")
    assert figures(first, "providers", "incentives") == {"haven-care": "0.00", "premier-care": "450.00"}
    assert figures(first, "providers", "share") == {"haven-care": "45.00", "premier-care": "90.00"}
    assert figures(first, "providers", "balance") == {"haven-care": "45.00", "premier-care": "540.00"}
    assert figures(first, "commissioners", "cost") == {"wirral-ccg": "2106.00", "wirral-council": "3159.00"}
    assert s["commissioner_cost"] == "5265.00"
    assert first["inputs"]["incentives"] == {"premier-care": "450.00"}
    refs = first["references"]["incentives"]
    [reference] = refs["assessments"]
    assert {k: reference[k] for k in ("id", "version", "run", "total", "payments")} == {
        "id": ASSESSMENT_ID, "version": 1, "run": 1, "total": "450.00", "payments": {"premier-care": "450.00"},
    }  # fmt: skip
    assert refs["note"].startswith("paid through the settlement")

    # premier-care's own view shows its incentive payment inside its balance.
    mine = json_ready(views.settlement(book.read_engine, provider_access(book.records, PREMIER_FINANCE, WIRRAL,
                                                                        "premier-care"), WIRRAL, YEAR))  # fmt: skip
    assert mine["statement"]["providers"] == {
        "premier-care": {"activity": "3120.00", "incentives": "450.00", "share": "90.00", "clawback": "0.00",
                         "paid": "3120.00", "balance": "540.00"},
    }  # fmt: skip
    assert check_settlements_read_as_recorded(book) == 1


def test_an_assessment_after_issue_marks_the_settlement_out_of_date_and_is_re_settled(openbook, book, tmp_path):
    year_of_care(book, tmp_path)
    first = draft(book, date(2020, 4, 30))
    assert (first["statement"]["actual"], first["statement"]["provider_amount"]) == ("4680.00", "315.00")
    assert first["references"]["incentives"] == {
        "assessments": [], "note": "no incentive assessment of wirral-homecare for 2019-20 is recorded",
    }  # fmt: skip
    issue(book, 1)
    accountant = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    assert views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 1)["out_of_date"] == []

    assess(book, date(2020, 8, 3))  # recorded after the settlement was issued
    issued = views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 1)
    [stale] = issued["out_of_date"]
    assert (stale["what"], stale["id"], stale["run"]) == ("incentive assessment", ASSESSMENT_ID, 1)
    assert stale["note"] == (
        "the 2019-20 incentive assessment of wirral-homecare (run 1, effective 2020-08-03) pays other incentives "
        "than this settlement was computed from; draft the settlement again: a re-settlement includes it"
    )
    shown = ok(openbook("settle", "show", "--agreement", WIRRAL, "--year", YEAR, "--number", "1",
                        as_user=COUNCIL_ACCOUNTANT.user))  # fmt: skip
    assert "OUT OF DATE: the 2019-20 incentive assessment of wirral-homecare (run 1" in shown.stdout

    again = draft(book, date(2020, 8, 10))
    assert (again["sequence"], again["previous"], again["status"]) == (2, 1, "draft")
    assert (again["statement"]["actual"], again["statement"]["provider_amount"]) == ("5130.00", "135.00")
    [reference] = again["references"]["incentives"]["assessments"]
    assert (reference["id"], reference["version"], reference["total"]) == (ASSESSMENT_ID, 1, "450.00")
    premier, haven = (again["comparison"]["providers"][p] for p in ("premier-care", "haven-care"))
    assert premier["incentives"] == {"previous": "0.00", "new": "450.00", "difference": "450.00"}
    assert premier["balance"] == {"previous": "210.00", "new": "540.00", "difference": "330.00"}
    assert haven["balance"] == {"previous": "105.00", "new": "45.00", "difference": "-60.00"}
    council = again["comparison"]["commissioners"]["wirral-council"]
    assert council["cost"] == {"previous": "2997.00", "new": "3159.00", "difference": "162.00"}

    # The issued settlement stays as it was, and says which settlement includes the assessment.
    [stale] = views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 1)["out_of_date"]
    assert stale["note"].endswith("; settlement 2 (draft) includes it")
    assert views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 2)["out_of_date"] == []
    issue(book, 2)
    assert views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 2)["out_of_date"] == []
    assert check_settlements_read_as_recorded(book) == 2


def test_an_assessment_between_draft_and_issue_refuses_the_issue_until_drafted_again(book, tmp_path):
    year_of_care(book, tmp_path)
    draft(book, date(2020, 4, 30))
    assess(book, date(2020, 5, 15))
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 3)), WIRRAL, YEAR, 1, "ties out")
    book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 6)), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 8)), WIRRAL, YEAR, 1)
    with pytest.raises(RuleBroken, match=r"its inputs changed since it was drafted \(incentives\)"):
        book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 10)), WIRRAL, YEAR, 1)
    again = draft(book, date(2020, 7, 13))  # supersedes the draft: no. 2, not a re-settlement
    assert (again["sequence"], again["previous"], again["statement"]["actual"]) == (2, None, "5130.00")
