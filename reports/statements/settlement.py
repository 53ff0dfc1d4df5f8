"""The settlement statement: a year's risk and gain share settlement, every step of its arithmetic, and who signed it.

Built from ``ledger.queries.settlements.settlement`` as the reader may see it:
an accountant's access gives the whole partnership's statement (every
provider, every commissioner, and the year's reconciliation from
``ledger.queries.reconcile``); a provider's access gives that provider's own
statement (its lines and the pool's shared totals, never another provider's
figures — the query already narrowed them). ``commissioner`` narrows an
accountant's statement to one commissioner's position: one statement per party.

Nothing here computes a figure: every amount is the settlement's own, with the
working the domain wrote for it (``formula``), so the statement shows the same
arithmetic ``openbook settle show`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.errors import NotFound
from domain.money import format_percent, total
from ledger.authorisation import Access, only_provider
from ledger.queries.as_at import AsAt
from ledger.queries.reconcile import reconcile
from ledger.queries.settlements import settlement
from reports.charts import share_bands_chart
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
)
from reports.tables import Column

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["settlement_statement"]

#: Each party's figures in the order, and with the names, the statement shows them: the positions' columns and a
#: re-settlement's rows of what changed use the same words.
_PROVIDER_FIGURES = {"activity": "Priced activity", "incentives": "Incentives", "share": "Share",
                     "clawback": "Clawback", "paid": "Paid on account", "balance": "Balance due"}  # fmt: skip
_COMMISSIONER_FIGURES = {"contribution": "Contribution", "cost": "Cost", "pool_balance": "Pool balance"}

#: Steps drawn as totals: the figures the rest of the arithmetic turns on.
_TOTAL_STEPS = {"actual spend", "variance", "provider side's amount before cap", "provider side's amount after cap"}


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _steps(s: Mapping[str, Any], called: Mapping[str, str]) -> Table:
    rows = [
        {"label": step["label"], "party": called.get(step["party"], step["party"]) if step["party"] else "",
         "formula": step["formula"], "amount": step["amount"]}
        for step in s["steps"]
    ]  # fmt: skip
    totals = frozenset(i for i, step in enumerate(s["steps"]) if step["label"] in _TOTAL_STEPS and not step["party"])
    columns = [Column("label", "Step"), Column("party", "Party"), Column("formula", "Working"),
               Column("amount", "Amount", "money")]  # fmt: skip
    return Table("Every step of the settlement, in order", columns, rows, totals)


def _band(lower: Decimal | None, upper: Decimal | None) -> str:
    """A band by its stretch of actual spend, in percent of target: "below 90%", "90% to 100%", "above 110%" (its
    share has a column of its own, so the name stays short)."""
    if lower is None and upper is None:
        return "all spend"
    if lower is None:
        return f"below {format_percent(upper)}"
    if upper is None:
        return f"above {format_percent(lower)}"
    return f"{format_percent(lower)} to {format_percent(upper)}"


def _bands(s: Mapping[str, Any]) -> Table:
    rows = [
        {"band": _band(b["lower"], b["upper"]), "from": b["spend_from"], "to": b["spend_to"],
         "variance": b["variance_in_band"], "share": _percent(b["provider_share"]), "amount": b["provider_amount"]}
        for b in s["bands"]
    ]  # fmt: skip
    rows.append({"band": "total, before cap", "from": "", "to": "", "variance": "",
                 "share": "", "amount": s["provider_amount_uncapped"]})  # fmt: skip
    columns = [Column("band", "Band (% of target)"), Column("from", "Spend from", "money"),
               Column("to", "Spend to", "money"),
               Column("variance", "Variance in band", "money"), Column("share", "Provider share", "number"),
               Column("amount", "Provider side's amount", "money")]  # fmt: skip
    return Table("The gain and pain share bands (an empty 'from' or 'to' is no limit)", columns, rows,
                 frozenset({len(rows) - 1}))  # fmt: skip


def _clawbacks(s: Mapping[str, Any], called: Mapping[str, str]) -> Table:
    rows = [
        {"provider": called.get(c["provider"], c["provider"]), "total": c["total"], "surplus": c["surplus"],
         "permitted": c["permitted"], "excess": c["excess"], "amount": c["amount"],
         "formula": ("pending: " if c["pending"] else "") + c["formula"]}
        for c in s["clawbacks"]
    ]  # fmt: skip
    columns = [Column("provider", "Provider"), Column("total", "Total cost", "money"),
               Column("surplus", "Surplus", "money"), Column("permitted", "Permitted", "money"),
               Column("excess", "Excess", "money"), Column("amount", "Clawback", "money"),
               Column("formula", "Working")]  # fmt: skip
    return Table("Excess surplus clawbacks (the profit cap)", columns, rows, empty="no clawback applies")


def _providers(s: Mapping[str, Any], called: Mapping[str, str]) -> Table:
    figures = tuple(_PROVIDER_FIGURES)
    rows: list[dict[str, Any]] = [
        {"provider": called.get(p, p), **{f: x[f] for f in figures}} for p, x in s["providers"].items()
    ]
    totals: frozenset[int] = frozenset()
    if len(rows) > 1:
        rows.append({"provider": "all providers", **{f: total(r[f] for r in rows) for f in figures}})
        totals = frozenset({len(rows) - 1})
    columns = [Column("provider", "Provider"),
               *(Column(figure, heading, "money") for figure, heading in _PROVIDER_FIGURES.items())]  # fmt: skip
    return Table("Each provider's amount (balance = activity + incentives + share − clawback − paid on account)",
                 columns, rows, totals)  # fmt: skip


def _commissioners(s: Mapping[str, Any], called: Mapping[str, str], shown: Sequence[str]) -> Table:
    rows = [
        {"commissioner": called.get(c, c), "contribution": x["contribution"], "cost": x.get("cost"),
         "pool_balance": x.get("pool_balance")}
        for c, x in ((c, s["commissioners"][c]) for c in shown)
    ]  # fmt: skip
    columns = [Column("commissioner", "Commissioner"),
               *(Column(figure, heading, "money") for figure, heading in _COMMISSIONER_FIGURES.items())]  # fmt: skip
    return Table("Each commissioner's position (a provider's statement shows contributions only)", columns, rows)


def _in_order(figures: Mapping[str, Any], named: Mapping[str, str]) -> list[tuple[str, Any]]:
    """(label, row) for a party's compared figures: the statement's own names, in its columns' order (any figure
    it has no name for last, its key in words)."""
    order = list(named)
    keys = sorted(figures, key=lambda f: (order.index(f) if f in order else len(order), f))
    return [(named.get(f, f.replace("_", " ")), figures[f]) for f in keys]


def _comparison(v: Mapping[str, Any], called: Mapping[str, str], commissioners: Sequence[str]) -> Section | None:
    """A re-settlement's previous, new and difference for each party's figures, labelled as the positions are: the
    providers, then the commissioners in the statement's order (``commissioners``)."""
    comparison = v.get("comparison")
    if not comparison:
        return None
    named = {"providers": _PROVIDER_FIGURES, "commissioners": _COMMISSIONER_FIGURES}
    rank = {c: i for i, c in enumerate(commissioners)}
    parties = {
        "providers": list(comparison.get("providers", {}).items()),
        "commissioners": sorted(comparison.get("commissioners", {}).items(), key=lambda x: rank.get(x[0], len(rank))),
    }
    rows = [
        {"party": called.get(party, party), "figure": label, "previous": row["previous"], "new": row["new"],
         "difference": row["difference"]}
        for kind in ("providers", "commissioners")
        for party, figures in parties[kind]
        for label, row in _in_order(figures, named[kind])
        if isinstance(row, Mapping) and "difference" in row
    ]  # fmt: skip
    columns = [Column("party", "Party"), Column("figure", "Figure"), Column("previous", "Previous", "money"),
               Column("new", "New", "money"), Column("difference", "Difference", "money")]  # fmt: skip
    caption = f"Settlement {v['sequence']} against settlement {v['previous']}: previous, new and the difference"
    return Section("Re-settlement: what changed", [Table(caption, columns, rows)])


def _signatures(v: Mapping[str, Any], called: Mapping[str, str]) -> Section:
    rows = []

    def add(step: str, sig: Mapping[str, Any] | None) -> None:
        if sig is not None:
            organisation = sig["organisation"] or ""
            rows.append({"step": step, "user": sig["user"], "organisation": called.get(organisation, organisation),
                         "on": sig["on"], "note": sig.get("note") or ""})  # fmt: skip

    add("drafted", v.get("drafted"))
    add("reviewed", v.get("reviewed"))
    for commissioner, sig in (v.get("approvals") or {}).items():
        add(f"approved for {called.get(commissioner, commissioner)}", sig)
    add("issued", v.get("issued"))
    add("withdrawn", v.get("withdrawn"))
    columns = [Column("step", "Step"), Column("user", "By"), Column("organisation", "Organisation"),
               Column("on", "On", "date"), Column("note", "Note")]  # fmt: skip
    blocks: list[Any] = [Table("Drafting, review, approval and issue", columns, rows)]
    if v.get("awaiting"):
        waiting = ", ".join(called.get(c, c) for c in v["awaiting"])
        blocks.append(Note(f"Awaiting approval by: {waiting}. Until every commissioner approves and it is issued, "
                           "this settlement is a draft and its figures may change."))  # fmt: skip
    return Section("Reviews and approvals", blocks)


def _reconciliation(engine: Any, access: Access, year: str) -> Section:
    found = reconcile(engine, access, year)
    rows = [
        {"number": i["number"], "identity": i["identity"], "left": i["left"]["amount"],
         "right": i["right"]["amount"], "difference": i["difference"], "finding": i["finding"]}
        for i in found["identities"]
    ]  # fmt: skip
    columns = [Column("number", "No.", "number"), Column("identity", "Identity"), Column("left", "Left", "money"),
               Column("right", "Right", "money"), Column("difference", "Difference", "money"),
               Column("finding", "Finding")]  # fmt: skip
    verdict = "Every identity holds to the penny." if found["holds"] else "An identity does not hold: see its finding."
    blocks: list[Any] = [Note(verdict, warning=not found["holds"]),
                         Table(f"The year's reconciliation, {year}", columns, rows)]  # fmt: skip
    return Section("The year's reconciliation", blocks)


def settlement_statement(
    book: Openbook, access: Access, financial_year: str, *, sequence: int | None = None,
    commissioner: str | None = None, as_at: AsAt | None = None,
) -> Statement:  # fmt: skip
    """The settlement statement of the access's agreement for ``financial_year`` (default: the latest settlement).

    With a provider's access it is that provider's statement; with an
    accountant's, the partnership's, or one commissioner's with ``commissioner``. With ``as_at``, as the ledger
    knew it then (``ledger.queries.as_at``): the same figures, cited at the head of that moment.
    """
    engine = reading(book, as_at)
    v = settlement(engine, access, access.agreement, financial_year, sequence)
    s = v["statement"]
    called = names(book)
    own = only_provider(access)
    if commissioner is not None and commissioner not in s["commissioners"]:
        raise NotFound(f"{commissioner!r} is not a commissioner of the {v['financial_year']} settlement")
    issuing = issuers(book, v["agreement"], as_at)
    joined = {p.code: i for i, p in enumerate(issuing)}
    in_order = sorted(s["commissioners"], key=lambda c: joined.get(c, len(joined)))  # as they joined the agreement
    shown = [commissioner] if commissioner else in_order
    parties = [Party("commissioner", c, called.get(c, c)) for c in shown]
    parties += [Party("provider", p, called.get(p, p)) for p in s["providers"]]
    kind = "Re-settlement statement" if v.get("previous") else "Settlement statement"
    for_whom = called.get(own, own) if own else called.get(commissioner, commissioner) if commissioner else None
    title = f"{kind}, {v['financial_year']}" + (f": {for_whom}" if for_whom else "")
    status = v["status"] + (f", re-settles settlement {v['previous']}" if v.get("previous") else "")
    summary = Facts([
        ("Settlement", f"number {v['sequence']} ({status})", "text"),
        ("Target spend", s["target"], "money"),
        ("Actual spend", s["actual"], "money"),
        ("Variance (target − actual)", s["variance"], "money"),
        ("Provider side's amount before cap", s["provider_amount_uncapped"], "money"),
        ("Provider side's amount after cap", s["provider_amount"], "money"),
        ("Removed by the cap (stays with the commissioners)", s["removed_by_cap"], "money"),
        *([("Excess surplus clawbacks", s["clawback_total"], "money")] if "clawback_total" in s else []),
        *([("Commissioners' cost", s["commissioner_cost"], "money")] if "commissioner_cost" in s else []),
    ])  # fmt: skip
    warnings = [Note(f"Out of date: {stale['note']}", warning=True) for stale in v.get("out_of_date") or ()]
    compared = _comparison(v, called, in_order)
    sections = [
        Section("Summary", [*warnings, summary]),
        *([compared] if compared is not None else []),  # what a re-settlement changed, next to its summary
        Section("Each party's amount", [_providers(s, called), _commissioners(s, called, shown)]),
        Section("The banded share, step by step", [
            Figure("The bands along actual spend, with the target and the year's actual",
                   share_bands_chart(s, year=v["financial_year"])),
            _bands(s),
            _steps(s, called),
        ]),  # fmt: skip
        Section("Caps and clawbacks", [_clawbacks(s, called)]),
    ]
    sections.append(_signatures(v, called))
    if own is None:
        sections.append(_reconciliation(engine, access, v["financial_year"]))
    built_from = [(f"settlement {v['sequence']} (its last recorded event)", v["event_position"])]
    activity = (v.get("references") or {}).get("activity") or {}
    if activity.get("event_position"):
        built_from.append(("priced activity as read at drafting", activity["event_position"]))
    return Statement(
        title=title,
        agreement_code=v["agreement"],
        agreement_name=agreement_name(book, v["agreement"]),
        period=v["financial_year"],
        parties=parties,
        sections=sections,
        provenance=provenance(book, built_from, as_at=as_at),
        author=issued_by(issuing),
        subject=f"The {v['financial_year']} risk and gain share settlement of the pooled budget: target, actual, "
        "the banded share step by step, caps, clawbacks and each party's amount.",
        kind="settlement",
    )
