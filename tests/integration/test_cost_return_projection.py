"""The cost return read model equals a rebuild from scratch, whatever the workflow did, on both databases.

Random sequences of workflow commands (file, submit, query, answer, amend,
explain, accept, reject, reopen), interleaved with what the wage findings
depend on (an admin's wage floor, the agreement's Real Living Wage
commitment), are run through the ledger; commands the rules refuse are
skipped, as a user would be refused. After each sequence the tables caught
up command by command must equal the tables rebuilt from the whole history,
and must say what the aggregates say.

So that the test cannot pass by having every command refused, each example
must record its opening drafts, and across the run the returns must have
been in every state (draft, submitted, queried, accepted, rejected) and met
both wage findings; one explicit example walks a return through all of them.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from domain.errors import OpenbookError
from domain.periods import FinancialYear, Quarter
from domain.returns.wage_floors import commitment_floor
from ledger.projections.cost_returns import cost_returns
from tests.integration.agreement_setup import WIRRAL, on
from tests.integration.returns_setup import (
    ADMIN,
    COUNCIL_ACCOUNTANT,
    by,
    filing,
    finance,
    setup,
    snapshot,
)
from tests.support import ledger_property

FILERS = ("premier-care", "aspire", "wirral-council")  # a provider, an alliance member, in-house costs
ACTIONS = ("draft", "submit", "query", "answer", "amend", "explain", "accept", "reject", "reopen", "floor", "commit")
LOWEST = ("7.90", "8.72", "9.60")
LINES = ("mileage", "contact_pay", "visits", "surplus")

step = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(FILERS), st.integers(min_value=0, max_value=2))
#: Each filer drafts first (one of three variants, mostly submitted at once), then anything, in any order.
opening = st.lists(st.tuples(st.integers(min_value=0, max_value=2), st.booleans()), min_size=3, max_size=3)
steps = st.tuples(opening, st.lists(step, min_size=4, max_size=16))


def run_step(book, period: Quarter, action: str, provider: str, n: int) -> None:
    day = period.start + timedelta(days=20 + n)
    filer = finance(provider) if provider != "wirral-council" else COUNCIL_ACCOUNTANT
    key = (WIRRAL, provider, str(period))
    if action == "draft":
        book.returns.draft_cost_return(by(filer, day), *key, filing(lowest=LOWEST[n], contact_pay=f"8.{72 + n}"))
    elif action == "submit":
        book.returns.submit_cost_return(by(filer, day), *key)
    elif action == "query":
        book.returns.query_cost_return(by(COUNCIL_ACCOUNTANT, day), *key, LINES[n], f"question {n}")
    elif action == "answer":
        open_ids = [q.query_id for q in book.returns.cost_return(*key).open_queries]
        book.returns.answer_cost_return_query(by(filer, day), *key, open_ids[0] if open_ids else "Q9", "an answer")
    elif action == "amend":
        book.returns.amend_cost_return(by(filer, day, "new figures"), *key, filing(lowest=LOWEST[n], mileage=f"1.{30 + n}"))
    elif action == "explain":
        book.returns.explain_wage_breach(by(COUNCIL_ACCOUNTANT, day), *key, "apprentices")
    elif action == "accept":
        book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, day), *key)
    elif action == "reject":
        book.returns.reject_cost_return(by(COUNCIL_ACCOUNTANT, day), *key, ["figures do not reconcile"])
    elif action == "reopen":
        book.returns.reopen_cost_return(by(COUNCIL_ACCOUNTANT, day), *key, "reopened")
    elif action == "floor":
        rate = ("8.80", "9.00", "9.70")[n]
        floor = "national-living-wage" if n < 2 else "real-living-wage"
        book.returns.add_wage_floor(by(ADMIN, day, "announced"), floor, period.start + timedelta(days=n), rate)
    elif action == "commit":
        book.agreements.set_living_wage_commitment(on(period.start + timedelta(days=n), "commitment"), WIRRAL, committed=n != 1)


#: One plan that takes Premier Care's return through every state and both findings (below the NLW, then explained).
EVERY_STATE = (
    [(0, True), (1, False), (2, True)],
    [
        ("query", "premier-care", 0), ("answer", "premier-care", 0), ("amend", "premier-care", 0),
        ("explain", "premier-care", 0), ("accept", "premier-care", 0), ("reopen", "premier-care", 0),
        ("reject", "premier-care", 0), ("commit", "premier-care", 0), ("amend", "premier-care", 1),
    ],
)  # fmt: skip


def test_incremental_projection_equals_rebuild_after_random_workflows(book):
    setup(book)
    quarters = itertools.count()
    reached: set[str] = set()
    findings_seen: set[str] = set()

    @ledger_property()
    @given(plan=steps)
    @example(plan=EVERY_STATE)
    def run(plan):
        variants, sequence = plan
        first = [("draft", provider, n) for provider, (n, _) in zip(FILERS, variants)]
        first += [("submit", provider, 0) for provider, (_, submit) in zip(FILERS, variants) if submit]
        sequence = first + sequence
        # Each example has its own quarter, so its returns are new; earlier examples' rows stay and are compared too.
        index = next(quarters)
        period = Quarter(FinancialYear(2019 + index // 4), index % 4 + 1)
        before = book.projections.head()
        for action, provider, n in sequence:
            try:
                run_step(book, period, action, provider, n)
            except OpenbookError:
                continue  # refused by a rule: nothing recorded
            if provider in FILERS and action not in ("floor", "commit"):
                reached.add(book.returns.cost_return(WIRRAL, provider, str(period)).status.value)
        assert book.projections.head() >= before + len(FILERS), "every filer's opening draft must be recorded"
        incremental = snapshot(book)
        book.projections.rebuild(["cost-returns"])
        assert snapshot(book) == incremental

        with book.read_engine.connect() as conn:
            rows = conn.execute(select(cost_returns).where(cost_returns.c.period == str(period))).all()
        for row in rows:
            aggregate = book.returns.cost_return(row.agreement, row.provider, row.period)
            assert (row.status, row.revision, row.open_queries, row.accepted_revision) == (
                aggregate.status.value,
                aggregate.current.number,
                len(aggregate.open_queries),
                aggregate.accepted_revision,
            )
            table, agreement = book.returns.wage_floor_table(), book.records.agreement(WIRRAL)
            findings = {
                f.kind.value
                for f in aggregate.wage_findings(
                    lambda d: commitment_floor(table, agreement.living_wage_commitment_on(d), d),
                    statutory_floor=table.statutory_floor_on,
                )
            }
            assert (row.nlw_breach, row.rlw_flag) == ("nlw-breach" in findings, "rlw-flag" in findings)
            assert row.nlw_explained == (aggregate.breach_explanation() is not None)
            findings_seen.update(findings)

    run()
    assert reached == {"draft", "submitted", "queried", "accepted", "rejected"}
    assert findings_seen == {"nlw-breach", "rlw-flag"}
