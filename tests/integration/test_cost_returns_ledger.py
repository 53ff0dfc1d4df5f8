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

from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from domain.agreements.terms import ServiceType
from domain.envelope import SYSTEM, Actor
from domain.errors import Conflict, InvalidInput, NotAllowed, NotFound, RuleBroken
from domain.money import format_gbp
from domain.rates.pricer import Pricer
from domain.returns.cost_return import check_period
from domain.returns.filing import CostReturnFiling
from ledger.authorisation import accountant_access, provider_access
from ledger.files.cost_returns import template_csv
from ledger.projections.activity import activity_totals
from ledger.projections.cost_returns import cost_return_lines, cost_return_revisions, cost_returns
from ledger.queries import returns as views
from tests.integration.agreement_setup import START, WIRRAL, on
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
from tests.integration.settlement_setup import import_visits
from tests.worked_examples import NLW_2019, TOTAL_PER_HOUR_2020_21

XLSX = Path(__file__).parent.parent / "fixtures" / "cost-return-2020-21.xlsx"
PREMIER = finance("premier-care")
HAVEN = finance("haven-care")


def head(book) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def sheet(book, provider: str, period: str, revision: int | None = None) -> dict:
    return views.return_sheet(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), provider, period, revision)


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
    assert first["totals"]["total_cost"] == TOTAL_PER_HOUR_2020_21 * 52_000 == D("1075880.00")
    assert first["totals"]["total_per_hour_shown"] == TOTAL_PER_HOUR_2020_21
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
    assert views.list_returns(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL))[0]["status"] == "accepted"


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
    # A provider with no part in the agreement: as if the agreement did not exist (404).
    with pytest.raises(NotFound, match="draft cost return: agreement 'wirral-homecare' is not found"):
        book.returns.draft_cost_return(by(finance("stranger-care"), date(2020, 10, 5)), WIRRAL, "stranger-care", "2020-21-Q2", filing())
    with pytest.raises(NotFound, match="draft cost return: agreement 'wirral-homecare' is not found"):
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
    assert finding["message"] == "£8.72 is below the Real Living Wage of £9.30 (for workers aged 18 and over) the agreement commits to from 2020-04-01"
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
    assert book.returns.wage_floor_table().national_living_wage_on(date(2019, 6, 30)) == NLW_2019
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
    with pytest.raises(NotFound, match="query cost return: agreement 'wirral-homecare' is not found"):
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
    with pytest.raises(NotAllowed, match="cannot review wirral-council's own figures"):
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "wirral-council", q)
    book.returns.accept_cost_return(by(CCG_ACCOUNTANT, date(2019, 8, 1)), WIRRAL, "wirral-council", q)
    market = views.market(book.read_engine, accountant_access(book.records, SYSTEM, WIRRAL), q)
    assert market["contributors"] == 0 and [e["provider"] for e in market["in_house"]] == ["wirral-council"]


# -- the rate the gap is taken against -----------------------------------------------------------------

def test_the_gap_is_taken_against_the_rates_on_the_card_hours_weighted_once_activity_is_priced(book):
    setup(book)
    q = "2019-20-Q1"
    book.returns.draft_cost_return(by(PREMIER, date(2019, 7, 5)), WIRRAL, "premier-care", q, filing(lowest="8.21"))
    one_rate = sheet(book, "premier-care", q)["rate"]
    assert (one_rate.rate, one_rate.low, one_rate.high) == (D("15.60"), D("15.60"), D("15.60"))

    # Wallasey (zone-2) is paid £16.00 from 1 May 2019: Premier Care holds zones 1 and 2, so rates differ.
    book.rates.publish_rate(on(date(2019, 5, 1), "Wallasey uplift"), WIRRAL, "standard", "zone-2", hourly_rate=D("16.00"))
    ranged = sheet(book, "premier-care", q)["rate"]
    # no activity yet, so zone-days: 91 × 15.60 (zone-1) + 30 × 15.60 + 61 × 16.00 (zone-2), over 182 zone-days
    expected = ((91 + 30) * D("15.60") + 61 * D("16.00")) / 182
    assert (ranged.low, ranged.high, ranged.source) == (D("15.60"), D("16.00"), "rate card")
    assert ranged.rate == expected.quantize(D("0.0001")) and ranged.average_paid is None
    assert "£15.60 to £16.00" in ranged.basis and "each zone and day counted alike" in ranged.basis

    # Priced activity, as the activity projection records it (minutes and pence, exact).
    with book.read_engine.begin() as conn:
        for zone, month, hours, spend in (
            ("zone-1", "2019-04", 1000, "15600.00"),
            ("zone-2", "2019-04", 300, "4680.00"),
            ("zone-2", "2019-05", 500, "8012.50"),  # visits priced to the penny, and a few banded ones
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
    assert paid["rate"].source == "rate card"
    # the card's rates weighted by hours: (1,000 + 300) × 15.60 + 500 × 16.00 = 28,280.00 over 1,800 hours
    assert paid["rate"].rate == D("15.7111")  # 15.71111...
    assert "hours-weighted rate £15.7111" in paid["rate"].basis and "payable hours" in paid["rate"].basis
    assert paid["gap"] == D("15.7111") - D("20.6900")
    # apart: what was actually paid, 28,292.50 / 1,800 hours
    assert paid["rate"].average_paid == D("15.7181")  # 15.71805...
    assert "£28,292.50 for 1,800.00 payable hours" in paid["rate"].average_paid_basis


def test_the_gap_is_against_the_card_rate_and_the_average_paid_per_hour_is_shown_apart(book, tmp_path):
    """£15.93 on the card; visits priced to the penny average £15.9347 an hour, which is not the card's rate."""
    setup(book, rate=D("15.93"))
    q = "2019-20-Q1"
    book.returns.draft_cost_return(by(PREMIER, date(2019, 7, 5)), WIRRAL, "premier-care", q, filing(lowest="8.21"))
    rows = [
        [f"V{minutes}", "premier-care", f"C{minutes}", "CH41 2AB", "standard", f"2019-05-0{day}T09:00", str(minutes),
         f"2019-05-0{day}T09:00", str(minutes), "K1"]
        for day, minutes in ((1, 30), (2, 45), (3, 20))
    ]  # fmt: skip
    import_visits(book, tmp_path, "may.csv", rows, on=date(2019, 6, 5))

    s = sheet(book, "premier-care", q)
    assert (s["rate"].rate, s["rate"].source) == (D("15.93"), "rate card")
    assert s["gap"] == D("-4.7600")  # 15.93 − 20.6900
    # each visit priced to the penny: 30 min 7.965 → £7.97, 45 min 11.9475 → £11.95, 20 min £5.31;
    # £25.23 for 95 minutes: 25.23 × 60 ÷ 95 = 15.93473... → £15.9347 an hour actually paid
    assert s["rate"].average_paid == D("15.9347")
    assert s["rate"].average_paid_basis.startswith("average actually paid per hour in 2019-20-Q1: £25.23 for")


# -- the rate card over the read models says what the aggregates' pricer says --------------------------


def aggregate_rate_paid(book, provider: str, period: str, in_house: bool) -> views.RatePaid:
    """The rate card's rate paid through the aggregates: ``Pricer.rate_for`` asked day by day.

    The code the query replaced, kept here as the reference the read models
    must agree with: the Agreement's awards and zones, the RateCard through the
    Pricer, the Organisation's alliance.
    """
    chosen = check_period(period)
    found = book.records.agreement(WIRRAL)
    try:
        pricer = Pricer(found, book.rates.rate_card(WIRRAL))
    except NotFound:
        return views.RatePaid(None, "none", None, None, f"{WIRRAL} has no rates published yet")
    member_of = book.records.organisation(provider).member_of
    awarded = found.awards_during(chosen.start, chosen.end)
    holders = {provider} if any(a.provider == provider for a in awarded) else {member_of}
    rates, zones, day = [], set(), chosen.start
    while day <= chosen.end:
        if in_house:
            here = {z.code for z in found.zones_on(day) if not z.is_lot}
        else:
            here = {a.zone for a in found.awards_on(day) if a.provider in holders}
        for zone in sorted(here):
            try:
                rates.append(pricer.rate_for(ServiceType.STANDARD, zone, day).hourly_rate)
            except NotFound:
                continue
            zones.add(zone)
        day += timedelta(days=1)
    if not rates:
        whose = "any zone" if in_house else f"{provider}'s awarded zones"
        return views.RatePaid(None, "none", None, None, f"no standard rate on the rate card for {whose} in {chosen}")
    low, high = min(rates), max(rates)
    where = ", ".join(sorted(zones))
    whose = f"zone{'s' if len(zones) > 1 else ''} {where}"
    if in_house:
        whose = f"every zone ({where}: in-house costs compared with what providers are paid)"
    if low == high:
        return views.RatePaid(
            low, "rate card", low, high,
            f"agreement rate card: standard service {format_gbp(low)} an hour in {whose} throughout {chosen}",
        )  # fmt: skip
    mean = (sum(rates, D(0)) / len(rates)).quantize(D("0.0001"), ROUND_HALF_UP)
    return views.RatePaid(
        mean, "rate card", low, high,
        f"agreement rate card: standard service {format_gbp(low)} to {format_gbp(high)} an hour in {whose} "
        f"during {chosen}; several rates applied, so the gap uses their hours-weighted rate {format_gbp(mean)} "
        "(each zone and day counted alike: no priced activity is recorded yet)",
    )  # fmt: skip


def mean(*zone_days: tuple[int, str]) -> D:
    """The mean over zone-days, 4 dp half up: Σ days × rate ÷ Σ days."""
    total = sum((days * D(rate) for days, rate in zone_days), D(0))
    return (total / sum(days for days, _ in zone_days)).quantize(D("0.0001"), ROUND_HALF_UP)


#: Differing zone rates from 1 April 2019 (invented around the £15.60), and a banded rate the standard ignores.
ZONE_RATES = {"zone-1": "15.60", "zone-2": "16.20", "zone-3": "15.90", "zone-4": "16.00"}


def _zone_rates(book) -> None:
    setup(book, rate=None)
    for zone, rate in ZONE_RATES.items():
        book.rates.publish_rate(on(START, "zone rates"), WIRRAL, "standard", zone, hourly_rate=D(rate))
    book.rates.publish_rate(on(START, "rural packages"), WIRRAL, "standard", "zone-1", hourly_rate=D("17.00"), band="rural")


def _flat_rate(book) -> None:
    setup(book)  # £15.60 in every zone


def _changes_mid_quarter(book) -> None:
    setup(book)
    book.rates.publish_rate(on(START, "rural packages"), WIRRAL, "standard", "zone-1", hourly_rate=D("17.00"), band="rural")
    book.rates.publish_rate(on(date(2019, 5, 1), "Wallasey uplift"), WIRRAL, "standard", "zone-2", hourly_rate=D("16.00"))
    # Only the rate without a band ends: the rural band's £17.00 is no standard rate for the gap.
    book.rates.withdraw_rate(on(date(2020, 3, 1), "Birkenhead re-tendered"), WIRRAL, "standard", "zone-1")


def _backdated_review(book) -> None:
    """Wirral's 2020-21 review: £16.34 in every zone from 1 April 2020, decided on 15 June 2020; zone-3 corrected."""
    setup(book)
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, "2020-21")
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "16.34"} for z in ZONE_RATES]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, "2020-21", rates, "the National Living Wage rise")
    book.reviews.decide_rate_review(
        on(date(2020, 6, 15), "panel"), WIRRAL, "2020-21", "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip
    book.rates.publish_rate(
        on(date(2020, 7, 1), "zone-3 typed wrongly"), WIRRAL, "standard", "zone-3", hourly_rate=D("16.40"),
        effective_from=date(2020, 4, 1),
    )  # fmt: skip


def _alliance_member_with_its_own_award_later(book) -> None:
    _zone_rates(book)
    book.agreements.award_provider(on(date(2019, 8, 1)), WIRRAL, "aspire", "zone-3", "peripheral")


def _in_house_with_a_lot_and_a_new_zone(book) -> None:
    _zone_rates(book)
    book.agreements.add_lot(on(START, "complex care"), WIRRAL, "lot-d", "Complex care", ["zone-1", "zone-2"])
    book.rates.publish_rate(on(START, "complex lot"), WIRRAL, "standard", "lot-d", hourly_rate=D("20.00"))
    book.agreements.add_zone(on(date(2019, 8, 1), "Neston joins"), WIRRAL, "zone-5", "Neston", ["CH64"])
    book.rates.publish_rate(on(date(2019, 8, 1), "Neston"), WIRRAL, "standard", "zone-5", hourly_rate=D("17.00"))


def _award_ends_mid_quarter(book) -> None:
    _zone_rates(book)
    book.agreements.end_award(on(date(2019, 5, 1), "re-let"), WIRRAL, "premier-care", "zone-2")
    book.agreements.award_provider(on(date(2019, 5, 1), "re-let"), WIRRAL, "haven-care", "zone-2", "primary")


def _no_rates(book) -> None:
    setup(book, rate=None)


def _no_rate_in_the_awarded_zones(book) -> None:
    setup(book, rate=None)
    book.rates.publish_rate(on(START, "South Wirral only"), WIRRAL, "standard", "zone-3", hourly_rate=D("15.90"))


Q1, Q2, Q4 = "2019-20-Q1", "2019-20-Q2", "2019-20-Q4"
#: example -> (set-up, [(provider, period, in-house, the rate)]). Q1 has 91 days, Q2 92, Q4 (2020) 91.
RATE_EXAMPLES = {
    "a flat rate": (_flat_rate, [
        ("premier-care", Q1, False, D("15.60")), ("premier-care", "2019-20", False, D("15.60")),
        ("aspire", Q1, False, D("15.60")),
    ]),
    "a rate change mid-quarter and a withdrawal": (_changes_mid_quarter, [
        ("premier-care", Q1, False, mean((91 + 30, "15.60"), (61, "16.00"))),  # zone-2 £16.00 from 1 May
        ("premier-care", Q4, False, mean((60, "15.60"), (91, "16.00"))),  # zone-1 withdrawn from 1 March 2020
        ("wirral-council", Q4, True, mean((60 + 91 + 91, "15.60"), (91, "16.00"))),
    ]),
    "the 2020-21 backdated review": (_backdated_review, [
        ("premier-care", Q4, False, D("15.60")),
        ("premier-care", "2020-21-Q1", False, D("16.34")),  # decided 15 June, backdated: as known now, throughout
        ("haven-care", "2020-21-Q1", False, mean((91, "16.40"), (91, "16.34"))),  # zone-3's correction wins
        ("premier-care", "2020-21", False, D("16.34")),
    ]),
    "differing zone rates": (_zone_rates, [
        ("premier-care", Q1, False, mean((91, "15.60"), (91, "16.20"))),  # zones 1 and 2; the rural band ignored
        ("haven-care", Q1, False, mean((91, "15.90"), (91, "16.00"))),
        ("peripheral-a", Q1, False, D("15.60")),
    ]),
    "an alliance member under the alliance's award": (_alliance_member_with_its_own_award_later, [
        ("aspire", Q1, False, mean((91, "15.60"), (91, "16.20"), (91, "16.00"))),  # the alliance's zones 1, 2, 4
        ("wirral-home-care-alliance", Q1, False, mean((91, "15.60"), (91, "16.20"), (91, "16.00"))),
        ("aspire", Q2, False, D("15.90")),  # its own award (zone-3 from 1 August) replaces the alliance's
    ]),
    "an in-house return, every zone": (_in_house_with_a_lot_and_a_new_zone, [
        ("wirral-council", Q1, True, mean(*((91, rate) for rate in ZONE_RATES.values()))),  # not the lot's £20.00
        ("wirral-ccg", Q2, True, mean(*((92, rate) for rate in ZONE_RATES.values()), (61, "17.00"))),
    ]),
    "an award ending mid-quarter": (_award_ends_mid_quarter, [
        ("premier-care", Q1, False, mean((91, "15.60"), (30, "16.20"))),  # zone-2 until 30 April
        ("premier-care", Q2, False, D("15.60")),
        ("haven-care", Q1, False, mean((91, "15.90"), (91, "16.00"), (61, "16.20"))),  # zone-2 from 1 May
    ]),
    "no rates published": (_no_rates, [("premier-care", Q1, False, None), ("wirral-council", Q1, True, None)]),
    "no rate in the awarded zones": (_no_rate_in_the_awarded_zones, [
        ("premier-care", Q1, False, None), ("stranger-care", Q1, False, None), ("haven-care", Q1, False, D("15.90")),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("example", list(RATE_EXAMPLES))
def test_the_rate_paid_from_the_read_models_equals_the_aggregates_pricer_day_by_day(book, example):
    build, cases = RATE_EXAMPLES[example]
    build(book)
    access = accountant_access(book.records, SYSTEM, WIRRAL)
    for provider, period, in_house, rate in cases:
        paid = views.rate_paid(book.read_engine, access, provider, period, in_house)
        assert paid == aggregate_rate_paid(book, provider, period, in_house), (provider, period)
        assert paid.rate == rate, (provider, period)
        assert paid.source == ("none" if rate is None else "rate card")
