"""A settlement drafted, reviewed, approved by each commissioner, issued and re-settled, on SQLite and PostgreSQL.

The worked example (every visit 60 minutes at £15.60):

* premier-care 20 visits (£312.00), haven-care 10 (£156.00): actual £468.00,
  all paid on account in the April and May runs;
* target £520.00, DOMAIN.md's bands, a £20.00 gain cap: £468.00 is 90% of
  target, so the variance £52.00 lies in the 90–100% band: £52.00 × 50% =
  £26.00, capped to £20.00 (the £6.00 removed stays with the commissioners);
  split 312:156 — premier £13.33, haven £6.67;
* the agreement's maximum profit margin is 5%; haven's accepted 2019-20
  return: total £10,000.00 with £800.00 surplus (8%): permitted £500.00,
  excess £300.00 × the pool's 50% clawback share = £150.00;
* commissioners' cost £468.00 + £20.00 − £150.00 = £338.00: council 60%
  £202.80, CCG 40% £135.20;
* balances: premier £312.00 + £13.33 − £312.00 = £13.33; haven £156.00 +
  £6.67 − £150.00 − £156.00 = −£143.33 (owed back).

Then two late May visits of premier-care's arrive (+£31.20): actual £499.20,
variance £20.80 × 50% = £10.40 (under the cap), split 343.20:156 — premier
£7.15, haven £3.25; cost £499.20 + £10.40 − £150.00 = £359.60: council
£215.76, CCG £143.84; balances premier £38.35 (+£25.02), haven −£146.75
(−£3.42).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from domain.envelope import SYSTEM
from domain.errors import InvalidInput, NotAllowed, NotFound, RuleBroken
from domain.settlement.settlement import SettlementStatus
from ledger.authorisation import access_for, accountant_access, provider_access
from ledger.projections.settlements import SettlementsProjection
from ledger.queries import settlements as views
from ledger.queries.reconcile import reconcile
from tests.integration.settlement_setup import (
    BANDS,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    HAVEN_FINANCE,
    OUTSIDER,
    PREMIER_FINANCE,
    YEAR,
    accepted_return,
    by,
    check_settlements_read_as_recorded,
    import_visits,
    setup,
    visits,
)

WIRRAL = "wirral-homecare"
DRAFTED_ON = date(2020, 6, 30)


#: haven-care's accepted return of the worked example: (period, total before surplus, surplus).
ANNUAL_RETURN = ((YEAR, D("9200.00"), D("800.00")),)


def year_of_care(book, tmp_path, haven_returns=ANNUAL_RETURN) -> None:
    setup(book)
    book.agreements.set_profit_cap(by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "open-book audit: 5% maximum margin"), WIRRAL, "0.05")
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool agreed"), WIRRAL, YEAR,
        target="520.00", bands=BANDS, gain_cap="20.00", clawback_share="0.5",
    )  # fmt: skip
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5),
            *visits("premier-care", "zone-1", "2019-05", 10), *visits("haven-care", "zone-3", "2019-05", 5)]  # fmt: skip
    import_visits(book, tmp_path, "spring.csv", rows)
    for month, on in (("2019-04", date(2019, 5, 10)), ("2019-05", date(2019, 6, 10))):
        book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, on, "monthly payment"), WIRRAL, month)
    for period, before_surplus, surplus in haven_returns:
        accepted_return(book, "haven-care", period, before_surplus, surplus)


def draft(book, actor=COUNCIL_ACCOUNTANT, reason="year-end settlement"):
    return book.settlements.draft_settlement(by(actor, DRAFTED_ON, reason), WIRRAL, YEAR)


def shown(book, access, sequence=None):
    return views.settlement(book.read_engine, access, WIRRAL, YEAR, sequence)


def figures(view, kind: str, figure: str) -> dict[str, str]:
    return {party: x[figure] for party, x in view["statement"][kind].items()}


def test_draft_review_approve_by_each_commissioner_issue_then_resettle(book, tmp_path):
    year_of_care(book, tmp_path)
    with pytest.raises(NotFound, match="no settlement of 'wirral-homecare' for 2019-20 has been drafted"):
        shown(book, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL))

    first = draft(book)
    assert (first["sequence"], first["status"], first["recorded"]) == (1, "draft", True)
    s = first["statement"]
    assert (s["actual"], s["variance"]) == ("468.00", "52.00")
    assert (s["provider_amount_uncapped"], s["provider_amount"], s["removed_by_cap"]) == ("26.00", "20.00", "6.00")
    assert figures(first, "providers", "share") == {"haven-care": "6.67", "premier-care": "13.33"}
    assert figures(first, "providers", "clawback") == {"haven-care": "150.00", "premier-care": "0.00"}
    assert figures(first, "providers", "balance") == {"haven-care": "-143.33", "premier-care": "13.33"}
    assert figures(first, "commissioners", "cost") == {"wirral-ccg": "135.20", "wirral-council": "202.80"}
    assert s["commissioner_cost"] == "338.00"
    [clawback] = s["clawbacks"]
    assert (D(clawback["permitted"]), D(clawback["excess"]), clawback["amount"]) == (D("500"), D("300"), "150.00")
    refs = first["references"]
    assert refs["activity"]["visits"] == 30 and refs["payments"]["months"] == ["2019-04", "2019-05"]
    assert [(r["provider"], r["period"], r["accepted_revision"]) for r in refs["cost_returns"]] == [
        ("haven-care", "2019-20", 1)
    ]
    assert refs["rate_card"]["version"] >= 1 and refs["pooled_budget"]["version"] == 1

    again = draft(book, reason="once more")  # the same figures: nothing recorded
    assert (again["sequence"], again["recorded"]) == (1, False)
    assert check_settlements_read_as_recorded(book) == 1

    with pytest.raises(RuleBroken, match="someone else must review it"):
        book.settlements.review_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    with pytest.raises(NotAllowed):
        book.settlements.review_settlement(by(HAVEN_FINANCE, DRAFTED_ON), WIRRAL, YEAR, 1)
    with pytest.raises(RuleBroken, match="has not been reviewed yet"):
        book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    reviewed = book.settlements.review_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 3)), WIRRAL, YEAR, 1, "ties to the ledger")
    assert reviewed["status"] == "reviewed" and reviewed["awaiting"] == ["wirral-ccg", "wirral-council"]
    check_settlements_read_as_recorded(book)

    with pytest.raises(NotAllowed):  # a provider under the agreement: refused by role
        book.settlements.approve_settlement(by(HAVEN_FINANCE, date(2020, 7, 6)), WIRRAL, YEAR, 1)
    with pytest.raises(NotFound):  # a council with no part in it: as if the agreement did not exist
        book.settlements.approve_settlement(by(OUTSIDER, date(2020, 7, 6)), WIRRAL, YEAR, 1)
    with pytest.raises(NotAllowed, match="approves for wirral-council, not wirral-ccg"):
        book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 6)), WIRRAL, YEAR, 1, "wirral-ccg")
    with pytest.raises(InvalidInput, match="name the commissioner"):
        book.settlements.approve_settlement(by(SYSTEM, date(2020, 7, 6)), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 6)), WIRRAL, YEAR, 1)
    check_settlements_read_as_recorded(book)
    with pytest.raises(RuleBroken, match="awaiting approval by wirral-ccg"):
        book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 7)), WIRRAL, YEAR, 1)
    approved = book.settlements.approve_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 8)), WIRRAL, YEAR, 1)
    assert approved["status"] == "approved" and approved["awaiting"] == []
    check_settlements_read_as_recorded(book)
    issued = book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 10), "signed off"), WIRRAL, YEAR, 1)
    assert (issued["status"], issued["issued_on"]) == ("issued", "2020-07-10")
    check_settlements_read_as_recorded(book)

    # An issued settlement never changes; the settled year takes no more payment runs.
    with pytest.raises(RuleBroken, match="never changes"):
        book.settlements.approve_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 11)), WIRRAL, YEAR, 1)
    with pytest.raises(RuleBroken, match="never changes"):
        book.settlements.withdraw_settlement(by(COUNCIL_ACCOUNTANT, date(2020, 7, 11), "oops"), WIRRAL, YEAR, 1)
    with pytest.raises(RuleBroken, match="settled"):
        book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2020, 7, 11), "June"), WIRRAL, "2019-06")
    with pytest.raises(RuleBroken, match="nothing has changed since settlement 1 of wirral-homecare 2019-20 was issued"):
        draft(book)

    # A late correction: two more May visits of premier-care's (£31.20).
    late = visits("premier-care", "zone-1", "2019-05", 2, prefix="LATE")
    import_visits(book, tmp_path, "late.csv", late, date(2020, 8, 1))
    second = draft(book, reason="late visits from premier-care's call monitoring")
    assert (second["sequence"], second["previous"], second["status"]) == (2, 1, "draft")
    s = second["statement"]
    assert (s["actual"], s["provider_amount_uncapped"], s["provider_amount"]) == ("499.20", "10.40", "10.40")
    comparison = second["comparison"]
    assert comparison["providers"]["premier-care"]["balance"] == {
        "previous": "13.33", "new": "38.35", "difference": "25.02",
    }  # fmt: skip
    assert comparison["providers"]["haven-care"]["balance"] == {
        "previous": "-143.33", "new": "-146.75", "difference": "-3.42",
    }  # fmt: skip
    assert comparison["commissioners"]["wirral-council"]["cost"] == {
        "previous": "202.80", "new": "215.76", "difference": "12.96",
    }  # fmt: skip
    assert comparison["commissioners"]["wirral-ccg"]["cost"]["difference"] == "8.64"

    old = book.settlements.settlement(WIRRAL, YEAR, 1)
    assert old.status is SettlementStatus.ISSUED and old.statement["actual"] == D("468.00")
    assert check_settlements_read_as_recorded(book) == 2
    listed = views.list_settlements(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), YEAR)
    assert [(r["sequence"], r["status"], r["previous"]) for r in listed] == [(1, "issued", None), (2, "draft", 1)]
    assert [(a["commissioner"], a["user"]) for a in listed[0]["approved_by"]] == [
        ("wirral-council", "accountant@wirral.example"), ("wirral-ccg", "accountant@wirralccg.example"),
    ]  # fmt: skip
    assert listed[0]["commissioners"] == ["wirral-ccg", "wirral-council"]

    with pytest.raises(NotAllowed):
        views.list_settlements(book.read_engine, access_for(book.records, PREMIER_FINANCE, WIRRAL), YEAR)

    # A provider sees its own lines and the pool's, never another provider's figures.
    mine = shown(book, provider_access(book.records, PREMIER_FINANCE, WIRRAL, "premier-care"), 2)
    assert list(mine["statement"]["providers"]) == ["premier-care"]
    assert {step["party"] for step in mine["statement"]["steps"]} <= {"", "premier-care", "wirral-council", "wirral-ccg"}
    assert "inputs" not in mine and list(mine["comparison"]["providers"]) == ["premier-care"]
    assert "haven-care" not in str(mine["statement"])
    with pytest.raises(NotFound):  # another provider's statement, as if there were none
        shown(book, provider_access(book.records, HAVEN_FINANCE, WIRRAL, "premier-care"), 2)
    with pytest.raises(NotAllowed):  # a provider is never given every provider's figures
        accountant_access(book.records, PREMIER_FINANCE, WIRRAL)
    assert shown(book, access_for(book.records, PREMIER_FINANCE, WIRRAL)) == mine  # its own, by default; the latest
    everything = shown(book, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), 2)
    assert list(everything["statement"]["providers"]) == ["haven-care", "premier-care"] and "inputs" in everything
    with pytest.raises(NotFound, match="settlement 3 of 'wirral-homecare' for 2019-20 is not registered"):
        shown(book, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), 3)


def test_issue_is_refused_when_the_figures_changed_since_the_draft(book, tmp_path):
    year_of_care(book, tmp_path)
    draft(book)
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    assert shown(book, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL))["status"] == "approved"
    check_settlements_read_as_recorded(book)
    import_visits(book, tmp_path, "late.csv", visits("haven-care", "zone-3", "2019-05", 1, prefix="LATE"))
    with pytest.raises(RuleBroken, match=r"inputs changed since it was drafted \(activity\); draft the settlement again"):
        book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)

    redrafted = draft(book, reason="a late visit")
    assert (redrafted["sequence"], redrafted["previous"], redrafted["comparison"]) == (2, None, None)
    first = book.settlements.settlement(WIRRAL, YEAR, 1)
    assert first.status is SettlementStatus.WITHDRAWN and first.superseded_by == 2
    assert first.withdrawn.note == "superseded by settlement 2: a late visit"
    assert check_settlements_read_as_recorded(book) == 2


def test_the_read_model_rebuilds_to_the_same_rows(book, tmp_path):
    year_of_care(book, tmp_path)
    draft(book)
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    assert check_settlements_read_as_recorded(book) == 1

    def snapshot():
        with book.read_engine.connect() as conn:
            return {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr) for t in SettlementsProjection.tables}

    before = snapshot()
    assert len(before["payment_lines"]) == 4 and len(before["settlements"]) == 1
    book.projections.rebuild(["settlements"])
    assert snapshot() == before
    check_settlements_read_as_recorded(book)


def test_a_quarter_never_stands_for_the_year_the_clawback_waits_for_all_four(book, tmp_path):
    """Only haven-care's Q1 return is accepted: its clawback is pending, naming Q2-Q4; then the whole year's.

    Q1 alone (total £2,500.00, surplus £200.00: 8%) would claw back (£200.00 − 5% × £2,500.00) × 50% = £37.50,
    a quarter standing for the year. Pending, nothing is clawed back: cost £468.00 + £20.00 − £0.00 = £488.00,
    haven's balance £156.00 + £6.67 − £0.00 − £156.00 = £6.67.
    """
    q1 = ("2019-20-Q1", D("2300.00"), D("200.00"))
    year_of_care(book, tmp_path, haven_returns=(q1,))
    first = draft(book)
    s = first["statement"]
    [clawback] = s["clawbacks"]
    assert (clawback["provider"], clawback["pending"], clawback["amount"]) == ("haven-care", True, "0.00")
    [line] = [step for step in s["steps"] if step["party"] == "haven-care" and "clawback" in step["label"]]
    assert line["label"] == "excess surplus clawback (pending)" and line["amount"] == "0.00"
    assert line["formula"].startswith("pending: returns for 2019-20-Q2, Q3, Q4 not accepted;")
    assert line["formula"].endswith("[2019-20-Q1 revision 1]")
    assert figures(first, "providers", "clawback") == {"haven-care": "0.00", "premier-care": "0.00"}
    assert figures(first, "providers", "balance") == {"haven-care": "6.67", "premier-care": "13.33"}
    assert (s["clawback_total"], s["commissioner_cost"]) == ("0.00", "488.00")
    assert first["inputs"]["returns"]["haven-care"]["missing"] == ["2019-20-Q2", "2019-20-Q3", "2019-20-Q4"]

    # The rest of the year: Q2 £2,400.00 + £100.00, Q3 £2,450.00 + £50.00, Q4 £2,050.00 + £450.00.
    # All four: total £10,000.00, surplus £800.00 (8%); permitted 5% × £10,000.00 = £500.00;
    # excess £300.00 × 50% = £150.00; cost £488.00 − £150.00 = £338.00; haven £6.67 − £150.00 = −£143.33.
    for period, before_surplus, surplus in (
        ("2019-20-Q2", D("2400.00"), D("100.00")), ("2019-20-Q3", D("2450.00"), D("50.00")),
        ("2019-20-Q4", D("2050.00"), D("450.00")),
    ):  # fmt: skip
        accepted_return(book, "haven-care", period, before_surplus, surplus)
    second = draft(book, reason="every quarter's return accepted")
    s = second["statement"]
    [clawback] = s["clawbacks"]
    assert (clawback["pending"], D(clawback["total"]), D(clawback["surplus"])) == (False, D("10000"), D("800"))
    assert (D(clawback["permitted"]), D(clawback["excess"]), clawback["amount"]) == (D("500"), D("300"), "150.00")
    [line] = [step for step in s["steps"] if step["party"] == "haven-care" and "clawback" in step["label"]]
    assert line["label"] == "excess surplus clawback" and line["formula"].endswith(
        "[2019-20-Q1 revision 1, 2019-20-Q2 revision 1, 2019-20-Q3 revision 1, 2019-20-Q4 revision 1]"
    )
    assert (s["clawback_total"], s["commissioner_cost"]) == ("150.00", "338.00")
    assert figures(second, "providers", "balance") == {"haven-care": "-143.33", "premier-care": "13.33"}
    assert "missing" not in second["inputs"]["returns"]["haven-care"]


def test_an_issued_settlement_with_a_pending_clawback_is_out_of_date_once_the_year_is_complete(book, tmp_path):
    """Settlement 1 is issued with haven-care's clawback pending (only Q1 accepted). Q2 and Q3 accepted later
    change no figure (still pending); Q4 completes the year, so the clawback (£150.00) can be computed: the issued
    settlement is out of date, for the accountants and haven-care (premier-care's view does not name haven's
    returns), the reconciliation names it, and the re-settlement includes it."""
    year_of_care(book, tmp_path, haven_returns=(("2019-20-Q1", D("2300.00"), D("200.00")),))
    draft(book)
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    for accountant in (COUNCIL_ACCOUNTANT, CCG_ACCOUNTANT):
        book.settlements.approve_settlement(by(accountant, DRAFTED_ON), WIRRAL, YEAR, 1)
    book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON, "signed off"), WIRRAL, YEAR, 1)
    accountant = access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL)
    accepted_return(book, "haven-care", "2019-20-Q2", D("2400.00"), D("100.00"))
    accepted_return(book, "haven-care", "2019-20-Q3", D("2450.00"), D("50.00"))
    book.projections.catch_up()  # accepted_return saves straight to the ledger
    assert shown(book, accountant, 1)["out_of_date"] == []  # Q4 still missing: the clawback is still pending

    accepted_return(book, "haven-care", "2019-20-Q4", D("2050.00"), D("450.00"))
    book.projections.catch_up()
    [stale] = shown(book, accountant, 1)["out_of_date"]
    assert stale == {
        "what": "cost returns", "provider": "haven-care", "periods": ["2019-20-Q2", "2019-20-Q3", "2019-20-Q4"],
        "note": "haven-care's excess-surplus clawback was pending (returns for 2019-20-Q2, 2019-20-Q3, 2019-20-Q4 "
        "not accepted); 2019-20-Q2, 2019-20-Q3, 2019-20-Q4 are accepted now, so the clawback can be computed; "
        "draft the settlement again: a re-settlement includes it",
    }  # fmt: skip
    assert shown(book, access_for(book.records, HAVEN_FINANCE, WIRRAL, "haven-care"), 1)["out_of_date"] == [stale]
    assert shown(book, access_for(book.records, PREMIER_FINANCE, WIRRAL, "premier-care"), 1)["out_of_date"] == []
    third = reconcile(book.read_engine, accountant, YEAR)["identities"][2]
    assert third["status"] == "differs" and stale["note"] in third["differences"]

    again = draft(book, reason="every quarter's return accepted")
    assert (again["sequence"], again["statement"]["clawback_total"]) == (2, "150.00")
    [stale] = shown(book, accountant, 1)["out_of_date"]
    assert stale["note"].endswith("; settlement 2 (draft) includes it")
    assert shown(book, accountant, 2)["out_of_date"] == []
