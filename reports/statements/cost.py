"""The provider cost statement: one cost return as accepted, against the rate paid, the market and its own history.

Built from ``ledger.queries.returns``: the return's sheet (per-hour costs by
line, on-costs, surplus, travel, the wage-floor findings — with the
accountant's explanation, once recorded, in place of the instruction to record
one), the rate paid and
the gap, the market (anonymised quartiles only, and only where at least five
providers' returns are accepted — the query enforces it and says why not
otherwise), and the provider's last ``HISTORY`` periods as a chart. A
provider's access gives its own return only; an accountant's any provider's,
still with the anonymised market a provider sees (``provider_access`` for
it), since the statement goes to the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.money import format_quantity
from domain.returns.unit_costs import shown
from domain.returns.wage_checks import EXPLANATION_NEEDED
from ledger.authorisation import Access, only_provider, provider_access
from ledger.queries.as_at import AsAt
from ledger.queries.returns import history, market, return_sheet
from reports.charts import cost_breakdown_chart, market_chart, unit_cost_chart
from reports.statements.frame import (
    Facts,
    Figure,
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
)  # fmt: skip
from reports.tables import Column

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["HISTORY", "cost_statement"]

#: How many of the provider's periods the history shows (the latest ones).
HISTORY = 8


def _per_hour(value: Any) -> Any:
    """A per-hour figure as every page shows it, to the penny (the working figure keeps 4 places)."""
    return None if value is None else shown(value)


def _percent(value: Any) -> str | None:
    return None if value is None else f"{value}%"


def _lines(sheet: dict[str, Any]) -> Table:
    groups = {g["group"]: g["label"] for g in sheet["groups"]}
    rows = [{"label": line["label"], "group": groups.get(line["group"], line["group"]), "amount": line["amount"],
             "per_hour": _per_hour(line["per_hour"]), "note": line["note"] or ""}
            for line in sheet["lines"]]  # fmt: skip
    t = sheet["totals"]
    rows.append({"label": "total", "group": "", "amount": t["total_cost"], "per_hour": _per_hour(t["total_per_hour"]),
                 "note": ""})  # fmt: skip
    columns = [Column("label", "Cost line"), Column("group", "Group"), Column("amount", "Amount", "money"),
               Column("per_hour", "Per contact hour", "money"), Column("note", "Note")]  # fmt: skip
    return Table(f"Costs by line, per contact hour ({format_quantity(t['contact_hours'], places=2)} contact hours)", columns, rows,
                 frozenset({len(rows) - 1}))  # fmt: skip


def _findings(sheet: dict[str, Any]) -> list[Any]:
    """Each finding as a sentence. A finding that needs an explanation is a warning until one is recorded; once it
    is, the instruction to record one no longer applies, and the explanation (who, when, what) stands in its place.
    One explanation covers every finding of the revision that needs one, so it is shown once, after them."""
    if not sheet["findings"]:
        return [Note("No findings.")]
    blocks: list[Any] = []
    explained = None
    for f in sheet["findings"]:
        needed = bool(f.get("needs_explanation"))  # wage-floor flags that block nothing carry no such key
        if needed and f["explained"]:
            explained = f
            blocks.append(Note(f["message"].removesuffix(EXPLANATION_NEEDED) + "."))
        else:
            blocks.append(Note(f["message"], warning=needed))
    if explained is not None:
        blocks.append(Facts([("Explained by", explained["explained_by"], "text"),
                             ("Explained on", explained["explained_on"], "date"),
                             ("Explanation", explained["explanation"], "text")]))  # fmt: skip
    return blocks


def _market(view: dict[str, Any], sheet: dict[str, Any]) -> list[Any]:
    rate = sheet["rate"].shown_rate
    chart = Figure("Your cost per hour against the market", market_chart(view, rate=rate))
    if view.get("market") is None:
        return [Note(view["not_enough_providers"]["message"][0].upper() + view["not_enough_providers"]["message"][1:]
                     + "."), chart]  # fmt: skip
    m, own = view["market"], view.get("own") or {}
    labels = {g["group"]: g["label"] for g in sheet["groups"]}
    figures = [("total cost per hour", m["total"], own.get("total_per_hour")),
               *((labels.get(g, g), q, (own.get("groups") or {}).get(g)) for g, q in m["groups"].items())]
    rows = [{"what": what, **{k: _per_hour(v) for k, v in q.items()}, "yours": _per_hour(yours)}
            for what, q, yours in figures]  # fmt: skip
    columns = [Column("what", "Per contact hour"), Column("lower", "Lower quartile", "money"),
               Column("median", "Median", "money"), Column("upper", "Upper quartile", "money"),
               Column("yours", "Your return", "money")]  # fmt: skip
    caption = f"The market, {view['period']}: {m['contributors']} accepted provider returns, anonymised"
    return [Table(caption, columns, rows, frozenset({0})), chart]


def _history(periods: list[dict[str, Any]], provider_name: str) -> list[Any]:
    shown = periods[-HISTORY:]
    rows = [{"period": p["period"], "status": p["status"], "revision": p["revision"],
             "cost": _per_hour(p["total_per_hour"]), "rate": p["rate"].shown_rate, "gap": _per_hour(p["gap"])}
            for p in shown]  # fmt: skip
    columns = [Column("period", "Period"), Column("status", "Status"), Column("revision", "Revision", "number"),
               Column("cost", "Cost per hour", "money"), Column("rate", "Rate paid", "money"),
               Column("gap", "Gap (rate − cost)", "money")]  # fmt: skip
    chart = unit_cost_chart(shown, title=f"{provider_name}: cost per contact hour and rate paid")
    return [Table(f"The last {len(shown)} periods", columns, rows), Figure("Cost per hour over time", chart)]


def cost_statement(
    book: Openbook, access: Access, provider: str, period: str, *, as_at: AsAt | None = None
) -> Statement:
    """The cost statement of ``provider``'s return for ``period`` under the access's agreement."""
    engine = reading(book, as_at)
    sheet = return_sheet(engine, access, provider, period)
    provider = sheet["provider"]
    seen = access if only_provider(access) is not None else provider_access(book.records, access.actor,
                                                                               access.agreement, provider)  # fmt: skip
    view = market(engine, seen, sheet["period"])
    called = names(book)
    t, v, rate = sheet["totals"], sheet["volumes"], sheet["rate"]
    status = f"{sheet['status']}, revision {sheet['revision']}"
    summary = Facts([
        ("Return", status, "text"),
        ("Submitted", sheet["submitted_on"], "date"),
        ("Accepted", sheet["accepted_on"], "date"),
        ("Total cost per contact hour", _per_hour(t["total_per_hour"]), "money"),
        ("Rate paid per hour", rate.shown_rate, "money"),
        ("Gap (rate paid − cost)", _per_hour(sheet["gap"]), "money"),
        ("On-costs, % of pay", _percent(t["on_costs_percent_of_pay"]), "number"),
        ("Surplus, % of total", _percent(t["surplus_percent_of_total"]), "number"),
        ("Travel minutes per contact hour", t["travel_minutes_per_contact_hour"], "number"),
        ("Contact hours", format_quantity(t["contact_hours"], places=2), "number"),
        ("Lowest hourly pay", v.get("lowest_hourly_pay"), "money"),
    ])  # fmt: skip
    paid = Facts([("Rate paid", rate.shown_rate, "money"), ("Basis", rate.basis, "text"),
                  ("Average actually paid per hour", _per_hour(rate.average_paid), "money"),
                  ("How the average was found", rate.average_paid_basis, "text")])  # fmt: skip
    provider_name = called.get(provider, provider)
    sections = [
        Section("Summary", [summary]),
        Section("Costs per contact hour", [
            Figure("Cost per contact hour by cost group, against the rate paid", cost_breakdown_chart(sheet)),
            _lines(sheet),
        ]),  # fmt: skip
        Section("Wage floors and other findings", _findings(sheet)),
        Section("The rate paid", [paid]),
        Section("The market", _market(view, sheet)),
        Section("Your costs over time", _history(history(engine, access, provider), provider_name)),
    ]
    agreement = sheet["agreement"]
    commissioners = issuers(book, agreement, as_at)
    return Statement(
        title=f"Cost statement, {sheet['period']}: {provider_name}",
        agreement_code=agreement,
        agreement_name=agreement_name(book, agreement),
        period=sheet["period"],
        parties=[*commissioners, Party("provider", provider, provider_name)],
        sections=sections,
        provenance=provenance(book, [], as_at=as_at),
        author=issued_by(commissioners),
        subject=f"{provider_name}'s open-book cost return for {sheet['period']} as {sheet['status']}: costs per "
        "contact hour, the rate paid and the gap, the market and the provider's history.",
        kind="cost",
    )
