"""Rate reviews and the uplift calculator, with the arithmetic visible.

Figures from DOMAIN.md: the Homecare Association minimum price for 2020-21
(£20.69 on an £8.72 wage; its pay-related lines — contact pay £8.72, travel
time £1.70, NI and pension £1.14, other on-costs £1.97 — are £13.53, about
65%), the National Living Wage, and Wirral's aggregated rate of £15.60.
Invented: the 2% inflation figure, the review dates and the decision.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregate import natural_id
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.rates.pricing import price_visit
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import ProposedRate, RateReview
from domain.rates.uplift import Outcome, UpliftLine, propose_uplift
from domain.returns.statutory_wages import national_living_wage_on
from tests.support import replay

ACCOUNTANT = Actor("finance@wirral.gov.uk", "wirral-council")
PROVIDER = Actor("director@premiercare.example", "premier-care")
ZONES = ["zone-1", "zone-2", "zone-3", "zone-4"]
WIRRAL_RATE = D("15.60")  # the aggregated rate from 1 April 2019


def env(day: date, actor: Actor = ACCOUNTANT, reason: str | None = None) -> Envelope:
    return Envelope(actor=actor, effective_date=day, reason=reason)




# -- the uplift calculator --------------------------------------------------------------


def test_uplift_worked_example_from_the_homecare_association_figures():
    # 2021-22: the National Living Wage rises from £8.72 to £8.91.
    old_floor, new_floor = national_living_wage_on(date(2020, 4, 1)), national_living_wage_on(date(2021, 4, 1))
    proposal = propose_uplift(D("20.69"), D("0.65"), old_floor, new_floor, D("0.02"))
    assert proposal.lines == (
        UpliftLine("median cost per contact hour", "stated figure", D("20.69")),
        UpliftLine("pay-related share", "20.69 × 0.65", D("13.4485")),
        UpliftLine("other costs", "20.69 − 13.4485", D("7.2415")),
        # 13.4485 × 8.91 = 119.826135; ÷ 8.72 = 13.74153…
        UpliftLine("pay-related share after the wage-floor rise",
                   "13.4485 × 8.91 ÷ 8.72 (new floor ÷ old floor)", D("13.7415")),
        UpliftLine("other costs after inflation", "7.2415 × (1 + 0.02)", D("7.3863")),  # 7.38633
        UpliftLine("proposed cost per hour", "13.7415 + 7.3863", D("21.1278")),
        UpliftLine("proposed rate (to the penny, half up)", "round(21.1278, 2)", D("21.13")),
        UpliftLine("uplift per hour", "21.13 − 20.69", D("0.44")),
    )
    assert proposal.proposed_rate == D("21.13") and str(proposal.proposed_rate) == "21.13"


def test_each_line_follows_from_the_figures_shown_above_it():
    lines = propose_uplift(D("15.60"), D("0.65"), D("8.21"), D("8.72"), D("0.02")).lines
    median, pay, other, new_pay, new_other, total, rate, uplift = (line.amount for line in lines)
    assert other == median - pay
    assert total == new_pay + new_other
    assert uplift == rate - median
    assert abs(new_pay - pay * D("8.72") / D("8.21")) < D("0.00005")
    assert abs(new_other - other * D("1.02")) < D("0.00005")


def test_uplift_names_the_source_of_the_median():
    proposal = propose_uplift(D("15.60"), D("0.65"), D("8.21"), D("8.72"), D("0"),
                              median_source="median of accepted 2019-20 cost returns")
    assert proposal.lines[0].formula == "median of accepted 2019-20 cost returns"


def test_uplift_rules_name_the_field():
    with pytest.raises(InvalidInput, match="pay_share: 1.2 must be at most 1"):
        propose_uplift(D("15.60"), D("1.2"), D("8.21"), D("8.72"), D("0.02"))
    with pytest.raises(InvalidInput, match="old_wage_floor: 0 must be more than 0"):
        propose_uplift(D("15.60"), D("0.65"), D("0"), D("8.72"), D("0.02"))
    with pytest.raises(InvalidInput, match="inflation_index: 1.02 would more than double costs"):
        propose_uplift(D("15.60"), D("0.65"), D("8.21"), D("8.72"), D("1.02"))
    with pytest.raises(InvalidInput, match="current_median_cost_per_hour: 'abc' is not a number"):
        propose_uplift("abc", D("0.65"), D("8.21"), D("8.72"), D("0.02"))
    with pytest.raises(TypeError, match="new_wage_floor.*float"):
        propose_uplift(D("15.60"), D("0.65"), D("8.21"), 8.72, D("0.02"))


@given(
    st.decimals(min_value=D("10.00"), max_value=D("40.00"), places=2),
    st.decimals(min_value=D("0"), max_value=D("1"), places=2),
    st.decimals(min_value=D("7.00"), max_value=D("15.00"), places=2),
)
def test_no_rise_and_no_inflation_proposes_the_current_cost(median, share, floor):
    assert propose_uplift(median, share, floor, floor, D("0")).proposed_rate == median


@given(
    st.decimals(min_value=D("10.00"), max_value=D("40.00"), places=2),
    st.decimals(min_value=D("0"), max_value=D("1"), places=2),
    st.decimals(min_value=D("7.00"), max_value=D("15.00"), places=2),
    st.decimals(min_value=D("0.00"), max_value=D("2.00"), places=2),
)
def test_a_higher_wage_floor_never_lowers_the_proposal(median, share, old, rise):
    low = propose_uplift(median, share, old, old, D("0.02")).proposed_rate
    high = propose_uplift(median, share, old, old + rise, D("0.02")).proposed_rate
    assert high >= low


# -- the review -------------------------------------------------------------------------------


def wirral_review() -> RateReview:
    """Wirral's 2020-21 review: NLW £8.21 -> £8.72 on the £15.60 aggregated rate."""
    review = RateReview.open(env(date(2020, 2, 3)), "wirral-homecare", "2020-21",
                             "annual uplift for the April 2020 National Living Wage")
    uplift = propose_uplift(WIRRAL_RATE, D("0.65"), D("8.21"), D("8.72"), D("0.02"),
                            median_source="stated: the aggregated rate")
    # 15.60 × 0.65 = 10.14; 10.14 × 8.72 ÷ 8.21 = 10.7699; 5.46 × 1.02 = 5.5692; 16.3391 → 16.34
    assert uplift.proposed_rate == D("16.34")
    rates = [ProposedRate("standard", zone, None, uplift.proposed_rate) for zone in ZONES]
    review.propose(env(date(2020, 2, 10)), rates, "wage-floor uplift on the pay-related share", uplift)
    review.comment(env(date(2020, 2, 24), PROVIDER), "premier-care", "Travel time has risen faster than 2%.")
    return review


def test_a_backdated_review():
    review = wirral_review()
    assert review.id == natural_id("rate-review", "wirral-homecare", "2020-21")
    assert review.status == "proposed"
    # Decided in June, effective from 1 April: backdated.
    review.decide(env(date(2020, 6, 15)), Outcome.ACCEPTED, "uplift agreed at the partnership board",
                  "Director of Adult Social Care", effective_from=date(2020, 4, 1))
    assert review.status == "accepted"
    assert review.decision.decided_on == date(2020, 6, 15)
    assert review.is_backdated()
    assert review.is_backdated(date(2020, 6, 15))
    assert not review.is_backdated(date(2020, 4, 1))
    assert [r.hourly_rate for r in review.decided_rates] == [D("16.34")] * 4
    assert review.summary().startswith("wirral-homecare rate review 2020-21: accepted from 2020-04-01")


def test_backdated_rates_on_the_card_show_the_arrears():
    card = RateCard.create(env(date(2019, 4, 1)), "wirral-homecare")
    for zone in ZONES:
        card.publish_rate(env(date(2019, 4, 1)), "standard", zone, date(2019, 4, 1), "January 2019 award",
                          hourly_rate=WIRRAL_RATE)
    visit_day = date(2020, 5, 1)
    paid = price_visit(card.rate_for("standard", "zone-2", visit_day), "actual", 30, 30).amount
    assert paid == D("7.80")  # 15.60 ÷ 2, paid in May at the old rate

    review = wirral_review()
    review.decide(env(date(2020, 6, 15)), "accepted", "", "Director of Adult Social Care",
                  effective_from=date(2020, 4, 1))
    review.publish_to(card, env(date(2020, 4, 1), reason="2020-21 rate review"))
    owed = price_visit(card.rate_for("standard", "zone-2", visit_day), "actual", 30, 30).amount
    assert owed == D("8.17")  # 16.34 ÷ 2
    assert owed - paid == D("0.37")  # arrears on that visit
    assert card.rate_for("standard", "zone-2", date(2020, 3, 31)).hourly_rate == WIRRAL_RATE
    assert "2020-21 rate review accepted by Director of Adult Social Care" in card.rate_for(
        "standard", "zone-2", visit_day).derivation


def test_an_amended_decision_states_its_own_rates():
    review = wirral_review()
    review.decide(env(date(2020, 3, 20)), "amended", "travel time evidence from providers",
                  "Director of Adult Social Care", effective_from=date(2020, 4, 1),
                  rates=[{"service": "standard", "zone": z, "band": None, "hourly_rate": D("16.50")} for z in ZONES])
    assert review.status == "amended" and not review.is_backdated()
    assert {r.hourly_rate for r in review.decided_rates} == {D("16.50")}


def test_rejected_needs_a_reason():
    review = wirral_review()
    with pytest.raises(InvalidInput, match="reasons: a review decided as rejected needs its reasons"):
        review.decide(env(date(2020, 3, 20)), "rejected", "  ", "Cabinet")
    review.decide(env(date(2020, 3, 20)), "rejected", "unaffordable within the pooled budget", "Cabinet")
    assert review.status == "rejected" and review.decided_rates == ()
    assert not review.is_backdated()


def test_cannot_decide_before_a_proposal():
    review = RateReview.open(env(date(2020, 2, 3)), "wirral-homecare", "2020-21", "annual uplift")
    with pytest.raises(RuleBroken, match="the 2020-21 rate review of wirral-homecare has no proposal to decide on"):
        review.decide(env(date(2020, 3, 1)), "accepted", "ok", "Director", effective_from=date(2020, 4, 1))
    assert review.status == "open"
    with pytest.raises(RuleBroken, match="is not decided yet"):
        review.is_backdated(date(2020, 3, 1))


def test_no_proposals_or_comments_after_the_decision():
    review = wirral_review()
    review.decide(env(date(2020, 6, 15)), "accepted", "", "Director", effective_from=date(2020, 4, 1))
    message = "the 2020-21 rate review of wirral-homecare was accepted on 2020-06-15; it cannot"
    with pytest.raises(RuleBroken, match=f"{message} take comments now"):
        review.comment(env(date(2020, 7, 1), PROVIDER), "premier-care", "Too late?")
    with pytest.raises(RuleBroken, match=f"{message} take a proposal now"):
        review.propose(env(date(2020, 7, 1)), [ProposedRate("standard", "zone-1", None, D("17.00"))], "again")
    with pytest.raises(RuleBroken, match=f"{message} be decided again now"):
        review.decide(env(date(2020, 7, 1)), "rejected", "changed our minds", "Cabinet")


def test_decision_rules_name_the_field():
    review = wirral_review()
    with pytest.raises(InvalidInput, match="outcome: 'approved' is not one of accepted, amended, rejected"):
        review.decide(env(date(2020, 3, 1)), "approved", "ok", "Director", effective_from=date(2020, 4, 1))
    with pytest.raises(InvalidInput, match="rates: an accepted review takes the proposal's rates"):
        review.decide(env(date(2020, 3, 1)), "accepted", "ok", "Director", effective_from=date(2020, 4, 1),
                      rates=[ProposedRate("standard", "zone-1", None, D("17.00"))])
    with pytest.raises(InvalidInput, match="rates: an amended decision states its own rates"):
        review.decide(env(date(2020, 3, 1)), "amended", "because", "Director", effective_from=date(2020, 4, 1))
    with pytest.raises(InvalidInput, match="effective_from: 2021-04-01 is outside the review's financial year 2020-21"):
        review.decide(env(date(2020, 3, 1)), "accepted", "ok", "Director", effective_from=date(2021, 4, 1))
    with pytest.raises(InvalidInput, match="effective_from: None is not a date"):
        review.decide(env(date(2020, 3, 1)), "accepted", "ok", "Director")
    with pytest.raises(InvalidInput, match="decided_by: must not be blank"):
        review.decide(env(date(2020, 3, 1)), "accepted", "ok", " ", effective_from=date(2020, 4, 1))
    with pytest.raises(InvalidInput, match="rates: a rejected review decides no rates"):
        review.decide(env(date(2020, 3, 1)), "rejected", "no", "Cabinet", effective_from=date(2020, 4, 1))


def test_proposal_and_comment_rules_name_the_field():
    review = RateReview.open(env(date(2020, 2, 3)), "wirral-homecare", "2020-21", "annual uplift")
    with pytest.raises(InvalidInput, match="rates: at least one rate is needed"):
        review.propose(env(date(2020, 2, 10)), [], "basis")
    with pytest.raises(InvalidInput, match=r"rates\[0\].hourly_rate: '16.345' has more than 2 decimal places"):
        review.propose(env(date(2020, 2, 10)), [{"service": "standard", "zone": "zone-1", "hourly_rate": "16.345"}], "b")
    with pytest.raises(InvalidInput, match=r"rates\[1\]: standard in zone zone-1 band None is listed twice"):
        review.propose(env(date(2020, 2, 10)), [ProposedRate("standard", "zone-1", None, D("16.34"))] * 2, "b")
    with pytest.raises(InvalidInput, match=r"rates\[0\].service: 'domiciliary'"):
        review.propose(env(date(2020, 2, 10)), [{"service": "domiciliary", "zone": "zone-1", "hourly_rate": "1"}], "b")
    with pytest.raises(InvalidInput, match="basis: must not be blank"):
        review.propose(env(date(2020, 2, 10)), [ProposedRate("standard", "zone-1", None, D("16.34"))], "")
    with pytest.raises(InvalidInput, match="comment: must not be blank"):
        review.comment(env(date(2020, 2, 10), PROVIDER), "premier-care", " ")
    with pytest.raises(InvalidInput, match="financial_year: '2020-22'"):
        RateReview.open(env(date(2020, 2, 3)), "wirral-homecare", "2020-22", "x")
    with pytest.raises(InvalidInput, match="reason: must not be blank"):
        RateReview.open(env(date(2020, 2, 3)), "wirral-homecare", "2020-21", "")


def test_a_later_proposal_is_the_one_accepted():
    review = wirral_review()
    review.propose(env(date(2020, 3, 2)), [ProposedRate("standard", z, None, D("16.45")) for z in ZONES],
                   "revised after provider comments on travel time")
    review.decide(env(date(2020, 3, 20)), "accepted", "", "Director", effective_from=date(2020, 4, 1))
    assert {r.hourly_rate for r in review.decided_rates} == {D("16.45")}
    assert len(review.proposals) == 2 and review.proposals[0].uplift_lines[-2].amount == D("16.34")


def test_the_review_replays_exactly():
    review = wirral_review()
    review.decide(env(date(2020, 6, 15)), "accepted", "agreed", "Director", effective_from=date(2020, 4, 1))
    copy = replay(review)
    assert copy.id == review.id and copy.version == review.version
    assert copy.proposals == review.proposals
    assert copy.comments == review.comments
    assert copy.decision == review.decision
    assert copy.financial_year == review.financial_year
    assert copy.is_backdated()
    assert copy.proposals[0].uplift_lines[1] == UpliftLine("pay-related share", "15.60 × 0.65", D("10.1400"))
