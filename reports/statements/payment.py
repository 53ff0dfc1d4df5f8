"""The monthly payment statement: what one provider was paid in one month's run, line by line, and the year so far.

Built from ``ledger.queries.settlements.payment_statement``: the run's lines
(priced activity by zone and service, or the capitated sum; the adjustment
line for earlier months with its arrears; closed-year adjustments), the
amount, the payments of the year to date, and priced activity less what was
paid on account of it. A provider's access gives its own statement only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.money import total
from ledger.authorisation import Access
from ledger.queries.as_at import AsAt
from ledger.queries.settlements import payment_statement as payment_view
from reports.statements.frame import (
    Facts,
    Note,
    Party,
    Section,
    Statement,
    Table,
    agreement_name,
    issued_by,
    issuers,
    names,
    provenance,
    reading,
)
from reports.tables import Column

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["payment_statement"]


def _lines(v: dict[str, Any]) -> Table:
    rows: list[dict[str, Any]] = [
        {"label": line["label"], "kind": line["kind"] + (f" (closed year {line['closed_year']})"
                                                         if line["closed_year"] else ""),
         "activity_month": line["activity_month"], "visits": line["visits"],
         "minutes": line["payable_minutes"], "arrears": line["arrears"], "amount": line["amount"]}
        for line in v["lines"]
    ]  # fmt: skip
    rows.append({"label": "paid in this run", "kind": "", "activity_month": "", "visits": "", "minutes": "",
                 "arrears": total(line["arrears"] for line in v["lines"]), "amount": v["amount"]})  # fmt: skip
    columns = [Column("label", "Line"), Column("kind", "Kind"), Column("activity_month", "For month"),
               Column("visits", "Visits", "number"), Column("minutes", "Payable minutes", "number"),
               Column("arrears", "Of which arrears", "money"), Column("amount", "Amount", "money")]  # fmt: skip
    return Table(f"The {v['month']} payment, line by line (arrears are part of a line's amount, not added to it)",
                 columns, rows, frozenset({len(rows) - 1}))  # fmt: skip


def _months(v: dict[str, Any]) -> Table:
    rows: list[dict[str, Any]] = [{"month": m["month"], "amount": m["amount"]} for m in v["months_paid"]]
    rows.append({"month": f"paid in {v['financial_year']} to date", "amount": v["cumulative_paid"]})
    columns = [Column("month", "Run"), Column("amount", "Paid", "money")]
    return Table(f"Payments of {v['financial_year']} to date", columns, rows, frozenset({len(rows) - 1}))


def payment_statement(
    book: Openbook, access: Access, provider: str, month: str, *, as_at: AsAt | None = None
) -> Statement:
    """``provider``'s payment statement for ``month`` (e.g. 2019-06) under the access's agreement."""
    v = payment_view(reading(book, as_at), access, provider, month)
    commissioners = issuers(book, v["agreement"], as_at)
    called = names(book)
    name = called.get(v["provider"], v["provider"])
    summary = Facts([
        ("Paid on", v["paid_on"], "date"),
        ("How it is paid", v["mechanism"], "text"),
        ("Amount of this payment", v["amount"], "money"),
        ("Paid in the year to date", v["cumulative_paid"], "money"),
        ("Priced activity of the year to date", v["priced_activity_to_date"], "money"),
        ("Closed-year adjustments in the payments to date", v["closed_year_adjustments_to_date"], "money"),
        ("Priced less paid on account (still due)", v["priced_less_paid"], "money"),
        ("Recorded by", v["recorded_by"], "text"),
    ])  # fmt: skip
    sections = [
        Section("Summary", [summary, Note(f"Basis: {v['basis']}.")]),
        Section("This month's payment", [_lines(v)]),
        Section("The year so far", [_months(v)]),
    ]
    return Statement(
        title=f"Payment statement, {v['month']}: {name}",
        agreement_code=v["agreement"],
        agreement_name=agreement_name(book, v["agreement"]),
        period=v["month"],
        parties=[*commissioners, Party("provider", v["provider"], name)],
        sections=sections,
        provenance=provenance(book, [(f"the {v['month']} payment run", v["event_position"])], as_at=as_at),
        author=issued_by(commissioners),
        subject=f"What {name} was paid in the {v['month']} run, line by line, and its payments of "
        f"{v['financial_year']} to date.",
        kind="payment",
    )
