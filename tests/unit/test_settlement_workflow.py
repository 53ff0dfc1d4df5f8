"""A settlement's life: drafted, reviewed by someone else, approved by each commissioner, issued, never changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.settlement.gainshare import Band
from domain.settlement.settlement import Settlement, SettlementStatus, awaiting_approval, settlement_status
from domain.settlement.statement import SettlementInputs, compute_settlement

COUNCIL = Actor("accountant@wirral.example", "wirral-council")
CCG = Actor("accountant@wirralccg.example", "wirral-ccg")
DAY = date(2020, 6, 30)


def e(actor: Actor = COUNCIL, reason: str | None = None) -> Envelope:
    return Envelope(actor, DAY, reason)


def inputs(haven: str = "4080000.00") -> SettlementInputs:
    return SettlementInputs(
        agreement="wirral-homecare", financial_year="2019-20", target=D("12000000.00"),
        bands=(Band(None, D("0.9"), D("0.25")), Band(D("0.9"), None, D("0.5"))),
        contributions={"wirral-council": D("7200000.00"), "wirral-ccg": D("4800000.00")},
        activity={"premier-care": D("6120000.00"), "haven-care": D(haven)},
    )  # fmt: skip


def drafted(sequence: int = 1, previous: Settlement | None = None, haven: str = "4080000.00") -> Settlement:
    found = inputs(haven)
    return Settlement.draft(
        e(), inputs=found, statement=compute_settlement(found), sequence=sequence, references={"note": "test"},
        previous=previous,
    )  # fmt: skip


def issued() -> Settlement:
    s = drafted()
    s.review(e(CCG))
    s.approve(e(COUNCIL), "wirral-council")
    s.approve(e(CCG), "wirral-ccg")
    s.issue(e(COUNCIL))
    return s


def test_the_life_of_a_settlement():
    s = drafted()
    assert s.status is SettlementStatus.DRAFT and s.commissioners == ("wirral-ccg", "wirral-council")
    with pytest.raises(RuleBroken, match="has not been reviewed yet"):
        s.approve(e(), "wirral-council")
    with pytest.raises(RuleBroken, match="someone else must review it"):
        s.review(e(COUNCIL))
    s.review(e(CCG), "checked against the ledger")
    assert s.status is SettlementStatus.REVIEWED and s.reviewed.note == "checked against the ledger"
    s.approve(e(COUNCIL), "wirral-council")
    with pytest.raises(RuleBroken, match="awaiting approval by wirral-ccg"):
        s.issue(e())
    with pytest.raises(RuleBroken, match="already approved for wirral-council"):
        s.approve(e(COUNCIL), "wirral-council")
    with pytest.raises(RuleBroken, match="not a commissioner of this pool"):
        s.approve(e(COUNCIL), "elsewhere-council")
    s.approve(e(CCG), "wirral-ccg")
    assert s.status is SettlementStatus.APPROVED and s.awaiting == ()
    s.issue(e())
    assert s.status is SettlementStatus.ISSUED


def test_an_issued_settlement_never_changes():
    s = issued()
    for attempt in (lambda: s.review(e(CCG)), lambda: s.approve(e(CCG), "wirral-ccg"), lambda: s.issue(e()),
                    lambda: s.withdraw(e(reason="oops"))):  # fmt: skip
        with pytest.raises(RuleBroken, match="was issued on 2020-06-30 and never changes"):
            attempt()


def test_the_system_may_review_its_own_draft_and_a_withdrawal_needs_a_reason():
    s = Settlement.draft(Envelope(SYSTEM, DAY), inputs=inputs(), statement=compute_settlement(inputs()), sequence=1,
                         references={})  # fmt: skip
    s.review(e(COUNCIL))
    with pytest.raises(InvalidInput, match="reason"):
        s.withdraw(e())
    s.withdraw(e(reason="superseded"), superseded_by=2)
    assert s.status is SettlementStatus.WITHDRAWN and s.superseded_by == 2
    with pytest.raises(RuleBroken, match="was withdrawn"):
        s.approve(e(), "wirral-council")


def test_a_resettlement_shows_previous_new_and_difference_per_party():
    first = issued()
    again = drafted(2, previous=first, haven="4180000.00")
    assert again.previous == 1 and again.describe() == "re-settlement 2 of wirral-homecare 2019-20"
    haven = again.comparison["providers"]["haven-care"]["activity"]
    assert (haven["previous"], haven["new"], haven["difference"]) == (
        D("4080000.00"), D("4180000.00"), D("100000.00"),
    )  # fmt: skip
    # Actual rose £100,000 inside the 25% band (below 90%): the provider side's amount falls £25,000.
    shares = [again.comparison["providers"][p]["share"]["difference"] for p in ("haven-care", "premier-care")]
    assert sum(shares) == D("-25000.00")
    with pytest.raises(RuleBroken, match="only an issued settlement is re-settled"):
        drafted(3, previous=again)


def test_the_status_rule_the_read_model_shares():
    """``settlement_status`` is the aggregate's status; the settlements read model applies it to its rows."""
    pool = ("wirral-ccg", "wirral-council")
    assert awaiting_approval(pool, {"wirral-council": "signed"}) == ("wirral-ccg",)
    assert awaiting_approval(pool, ["wirral-ccg", "wirral-council"]) == ()

    def status(reviewed=True, approved=(), issued=False, withdrawn=False):
        return settlement_status(reviewed=reviewed, awaiting=awaiting_approval(pool, approved), issued=issued,
                                 withdrawn=withdrawn)  # fmt: skip

    assert status(reviewed=False) is SettlementStatus.DRAFT
    assert status() is status(approved=["wirral-ccg"]) is SettlementStatus.REVIEWED
    assert status(approved=pool) is SettlementStatus.APPROVED
    assert status(approved=pool, issued=True) is SettlementStatus.ISSUED
    assert status(reviewed=False, withdrawn=True) is status(withdrawn=True) is SettlementStatus.WITHDRAWN
    s = drafted()
    for step in (lambda: s.review(e(CCG)), lambda: s.approve(e(COUNCIL), "wirral-council"),
                 lambda: s.approve(e(CCG), "wirral-ccg"), lambda: s.issue(e())):  # fmt: skip
        step()
        expected = status(reviewed=s.reviewed is not None, approved=s.approvals, issued=s.issued is not None)
        assert s.status is expected and s.awaiting == awaiting_approval(s.commissioners, s.approvals)
