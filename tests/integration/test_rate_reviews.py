"""Rate reviews through the ledger, on SQLite and PostgreSQL: the uplift arithmetic, backdating, atomic publication.

The worked example: Wirral's £15.60 as the stated median, 0.65 of it pay,
the National Living Wage from £8.21 (2019) to £8.72 (2020), other costs +2%:
10.1400 × 8.72 ÷ 8.21 = 10.7699, 5.4600 × 1.02 = 5.5692, 16.3391 → £16.34.

After each scenario the read side's ``rate_review`` is compared with what the
aggregate says (``review_json``, what ``rates review show`` printed when it
loaded the aggregate).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.organisations.user import User
from domain.rates.rate_review import RateReview
from ledger.queries import rates as views
from tests.integration.agreement_setup import WIRRAL, on, wirral
from tests.support import ok
from tests.worked_examples import NLW_2019, NLW_2020

YEAR = "2020-21"
OPENED, PROPOSED, DECIDED = date(2020, 2, 3), date(2020, 3, 2), date(2020, 6, 15)

UPLIFT_LINES = [
    ("median cost per contact hour", "stated figure", "15.60"),
    ("pay-related share", "15.60 × 0.65", "10.1400"),
    ("other costs", "15.60 − 10.1400", "5.4600"),
    ("pay-related share after the wage-floor rise", "10.1400 × 8.72 ÷ 8.21 (new floor ÷ old floor)", "10.7699"),
    ("other costs after inflation", "5.4600 × (1 + 0.02)", "5.5692"),
    ("proposed cost per hour", "10.7699 + 5.5692", "16.3391"),
    ("proposed rate (to the penny, half up)", "round(16.3391, 2)", "16.34"),
    ("uplift per hour", "16.34 − 15.60", "0.74"),
]


def review_json(review: RateReview) -> dict:
    """The review as the aggregate tells it: the reference the read side must equal."""
    decision = review.decision
    return {
        "agreement": review.agreement,
        "financial_year": str(review.financial_year),
        "reason": review.reason,
        "status": review.status,
        "proposals": [
            {
                "proposed_on": p.proposed_on,
                "proposed_by": p.proposed_by,
                "basis": p.basis,
                "rates": [r.as_row() for r in p.rates],
                "lines": [{"label": ln.label, "formula": ln.formula, "amount": ln.amount} for ln in p.uplift_lines],
            }
            for p in review.proposals
        ],
        "comments": [
            {"provider": c.provider, "comment": c.comment, "on": c.on, "recorded_by": c.recorded_by}
            for c in review.comments
        ],
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome.value,
            "reasons": decision.reasons,
            "decided_by": decision.decided_by,
            "decided_on": decision.decided_on,
            "effective_from": decision.effective_from,
            "backdated": review.is_backdated(),
            "rates": [r.as_row() for r in decision.rates],
        },
    }


def reviews_read_as_the_aggregate_tells_them(book) -> int:
    """Every review's query equals the aggregate's account, key order and exponents included; how many there are."""
    reviews = views.list_rate_reviews(book.read_engine)
    for row in reviews:
        shown = views.rate_review(book.read_engine, row["agreement"], row["financial_year"])
        told = review_json(book.reviews.rate_review(row["agreement"], row["financial_year"]))
        assert shown == told and json.dumps(shown, default=str) == json.dumps(told, default=str)
    return len(reviews)


def providers_say(book, provider: str, day: date, reason: str) -> Envelope:
    """An envelope of the provider's own finance user (registered by the operator on first use): providers comment."""
    actor = Actor(f"finance@{provider}.example", provider)
    if not book.records.exists(User.create_id(actor.user)):
        book.organisations.register_user(Envelope(SYSTEM, day), actor.user, actor.user, provider, ["provider"])
    return Envelope(actor, day, reason)


def open_and_propose(book) -> dict:
    wirral(book)
    book.reviews.open_rate_review(on(OPENED, "NLW rises to £8.72"), WIRRAL, YEAR)
    return book.reviews.propose_uplift(
        on(PROPOSED, "uplift"), WIRRAL, YEAR, median_cost="15.60", pay_share="0.65", inflation="0.02"
    )


def test_the_uplift_shows_its_arithmetic_line_by_line_with_the_wage_floors_of_the_year(book):
    proposal = open_and_propose(book)

    assert proposal["floor"] == "National Living Wage"
    assert (proposal["old_floor"], proposal["new_floor"]) == (str(NLW_2019), str(NLW_2020))
    assert [(ln["label"], ln["formula"], ln["amount"]) for ln in proposal["lines"]] == UPLIFT_LINES
    assert [(r["zone"], r["hourly_rate"]) for r in proposal["rates"]] == [
        (zone, "16.34") for zone in ("zone-1", "zone-2", "zone-3", "zone-4")
    ]  # every zone with a standard rate on 1 April 2020
    review = book.reviews.rate_review(WIRRAL, YEAR)
    assert [(ln.label, ln.formula, str(ln.amount)) for ln in review.proposals[0].uplift_lines] == UPLIFT_LINES
    [row] = views.list_rate_reviews(book.read_engine, WIRRAL)
    assert (row["status"], row["proposals"], row["latest_proposal"]) == (
        "proposed", 1, "standard zone-1 16.34, standard zone-2 16.34, standard zone-3 16.34, standard zone-4 16.34"
    )
    assert reviews_read_as_the_aggregate_tells_them(book) == 1


def test_a_backdated_review_reaches_the_card_from_its_effective_date(book):
    open_and_propose(book)
    consultation = providers_say(book, "premier-care", date(2020, 3, 16), "consultation")
    book.reviews.comment_on_rate_review(consultation, WIRRAL, YEAR, "premier-care", "Travel costs?")

    decided = book.reviews.decide_rate_review(
        on(DECIDED, "panel"), WIRRAL, YEAR, "accepted", decided_by="joint panel", effective_from=date(2020, 4, 1)
    )

    assert (decided["outcome"], decided["effective_from"], decided["decided_on"], decided["backdated"]) == (
        "accepted", "2020-04-01", "2020-06-15", True
    )
    assert book.rates.rate_for(WIRRAL, "standard", "zone-2", date(2020, 3, 31)).hourly_rate == D("15.60")
    quote = book.rates.rate_for(WIRRAL, "standard", "zone-2", date(2020, 4, 1))
    assert quote.hourly_rate == D("16.34") and "2020-21 rate review accepted by joint panel" in quote.derivation
    # Arrears: a one-hour visit on 1 May 2020, paid at £15.60 before the decision, is now priced at £16.34.
    assert book.rates.price_visit(WIRRAL, "standard", "zone-2", date(2020, 5, 1), 60, 60).amount - D("15.60") == D("0.74")

    [row] = views.list_rate_reviews(book.read_engine)
    assert (row["status"], row["outcome"], row["decided_by"], row["decided_on"], row["effective_from"]) == (
        "accepted", "accepted", "joint panel", DECIDED, date(2020, 4, 1)
    )
    assert (row["backdated"], row["comments"]) == (True, 1)
    in_force = views.rates_in_force(book.read_engine, WIRRAL, date(2020, 4, 1))
    assert {r["hourly_rate"] for r in in_force} == {D("16.34")}
    assert reviews_read_as_the_aggregate_tells_them(book) == 1


def test_the_decision_and_its_rates_are_saved_together_or_not_at_all(book):
    wirral(book)
    book.reviews.open_rate_review(on(OPENED, "annual review"), WIRRAL, YEAR)
    typo = [{"service": "standard", "zone": "zone-9", "hourly_rate": "16.00"}]
    book.reviews.propose_rates(on(PROPOSED, "stated"), WIRRAL, YEAR, typo, "cost of care")
    head = book.ledger.recorder.max_notification_id()

    with pytest.raises(NotFound, match="zone: zone-9 is not a zone of wirral-homecare"):
        book.reviews.decide_rate_review(on(DECIDED, "panel"), WIRRAL, YEAR, "accepted", effective_from=date(2020, 4, 1))

    assert book.ledger.recorder.max_notification_id() == head
    assert book.reviews.rate_review(WIRRAL, YEAR).status == "proposed"  # not decided: its rates could not be published
    assert views.list_rate_reviews(book.read_engine)[0]["status"] == "proposed"
    assert reviews_read_as_the_aggregate_tells_them(book) == 1


def test_amended_and_rejected_decisions(book):
    wirral(book)
    for year in ("2020-21", "2021-22"):
        book.reviews.open_rate_review(on(OPENED, "annual review"), WIRRAL, year)
        stated = [{"service": "standard", "zone": "zone-1", "hourly_rate": "17.00"}]
        book.reviews.propose_rates(on(PROPOSED, "stated"), WIRRAL, year, stated, "cost of care")

    with pytest.raises(InvalidInput, match="reasons: a review decided as amended needs its reasons"):
        book.reviews.decide_rate_review(
            on(DECIDED, "panel"), WIRRAL, "2020-21", "amended", effective_from=date(2020, 7, 1), rates=[]
        )
    book.reviews.decide_rate_review(
        on(DECIDED, "panel"), WIRRAL, "2020-21", "amended", "affordability", "panel", date(2020, 7, 1),
        [{"service": "standard", "zone": "zone-1", "hourly_rate": "16.50"}],
    )
    book.reviews.decide_rate_review(on(date(2021, 5, 1), "panel"), WIRRAL, "2021-22", "rejected", "no evidence", "panel")

    assert book.rates.rate_for(WIRRAL, "standard", "zone-1", date(2020, 7, 1)).hourly_rate == D("16.50")  # not backdated
    assert book.rates.rate_for(WIRRAL, "standard", "zone-1", date(2021, 6, 1)).hourly_rate == D("16.50")  # rejected
    rows = {r["financial_year"]: r for r in views.list_rate_reviews(book.read_engine)}
    assert (rows["2020-21"]["status"], rows["2020-21"]["backdated"]) == ("amended", False)
    assert (rows["2021-22"]["status"], rows["2021-22"]["effective_from"], rows["2021-22"]["reasons"]) == (
        "rejected", None, "no evidence"
    )
    with pytest.raises(RuleBroken, match="was rejected on 2021-05-01; it cannot take comments now"):
        late = providers_say(book, "haven-care", date(2021, 6, 1), "late")
        book.reviews.comment_on_rate_review(late, WIRRAL, "2021-22", "haven-care", "too late")
    assert reviews_read_as_the_aggregate_tells_them(book) == 2


def test_review_rules_that_need_other_records(book):
    wirral(book)
    with pytest.raises(NotFound, match="agreement 'nowhere' is not registered"):
        book.reviews.open_rate_review(on(OPENED, "x"), "nowhere", YEAR)
    book.reviews.open_rate_review(on(OPENED, "annual review"), WIRRAL, YEAR)
    with pytest.raises(Conflict, match="the 2020-21 rate review of 'wirral-homecare' is already open"):
        book.reviews.open_rate_review(on(OPENED, "again"), WIRRAL, YEAR)
    with pytest.raises(RuleBroken, match="provider: wirral-council is a council, not a provider"):
        book.reviews.comment_on_rate_review(on(PROPOSED, "x"), WIRRAL, YEAR, "wirral-council", "we are not a provider")
    with pytest.raises(NotFound, match="the 2021-22 rate review of 'wirral-homecare' has not been opened"):
        book.reviews.propose_rates(on(PROPOSED, "x"), WIRRAL, "2021-22", [{"service": "standard", "zone": "zone-1"}], "x")
    with pytest.raises(InvalidInput, match="zones: wirral-homecare has no sleep-in rate in force on 2020-04-01"):
        book.reviews.propose_uplift(
            on(PROPOSED, "x"), WIRRAL, YEAR, median_cost="15.60", pay_share="0.65", inflation="0", service="sleep-in"
        )


def test_a_real_living_wage_commitment_raises_with_the_real_living_wage(book):
    wirral(book)
    book.agreements.set_living_wage_commitment(on(date(2020, 4, 1), "ethical charter"), WIRRAL)  # default dates: 1 April after
    book.reviews.open_rate_review(on(OPENED, "annual review"), WIRRAL, "2021-22")

    proposal = book.reviews.propose_uplift(
        on(PROPOSED, "uplift"),
        WIRRAL,
        "2021-22",
        median_cost="16.34",
        pay_share="0.65",
        inflation="0.02",
        zones=["zone-1"],
    )

    assert (proposal["floor"], proposal["old_floor"], proposal["new_floor"]) == ("Real Living Wage", "9.30", "9.50")
    assert [r["zone"] for r in proposal["rates"]] == ["zone-1"]
    assert reviews_read_as_the_aggregate_tells_them(book) == 1


@pytest.mark.demo
def test_a_review_read_from_the_read_models_is_the_aggregates_after_the_demo(book):
    assert reviews_read_as_the_aggregate_tells_them(book) == 1
    shown = views.rate_review(book.read_engine, WIRRAL, YEAR)
    assert (shown["status"], shown["decision"]["backdated"], len(shown["comments"])) == ("accepted", True, 1)
    assert [line["amount"] for line in shown["proposals"][0]["lines"]] == [D(a) for _, _, a in UPLIFT_LINES]
    with pytest.raises(NotFound, match="the 2021-22 rate review of 'wirral-homecare' has not been opened"):
        views.rate_review(book.read_engine, WIRRAL, "2021-22")
    with pytest.raises(InvalidInput, match="financial_year: '2021' is not a financial year"):
        views.rate_review(book.read_engine, WIRRAL, "2021")


def test_the_cli_runs_a_review_and_prints_the_arithmetic(book, openbook):
    wirral(book)

    def printed(*args: str) -> str:
        return ok(openbook(*args)).stdout

    review = ("--agreement", WIRRAL, "--year", YEAR)
    printed("rates", "review", "open", *review, "--effective", "2020-02-03", "--reason", "NLW rises")
    text = printed(
        "rates", "review", "propose", *review, "--median-cost", "15.60", "--pay-share", "0.65", "--inflation", "0.02",
        "--effective", "2020-03-02", "--reason", "uplift",
    )
    assert "10.1400 × 8.72 ÷ 8.21 (new floor ÷ old floor)" in text and "round(16.3391, 2)" in text
    printed("rates", "review", "comment", *review, "--provider", "haven-care", "--comment", "Mileage?",
             "--effective", "2020-03-16", "--reason", "consultation")
    decided = json.loads(printed(
        "rates", "review", "decide", *review, "--outcome", "accepted", "--decided-by", "joint panel",
        "--from", "2020-04-01", "--effective", "2020-06-15", "--reason", "panel", "--json",
    ))
    assert (decided["backdated"], [r["hourly_rate"] for r in decided["rates"]]) == (True, ["16.34"] * 4)

    shown = json.loads(printed("rates", "review", "show", *review, "--json"))
    assert shown["status"] == "accepted" and shown["decision"]["effective_from"] == "2020-04-01"
    assert [line["amount"] for line in shown["proposals"][0]["lines"]] == [amount for _, _, amount in UPLIFT_LINES]
    assert shown["comments"][0]["provider"] == "haven-care"
    assert json.loads(printed("rates", "review", "list", "--json"))[0]["backdated"] is True
    shown_rates = json.loads(printed("rates", "show", "--agreement", WIRRAL, "--on", "2020-04-01", "--json"))
    assert {r["hourly_rate"] for r in shown_rates} == {"16.34"}
