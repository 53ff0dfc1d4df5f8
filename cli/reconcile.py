"""``openbook reconcile``: the year's figures that describe the same money, checked against each other.

    openbook --as accountant@wirral.example reconcile --agreement wirral-homecare --year 2019-20

Prints each identity (``ledger.queries.reconcile``) with its left and right
side, the difference, and "holds" or every difference named; exits 1 if any
identity differs, so a script (or CI on the demo) can rely on the status.
``--as-at`` checks the figures as the ledger knew them then (docs/as-at.md).
For accountants and auditors: a provider is refused.
"""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, as_at_option, emit, json_option, money, pass_context
from ledger.authorisation import access_for
from ledger.queries.reconcile import reconcile as reconciliation


def _lines(r: dict[str, Any]) -> list[str]:
    lines = [f"reconciliation of {r['agreement']} {r['financial_year']}: {r['verdict']}", *_closed_lines(r.get("closed"))]
    for i in r["identities"]:
        lines.append(f"{i['number']}. {i['identity']}: {i['status']}")
        if i["status"] == "not applicable":
            lines.append(f"   {i['finding']}")
            continue
        lines.append(f"   {i['left']['label']:<68} {money(i['left']['amount']):>18}")
        lines.append(f"   {i['right']['label']:<68} {money(i['right']['amount']):>18}")
        lines.extend(f"     {p['label']:<66} {money(p['amount']):>18}" for p in i["parts"])
        lines.append(f"   {'difference':<68} {money(i['difference']):>18}")
        lines.extend(f"   - {named}" for named in i["differences"])
    return lines


def _closed_lines(closed: dict[str, Any] | None) -> list[str]:
    """A closed year: when and with which settlement, and each closed-year adjustment with the run that paid it."""
    if closed is None:
        return []
    lines = [f"closed on {closed['closed_on']} by {closed['closed_by']} with settlement {closed['settlement']}"]
    lines.extend(f"   closed-year adjustment to {a['provider']} paid in the {a['month']} run {money(a['amount']):>18}"
                 for a in closed["adjustments"])  # fmt: skip
    lines.extend(f"   closed-year adjustment to {p} due in the next open run {money(v):>18}"
                 for p, v in closed["due_in_next_run"].items())  # fmt: skip
    return lines


@click.command()
@click.option("--agreement", required=True, help="The agreement's code.")
@click.option("--year", "financial_year", required=True, help="The financial year, e.g. 2019-20.")
@as_at_option
@json_option
@pass_context
@click.pass_context
def reconcile(
    ctx: click.Context, context: Context, agreement: str, financial_year: str, as_at: str | None, as_json: bool
) -> None:
    """Check the year's figures against each other: activity, payments, statements, incentives, settlement."""
    book = context.book
    access = access_for(book.records, context.actor(), agreement)  # who may look is decided on the live models
    found = reconciliation(context.read_engine(as_at), access, financial_year)
    emit(found, as_json, _lines)
    if not found["holds"]:
        ctx.exit(1)
