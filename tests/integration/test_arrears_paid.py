"""Arrears and the payment run agree to the penny, on SQLite and PostgreSQL (issue 12).

After a backdated rate review the arrears command records what the visits of
the backdated window are owed, and the next payment run pays the difference
between their priced activity now and what was paid. Both are one rule
(``domain.activity.arrears.visit_owed``): each visit's price at the new rate
less its price at the old, each priced to the penny by the one pricing path,
summed visit by visit. The run's adjustment names the arrears it includes, as
part of its amount, once.

The issue's figures: three visits of 30, 45 and 20 minutes at £15.19, a
review to £15.93 from 1 April 2020 decided on 15 June 2020.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.activity.arrears import visit_owed
from domain.envelope import SYSTEM
from domain.money import EXACT, ZERO
from domain.rates.pricing import price_visit
from ledger.authorisation import access_for
from ledger.queries import settlements as views
from ledger.queries.reconcile import reconcile
from tests.integration.activity_setup import imported_on, visit, write_csv
from tests.integration.agreement_setup import on
from tests.integration.settlement_setup import BANDS, COUNCIL_ACCOUNTANT, by, setup

WIRRAL = "wirral-homecare"
YEAR = "2020-21"
ZONES = ("zone-1", "zone-2", "zone-3", "zone-4")


def pay(book, month: str, day: date) -> dict:
    return book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, day, f"payments for {month}"), WIRRAL, month)


def april_paid_then_backdated_review(book, tmp_path, minutes: list[int], old: D, new: D) -> dict:
    """Wirral at ``old``; premier-care's April 2020 visits of ``minutes``, imported and paid in May; then a review to
    ``new`` from 1 April decided on 15 June. Returns April's run."""
    setup(book, rate=old)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "section 75 pool"), WIRRAL, YEAR, target="520.00", bands=BANDS
    )
    days = [f"2020-04-{n % 28 + 1:02d}" for n in range(len(minutes))]
    rows = [visit(f"A{n}", "premier-care", "CH41 2AB", day, m, m) for n, (day, m) in enumerate(zip(days, minutes))]
    book.activity.import_activity(imported_on(date(2020, 5, 3)), WIRRAL, write_csv(tmp_path / "april.csv", rows))
    april = pay(book, "2020-04", date(2020, 5, 10))
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, YEAR)
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": str(new)} for z in ZONES]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, YEAR, rates, "the National Living Wage rise")
    book.reviews.decide_rate_review(
        on(date(2020, 6, 15), "panel"), WIRRAL, YEAR, "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip
    return april


def adjustment(run: dict) -> dict:
    [line] = [line for line in run["lines"] if line["month"] == ""]
    return line


def test_the_issues_three_visits_owe_1_18_in_the_arrears_and_in_the_payment_run(book, tmp_path):
    # Each visit priced to the penny (rate × minutes ÷ 60, half up), at each rate:
    #   30 min: £15.93 → £7.965 → £7.97;   £15.19 → £7.595 → £7.60;   owed £0.37
    #   45 min: £15.93 → £11.9475 → £11.95; £15.19 → £11.3925 → £11.39; owed £0.56
    #   20 min: £15.93 → £5.31;             £15.19 → £5.0633… → £5.06;  owed £0.25
    # April paid £7.60 + £11.39 + £5.06 = £24.05; priced now £25.23; owed £0.37 + £0.56 + £0.25 = £1.18.
    # (One rounding per line, 95 min × £0.74 ÷ 60 = £1.1716… → £1.17, was the old, disagreeing figure.)
    april = april_paid_then_backdated_review(book, tmp_path, [30, 45, 20], D("15.19"), D("15.93"))
    assert april["providers"] == {"premier-care": "24.05"}

    arrears = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 6, 20), "arrears"), WIRRAL, YEAR)
    assert arrears["providers"] == {"premier-care": "1.18"} and arrears["total"] == "1.18"
    [line] = arrears["lines"]
    assert line["working"] == (
        "1.58 h (95 min, 3 visits) priced visit by visit at £15.93 = £25.23, less at £15.19 = £24.05: owed £1.18"
    )

    may = pay(book, "2020-05", date(2020, 6, 22))  # no May visits: the run pays April's re-pricing only
    assert may["providers"] == {"premier-care": "1.18"} and may["total"] == "1.18" == arrears["total"]
    paid = adjustment(may)
    assert (paid["amount"], paid["arrears"]) == ("1.18", "1.18")  # the arrears are part of the amount, not added
    assert paid["label"] == (
        "adjustment for earlier months: priced activity before 2020-05 now £25.23, paid £24.05; "
        "of which arrears of the 2020-21 rate review £1.18 and other changes £0.00"
    )
    statement = views.payment_statement(
        book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), "premier-care", "2020-05"
    )
    assert [(s["amount"], s["arrears"]) for s in statement["lines"]] == [(D("1.18"), D("1.18"))]
    assert statement["cumulative_paid"] == statement["priced_activity_to_date"] == D("25.23")

    # June's visit is priced at the new rate in June's own line; the arrears already paid are not identified again.
    june = [visit("J1", "premier-care", "CH41 2AB", "2020-06-20", 30, 30)]
    book.activity.import_activity(imported_on(date(2020, 7, 3)), WIRRAL, write_csv(tmp_path / "june.csv", june))
    later = pay(book, "2020-06", date(2020, 7, 10))
    assert later["providers"] == {"premier-care": "7.97"}  # 30 min at £15.93, and no adjustment
    assert all(line["month"] == "2020-06" and line["arrears"] == "0.00" for line in later["lines"])

    # A0, the 30-minute visit, was 60 minutes: it now owes £15.93 − £15.19 = £0.74, £0.37 more than before.
    corrected = [visit("A0", "premier-care", "CH41 2AB", "2020-04-01", 60, 60)]
    book.activity.import_activity(imported_on(date(2020, 7, 20)), WIRRAL, write_csv(tmp_path / "fix.csv", corrected))
    again = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 7, 21), "hours corrected"), WIRRAL, YEAR)
    assert again["total"] == "1.55"
    july = pay(book, "2020-07", date(2020, 8, 10))
    # Priced before July now: April £25.23 − £7.97 + £15.93 = £33.19, June £7.97; paid £24.05 + £1.18 + £7.97.
    # The adjustment (£7.96) names only the arrears no run identified yet (£1.55 − £1.18 = £0.37); the rest is the
    # extra 30 minutes at the old rate (£15.19 − £7.60 = £7.59).
    paid = adjustment(july)
    assert (paid["amount"], paid["arrears"]) == ("7.96", "0.37")
    assert paid["label"].endswith("of which arrears of the 2020-21 rate review £0.37 and other changes £7.59")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    minutes=st.lists(st.integers(min_value=1, max_value=240), min_size=1, max_size=8),
    old=st.decimals(min_value=D("9.00"), max_value=D("30.00"), places=2),
    rise=st.decimals(min_value=D("0.01"), max_value=D("3.00"), places=2),
)
def test_what_each_visit_owes_summed_is_the_arrears_and_the_payment_runs_adjustment(
    fresh_book, tmp_path_factory, minutes, old, rise
):
    book = fresh_book()
    new = EXACT.add(old, rise)
    tmp_path = tmp_path_factory.mktemp("visits")
    april_paid_then_backdated_review(book, tmp_path, minutes, old, new)
    by_hand = sum(
        (visit_owed(price_visit(new, "actual", m, m), price_visit(old, "actual", m, m)) for m in minutes), ZERO
    )

    arrears = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 6, 20), "arrears"), WIRRAL, YEAR)
    # A May visit, so that May's run has a line even when the review owes nothing (a penny rise on short visits).
    may_visit = [visit("M1", "premier-care", "CH41 2AB", "2020-05-04", 60, 60)]
    book.activity.import_activity(imported_on(date(2020, 6, 3)), WIRRAL, write_csv(tmp_path / "may.csv", may_visit))
    may = pay(book, "2020-05", date(2020, 6, 22))
    adjustments = [line for line in may["lines"] if line["month"] == ""]  # none when nothing is owed
    assert D(arrears["total"]) == sum((D(line["amount"]) for line in adjustments), ZERO) == by_hand
    assert sum((D(line["arrears"]) for line in adjustments), ZERO) == by_hand


def test_a_visit_imported_after_the_old_rate_run_owes_no_arrears_its_whole_price_is_new_activity(book, tmp_path):
    # The issue's three April visits (30, 45, 20 min) paid £24.05 at £15.19 in April's run; the review raises the
    # rate to £15.93 from 1 April. Then a fourth April visit of 60 minutes is imported late (after the decision):
    # no run paid it at £15.19, so it is not arrears. By hand, each visit to the penny:
    #   three visits now £7.97 + £11.95 + £5.31 = £25.23, paid £24.05: arrears £0.37 + £0.56 + £0.25 = £1.18;
    #   the late visit: 60 min × £15.93 ÷ 60 = £15.93 at the new rate, paid nothing: new activity £15.93
    #   (today's code also counted its £15.93 − £15.19 = £0.74 as arrears: £1.92).
    # May's run (no May visits): adjustment £25.23 + £15.93 − £24.05 = £17.11, of which arrears £1.18 and other
    # changes £15.93.
    april_paid_then_backdated_review(book, tmp_path, [30, 45, 20], D("15.19"), D("15.93"))
    late = [visit("L1", "premier-care", "CH41 2AB", "2020-04-29", 60, 60)]
    book.activity.import_activity(imported_on(date(2020, 6, 18)), WIRRAL, write_csv(tmp_path / "late.csv", late))

    arrears = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 6, 20), "arrears"), WIRRAL, YEAR)
    assert arrears["providers"] == {"premier-care": "1.18"} and arrears["total"] == "1.18"
    [line] = arrears["lines"]
    assert (line["visits"], line["payable_minutes"]) == (3, 95)
    assert arrears["basis"].startswith("3 visits recorded from 2020-04-01 to 2020-06-14")
    assert "only visits paid at the old rate: dated up to 2020-04-30 and imported before the payment run" in (
        arrears["basis"]
    )

    may = pay(book, "2020-05", date(2020, 6, 22))
    paid = adjustment(may)
    assert (paid["amount"], paid["arrears"]) == ("17.11", "1.18") and may["total"] == "17.11"
    assert paid["label"] == (
        "adjustment for earlier months: priced activity before 2020-05 now £41.16, paid £24.05; "
        "of which arrears of the 2020-21 rate review £1.18 and other changes £15.93"
    )
    assert paid["arrears"] == arrears["total"]  # `activity arrears` agrees with the identified part

    # Identity 1 (priced activity = paid on account + still due) holds, with the arrears an identified part.
    found = reconcile(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), YEAR)
    first = found["identities"][0]
    assert first["status"] == "holds" and first["difference"] == 0, first
    assert (first["left"]["amount"], first["right"]["amount"]) == (D("41.16"), D("41.16"))
    assert dict((p["label"], p["amount"]) for p in first["parts"])[
        "of which arrears identified in adjustments (included, not added)"
    ] == D("1.18")


def test_a_visit_imported_between_the_old_rate_run_and_the_decision_owes_no_arrears(book, tmp_path):
    # The same three visits, paid £24.05 in April's run (recorded 10 May); a fourth April visit of 60 minutes is
    # imported on 20 May, after that run but before the decision (15 June), and no run is recorded in between:
    # it was priced at £15.19 for a while but never paid at it, so the May run (after the decision) pays its
    # £15.93 as new activity. Arrears stay the three visits' £1.18; the adjustment is £1.18 + £15.93 = £17.11.
    setup(book, rate=D("15.19"))
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "section 75 pool"), WIRRAL, YEAR, target="520.00", bands=BANDS
    )
    minutes = [30, 45, 20]
    rows = [visit(f"A{n}", "premier-care", "CH41 2AB", f"2020-04-{n + 1:02d}", m, m) for n, m in enumerate(minutes)]
    book.activity.import_activity(imported_on(date(2020, 5, 3)), WIRRAL, write_csv(tmp_path / "april.csv", rows))
    assert pay(book, "2020-04", date(2020, 5, 10))["providers"] == {"premier-care": "24.05"}
    late = [visit("L1", "premier-care", "CH41 2AB", "2020-04-29", 60, 60)]
    book.activity.import_activity(imported_on(date(2020, 5, 20)), WIRRAL, write_csv(tmp_path / "late.csv", late))
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, YEAR)
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "15.93"} for z in ZONES]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, YEAR, rates, "the National Living Wage rise")
    book.reviews.decide_rate_review(
        on(date(2020, 6, 15), "panel"), WIRRAL, YEAR, "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip

    arrears = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 6, 20), "arrears"), WIRRAL, YEAR)
    assert arrears["total"] == "1.18"
    paid = adjustment(pay(book, "2020-05", date(2020, 6, 22)))
    assert (paid["amount"], paid["arrears"]) == ("17.11", "1.18")


def test_with_no_run_before_the_decision_nothing_was_paid_at_the_old_rate_so_no_arrears(book, tmp_path):
    # The three April visits are imported before the decision but no run is recorded until after it: April's
    # first run pays them at £15.93 (£25.23), so nothing was ever paid at £15.19 and the arrears are £0.00.
    setup(book, rate=D("15.19"))
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "section 75 pool"), WIRRAL, YEAR, target="520.00", bands=BANDS
    )
    minutes = [30, 45, 20]
    rows = [visit(f"A{n}", "premier-care", "CH41 2AB", f"2020-04-{n + 1:02d}", m, m) for n, m in enumerate(minutes)]
    book.activity.import_activity(imported_on(date(2020, 5, 3)), WIRRAL, write_csv(tmp_path / "april.csv", rows))
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, YEAR)
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "15.93"} for z in ZONES]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, YEAR, rates, "the National Living Wage rise")
    book.reviews.decide_rate_review(
        on(date(2020, 6, 15), "panel"), WIRRAL, YEAR, "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip

    arrears = book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, date(2020, 6, 20), "arrears"), WIRRAL, YEAR)
    assert (arrears["total"], arrears["lines"]) == ("0.00", [])
    assert arrears["basis"].endswith("no payment run of the year was recorded before the decision: none paid at "
                                     "the old rate")  # fmt: skip
    april = pay(book, "2020-04", date(2020, 6, 22))
    assert april["providers"] == {"premier-care": "25.23"} and all(line["arrears"] == "0.00" for line in april["lines"])
