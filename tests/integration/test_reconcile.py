"""The year's reconciliation, on SQLite and PostgreSQL: every identity holds on the demo, and a broken figure is named.

``openbook reconcile`` (``ledger.queries.reconcile``) checks four identities
from the read models: priced activity = paid on account + still due; payment
runs = Σ payment statements; settlement actual spend = priced activity +
incentives; provider balances + paid on account = commissioners' cost.

The small year (every visit 60 minutes at £15.60): premier-care 10 visits in
April and 10 in May (£156.00 a month), haven-care 5 a month (£78.00); April
and May paid; target £520.00 and DOMAIN.md's bands with a £20.00 gain cap:
actual £468.00, provider side £20.00 (split premier £13.33, haven £6.67),
commissioners' cost £488.00 = balances £20.00 + paid £468.00.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import insert, literal, select, update

from domain.envelope import SYSTEM
from domain.errors import NotAllowed, RuleBroken
from ledger.authorisation import access_for, provider_access
from ledger.projections.activity import activity_totals
from ledger.projections.incentives import incentive_assessment_lines, incentive_assessments
from ledger.projections.settlements import pooled_budgets, settlements
from ledger.queries import settlements as views
from ledger.queries.reconcile import reconcile
from tests.integration.agreement_setup import on
from tests.integration.settlement_setup import (
    BANDS,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    POSTCODES,
    YEAR,
    by,
    import_visits,
    setup,
    visits,
)
from tests.support import ledger_property, ok_json

WIRRAL = "wirral-homecare"
HEREFORDSHIRE = "herefordshire-hlah"
AUDITOR = "auditor@audit.example"


def statuses(found: dict) -> list[str]:
    return [i["status"] for i in found["identities"]]


def identity(found: dict, number: int) -> dict:
    return found["identities"][number - 1]


def years_with_money(book) -> list[tuple[str, str]]:
    """Every (agreement, year) with priced activity or a pooled budget, as the read models hold them."""
    t, p = activity_totals.c, pooled_budgets.c
    with book.read_engine.connect() as conn:
        found = set(conn.execute(select(t.agreement, t.financial_year).distinct()).all())
        found |= set(conn.execute(select(p.agreement, p.financial_year)).all())
    return sorted((a, y) for a, y in found)


@pytest.mark.demo
def test_every_demo_year_with_money_reconciles_to_the_penny(book, openbook):
    years = years_with_money(book)
    assert (WIRRAL, "2019-20") in years and (HEREFORDSHIRE, "2017-18") in years
    for agreement, year in years:
        found = reconcile(book.read_engine, access_for(book.records, SYSTEM, agreement), year)
        assert found["holds"], found
        for i in found["identities"]:
            assert i["status"] in ("holds", "not applicable"), i
            if i["status"] == "holds":
                assert i["left"]["amount"] == i["right"]["amount"] and i["difference"] == 0 and i["finding"] == "holds"
        shown = ok_json(openbook("reconcile", "--agreement", agreement, "--year", year, "--json", as_user=AUDITOR))
        assert shown["holds"] is True and shown == json.loads(json.dumps(shown))
        assert [i["finding"] for i in shown["identities"]] == [i["finding"] for i in found["identities"]]

    # Wirral 2019-20: pool, twelve runs, the incentive assessment (£225.96 + £35.56) and a settlement.
    wirral = reconcile(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), "2019-20")
    assert statuses(wirral) == ["holds"] * 4 and wirral["settlement"] == {"sequence": 1, "status": "draft"}
    assert wirral["verdict"] == "Every identity holds."
    priced = identity(wirral, 1)["left"]["amount"]
    assert identity(wirral, 1)["parts"][2] == {
        "label": "still due (the pool's position: priced − paid by the runs)", "amount": D("0.00"),
    }  # fmt: skip
    assert identity(wirral, 2)["left"]["amount"] == priced  # every month paid, nothing still due
    assert identity(wirral, 3)["parts"] == [
        {"label": "priced activity (activity read model)", "amount": priced},
        {"label": "incentives (assessment run 1, the latest)", "amount": D("261.52")},
    ]
    assert identity(wirral, 3)["left"]["amount"] == priced + D("261.52")
    assert sum(m["paid"] for m in wirral["months"]) == sum(m["priced"] for m in wirral["months"]) == priced

    # Herefordshire 2017-18 has no pool and no settlement: each identity says why it does not apply; the
    # assessment's incentives are named as waiting for the settlement they are paid through.
    hereford = reconcile(book.read_engine, access_for(book.records, SYSTEM, HEREFORDSHIRE), "2017-18")
    assert statuses(hereford) == ["not applicable"] * 4 and hereford["holds"]
    assert hereford["verdict"] == "Nothing to check yet: no identity applies to this year."  # not "every one holds"
    assert identity(hereford, 1)["left"]["amount"] is None and identity(hereford, 1)["difference"] is None
    assert identity(hereford, 3)["finding"].startswith(
        "not applicable: no settlement of herefordshire-hlah for 2017-18 has been drafted; the incentives of "
        "assessment run 1, £"
    )

    text = openbook("reconcile", "--agreement", WIRRAL, "--year", "2019-20", as_user="accountant@wirral.example")
    assert text.exit_code == 0 and text.stdout.startswith("reconciliation of wirral-homecare 2019-20: Every identity holds.")
    refused = openbook(
        "reconcile", "--agreement", WIRRAL, "--year", "2019-20", "--json", as_user="finance@premiercare.example"
    )
    assert refused.exit_code == 1 and refused.stdout == ""
    assert json.loads(refused.stderr)["error"]["kind"] == "not-allowed"
    with pytest.raises(NotAllowed, match="may not see every provider's figures"):
        reconcile(book.read_engine, provider_access(book.records, SYSTEM, WIRRAL, "premier-care"), "2019-20")

    # A second assessment run after the draft (written into the read model as run 2 would be, premier-care now
    # £300.00): the draft, not yet issued, is compared with the latest run, and the change is named.
    with book.read_engine.begin() as conn:
        for table in (incentive_assessments, incentive_assessment_lines):
            kept = [c for c in table.c if c.name != "run"]
            again = select(*kept, literal(2)).where((table.c.agreement == WIRRAL) & (table.c.run == 1))
            conn.execute(insert(table).from_select([*(c.name for c in kept), "run"], again))
        lines = incentive_assessment_lines.c
        conn.execute(update(incentive_assessment_lines).where(
            (lines.agreement == WIRRAL) & (lines.run == 2) & (lines.provider == "premier-care")).values(payment=D("300.00")))
    stale = identity(reconcile(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), "2019-20"), 3)
    assert stale["status"] == "differs" and stale["difference"] == D("225.96") - D("300.00")
    assert "premier-care: settlement 1 includes incentives £225.96 (assessment run 1), the latest assessment run 2 " \
           "pays £300.00: changed since, a re-settlement is due" in stale["differences"]

    # A settlement drafted before settlements read incentives referenced them as text: it reconciles, naming them.
    with book.read_engine.begin() as conn:
        mine = settlements.c.agreement == WIRRAL
        refs = conn.execute(select(settlements.c.input_references).where(mine)).scalars().first()
        old = "not read: this settlement does not yet carry incentive payments"
        conn.execute(update(settlements).where(mine).values(input_references={**refs, "incentives": old}))
    older = identity(reconcile(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), "2019-20"), 3)
    assert "(no assessment run), the latest assessment run 2 pays £300.00" in " ".join(older["differences"])


def small_year(book, tmp_path) -> None:
    setup(book)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool agreed"), WIRRAL, YEAR,
        target="520.00", bands=BANDS, gain_cap="20.00",
    )  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5),
            *visits("premier-care", "zone-1", "2019-05", 10), *visits("haven-care", "zone-3", "2019-05", 5)]  # fmt: skip
    import_visits(book, tmp_path, "spring.csv", rows)
    for month, day in (("2019-04", date(2019, 5, 10)), ("2019-05", date(2019, 6, 10))):
        book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, day, "monthly payment"), WIRRAL, month)
    book.settlements.draft_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 6, 30), "year end"), WIRRAL, YEAR)


def test_a_late_visit_and_tampered_read_models_are_each_named(book, tmp_path, raw_sql, openbook):
    small_year(book, tmp_path)
    access = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    found = reconcile(book.read_engine, access, YEAR)
    assert statuses(found) == ["holds"] * 4
    assert [(i["left"]["amount"], i["right"]["amount"]) for i in found["identities"]] == [
        (D("468.00"), D("468.00")), (D("468.00"), D("468.00")), (D("468.00"), D("468.00")), (D("488.00"), D("488.00")),
    ]  # fmt: skip

    # A late June visit of haven-care's, after the settlement: still due in the next run, and the settlement is
    # named as computed on other activity (a re-settlement is due).
    import_visits(book, tmp_path, "late.csv", visits("haven-care", "zone-3", "2019-06", 1, "L"), date(2020, 7, 1))
    found = reconcile(book.read_engine, access, YEAR)
    assert statuses(found) == ["holds", "holds", "differs", "holds"] and not found["holds"]
    assert found["verdict"] == "An identity differs."
    assert identity(found, 1)["parts"][2]["amount"] == D("15.60")  # still due
    assert identity(found, 3)["difference"] == D("-15.60")
    assert identity(found, 3)["differences"] == [
        "settlement actual spend £468.00 differs from priced activity + incentives £483.60 by -£15.60",
        "haven-care: settlement 1 was computed on priced activity £156.00, priced activity is now £171.60: "
        "changed since, a re-settlement is due",
    ]
    assert identity(found, 3)["finding"].startswith(
        "settlement actual spend £468.00 differs from priced activity + incentives £483.60 by -£15.60; haven-care:"
    )

    # A payment statement's line altered in the read model (not in the events): the run and its statement differ.
    raw_sql(
        "UPDATE payment_lines SET amount = ? WHERE provider = ? AND month = ? AND line = 1",
        ("156.01", "premier-care", "2019-04"),
    )
    found = reconcile(book.read_engine, access, YEAR)
    assert statuses(found) == ["differs", "differs", "differs", "holds"]
    assert identity(found, 1)["difference"] == D("-0.01")
    assert identity(found, 2)["differences"] == [
        "payment runs £468.00 differs from Σ payment statements £468.01 by -£0.01",
        "2019-04 run pays premier-care £156.00, its payment statement's 1 lines add to £156.01 (difference -£0.01)"
    ]
    shown = openbook("reconcile", "--agreement", WIRRAL, "--year", YEAR, "--json", as_user=COUNCIL_ACCOUNTANT.user)
    assert shown.exit_code == 1 and json.loads(shown.stdout)["holds"] is False
    text = openbook("reconcile", "--agreement", WIRRAL, "--year", YEAR, as_user=COUNCIL_ACCOUNTANT.user)
    assert text.exit_code == 1 and "2. payment runs = Σ payment statements: differs" in text.stdout
    assert "   - 2019-04 run pays premier-care £156.00, its payment statement's 1 lines add to £156.01" in text.stdout

    # A provider's balance altered in the settlements read model: balances + paid no longer make the cost.
    with book.read_engine.begin() as conn:
        statement = conn.execute(select(settlements.c.statement)).scalar_one()
        assert statement["providers"]["haven-care"]["balance"] == D("6.67")
        statement["providers"]["haven-care"]["balance"] = D("7.67")
        conn.execute(update(settlements).values(statement=statement))
    found = reconcile(book.read_engine, access, YEAR)
    assert identity(found, 4)["status"] == "differs" and identity(found, 4)["difference"] == D("1.00")
    assert identity(found, 4)["finding"] == (
        "provider balances + paid on account £489.00 differs from commissioners' cost £488.00 by £1.00"
    )


REVIEW_YEAR = "2020-21"


def backdated_review(book, decided: date) -> None:
    """A review of 2020-21 to £16.40 in every zone, decided on ``decided`` and backdated to 1 April 2020, with the
    arrears it owes calculated: the next run's adjustment includes them as its identified part."""
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, REVIEW_YEAR)
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "16.40"} for z in POSTCODES]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, REVIEW_YEAR, rates, "the National Living Wage")
    book.reviews.decide_rate_review(
        on(decided, "panel"), WIRRAL, REVIEW_YEAR, "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip
    book.activity.calculate_arrears(by(COUNCIL_ACCOUNTANT, decided, "arrears"), WIRRAL, REVIEW_YEAR)


def review_year_pool(book) -> None:
    """Wirral with a £520.00 pool for 2020-21 (the council £312.00, the CCG £208.00), paid by rate."""
    setup(book)
    for commissioner, share in (("wirral-council", "312.00"), ("wirral-ccg", "208.00")):
        book.agreements.set_contribution(on(date(2020, 4, 1), "pool"), WIRRAL, commissioner, REVIEW_YEAR, D(share))
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "section 75 pool"), WIRRAL, REVIEW_YEAR, target="520.00", bands=BANDS
    )


def run(book, month: str, day: date) -> dict:
    return book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, day, "run"), WIRRAL, month)


def test_a_run_recorded_after_the_review_paid_the_new_price_so_no_adjustment_claims_its_arrears(book, tmp_path):
    """The review is recorded first; April's run, recorded after it, states an earlier date (10 May < 15 May).

    The activity read model re-priced April when the decision was recorded, so April's run paid £16.40 a visit:
    nothing is owed. (Before, runs were taken as paid at the old rate by their stated date, and May's run carried
    an adjustment of £0.00 "of which arrears £1.60 and other changes -£1.60".)
    """
    review_year_pool(book)
    import_visits(book, tmp_path, "april.csv", visits("premier-care", "zone-1", "2020-04", 2), date(2020, 5, 3))
    backdated_review(book, date(2020, 5, 15))
    assert run(book, "2020-04", date(2020, 5, 10))["total"] == "32.80"  # 2 × £16.40: the new price
    import_visits(book, tmp_path, "may.csv", visits("premier-care", "zone-1", "2020-05", 1), date(2020, 6, 3))
    may = run(book, "2020-05", date(2020, 6, 10))
    assert [(line["label"], line["amount"], line["arrears"]) for line in may["lines"]] == [
        ("priced activity 2020-05: standard in zone-1", "16.40", "0.00"),
    ]
    found = reconcile(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), REVIEW_YEAR)
    assert statuses(found)[:2] == ["holds", "holds"]
    assert [(m["adjustments"], m["arrears_in_adjustments"]) for m in found["months"][:2]] == [(0, 0), (0, 0)]


def test_a_run_recorded_before_the_review_paid_the_old_price_whatever_date_it_states(book, tmp_path):
    """April and May are run (May's run stating 10 June), then the review is recorded, decided 5 June.

    Both runs paid £15.60 a visit, so June's adjustment includes the arrears of April's 2 and May's 3 visits
    (5 × £0.80): before, May's run (dated after the decision) was taken as paid at the new price, and the
    adjustment of £4.00 named arrears of £1.60 and "other changes" of £2.40 that were arrears too.
    """
    review_year_pool(book)
    import_visits(book, tmp_path, "april.csv", visits("premier-care", "zone-1", "2020-04", 2), date(2020, 5, 3))
    run(book, "2020-04", date(2020, 5, 10))
    import_visits(book, tmp_path, "may.csv", visits("premier-care", "zone-1", "2020-05", 3), date(2020, 6, 1))
    assert run(book, "2020-05", date(2020, 6, 10))["total"] == "46.80"  # 3 × £15.60: the old price
    backdated_review(book, date(2020, 6, 5))
    import_visits(book, tmp_path, "june.csv", visits("premier-care", "zone-1", "2020-06", 1), date(2020, 7, 1))
    june = run(book, "2020-06", date(2020, 7, 10))
    [adjustment] = [line for line in june["lines"] if line["month"] == ""]
    assert (adjustment["amount"], adjustment["arrears"]) == ("4.00", "4.00")
    found = reconcile(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), REVIEW_YEAR)
    assert statuses(found)[:2] == ["holds", "holds"]
    assert found["months"][2]["arrears_in_adjustments"] == D("4.00") == found["months"][2]["adjustments"]


def test_capitated_sums_on_account_are_not_adjustments(book, tmp_path):
    """Under capitation each run pays fixed sums on account (premier £150.00, haven £80.00 a month): the months
    show them on account, with no adjustment (before, every capitated line was shown as one)."""
    setup(book)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool"), WIRRAL, YEAR, target="520.00", bands=BANDS,
        mechanism="capitated", capitation=[("premier-care", "zone-1", "150.00"), ("haven-care", "zone-3", "80.00")],
    )  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5)]
    import_visits(book, tmp_path, "april.csv", rows)
    for month, day in (("2019-04", date(2019, 4, 30)), ("2019-05", date(2019, 5, 31))):
        book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, day, "capitation"), WIRRAL, month)
    found = reconcile(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), YEAR)
    assert statuses(found) == ["holds", "holds", "not applicable", "not applicable"]
    assert [(m["paid"], m["paid_for_the_month"], m["adjustments"], m["on_account"]) for m in found["months"][:2]] == [
        (D("230.00"), 0, 0, D("230.00")), (D("230.00"), 0, 0, D("230.00")),
    ]  # fmt: skip
    paid, arrears, due = (part["amount"] for part in identity(found, 1)["parts"])
    assert (identity(found, 1)["left"]["amount"], paid, arrears, due) == (D("234.00"), D("460.00"), 0, D("-226.00"))


YEAR_END = date(2021, 3, 31)


def incentive_scheme(book) -> None:
    """One KPI (missed visits, lower is better, 0.5 per 1,000) and a scheme paying £2.50 an hour of reduction beyond
    5% of a fixed baseline (premier-care 12 h, haven-care 9 h), only if every KPI is met."""
    book.agreements.define_kpi(on(date(2020, 4, 1), "KPIs"), WIRRAL, "missed-visits", "Missed visits",
                               "missed visits per 1,000 planned", "0.5", "lower-is-better")  # fmt: skip
    book.incentives.set_incentive_scheme(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "incentive model"), WIRRAL, from_year=REVIEW_YEAR,
        baseline="fixed", fixed_baselines={"premier-care": "12", "haven-care": "9"},
        minimum_reduction="0.05", payment_per_hour="2.50",
    )  # fmt: skip


def kpi_results(book, met: tuple[bool, bool], day: date) -> None:
    for provider, ok in zip(("premier-care", "haven-care"), met, strict=True):
        book.incentives.record_kpi_result(by(COUNCIL_ACCOUNTANT, day), WIRRAL, provider, REVIEW_YEAR,
                                          "missed-visits", D("0.3") if ok else D("0.9"), "ECM report")  # fmt: skip


def assess(book, day: date) -> dict | None:
    """The year's assessment, or None when there is nothing to assess (no activity: refused, nothing recorded)."""
    try:
        return book.incentives.assess_incentives(by(COUNCIL_ACCOUNTANT, day, "assessment"), WIRRAL, REVIEW_YEAR)
    except RuleBroken:
        return None


def draft_and_maybe_issue(book, day: date, issue: bool) -> int:
    drafted = book.settlements.draft_settlement(by(COUNCIL_ACCOUNTANT, day, "year end"), WIRRAL, REVIEW_YEAR)
    sequence = drafted["sequence"]
    if issue:
        book.settlements.review_settlement(by(CCG_ACCOUNTANT, day), WIRRAL, REVIEW_YEAR, sequence)
        for accountant in (COUNCIL_ACCOUNTANT, CCG_ACCOUNTANT):
            book.settlements.approve_settlement(by(accountant, day), WIRRAL, REVIEW_YEAR, sequence)
        book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, day, "signed off"), WIRRAL, REVIEW_YEAR, sequence)
    return sequence


@ledger_property()
@given(
    months=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),  # premier-care's visits in the month
            st.integers(min_value=0, max_value=3),  # haven-care's
            st.integers(min_value=0, max_value=2),  # earlier premier-care visits corrected to 90 minutes
            st.booleans(),  # the month's run is made
        ),
        min_size=1,
        max_size=3,
    ),
    review_after=st.one_of(st.none(), st.integers(min_value=0, max_value=2)),  # the month after whose run it falls
    review_recorded_first=st.booleans(),  # recorded before that run, which states an earlier date (10th < 15th)
    met=st.tuples(st.booleans(), st.booleans()),  # each provider's KPI met, as first recorded
    assessed=st.sampled_from(["never", "before the settlement", "after the settlement"]),
    settle=st.sampled_from(["no", "draft", "issue"]),
    corrected_kpi=st.booleans(),  # premier-care's KPI result corrected (flipped) and the year re-assessed
    resettle=st.booleans(),  # a settlement drafted again after the last assessment
)
@example(months=[(2, 1, 0, True), (0, 0, 0, True)], review_after=0, review_recorded_first=False, met=(True, True),
         assessed="never", settle="draft", corrected_kpi=False, resettle=False)  # April's arrears paid in May  # fmt: skip
@example(months=[(2, 0, 0, True), (1, 0, 0, True)], review_after=0, review_recorded_first=True, met=(True, True),
         assessed="never", settle="no", corrected_kpi=False, resettle=False)  # April's run paid the new price  # fmt: skip
@example(months=[(1, 1, 0, True)], review_after=None, review_recorded_first=False, met=(True, True),
         assessed="after the settlement", settle="issue", corrected_kpi=False, resettle=True)  # re-settled  # fmt: skip
def test_every_identity_holds_or_is_named_after_any_imports_corrections_reviews_runs_assessments_and_settlements(
    fresh_book, tmp_path_factory, months, review_after, review_recorded_first, met, assessed, settle, corrected_kpi,
    resettle,
):
    """Random sequences of the year's facts, each recorded as a user would; then every identity holds or each of its
    differences is named: a settlement drafted before the latest assessment changed its payments (and not drafted
    again) differs by exactly the incentives it does not include, named per provider (and, once issued, as out of
    date), never silently."""
    book = fresh_book()
    tmp_path = tmp_path_factory.mktemp("visits")
    review_year_pool(book)
    incentive_scheme(book)
    imported, uncorrected = 0, []
    for number, (premier, haven, corrected, run) in enumerate(months):
        month = f"2020-{number + 4:02d}"
        rows = [*visits("premier-care", "zone-1", month, premier), *visits("haven-care", "zone-3", month, haven)]
        fixes = [[*row[:6], "90", row[7], "90", row[9]] for row in uncorrected[:corrected]]
        del uncorrected[:corrected]
        if rows or fixes:
            import_visits(book, tmp_path, f"{month}.csv", [*rows, *fixes], date(2020, number + 5, 3))
        imported += len(rows)
        uncorrected += [row for row in rows if row[1] == "premier-care"]
        if review_after == number and review_recorded_first:
            backdated_review(book, date(2020, number + 5, 15))
        if run:
            try:
                book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2020, number + 5, 10), "run"), WIRRAL, month)
            except RuleBroken:  # nothing to pay: refused, nothing recorded
                pass
        if review_after == number and not review_recorded_first:
            backdated_review(book, date(2020, number + 5, 15))
    kpi_results(book, met, date(2021, 4, 20))
    settled = settle != "no" and imported > 0
    last_assessment = assess(book, date(2021, 5, 15)) if assessed == "before the settlement" else None
    if settled:
        draft_and_maybe_issue(book, date(2021, 6, 30), settle == "issue")
    if assessed == "after the settlement":
        last_assessment = assess(book, date(2021, 8, 3))
    if corrected_kpi and last_assessment is not None:
        book.incentives.record_kpi_result(by(COUNCIL_ACCOUNTANT, date(2021, 8, 20), "ECM re-run"), WIRRAL,
                                          "premier-care", REVIEW_YEAR, "missed-visits",
                                          D("0.9") if met[0] else D("0.3"), "ECM report, corrected")  # fmt: skip
        last_assessment = assess(book, date(2021, 8, 25)) or last_assessment
    if settled and resettle:
        try:
            draft_and_maybe_issue(book, date(2021, 9, 30), settle == "issue")
        except RuleBroken as refused:  # nothing changed since the issued settlement: refused, nothing recorded
            assert "a re-settlement would differ by zero for every party" in str(refused)

    accountant = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    found = reconcile(book.read_engine, accountant, REVIEW_YEAR)
    assert statuses(found)[:2] == ["holds", "holds"], found
    paid, arrears, due = (part["amount"] for part in identity(found, 1)["parts"])
    assert identity(found, 1)["left"]["amount"] == paid + due and paid == identity(found, 2)["left"]["amount"]
    assert arrears == sum(m["arrears_in_adjustments"] for m in found["months"])
    april_paid_then_reviewed = review_after == 0 and not review_recorded_first and any(months[0][:2]) and months[0][3]
    if april_paid_then_reviewed and len(months) > 1 and months[1] == (0, 0, 0, True):  # May's run: April's arrears
        assert arrears == D("0.80") * (months[0][0] + months[0][1]) == found["months"][1]["adjustments"]
    if not settled:
        assert statuses(found)[2:] == ["not applicable"] * 2
        return
    assert identity(found, 4)["status"] == "holds", identity(found, 4)  # no run after a settlement: paid as counted
    assessed_now = {} if last_assessment is None else {
        line["provider"]: D(line["payment"]) for line in last_assessment["lines"] if D(line["payment"]) != 0
    }  # fmt: skip
    latest = views.settlement(book.read_engine, accountant, WIRRAL, REVIEW_YEAR)
    included = {p: D(x) for p, x in latest["inputs"]["incentives"].items()}
    third = identity(found, 3)
    if included == assessed_now:  # the latest settlement pays what the latest assessment assessed
        assert third["status"] == "holds" and third["left"]["amount"] == third["right"]["amount"], third
        assert third["parts"][1]["amount"] == sum(assessed_now.values(), D("0.00"))
        return
    # Assessed (again) after the latest settlement, with other payments: the difference is exactly those
    # incentives, and each provider whose payment changed is named.
    assert third["status"] == "differs" and third["difference"] == sum(included.values()) - sum(assessed_now.values())
    for provider in sorted(set(included) | set(assessed_now)):
        if included.get(provider, 0) != assessed_now.get(provider, 0):
            # "includes incentives £x …, the latest assessment run n pays £y", or, for a provider the settlement
            # has no line for (no activity), "not in settlement n, but has … incentives £y"
            assert any(named.startswith(f"{provider}: ") and "incentives" in named
                       for named in third["differences"]), third  # fmt: skip
    if latest["status"] == "issued":
        assert any(note["what"] == "incentive assessment" for note in latest["out_of_date"]), latest
