"""Cost returns through the ledger and its read model, on SQLite and PostgreSQL.

Proven here: a provider files (from the XLSX fixture), is queried, answers,
amends and is accepted, and every revision stays readable; a refused file or
command records nothing; pay below the National Living Wage blocks acceptance
until an accountant explains it, and pay below a Real Living Wage commitment
is flagged; an admin's wage floor reaches every check; the £20.69 worked
example through the read model; who may do what; the rate the gap is taken
against. Figures: DOMAIN.md's; everything else invented.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from domain.envelope import SYSTEM, Actor
from domain.errors import Conflict, InvalidInput, NotAllowed, NotFound, RuleBroken
from domain.returns.filing import CostReturnFiling
from ledger.authorisation import accountant_access, provider_access
from ledger.files.cost_returns import template_csv
from ledger.projections.activity import activity_totals
from ledger.projections.cost_returns import cost_return_lines, cost_return_revisions, cost_returns
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL, on
from tests.integration.returns_setup import (
    ADMIN,
    AUDITOR,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    OUTSIDE_ACCOUNTANT,
    by,
    filing,
    filing_data,
    finance,
    setup,
    snapshot,
)

XLSX = Path(__file__).parent.parent / "fixtures" / "cost-return-2020-21.xlsx"
PREMIER = finance("premier-care")
HAVEN = finance("haven-care")


def head(book) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def sheet(book, provider: str, period: str, revision: int | None = None) -> dict:
    return views.accountant_return_sheet(book, accountant_access(book.records, SYSTEM, WIRRAL), provider, period, revision)


def row(book, provider: str, period: str) -> dict:
    with book.read_engine.connect() as conn:
        c = cost_returns.c
        return dict(
            conn.execute(select(cost_returns).where((c.provider == provider) & (c.period == period))).one()._mapping
        )


# -- the whole workflow ------------------------------------------------------------------------------


def test_a_provider_files_is_queried_answers_amends_and_is_accepted(book):
    setup(book)

    filed = book.returns.import_cost_return(by(PREMIER, date(2021, 5, 14)), XLSX, WIRRAL, "premier-care", "2020-21", submit=True)
    assert filed == {
        "agreement": WIRRAL, "provider": "premier-care", "period": "2020-21", "in_house": False,
        "status": "submitted", "revision": 1, "open_queries": 0,
    }  # fmt: skip
    first = sheet(book, "premier-care", "2020-21")
    assert first["totals"]["total_cost"] == D("1075880.00")  # 20.69 × 52,000
    assert first["totals"]["total_per_hour_shown"] == D("20.69")
    assert first["totals"]["travel_minutes_per_contact_hour"] == D("11.70")  # (60 / 30) × 5.85
    assert first["rate"].rate == D("15.60") and first["rate"].source == "rate card"
    assert first["gap"] == D("-5.0900")  # the rate falls £5.09 an hour short of the cost
    notes = {line["line"]: line["note"] for line in first["lines"]}
    assert notes["pension"] == "3% auto-enrolment"

    asked = book.returns.query_cost_return(
        by(COUNCIL_ACCOUNTANT, date(2021, 6, 1)), WIRRAL, "premier-care", "2020-21", "mileage", "45p a mile?"
    )
    assert (asked["query_id"], asked["status"], asked["open_queries"]) == ("Q1", "queried", 1)
    with pytest.raises(RuleBroken, match=r"1 open query \(Q1 on mileage\)"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2021, 6, 2)), WIRRAL, "premier-care", "2020-21")

    book.returns.answer_cost_return_query(
        by(PREMIER, date(2021, 6, 3)), WIRRAL, "premier-care", "2020-21", "Q1", "No: 30p, corrected in revision 2"
    )
    assert row(book, "premier-care", "2020-21")["status"] == "submitted"

    corrected = CostReturnFiling.parse(filing_data(hours=52_000, mileage="1.00", notes={"mileage": "30p a mile"}))
    csv = template_csv(corrected).encode("utf-8")
    with pytest.raises(InvalidInput, match="amending a submitted return needs a reason"):
        book.returns.amend_cost_return_from_file(by(PREMIER, date(2021, 6, 3)), csv, WIRRAL, "premier-care", "2020-21", "r2.csv")
    amended = book.returns.amend_cost_return_from_file(
        by(PREMIER, date(2021, 6, 3), "mileage corrected after query Q1"), csv, WIRRAL, "premier-care", "2020-21", "r2.csv"
    )
    assert amended["revision"] == 2

    now, before = sheet(book, "premier-care", "2020-21"), sheet(book, "premier-care", "2020-21", revision=1)
    assert now["totals"]["total_per_hour"] == D("20.3300")  # 20.69 − 0.36 of mileage
    assert before["totals"]["total_per_hour"] == D("20.6900")  # revision 1 is still readable
    assert (now["reason"], before["reason"]) == ("mileage corrected after query Q1", None)
    assert [q["answer"] for q in now["queries"]] == ["No: 30p, corrected in revision 2"]
    assert book.returns.cost_return(WIRRAL, "premier-care", "2020-21").revision(1).filing.lines["mileage"] == D("70720")

    accepted = book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2021, 6, 10)), WIRRAL, "premier-care", "2020-21")
    assert (accepted["status"], accepted["revision"]) == ("accepted", 2)
    stored = row(book, "premier-care", "2020-21")
    assert (stored["status"], stored["accepted_revision"], stored["accepted_on"]) == ("accepted", 2, date(2021, 6, 10))
    with book.read_engine.connect() as conn:
        assert conn.execute(select(cost_return_revisions.c.revision).order_by("revision")).scalars().all() == [1, 2]
        current = conn.execute(select(cost_return_lines).where(cost_return_lines.c.current.is_(True))).all()
    assert {(r.revision, r.line) for r in current} >= {(2, "mileage")} and len(current) == 17
    assert views.list_returns(book, accountant_access(book.records, SYSTEM, WIRRAL))[0]["status"] == "accepted"


def test_the_worked_example_gives_20_69_per_contact_hour_through_the_read_model_at_any_volume(book):
    setup(book)
    for provider, hours in (("premier-care", 2_500), ("haven-care", 10_000), ("carewatch", 52_000)):
        book.returns.draft_cost_return(by(finance(provider), date(2020, 10, 5)), WIRRAL, provider, "2020-21-Q2", filing(hours=hours))

    for provider in ("premier-care", "haven-care", "carewatch"):
        shown = sheet(book, provider, "2020-21-Q2")
        assert shown["totals"]["total_per_hour"] == D("20.6900")
        assert shown["totals"]["on_costs_percent_of_pay"] == D("29.85")  # 3.11 / 10.42
        assert shown["totals"]["surplus_percent_of_cost"] == D("2.99")  # 0.60 / 20.09
        per_line = {line["line"]: line["per_hour"] for line in shown["lines"]}
        assert per_line["contact_pay"] == D("8.7200") and per_line["travel_pay"] == D("1.7000")
        groups = {g["group"]: g["per_hour"] for g in shown["groups"]}
        assert groups["pay"] == D("10.4200") and groups["running-the-business"] == D("5.2000")


# -- refused input records nothing --------------------------------------------------------------------


def test_a_refused_file_records_nothing_and_names_every_cell(book):
    setup(book)
    text = template_csv(filing(hours=2500)).replace("contact_pay,21800", "contact_pay,-21800").replace(
        "mileage,3400.00,", "mileage,,"
    )
    before = head(book)

    with pytest.raises(InvalidInput) as refused:
        book.returns.import_cost_return(by(PREMIER, date(2020, 10, 5)), text.encode(), WIRRAL, "premier-care", "2020-21-Q2", "q2.csv")
    assert len(refused.value.problems) == 2
    assert refused.value.problems[0].startswith("q2.csv: row ") and "column B (amount)" in refused.value.problems[0]
    assert "must not be negative" in refused.value.problems[0] and "is blank" in refused.value.problems[1]
    assert head(book) == before
    with pytest.raises(NotFound):
        book.returns.cost_return(WIRRAL, "premier-care", "2020-21-Q2")

    with pytest.raises(InvalidInput, match="period: '2019-21' is not a financial year: 2019 must be followed by 20"):
        book.returns.draft_cost_return(by(PREMIER, date(2020, 10, 5)), WIRRAL, "premier-care", "2019-21", filing())
    with pytest.raises(RuleBroken, match="provider: stranger-care holds no award under wirral-homecare in 2020-21-Q2"):
        book.returns.draft_cost_return(by(finance("stranger-care"), date(2020, 10, 5)), WIRRAL, "stranger-care", "2020-21-Q2", filing())
    with pytest.raises(RuleBroken, match="elsewhere-council is not a commissioner of wirral-homecare"):
        book.returns.draft_cost_return(by(OUTSIDE_ACCOUNTANT, date(2020, 10, 5)), WIRRAL, "elsewhere-council", "2020-21-Q2", filing())
    assert head(book) == before

    book.returns.draft_cost_return(by(PREMIER, date(2020, 10, 5)), WIRRAL, "premier-care", "2020-21-Q2", filing())
    after_draft = head(book)
    with pytest.raises(Conflict, match="already filed; amend it"):
        book.returns.draft_cost_return(by(PREMIER, date(2020, 10, 6)), WIRRAL, "premier-care", "2020-21-Q2", filing())
    with pytest.raises(InvalidInput, match="q2.csv: row"):
        book.returns.amend_cost_return_from_file(by(PREMIER, date(2020, 10, 6)), text.encode(), WIRRAL, "premier-care", "2020-21-Q2", "q2.csv")
    assert head(book) == after_draft


# -- wage floors -------------------------------------------------------------------------------------


def test_pay_below_the_national_living_wage_blocks_acceptance_until_an_accountant_explains_it(book):
    setup(book)
    q1 = "2019-20-Q1"  # the National Living Wage was £8.21 from 1 April 2019
    book.returns.draft_cost_return(by(HAVEN, date(2019, 7, 19)), WIRRAL, "haven-care", q1, filing(lowest="8.00"), submit=True)
    flagged = row(book, "haven-care", q1)
    assert (flagged["nlw_breach"], flagged["nlw_explained"], flagged["nlw_floor"]) == (True, False, D("8.21"))
    [finding] = sheet(book, "haven-care", q1)["findings"]
    assert finding["kind"] == "nlw-breach" and not finding["explained"]
    assert finding["message"].startswith("£8.00 is below the National Living Wage of £8.21 (for workers aged 25 and over)")

    with pytest.raises(RuleBroken, match="cannot be accepted: revision 1's lowest hourly pay £8.00 is below"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "haven-care", q1)
    with pytest.raises(NotAllowed):
        book.returns.explain_wage_breach(by(HAVEN, date(2019, 8, 1)), WIRRAL, "haven-care", q1, "they are young")

    book.returns.explain_wage_breach(
        by(COUNCIL_ACCOUNTANT, date(2019, 8, 2)), WIRRAL, "haven-care", q1, "two apprentices aged 19; payroll seen"
    )
    assert row(book, "haven-care", q1)["nlw_explained"] is True
    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 5)), WIRRAL, "haven-care", q1)

    # Reopened and amended: the new revision's breach needs its own explanation.
    book.returns.reopen_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 9, 1)), WIRRAL, "haven-care", q1, "payroll restated")
    book.returns.amend_cost_return(by(HAVEN, date(2019, 9, 2), "restated payroll"), WIRRAL, "haven-care", q1, filing(lowest="7.90"))
    assert (row(book, "haven-care", q1)["nlw_breach"], row(book, "haven-care", q1)["nlw_explained"]) == (True, False)
    with pytest.raises(RuleBroken, match="revision 2's lowest hourly pay"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 9, 3)), WIRRAL, "haven-care", q1)


def test_pay_below_a_real_living_wage_commitment_is_flagged_and_blocks_nothing(book):
    setup(book)
    book.returns.draft_cost_return(by(PREMIER, date(2019, 7, 1)), WIRRAL, "premier-care", "2019-20-Q1", filing(lowest="8.72"), submit=True)
    book.returns.draft_cost_return(by(PREMIER, date(2020, 7, 1)), WIRRAL, "premier-care", "2020-21-Q1", filing(lowest="8.72"), submit=True)
    assert row(book, "premier-care", "2020-21-Q1")["rlw_flag"] is False  # no commitment yet

    # The partnership commits to the Real Living Wage from 1 April 2020 (£9.30, announced in 2019).
    book.agreements.set_living_wage_commitment(on(date(2020, 4, 1), "ethical framework"), WIRRAL)

    flagged, earlier = row(book, "premier-care", "2020-21-Q1"), row(book, "premier-care", "2019-20-Q1")
    assert (flagged["rlw_flag"], flagged["rlw_floor"], flagged["nlw_breach"]) == (True, D("9.30"), False)
    assert earlier["rlw_flag"] is False  # before the commitment applied
    [finding] = sheet(book, "premier-care", "2020-21-Q1")["findings"]
    assert finding["message"] == "£8.72 is below the Real Living Wage of £9.30 the agreement commits to from 2020-04-01"
    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2020, 8, 1)), WIRRAL, "premier-care", "2020-21-Q1")

    tables = snapshot(book)
    book.projections.rebuild(["cost-returns"])
    assert snapshot(book) == tables


def test_an_admins_wage_floor_reaches_every_check_and_the_read_model(book):
    setup(book)
    q2 = "2019-20-Q2"
    book.returns.draft_cost_return(by(HAVEN, date(2019, 10, 5)), WIRRAL, "haven-care", q2, filing(lowest="8.30"), submit=True)
    assert row(book, "haven-care", q2)["nlw_breach"] is False  # £8.30 is above the built-in £8.21

    with pytest.raises(NotAllowed, match="only an admin"):
        book.returns.add_wage_floor(by(COUNCIL_ACCOUNTANT, date(2019, 10, 6), "correction"), "national-living-wage", date(2019, 7, 1), "8.40")
    before = head(book)
    with pytest.raises(InvalidInput, match="reason: a wage floor needs a reason"):
        book.returns.add_wage_floor(by(ADMIN, date(2019, 10, 6)), "national-living-wage", date(2019, 7, 1), "8.40")
    assert head(book) == before

    # An invented correction, to prove the table is the ledger's: £8.40 from 1 July 2019.
    book.returns.add_wage_floor(by(ADMIN, date(2019, 10, 6), "test correction"), "national-living-wage", date(2019, 7, 1), "8.40")
    assert book.returns.wage_floor_table().national_living_wage_on(date(2019, 7, 1)) == D("8.40")
    assert book.returns.wage_floor_table().national_living_wage_on(date(2019, 6, 30)) == D("8.21")
    breached = row(book, "haven-care", q2)
    assert (breached["nlw_breach"], breached["nlw_floor"]) == (True, D("8.40"))
    with pytest.raises(RuleBroken, match="below the National Living Wage of £8.40"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 10, 7)), WIRRAL, "haven-care", q2)
    with pytest.raises(RuleBroken, match="already £8.40"):
        book.returns.add_wage_floor(by(ADMIN, date(2019, 10, 8), "again"), "national-living-wage", date(2019, 7, 1), "8.40")
    assert [r["hourly_rate"] for r in views.wage_floors_added(book.read_engine)] == [D("8.40")]


# -- who may do what ---------------------------------------------------------------------------------


def test_only_the_provider_files_and_only_a_commissioners_accountant_reviews(book):
    setup(book)
    q = "2020-21-Q2"
    book.returns.draft_cost_return(by(PREMIER, date(2020, 10, 5)), WIRRAL, "premier-care", q, filing(), submit=True)
    before = head(book)
    day = date(2020, 10, 9)

    # Another provider's return is not there for Haven Care (404, as if it did not exist).
    with pytest.raises(NotFound, match="amend cost return: premier-care is not found"):
        book.returns.amend_cost_return(by(HAVEN, day, "sabotage"), WIRRAL, "premier-care", q, filing(hours=1))
    with pytest.raises(NotFound, match="premier-care is not found"):
        book.returns.draft_cost_return(by(HAVEN, day), WIRRAL, "premier-care", "2020-21-Q3", filing())
    with pytest.raises(NotAllowed, match="only an accountant of a commissioner of wirral-homecare"):
        book.returns.accept_cost_return(by(PREMIER, day), WIRRAL, "premier-care", q)
    with pytest.raises(NotAllowed, match="only an accountant"):
        book.returns.query_cost_return(by(OUTSIDE_ACCOUNTANT, day), WIRRAL, "premier-care", q, "mileage", "?")
    with pytest.raises(NotAllowed, match="only an accountant"):
        book.returns.reject_cost_return(by(AUDITOR, day), WIRRAL, "premier-care", q, "auditors read, they do not decide")
    with pytest.raises(NotAllowed, match="is not a registered user"):
        book.returns.accept_cost_return(by(Actor("nobody@wirral.example", "wirral-council"), day), WIRRAL, "premier-care", q)
    with pytest.raises(NotAllowed, match="belongs to premier-care, not wirral-council"):
        book.returns.accept_cost_return(by(Actor(PREMIER.user, "wirral-council"), day), WIRRAL, "premier-care", q)
    with pytest.raises(NotAllowed, match="accountant@wirral.example of wirral-council cannot act for premier-care"):
        book.returns.submit_cost_return(by(COUNCIL_ACCOUNTANT, day), WIRRAL, "premier-care", q)
    assert head(book) == before

    # An admin of a commissioner may act for a provider (e.g. keying a paper return); the CCG's accountant reviews.
    book.returns.answer_cost_return_query(
        by(ADMIN, day), WIRRAL, "premier-care", q,
        book.returns.query_cost_return(by(CCG_ACCOUNTANT, day), WIRRAL, "premier-care", q, "visits", "Why 2 a hour?")["query_id"],
        "30-minute visits",
    )  # fmt: skip
    assert book.returns.accept_cost_return(by(CCG_ACCOUNTANT, day), WIRRAL, "premier-care", q)["status"] == "accepted"

    with pytest.raises(NotAllowed, match="may not see every provider's figures"):
        accountant_access(book.records, HAVEN, WIRRAL)
    with pytest.raises(NotFound, match="premier-care's figures under wirral-homecare are not found"):
        provider_access(book.records, HAVEN, WIRRAL, "premier-care")
    assert provider_access(book.records, PREMIER, WIRRAL, "premier-care").provider == "premier-care"
    assert accountant_access(book.records, AUDITOR, WIRRAL).agreement == WIRRAL


def test_alliance_members_file_under_its_award_and_the_council_files_its_in_house_costs(book):
    setup(book)
    q = "2019-20-Q1"
    member = book.returns.draft_cost_return(by(finance("aspire"), date(2019, 7, 5)), WIRRAL, "aspire", q, filing(lowest="8.21"))
    assert member["in_house"] is False
    # Aspire files under the alliance's award: its rate is the alliance's zones' (zone-1, zone-2, zone-4).
    assert "zone-1, zone-2, zone-4" in sheet(book, "aspire", q)["rate"].basis

    with pytest.raises(NotAllowed, match="auditor@wirral.example has no accountant or admin role at wirral-council"):
        book.returns.draft_cost_return(by(AUDITOR, date(2019, 7, 5)), WIRRAL, "wirral-council", q, filing(lowest="9.00"))
    in_house = book.returns.draft_cost_return(
        by(COUNCIL_ACCOUNTANT, date(2019, 7, 5)), WIRRAL, "wirral-council", q, filing(lowest="9.00", contact_pay="10.12"),
        submit=True,
    )  # fmt: skip
    assert in_house["in_house"] is True
    shown = sheet(book, "wirral-council", q)
    assert shown["in_house"] is True and shown["rate"].rate == D("15.60") and "every zone" in shown["rate"].basis
    # Nobody reviews their own organisation's figures: the council's accountant cannot accept them.
    with pytest.raises(NotAllowed, match="cannot review wirral-council's own return"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "wirral-council", q)
    book.returns.accept_cost_return(by(CCG_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "wirral-council", q)
    market = views.accountant_market(book, accountant_access(book.records, SYSTEM, WIRRAL), q)
    assert market["contributors"] == 0 and [e["provider"] for e in market["in_house"]] == ["wirral-council"]


# -- the rate the gap is taken against -----------------------------------------------------------------

def test_the_gap_uses_the_rate_card_until_activity_shows_the_rate_actually_paid(book):
    setup(book)
    q = "2019-20-Q1"
    book.returns.draft_cost_return(by(PREMIER, date(2019, 7, 5)), WIRRAL, "premier-care", q, filing(lowest="8.21"))
    one_rate = sheet(book, "premier-care", q)["rate"]
    assert (one_rate.rate, one_rate.low, one_rate.high) == (D("15.60"), D("15.60"), D("15.60"))

    # Wallasey (zone-2) is paid £16.00 from 1 May 2019: Premier Care holds zones 1 and 2, so rates differ.
    book.rates.publish_rate(on(date(2019, 5, 1), "Wallasey uplift"), WIRRAL, "standard", "zone-2", hourly_rate=D("16.00"))
    ranged = sheet(book, "premier-care", q)["rate"]
    # zone-days: 91 × 15.60 (zone-1) + 30 × 15.60 + 61 × 16.00 (zone-2), over 182 zone-days
    expected = ((91 + 30) * D("15.60") + 61 * D("16.00")) / 182
    assert (ranged.low, ranged.high, ranged.source) == (D("15.60"), D("16.00"), "rate card")
    assert ranged.rate == expected.quantize(D("0.0001"))
    assert "£15.60 to £16.00" in ranged.basis and "mean over zone-days" in ranged.basis

    # Priced activity, as the activity projection records it (minutes and pence, exact).
    with book.read_engine.begin() as conn:
        for zone, month, hours, spend in (
            ("zone-1", "2019-04", 1000, "15600.00"),
            ("zone-2", "2019-05", 500, "8000.00"),
            ("zone-2", "2019-07", 999, "99999.00"),  # another quarter: not counted
        ):
            quarter = "2019-20-Q1" if month != "2019-07" else "2019-20-Q2"
            minutes, pence = hours * 60, int(D(spend) * 100)
            conn.execute(
                insert(activity_totals).values(
                    agreement=WIRRAL, provider="premier-care", zone=zone, service="standard", month=month,
                    quarter=quarter, financial_year="2019-20", visits=hours, planned_minutes=minutes,
                    actual_minutes=minutes, payable_minutes=minutes, spend_pence=pence, unpriced_visits=0,
                )
            )  # fmt: skip
    paid = sheet(book, "premier-care", q)
    assert paid["rate"].source == "activity"
    assert paid["rate"].rate == D("15.7333")  # 23,600 / 1,500
    assert paid["gap"] == D("15.7333") - D("20.6900")
