"""Closing a year, and late changes to a closed year named and paid once, on SQLite and PostgreSQL (issue 12).

The worked example (every visit 60 minutes; Wirral's test agreement at £15.60
in every zone, no KPIs, no profit cap, so no clawback):

* 2019-20: premier-care 200 visits in April 2019 (£3,120.00), haven-care 100
  (£1,560.00), paid in the April run: £4,680.00. Target £5,400.00, DOMAIN.md's
  bands. Actual £4,680.00, variance £720.00: £540.00 in the 90–100% band × 50%
  = £270.00 plus £180.00 below 90% × 25% = £45.00, so £315.00, split 2:1 —
  premier £210.00, haven £105.00; balances the same. Settlement 1 is issued
  and the year closed with it.
* Late, after the close: premier-care's 10 visits of May 2019 are imported
  (10 h), and the 2019-20 rate review is decided backdated to 1 April 2019 at
  £15.90. The closed year's priced activity is now premier 210 h × £15.90 =
  £3,339.00, haven 100 h × £15.90 = £1,590.00.
* The next open month, April 2020, has premier-care's 20 visits (20 h at
  £15.90 = £318.00, its own line). Its run also carries, for each provider, a
  "closed-year adjustment 2019-20" of priced activity now less at close:
  premier £3,339.00 − £3,120.00 = **£219.00** (the late visits, 10 h ×
  £15.90 = £159.00, and the backdated rate on April's 200 h × £0.30 =
  £60.00), haven £1,590.00 − £1,560.00 = **£30.00** (100 h × £0.30). April
  2020 pays premier £318.00 + £219.00 = £537.00, haven £30.00.
* Re-settlement 2: actual £4,929.00, variance £471.00, all in the 90–100% band
  (from £4,860.00) × 50% = £235.50, split 3,339 : 1,590 — premier £159.53
  (235.50 × 3339 ÷ 4929 = 159.5326…), haven £75.97. Paid on account counts
  the closed-year adjustments: premier £3,120.00 + £219.00 = £3,339.00, haven
  £1,560.00 + £30.00 = £1,590.00, so balances premier £159.53, haven £75.97:
  differences −£50.47 and −£29.03 (the share only: the activity was paid by
  the adjustment, never twice). Commissioners' cost £4,929.00 + £235.50 =
  £5,164.50; Σ balances £235.50 + paid by 2019-20's runs £4,680.00 + the
  adjustments £249.00 = £5,164.50.
* Then one late visit is corrected from 60 to 30 minutes (30 min at £15.90 =
  £7.95): premier's 2019-20 activity is £3,331.05, and the June 2020 run
  recovers £3,331.05 − £3,120.00 − £219.00 adjusted before = −£7.95.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM
from domain.errors import OpenbookError
from domain.returns.cost_return import CostReturn
from ledger.authorisation import access_for, provider_access
from ledger.jsonable import json_ready
from ledger.queries import settlements as views
from ledger.queries.reconcile import reconcile
from tests.integration.agreement_setup import on
from tests.integration.settlement_setup import (
    BANDS,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    PREMIER_FINANCE,
    YEAR,
    accepted_return,
    by,
    filing,
    import_visits,
    setup,
    visits,
)

WIRRAL = "wirral-homecare"
NEXT = "2020-21"
ZONES = ("zone-1", "zone-2", "zone-3", "zone-4")


def head(book) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def settled_year(book, tmp_path, before_draft=None) -> None:
    """2019-20 paid in April and settlement 1 drafted; 2020-21's contributions and pool set up."""
    setup(book)
    if before_draft is not None:
        before_draft(book)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool agreed"), WIRRAL, YEAR, target="5400.00", bands=BANDS,
    )  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 200), *visits("haven-care", "zone-3", "2019-04", 100)]
    import_visits(book, tmp_path, "april.csv", rows)
    book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2019, 5, 10), "monthly payment"), WIRRAL, "2019-04")
    for commissioner, amount in (("wirral-council", "7300000.00"), ("wirral-ccg", "4900000.00")):
        book.agreements.set_contribution(on(date(2020, 4, 1), "pooled budget"), WIRRAL, commissioner, NEXT, amount)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2020, 4, 1), "section 75 pool agreed"), WIRRAL, NEXT, target="6000.00", bands=BANDS,
    )  # fmt: skip
    draft(book, date(2020, 6, 30))


def draft(book, on_day: date) -> dict:
    return book.settlements.draft_settlement(by(COUNCIL_ACCOUNTANT, on_day, "year-end settlement"), WIRRAL, YEAR)


def issue(book, sequence: int, on_day: date = date(2020, 7, 3)) -> None:
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, on_day), WIRRAL, YEAR, sequence, "ties out")
    book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, on_day), WIRRAL, YEAR, sequence)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, on_day), WIRRAL, YEAR, sequence)
    book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, on_day, "signed off"), WIRRAL, YEAR, sequence)


def close(book, on_day: date = date(2020, 7, 15)) -> dict:
    return book.settlements.close_year(by(CCG_ACCOUNTANT, on_day, "accounts agreed"), WIRRAL, YEAR)


def refused(book, kind: str, run) -> str:
    """The command is refused with ``kind`` and records nothing."""
    before = head(book)
    with pytest.raises(OpenbookError) as error:
        run()
    assert error.value.kind == kind, str(error.value)
    assert head(book) == before
    return str(error.value)


def backdated_review(book) -> None:
    """The 2019-20 review, decided after the close, backdated to 1 April 2019: £15.90 in every zone."""
    book.reviews.open_rate_review(on(date(2020, 7, 16), "late review"), WIRRAL, YEAR)
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "15.90"} for z in ZONES]
    book.reviews.propose_rates(on(date(2020, 7, 17), "uplift"), WIRRAL, YEAR, rates, "the cost of care exercise")
    decided = book.reviews.decide_rate_review(
        on(date(2020, 7, 20), "panel"), WIRRAL, YEAR, "accepted", reasons="backdated to 1 April 2019",
        decided_by="joint commissioning panel", effective_from=date(2019, 4, 1),
    )  # fmt: skip
    assert decided["closed_years"] == (
        "rates backdated in the closed year 2019-20 (closed with settlement 1): recorded, paid as a closed-year "
        "adjustment in the next open payment run, and that year's settlement is out of date until it is re-settled"
    )


def figures(view, kind: str, figure: str) -> dict[str, str]:
    return {party: x[figure] for party, x in json_ready(view)["statement"][kind].items()}


def test_a_late_visit_and_a_backdated_rate_in_a_closed_year_are_a_named_adjustment_and_a_re_settlement(
    openbook, book, tmp_path
):
    settled_year(book, tmp_path)
    refused(book, "rule-broken", lambda: close(book))  # settlement 1 is a draft: not issued
    issue(book, 1)
    closed = close(book)
    assert (closed["settlement"], closed["closed_on"]) == (1, "2020-07-15")
    assert closed["activity"] == {"haven-care": "1560.00", "premier-care": "3120.00"}
    assert "already closed" in refused(book, "conflict", lambda: close(book, date(2020, 7, 16)))
    accountant = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    assert views.year_end(book.read_engine, WIRRAL, YEAR)["settlement"] == 1
    assert views.settlement(book.read_engine, accountant, WIRRAL, YEAR)["out_of_date"] == []

    # Late changes are recorded, never refused: a late visit and a backdated rate into the closed year.
    late = import_visits(book, tmp_path, "may-late.csv", visits("premier-care", "zone-1", "2019-05", 10, "LATE"),
                         on=date(2020, 7, 16))  # fmt: skip
    assert late.message == (
        "recorded 10 new visits from may-late.csv; visits dated in the closed year 2019-20 (closed with settlement "
        "1): recorded, paid as a closed-year adjustment in the next open payment run, and that year's settlement is "
        "out of date until it is re-settled"
    )
    backdated_review(book)
    stale = views.settlement(book.read_engine, accountant, WIRRAL, YEAR)["out_of_date"]
    assert [(s["what"], s["provider"]) for s in stale] == [
        ("closed-year change", "haven-care"), ("closed-year change", "premier-care"),
    ]  # fmt: skip
    assert stale[1]["note"] == (
        "2019-20 was closed on 2020-07-15; premier-care's priced activity was £3,120.00 in settlement 1, is now "
        "£3,339.00: the difference £219.00 is paid as a closed-year adjustment in the next open payment run; draft "
        "the settlement again: a re-settlement follows"
    )

    premier = provider_access(book.records, PREMIER_FINANCE, WIRRAL, "premier-care")
    mine = views.settlement(book.read_engine, premier, WIRRAL, YEAR)["out_of_date"]
    assert mine == [stale[1]]  # its own note only: never another provider's figures

    # The next open month's run: April 2020's own line, and the closed year's adjustment, named, per provider.
    import_visits(book, tmp_path, "april-2020.csv", visits("premier-care", "zone-1", "2020-04", 20, "N"),
                  on=date(2020, 7, 21))  # fmt: skip
    run = book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2020, 7, 22), "monthly payment"), WIRRAL, "2020-04")
    assert run["providers"] == {"haven-care": "30.00", "premier-care": "537.00"}
    adjustments = [(line["provider"], line["amount"], line["label"])
                   for line in run["lines"] if line.get("closed_year")]  # fmt: skip
    assert adjustments == [
        ("haven-care", "30.00", "closed-year adjustment 2019-20: priced activity of 2019-20 now £1,590.00, closed with "
                                "settlement 1 at £1,560.00, adjusted before £0.00"),
        ("premier-care", "219.00", "closed-year adjustment 2019-20: priced activity of 2019-20 now £3,339.00, closed "
                                   "with settlement 1 at £3,120.00, adjusted before £0.00"),
    ]  # fmt: skip
    own = [(line["provider"], line["amount"]) for line in run["lines"] if not line.get("closed_year")]
    assert own == [("premier-care", "318.00")]  # never an ordinary adjustment: 2020-21 had nothing paid before
    # 2020-21's position counts only its own activity paid: the adjustment is not this year's.
    position = views.pool_position(book.read_engine, accountant, NEXT)
    assert (position["priced_to_date"], position["paid_to_date"], position["due"]) == (D("318.00"), D("318.00"), 0)
    statement = views.payment_statement(book.read_engine, accountant, "premier-care", "2020-04")
    assert (statement["cumulative_paid"], statement["closed_year_adjustments_to_date"]) == (D("537.00"), D("219.00"))
    assert statement["priced_less_paid"] == 0  # £318.00 priced, £318.00 paid on account of 2020-21
    # A second run adjusts nothing again.
    import_visits(book, tmp_path, "may-2020.csv", visits("haven-care", "zone-3", "2020-05", 1, "M"),
                  on=date(2020, 8, 1))  # fmt: skip
    may = book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2020, 8, 10), "monthly payment"), WIRRAL, "2020-05")
    assert may["providers"] == {"haven-care": "15.90"}

    # The re-settlement of the closed year: previous, new, difference; the adjustments counted as paid, once.
    again = draft(book, date(2020, 9, 1))
    assert (again["sequence"], again["previous"]) == (2, 1)
    assert again["statement"]["actual"] == "4929.00" and again["statement"]["provider_amount"] == "235.50"
    assert figures(again, "providers", "activity") == {"haven-care": "1590.00", "premier-care": "3339.00"}
    assert figures(again, "providers", "paid") == {"haven-care": "1590.00", "premier-care": "3339.00"}
    assert figures(again, "providers", "balance") == {"haven-care": "75.97", "premier-care": "159.53"}
    assert again["statement"]["commissioner_cost"] == "5164.50"
    comparison = json_ready(again["comparison"])
    assert {p: x["balance"] for p, x in comparison["providers"].items()} == {
        "haven-care": {"previous": "105.00", "new": "75.97", "difference": "-29.03"},
        "premier-care": {"previous": "210.00", "new": "159.53", "difference": "-50.47"},
    }  # fmt: skip
    reference = again["references"]["closed_year"]
    assert (reference["settlement"], reference["adjustments"], reference["paid_in_later_runs"]) == (
        1, {"haven-care": "30.00", "premier-care": "219.00"}, {"haven-care": "30.00", "premier-care": "219.00"},
    )  # fmt: skip
    first = views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 1)["out_of_date"]
    assert all(s["note"].endswith("settlement 2 (draft) re-settles it") for s in first)

    # Reconcile: the closed year names its adjustments and where they were paid; every identity holds.
    closed_year = reconcile(book.read_engine, accountant, YEAR)
    assert closed_year["holds"], [i["finding"] for i in closed_year["identities"]]
    assert closed_year["closed"]["settlement"] == 1
    assert [(a["provider"], a["month"], a["amount"]) for a in closed_year["closed"]["adjustments"]] == [
        ("haven-care", "2020-04", D("30.00")), ("premier-care", "2020-04", D("219.00")),
    ]  # fmt: skip
    first_parts = {p["label"]: p["amount"] for p in closed_year["identities"][0]["parts"]}
    assert first_parts["of still due, paid as closed-year adjustments in later runs (2020-04 run)"] == D("249.00")
    fourth = closed_year["identities"][3]
    assert (fourth["left"]["amount"], fourth["right"]["amount"]) == (D("5164.50"), D("5164.50"))
    next_year = reconcile(book.read_engine, accountant, NEXT)
    assert next_year["holds"], [i["finding"] for i in next_year["identities"]]
    first_identity = next_year["identities"][0]
    assert (first_identity["left"]["amount"], first_identity["right"]["amount"]) == (D("333.90"), D("333.90"))
    assert ("closed-year adjustments paid in this year's runs (for 2019-20, not this year's activity)",
            D("249.00")) in [(p["label"], p["amount"]) for p in first_identity["parts"]]  # fmt: skip
    shown = openbook("--as", COUNCIL_ACCOUNTANT.user, "reconcile", "--agreement", WIRRAL, "--year", YEAR)
    assert shown.exit_code == 0, shown.output
    assert "closed on 2020-07-15 by accountant@wirralccg.example (wirral-ccg) with settlement 1" in shown.stdout
    assert "closed-year adjustment to premier-care paid in the 2020-04 run" in shown.stdout
    # The projections replay it all from scratch to the same figures.
    def stopped() -> list:
        return [(p["name"], p["error"]) for p in book.ledger.projections.status() if p["error"] or p["lag"]]

    assert stopped() == []  # no read model stopped on the close, the late changes or the adjustment lines
    book.ledger.projections.rebuild()
    assert stopped() == []
    assert reconcile(book.read_engine, accountant, YEAR) == closed_year

    # A correction to a late visit (60 → 30 minutes: 30 min at £15.90 = £7.95, so −£7.95) is recovered in the
    # next run, after what was adjusted before; the re-settlement is out of date again, and reconcile says so.
    corrected = visits("premier-care", "zone-1", "2019-05", 1, "LATE")[0]
    corrected[6] = corrected[8] = "30"
    import_visits(book, tmp_path, "correction.csv", [corrected], on=date(2020, 9, 5))
    june = book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2020, 9, 10), "monthly payment"), WIRRAL,
                                         "2020-06")  # fmt: skip
    assert [(line["provider"], line["amount"], line["label"]) for line in june["lines"]] == [
        ("premier-care", "-7.95", "closed-year adjustment 2019-20: priced activity of 2019-20 now £3,331.05, closed "
                                  "with settlement 1 at £3,120.00, adjusted before £219.00"),
    ]  # fmt: skip
    later = reconcile(book.read_engine, accountant, YEAR)
    assert [(a["provider"], a["month"], a["amount"]) for a in later["closed"]["adjustments"]] == [
        ("haven-care", "2020-04", D("30.00")), ("premier-care", "2020-04", D("219.00")),
        ("premier-care", "2020-06", D("-7.95")),
    ]  # fmt: skip
    assert later["closed"]["due_in_next_run"] == {}
    assert any("priced activity is now £3,331.05: changed since, a re-settlement is due" in named
               for named in later["identities"][2]["differences"])  # fmt: skip


def test_a_year_with_a_re_settlement_in_progress_is_not_closed(book, tmp_path):
    settled_year(book, tmp_path)
    issue(book, 1)
    import_visits(book, tmp_path, "may-late.csv", visits("premier-care", "zone-1", "2019-05", 10, "LATE"),
                  on=date(2020, 7, 10))  # fmt: skip
    draft(book, date(2020, 7, 11))  # re-settlement 2, a draft
    message = refused(book, "rule-broken", lambda: close(book))
    assert message == (
        "financial_year: re-settlement 2 of wirral-homecare 2019-20 is draft and not issued; issue or withdraw it "
        "before closing 2019-20"
    )
    assert views.year_end(book.read_engine, WIRRAL, YEAR) is None


def test_openbook_settle_close_from_the_command_line(openbook, book, tmp_path):
    settled_year(book, tmp_path)
    result = openbook("settle", "close", "--agreement", WIRRAL, "--year", YEAR, "--json")
    assert result.exit_code == 1 and "no issued settlement" in result.stderr
    issue(book, 1)
    result = openbook("settle", "close", "--agreement", WIRRAL, "--year", YEAR, "--reason", "accounts agreed",
                      "--effective", "2020-07-15", as_user=CCG_ACCOUNTANT.user)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("closed 2019-20 of wirral-homecare with settlement 1 of wirral-homecare 2019-20")


def test_a_corrected_return_of_a_closed_years_quarter_marks_its_settlement_out_of_date(book, tmp_path):
    """A 5% profit cap, so the settlement reads premier-care's accepted 2019-20-Q1 return (its clawback pending:
    three quarters have none). Reopened after the close, then accepted at revision 2: each state is named."""

    def profit_cap_and_a_return(b) -> None:
        b.agreements.set_profit_cap(on(date(2019, 4, 1), "maximum margin"), WIRRAL, "0.05")
        accepted_return(b, "premier-care", "2019-20-Q1", D("3000.00"), D("100.00"))

    settled_year(book, tmp_path, profit_cap_and_a_return)
    first = views.settlement(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), WIRRAL, YEAR)
    assert [(r["provider"], r["period"], r["accepted_revision"]) for r in first["references"]["cost_returns"]] == [
        ("premier-care", "2019-20-Q1", 1),
    ]  # fmt: skip
    issue(book, 1)
    close(book)
    accountant = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    book.returns.reopen_cost_return(by(CCG_ACCOUNTANT, date(2020, 8, 3), "mileage misstated"), WIRRAL, "premier-care",
                                    "2019-20-Q1")  # fmt: skip
    [stale] = views.settlement(book.read_engine, accountant, WIRRAL, YEAR)["out_of_date"]
    assert stale["note"] == (
        "2019-20 was closed; premier-care's 2019-20-Q1 cost return: settlement 1 used accepted revision 1, now not "
        "accepted (under review again): its excess surplus clawback changes in a re-settlement"
    )
    found: CostReturn = book.records.get(CostReturn.create_id(WIRRAL, "premier-care", "2019-20-Q1"), "return")
    found.amend(by(SYSTEM, date(2020, 8, 4), "mileage corrected"), filing(D("3000.00"), D("400.00")))
    if found.findings_to_explain():
        found.explain_breach(by(CCG_ACCOUNTANT, date(2020, 8, 5), "invented figures"), "invented figures")
    found.accept(by(CCG_ACCOUNTANT, date(2020, 8, 6), "corrected figures reconcile"))
    book.ledger.save(found)
    book.ledger.projections.bring_up_to_date("cost-returns", purpose="the test")
    [stale] = views.settlement(book.read_engine, accountant, WIRRAL, YEAR)["out_of_date"]
    assert stale["note"].endswith("used accepted revision 1, now accepted revision 2: its excess surplus clawback "
                                  "changes in a re-settlement")  # fmt: skip
    again = draft(book, date(2020, 9, 1))
    assert (again["sequence"], again["previous"]) == (2, 1)
    assert views.settlement(book.read_engine, accountant, WIRRAL, YEAR, 1)["out_of_date"][0]["note"] == stale["note"]
