"""The incentive statement: a year's incentive assessment for each provider, with the working of each payment.

Built from ``ledger.queries.incentives.incentive_assessment`` (the latest run
by default): for each provider its baseline and actual hours with their
sources, the reduction and the threshold it must beat, the eligible hours,
each KPI's result and the gate, the payment with its working, and any cap.
A provider's access gives its own line only (the query narrows it, and the
partnership's total is withheld).

Hours are one kind of figure and get one format: right-aligned, to 2 places
(``Column.places``), in one table with each figure's source or working beside
it, so the baseline reads 560.00 as the threshold reads 28.00; money is
``format_gbp``, right-aligned, as everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.errors import NotFound
from domain.money import format_percent
from ledger.authorisation import Access
from ledger.queries.as_at import AsAt
from ledger.queries.incentives import incentive_assessment
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

__all__ = ["incentive_statement"]


#: Hours to 2 places wherever the statement shows them (the working figures are kept to the hundredth).
HOURS = 2


def _hours(line: dict[str, Any]) -> Table:
    reduction = format_percent(line["minimum_reduction"])
    rows = [
        {"figure": "Baseline", "hours": line["baseline_hours"], "basis": line["baseline_source"]},
        {"figure": "Actual", "hours": line["actual_hours"], "basis": line["actual_source"]},
        {"figure": "Reduction", "hours": line["reduction_hours"], "basis": "baseline − actual"},
        {"figure": "Threshold", "hours": line["threshold_hours"],
         "basis": f"the minimum reduction: {reduction} of the baseline"},
        {"figure": "Eligible hours", "hours": line["eligible_hours"], "basis": "the reduction beyond the threshold"},
    ]  # fmt: skip
    columns = [Column("figure", "Figure"), Column("hours", "Hours", "number", places=HOURS),
               Column("basis", "Source or working")]  # fmt: skip
    return Table("Hours: the baseline, the actual, and the reduction beyond the threshold that is paid", columns, rows,
                 frozenset({len(rows) - 1}))  # fmt: skip


def _provider(line: dict[str, Any], name: str) -> Section:
    cap = "Cap" if line["cap"] is None else ("Cap (reached: the payment is capped)" if line["capped"]
                                             else "Cap (not reached)")  # fmt: skip
    figures = Facts([
        ("Payment per eligible hour", line["payment_per_hour"], "money"),
        (cap, line["cap"], "money"),
        ("Payment", line["payment"], "money"),
        *([("Previous run's payment", line["previous_payment"], "money"),
           ("Difference", line["difference"], "money")] if line["previous_payment"] is not None else []),
    ])  # fmt: skip
    kpis = Table(
        "Each KPI's result (the gate: every KPI in it must be met)",
        [Column("kpi", "KPI"), Column("in_gate", "In the gate"), Column("result", "Result")],
        [{"kpi": note.split(" ", 1)[0], "in_gate": note.split(" ", 1)[0] in line["kpis_in_gate"],
          "result": note.split(" ", 1)[1] if " " in note else note} for note in line["kpi_notes"]],
        empty="no KPI results recorded",
    )  # fmt: skip
    gate = ("Gate passed: every KPI in it was met." if not line["missed_kpis"]
            else f"Gate failed: missed {', '.join(line['missed_kpis'])}.")  # fmt: skip
    return Section(f"{name}", [_hours(line), figures, Note(f"Working: {line['working']}."), kpis, Note(gate),
                               Note(line["reason"]), *(Note(c) for c in line["changes"])])  # fmt: skip


def incentive_statement(
    book: Openbook, access: Access, financial_year: str, *, provider: str | None = None, run: int | None = None,
    as_at: AsAt | None = None,
) -> Statement:
    """The incentive statement of the access's agreement for ``financial_year``: every provider the access shows,
    or ``provider`` alone."""
    v = incentive_assessment(reading(book, as_at), access, financial_year, run)
    called = names(book)
    lines = [line for line in v["lines"] if provider is None or line["provider"] == provider]
    if provider is not None and not lines:
        raise NotFound(f"the {financial_year} incentive assessment of {access.agreement} has no line for {provider}")
    summary = Facts([
        ("Assessment", f"run {v['run']}, effective {v['effective_date']:%-d %B %Y}", "text"),
        ("Recorded by", v["recorded_by"], "text"),
        ("Basis", v["basis"], "text"),
        *([("Total paid to every provider", v["total"], "money")] if v["total"] is not None and provider is None
          else []),
    ])  # fmt: skip
    rows = [{"provider": called.get(line["provider"], line["provider"]), "eligible": line["eligible"],
             "hours": line["eligible_hours"], "payment": line["payment"]} for line in lines]  # fmt: skip
    columns = [Column("provider", "Provider"), Column("eligible", "Eligible"),
               Column("hours", "Eligible hours", "number", places=HOURS),
               Column("payment", "Payment", "money")]  # fmt: skip
    sections = [Section("Summary", [summary, Note(v["reason"] or ""), Table("Each provider's payment", columns, rows)])]
    sections += [_provider(line, called.get(line["provider"], line["provider"])) for line in lines]
    for_whom = [called.get(line["provider"], line["provider"]) for line in lines]
    commissioners = issuers(book, v["agreement"], as_at)
    title = f"Incentive statement, {financial_year}" + (f": {for_whom[0]}" if len(for_whom) == 1 else "")
    return Statement(
        title=title,
        agreement_code=v["agreement"],
        agreement_name=agreement_name(book, v["agreement"]),
        period=financial_year,
        parties=[*commissioners,
                 *(Party("provider", line["provider"], name) for line, name in zip(lines, for_whom, strict=True))],
        sections=sections,
        provenance=provenance(book, [(f"the incentive assessment, run {v['run']}", v["position"])], as_at=as_at),
        author=issued_by(commissioners),
        subject=f"The {financial_year} incentive assessment: baseline, actual, threshold, eligible hours, each KPI "
        "and the gate, the payment and any cap.",
        kind="incentive",
    )
