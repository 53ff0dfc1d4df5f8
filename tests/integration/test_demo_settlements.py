"""The settlement demo: Wirral's 2019-20 pool, a sample year of visits, monthly payments, the year's incentives,
a drafted settlement.

Loading it twice records it once. The sample year is far below the £12m
target, so the provider side's share of the underspend is capped at £250,000
and the rest stays with the commissioners — the statement shows both. The
year's incentive assessment pays premier-care £225.96 and carewatch £35.56
(``demo.wirral_incentives``): the settlement's actual spend is priced activity
+ £261.52, and each of their balances includes its payment, by reference to
the assessment.
"""

from __future__ import annotations

from decimal import Decimal as D

from demo.partnerships import audit_steps, checkpoint_step, load_demo, steps
from demo.settlements import DEMO_YEAR, WIRRAL, settlement_steps
from demo.steps import run_steps
from domain.envelope import SYSTEM
from domain.incentives.incentive_assessment import IncentiveAssessment
from ledger.authorisation import access_for
from ledger.queries import settlements as views
from ledger.queries.every_provider import assessed_incentives
from tests.integration.settlement_setup import check_settlements_read_as_recorded


def _the_rest_of_the_demo() -> list:
    """Every step before the settlement's (the audit body's appointments and the checkpoint come after it)."""
    return steps()[: -(len(settlement_steps()) + len(audit_steps()) + len([checkpoint_step()]))]


def test_the_demo_year_is_paid_and_its_settlement_drafted_once(book):
    run_steps(book, _the_rest_of_the_demo())
    # profit cap and pool, activity, twelve monthly runs, incentive scheme, KPI results and assessment, the draft
    assert len(settlement_steps()) == 1 + 1 + 12 + 3 + 1
    before = book.projections.head()
    run_steps(book, settlement_steps(activity_visits=600))
    recorded = [n.topic for n in book.ledger.recorder.select_notifications(start=before + 1, limit=100)]
    assert recorded.count("openbook:payments.run-recorded") == 12 and recorded[-1].startswith("openbook:settlement.")
    run_steps(book, [*audit_steps(), checkpoint_step()])
    head = book.projections.head()
    load_demo(book)  # the whole demo, settlement included, again
    assert book.projections.head() == head  # nothing new the second time

    position = views.pool_position(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), DEMO_YEAR)
    assert position["months_elapsed"] == 12 and position["due"] == 0
    assert position["priced_to_date"] == position["paid_to_date"] == position["forecast"]
    assert position["budget"] == position["target"] == D("12000000.00")

    [settlement] = book.settlements.settlements(WIRRAL, DEMO_YEAR)
    s = settlement.statement
    incentives = settlement.inputs["incentives"]
    assert settlement.status.value == "draft" and s["actual"] == position["priced_to_date"] + sum(incentives.values())
    [assessment] = settlement.references["incentives"]["assessments"]
    assert assessment["id"] == str(IncentiveAssessment.create_id(WIRRAL, DEMO_YEAR)) and assessment["run"] == 1
    assert {p: D(x) for p, x in assessment["payments"].items()} == incentives
    assert all(s["providers"][p]["incentives"] == paid > 0 for p, paid in incentives.items())
    assert s["provider_amount"] == D("250000.00") and s["provider_amount_uncapped"] > D("250000.00")
    assert sum(x["share"] for x in s["providers"].values()) == D("250000.00")
    assert sum(x["cost"] for x in s["commissioners"].values()) == s["commissioner_cost"]
    # The five providers whose Q1 return was accepted have all four quarters accepted (demo.returns.LATER_QUARTERS),
    # so each clawback is computed for the whole year, none pending (Aspire's Q1 is queried: no accepted return,
    # no line). Premier Care: 4 × 45,500 h × £19.53 = £3,554,460.00, surplus 4 × 45,500 × £0.70 = £127,400.00
    # (3.58%); permitted 3% = £106,633.80; excess £20,766.20 × 50% = £10,383.10. The others are within 3%.
    clawbacks = {c["provider"]: c for c in s["clawbacks"]}
    assert sorted(clawbacks) == ["carewatch", "community-caring", "haven-care", "premier-care", "professional-carers"]
    assert not any(c["pending"] for c in clawbacks.values())
    premier = clawbacks["premier-care"]
    assert (premier["total"], premier["surplus"], premier["amount"]) == (D("3554460.00"), D("127400.00"), D("10383.10"))
    assert all(c["amount"] == 0 for p, c in clawbacks.items() if p != "premier-care")
    assert s["clawback_total"] == D("10383.10")
    assert not [step for step in s["steps"] if step["label"] == "excess surplus clawback (pending)"]
    assert check_settlements_read_as_recorded(book, WIRRAL, DEMO_YEAR) == 1


def test_without_activity_the_pool_scheme_and_kpi_results_are_set_up_but_nothing_is_assessed_paid_or_drafted(book):
    run_steps(book, _the_rest_of_the_demo())
    before = book.projections.head()
    run_steps(book, settlement_steps(activity_visits=0))
    recorded = [n.topic for n in book.ledger.recorder.select_notifications(start=before + 1, limit=100)]
    assert recorded[:3] == [
        "openbook:agreement.profit-cap-set", "openbook:pooled-budget.set-up", "openbook:incentive-scheme.defined",
    ]  # fmt: skip
    assert {topic.rsplit(".", 1)[0] for topic in recorded[3:]} == {"openbook:kpi-results"}  # 4 providers × 3 KPIs
    assert assessed_incentives(book.read_engine, WIRRAL, DEMO_YEAR) is None
    assert book.settlements.pooled_budget(WIRRAL, DEMO_YEAR).terms.gain_cap == D("250000.00")
    assert book.settlements.settlements(WIRRAL, DEMO_YEAR) == []
