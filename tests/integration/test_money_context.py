"""Money through the ledger never depends on the caller's decimal context, on SQLite and PostgreSQL.

A command and its read model run in the caller's thread; whatever that
thread's default context is (here 6 digits, rounding down), a return's
figures are filed, checked, projected and read to the penny, because every sum
and rounding is done in ``domain.money.EXACT``.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, localcontext

from domain.envelope import SYSTEM
from domain.returns.filing import CostReturnFiling
from ledger.authorisation import accountant_access
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL
from tests.integration.returns_setup import COUNCIL_ACCOUNTANT, by, filing_data, finance, setup

PREMIER = finance("premier-care")


def test_a_return_of_large_figures_is_filed_and_read_to_the_penny_under_a_hostile_default_context(
    book, hostile_default_context
):
    # 123,457 contact hours of the 2020-21 minimum price: £20.69 × 123,457 = £2,554,325.33 as stated, of which
    # contact pay £8.72 × 123,457 = £1,076,545.04; £20.6900 an hour; on-costs £3.11 of pay £10.42 = 29.85%.
    with localcontext(Context()):  # the set-up and the filed text, as any caller would make them
        setup(book)
        data = {**filing_data(hours=123_457), "stated_total": "2554325.33"}
    filed = CostReturnFiling.parse(data)  # the stated total is checked against the lines' sum
    book.returns.draft_cost_return(by(PREMIER, date(2020, 10, 5)), WIRRAL, "premier-care", "2020-21-Q2", filed)
    book.returns.submit_cost_return(by(PREMIER, date(2020, 10, 6)), WIRRAL, "premier-care", "2020-21-Q2")
    book.returns.accept_cost_return(by(COUNCIL_ACCOUNTANT, date(2020, 10, 9)), WIRRAL, "premier-care", "2020-21-Q2")

    access = accountant_access(book.records, SYSTEM, WIRRAL)
    sheet = views.return_sheet(book.read_engine, access, "premier-care", "2020-21-Q2")
    totals = {key: str(sheet["totals"][key]) for key in ("total_cost", "stated_total", "total_per_hour")}
    assert totals == {"total_cost": "2554325.33", "stated_total": "2554325.33", "total_per_hour": "20.6900"}
    assert str(sheet["totals"]["on_costs_percent_of_pay"]) == "29.85"
    [contact_pay] = [line for line in sheet["lines"] if line["line"] == "contact_pay"]
    assert (str(contact_pay["amount"]), str(contact_pay["per_hour"])) == ("1076545.04", "8.7200")
    [listed] = views.list_returns(book.read_engine, access, "2020-21-Q2")
    assert (listed["status"], str(listed["total_per_hour"])) == ("accepted", "20.6900")
