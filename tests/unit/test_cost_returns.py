"""The cost return workflow: drafted, submitted, queried, answered, amended, accepted, rejected, reopened.

Figures: the 2020-21 minimum price breakdown of DOMAIN.md at 10,000 contact
hours and the National Living Wage (£8.72 from 1 April 2020). Invented: the
provider's figures beyond that, the dates, the questions and answers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.aggregate import natural_id
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.returns.cost_return import CostReturn, ReturnStatus
from domain.returns.filing import CostLine, CostReturnFiling, Volume
from domain.returns.wage_checks import FindingKind
from tests.support import replay
from tests.worked_examples import PER_HOUR_2020_21 as PER_HOUR

PROVIDER = Actor("director@premiercare.example", "premier-care")
ACCOUNTANT = Actor("finance@wirral.gov.uk", "wirral-council")
AGREEMENT = "wirral-homecare"
PERIOD = "2020-21-Q2"



def filing(lowest: str = "8.72", **line_changes: str) -> CostReturnFiling:
    lines = {key: str(D(rate) * 2500) for key, rate in PER_HOUR.items()}  # a quarter of 10,000 hours
    lines.update(line_changes)
    return CostReturnFiling.parse(
        {
            "lines": lines,
            "volumes": {
                "contact_hours": "2500", "visits": "5000", "average_visit_minutes": "30",
                "average_travel_minutes": "5.85", "careworker_headcount": "10", "careworker_fte": "8.5",
                "hours_paid": "3250", "lowest_hourly_pay": lowest, "typical_hourly_pay": "9.00",
            },  # fmt: skip
            "notes": {"pension": "3% auto-enrolment"},
            "prepared_on": "2020-10-05",
        }
    )


def by(actor: Actor, day: date, reason: str | None = None) -> Envelope:
    return Envelope(actor=actor, effective_date=day, reason=reason)


def drafted(lowest: str = "8.72") -> CostReturn:
    return CostReturn.draft(by(PROVIDER, date(2020, 10, 5)), AGREEMENT, "premier-care", PERIOD, filing(lowest))


def submitted(lowest: str = "8.72") -> CostReturn:
    cost_return = drafted(lowest)
    cost_return.submit(by(PROVIDER, date(2020, 10, 9)))
    return cost_return




# -- identity and topics -------------------------------------------------------------------------


def test_one_return_per_provider_agreement_and_period():
    cost_return = drafted()
    assert cost_return.id == natural_id("cost-return", AGREEMENT, "premier-care", PERIOD)
    assert cost_return.id == CostReturn.create_id(AGREEMENT, "premier-care", PERIOD)
    assert str(cost_return.period) == PERIOD and cost_return.status is ReturnStatus.DRAFT
    assert cost_return.current.number == 1 and not cost_return.in_house


def test_topics_are_stable():
    assert CostReturn.TOPIC == "openbook:cost-return"
    assert {
        cls.TOPIC
        for cls in (
            CostReturn.Drafted, CostReturn.Submitted, CostReturn.Queried, CostReturn.Answered, CostReturn.Amended,
            CostReturn.Accepted, CostReturn.Rejected, CostReturn.Reopened, CostReturn.BreachExplained,
        )
    } == {
        f"openbook:cost-return.{name}"
        for name in (
            "drafted", "submitted", "queried", "answered", "amended", "accepted", "rejected", "reopened",
            "breach-explained",
        )
    }  # fmt: skip


def test_an_annual_return_and_the_councils_in_house_costs():
    # Wirral 5.9: the council opens its own costs, filed the same way.
    in_house = CostReturn.draft(
        by(ACCOUNTANT, date(2021, 5, 1)), AGREEMENT, "wirral-council", "2020-21", filing(), in_house=True
    )
    assert in_house.in_house and str(in_house.period) == "2020-21"
    assert in_house.changes[0].what == f"in-house costs of wirral-council for {AGREEMENT} 2020-21 drafted"


def test_a_bad_period_is_refused():
    with pytest.raises(InvalidInput, match="period: '2020-22-Q2' is not a financial"):
        CostReturn.draft(by(PROVIDER, date(2020, 10, 5)), AGREEMENT, "premier-care", "2020-22-Q2", filing())


# -- the workflow ------------------------------------------------------------------------------


def test_query_answer_amend_accept():
    cost_return = submitted()
    assert cost_return.status is ReturnStatus.SUBMITTED

    query_id = cost_return.query(
        by(ACCOUNTANT, date(2020, 10, 20)), CostLine.PENSION, "Pension is 4.2% of pay; is that all staff?"
    )
    assert query_id == "Q1" and cost_return.status is ReturnStatus.QUERIED
    with pytest.raises(RuleBroken, match=r"has 1 open query \(Q1 on pension\); answer them before accepting it"):
        cost_return.accept(by(ACCOUNTANT, date(2020, 10, 21)))

    cost_return.answer(by(PROVIDER, date(2020, 10, 22)), "Q1", "It included office staff; amended to careworkers only.")
    cost_return.amend(by(PROVIDER, date(2020, 10, 22), "pension for careworkers only"), filing(pension="1000.00"))
    assert cost_return.status is ReturnStatus.SUBMITTED
    assert cost_return.current.number == 2
    # Every earlier revision stays readable.
    assert cost_return.revision(1).filing.lines[CostLine.PENSION] == D("1100.00")
    assert cost_return.revision(2).filing.lines[CostLine.PENSION] == D("1000.00")
    assert cost_return.revision(2).reason == "pension for careworkers only"

    cost_return.accept(by(ACCOUNTANT, date(2020, 10, 30)))
    assert cost_return.status is ReturnStatus.ACCEPTED
    assert cost_return.accepted_revision == 2
    assert cost_return.accepted_filing == cost_return.revision(2).filing
    (query,) = cost_return.queries
    assert (query.line, query.revision, query.answered_on) == ("pension", 1, date(2020, 10, 22))
    assert query.asked_by == str(ACCOUNTANT) and query.answered_by == str(PROVIDER)


def test_queries_are_on_a_line_or_a_volume_and_answered_once():
    cost_return = submitted()
    assert cost_return.query(by(ACCOUNTANT, date(2020, 10, 20)), "average_visit_minutes", "Why 30 minutes?") == "Q1"
    assert cost_return.query(by(ACCOUNTANT, date(2020, 10, 20)), Volume.VISITS, "Count of which visits?") == "Q2"
    with pytest.raises(InvalidInput, match="line: 'pensoin' is not a cost line or volume"):
        cost_return.query(by(ACCOUNTANT, date(2020, 10, 20)), "pensoin", "?")
    with pytest.raises(InvalidInput, match="question: must not be blank"):
        cost_return.query(by(ACCOUNTANT, date(2020, 10, 20)), "pension", "  ")
    with pytest.raises(NotFound, match="query_id: Q9 is not a query"):
        cost_return.answer(by(PROVIDER, date(2020, 10, 21)), "Q9", "?")
    cost_return.answer(by(PROVIDER, date(2020, 10, 21)), "Q1", "Planned length.")
    with pytest.raises(RuleBroken, match="query Q1 .* was answered on 2020-10-21"):
        cost_return.answer(by(PROVIDER, date(2020, 10, 22)), "Q1", "Again.")
    assert [q.query_id for q in cost_return.open_queries] == ["Q2"]


def test_reject_needs_reasons_and_reopen_needs_a_reason():
    cost_return = submitted()
    with pytest.raises(InvalidInput, match="reasons: a rejection needs at least one reason"):
        cost_return.reject(by(ACCOUNTANT, date(2020, 10, 30)), [])
    with pytest.raises(InvalidInput, match="no blank ones"):
        cost_return.reject(by(ACCOUNTANT, date(2020, 10, 30)), ["incomplete", " "])
    cost_return.reject(by(ACCOUNTANT, date(2020, 10, 30)), ["office costs missing", "visits do not match hours"])
    assert cost_return.status is ReturnStatus.REJECTED
    assert cost_return.rejection_reasons == ("office costs missing", "visits do not match hours")

    with pytest.raises(RuleBroken, match="reopen it \\(with a reason\\) before amending it"):
        cost_return.amend(by(PROVIDER, date(2020, 11, 2), "fixed"), filing())
    with pytest.raises(InvalidInput, match="reason: must not be blank"):
        cost_return.reopen(by(ACCOUNTANT, date(2020, 11, 2)), "")
    cost_return.reopen(by(ACCOUNTANT, date(2020, 11, 2)), "provider sent the office costs")
    assert cost_return.status is ReturnStatus.SUBMITTED and cost_return.rejection_reasons == ()

    cost_return.amend(by(PROVIDER, date(2020, 11, 3), "office costs added"), filing(office_staff="7000.00"))
    cost_return.accept(by(ACCOUNTANT, date(2020, 11, 9)))
    cost_return.reopen(by(ACCOUNTANT, date(2021, 1, 4)), "audit found an error in mileage")
    assert cost_return.status is ReturnStatus.SUBMITTED and cost_return.accepted_filing is None
    assert [c.what.split(":")[0] for c in cost_return.changes][-2:] == ["revision 2 accepted", "reopened"]


def test_the_state_machine_refuses_out_of_turn_commands():
    draft = drafted()
    with pytest.raises(RuleBroken, match="is draft; it cannot be queried until it is under review: submit it first"):
        draft.query(by(ACCOUNTANT, date(2020, 10, 6)), "pension", "?")
    with pytest.raises(RuleBroken, match="cannot be accepted until it is under review"):
        draft.accept(by(ACCOUNTANT, date(2020, 10, 6)))
    with pytest.raises(RuleBroken, match="only an accepted or rejected return can be reopened"):
        draft.reopen(by(ACCOUNTANT, date(2020, 10, 6)), "why not")
    draft.amend(by(PROVIDER, date(2020, 10, 7)), filing(mileage="3500.00"))  # a draft needs no reason
    draft.submit(by(PROVIDER, date(2020, 10, 9)))
    with pytest.raises(RuleBroken, match="is submitted; only a draft can be submitted"):
        draft.submit(by(PROVIDER, date(2020, 10, 9)))
    with pytest.raises(InvalidInput, match="reason: amending a submitted return needs a reason"):
        draft.amend(by(PROVIDER, date(2020, 10, 10)), filing())
    draft.accept(by(ACCOUNTANT, date(2020, 10, 30)))
    with pytest.raises(RuleBroken, match="is accepted; it cannot be rejected .*reopen it"):
        draft.reject(by(ACCOUNTANT, date(2020, 10, 31)), "late")
    with pytest.raises(NotFound, match="has revisions 1 to 2, not 3"):
        draft.revision(3)


# -- the National Living Wage gate ---------------------------------------------------------------------


def test_a_national_living_wage_breach_blocks_acceptance_until_explained():
    cost_return = submitted(lowest="8.50")  # below £8.72 from 1 April 2020
    breach = cost_return.nlw_breach()
    assert breach is not None and breach.kind is FindingKind.NLW_BREACH
    with pytest.raises(RuleBroken, match="cannot be accepted: revision 1's lowest hourly pay £8.50 is below"):
        cost_return.accept(by(ACCOUNTANT, date(2020, 10, 30)))
    with pytest.raises(InvalidInput, match="explanation: must not be blank"):
        cost_return.explain_breach(by(ACCOUNTANT, date(2020, 10, 30)), "")
    cost_return.explain_breach(by(ACCOUNTANT, date(2020, 10, 30)), "£8.50 is paid to two apprentices aged 19")
    assert cost_return.breach_explanation().explanation.startswith("£8.50 is paid to two apprentices")
    cost_return.accept(by(ACCOUNTANT, date(2020, 10, 30)))
    assert cost_return.status is ReturnStatus.ACCEPTED


def test_an_explanation_belongs_to_the_revision_it_explains():
    cost_return = submitted(lowest="8.50")
    cost_return.explain_breach(by(ACCOUNTANT, date(2020, 10, 30)), "apprentices aged 19")
    cost_return.amend(by(PROVIDER, date(2020, 10, 31), "lower pay for a new starter"), filing(lowest="8.00"))
    with pytest.raises(RuleBroken, match="revision 2's lowest hourly pay £8.00"):
        cost_return.accept(by(ACCOUNTANT, date(2020, 11, 2)))
    assert cost_return.breach_explanation(1) is not None and cost_return.breach_explanation() is None


def test_there_must_be_a_breach_to_explain():
    cost_return = submitted(lowest="8.72")
    assert cost_return.nlw_breach() is None
    with pytest.raises(RuleBroken, match="revision 1 of .* has no wage breach or implausible figure to explain"):
        cost_return.explain_breach(by(ACCOUNTANT, date(2020, 10, 30)), "none needed")


def test_a_real_living_wage_flag_is_shown_but_blocks_nothing():
    cost_return = submitted(lowest="9.00")
    (flag,) = cost_return.wage_findings(D("9.30"))
    assert flag.kind is FindingKind.RLW_FLAG
    cost_return.accept(by(ACCOUNTANT, date(2020, 10, 30)))


# -- the history replays exactly -------------------------------------------------------------------------


def test_every_event_replays_to_the_same_return_with_exact_figures():
    cost_return = submitted(lowest="8.50")
    cost_return.query(by(ACCOUNTANT, date(2020, 10, 20)), "pension", "Which staff?")
    cost_return.answer(by(PROVIDER, date(2020, 10, 22)), "Q1", "Careworkers only.")
    cost_return.amend(by(PROVIDER, date(2020, 10, 22), "typo"), filing(lowest="8.50", pension="1000.50"))
    cost_return.explain_breach(by(ACCOUNTANT, date(2020, 10, 30)), "apprentices")
    cost_return.accept(by(ACCOUNTANT, date(2020, 10, 30)))
    cost_return.reopen(by(ACCOUNTANT, date(2021, 1, 4)), "audit")
    cost_return.reject(by(ACCOUNTANT, date(2021, 1, 5)), ["mileage overstated"])

    copy = replay(cost_return)
    assert copy.status is ReturnStatus.REJECTED and copy.rejection_reasons == ("mileage overstated",)
    for number in (1, 2):
        original, back = cost_return.revision(number).filing, copy.revision(number).filing
        assert back == original and back.to_data() == original.to_data()
        assert str(back.lines[CostLine.PENSION]) == str(original.lines[CostLine.PENSION])
    assert str(copy.revision(2).filing.lines[CostLine.PENSION]) == "1000.50"
    assert copy.revision(1).filing.prepared_on == date(2020, 10, 5)
    assert copy.revision(1).filing.notes == {CostLine.PENSION: "3% auto-enrolment"}
    assert copy.queries == cost_return.queries
    assert copy.breach_explanation(2) == cost_return.breach_explanation(2)
    assert copy.changes == cost_return.changes
