"""Read-side queries for KPI results and incentives: the KPI dashboard, result histories, schemes, assessments.

Each view of a provider's figures takes an access value from
``ledger.authorisation``: an accountant's (``AccountantAccess``) sees every
provider; a provider's (``ProviderAccess``) sees only its own rows, so a
provider never learns another's KPI results or incentive payment (nor the
total, which would reveal the others' sum); another provider's history is
``NotFound``. A scheme's terms are the agreement's, shown to anyone.

The KPIs in force and the awards of a period come from the agreement's read
models (``ledger.queries.agreements``), with the domain's own rule for an
award held during a period (``awards_during``).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from domain.agreements.terms import awards_during, kpis_on
from domain.checks import check_financial_year
from domain.errors import InvalidInput, NotFound
from domain.incentives.incentive_scheme import SchemeTerms, terms_for
from domain.incentives.kpi_results import target_words
from domain.periods import FinancialYear, PeriodFormatError, Quarter, parse_period
from ledger.authorisation import Access, only_provider, shown_provider
from ledger.jsonable import json_ready
from ledger.projections.incentives import (
    incentive_assessment_lines,
    incentive_assessments,
    incentive_schemes,
    kpi_result_log,
    kpi_results,
)
from ledger.queries import agreements as agreement_views
from ledger.queries.rows import read_rows

__all__ = [
    "incentive_assessment",
    "kpi_dashboard",
    "kpi_history",
    "scheme_sheet",
    "scheme_versions",
]


def _period(text: str | None) -> FinancialYear | Quarter | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except PeriodFormatError as error:
        raise InvalidInput(f"period: {error}") from None


# -- the KPI dashboard ----------------------------------------------------------------------------


def kpi_dashboard(engine: Engine, access: Access, period: str | None = None) -> dict[str, Any]:
    """Provider × KPI × period: each result's value, target, direction and met, and what is missing.

    With a financial year, its quarters' results are shown too. With a
    period, every provider awarded in it appears, and a KPI in force with no
    result shows as "no result" (which an incentive gate counts as missed).
    """
    agreement = access.agreement
    chosen = _period(period)
    r = kpi_results.c
    query = select(kpi_results).where(r.agreement == agreement)
    if isinstance(chosen, FinancialYear):
        query = query.where(r.financial_year == str(chosen))
    elif isinstance(chosen, Quarter):
        query = query.where(r.period == str(chosen))
    if only_provider(access):
        query = query.where(r.provider == only_provider(access))
    rows = read_rows(engine, query.order_by(r.provider, r.period, r.kpi))
    terms = agreement_views.agreement_terms(engine, agreement)
    kpis = kpis_on(terms.kpis, chosen.end if chosen else date.max)
    cells = {(row["provider"], row["period"]): {} for row in rows}
    for row in rows:
        row["target_words"] = target_words(row["direction"], row["target"])
        cells[(row["provider"], row["period"])][row["kpi"]] = row
    if chosen is not None:
        for award in awards_during(terms.awards, chosen.start, chosen.end):
            if only_provider(access) in (None, award.provider):
                cells.setdefault((award.provider, str(chosen)), {})
    summary = []
    for (provider, shown_period), results in sorted(cells.items()):
        missing = [k.code for k in kpis if k.code not in results]
        missed = sorted(code for code, row in results.items() if not row["met"])
        summary.append(
            {
                "provider": provider,
                "period": shown_period,
                "met": sorted(code for code, row in results.items() if row["met"]),
                "missed": missed,
                "no_result": missing,
                "all_met": not missed and not missing,
            }
        )
    return {
        "agreement": agreement,
        "period": None if chosen is None else str(chosen),
        "kpis": [
            {"kpi": k.code, "name": k.name, "measure": k.measure, "target": k.target, "direction": k.direction.value,
             "target_words": target_words(k.direction, k.target)}
            for k in kpis
        ],  # fmt: skip
        "rows": rows,
        "summary": summary,
    }


def kpi_history(engine: Engine, access: Access, provider: str, period: str) -> list[dict[str, Any]]:
    """Every recording and correction of a provider's results for a period: who, when, why, before and after.

    Another provider's history is ``NotFound`` to a provider's access, as if there were none.
    """
    agreement = access.agreement
    shown_provider(access, provider)
    chosen = _period(period)
    log = kpi_result_log.c
    query = (
        select(kpi_result_log)
        .where((log.agreement == agreement) & (log.provider == provider) & (log.period == str(chosen)))
        .order_by(log.position)
    )
    return read_rows(engine, query)


# -- schemes and assessments -------------------------------------------------------------------------


def scheme_versions(engine: Engine, agreement: str) -> list[dict[str, Any]]:
    """Every version of an agreement's scheme terms, in the order recorded (terms are not confidential)."""
    s = incentive_schemes.c
    return read_rows(engine, select(incentive_schemes).where(s.agreement == agreement).order_by(s.position))


def _terms(row: dict[str, Any]) -> SchemeTerms:
    """A version of the terms, as the domain's ``SchemeTerms``, from its row."""
    fixed = dict(pair.split("=") for pair in row["fixed_baselines"].split("; ") if pair)
    return SchemeTerms.from_fields(
        {**row, "fixed_baselines": {p: Decimal(h) for p, h in fixed.items()}, "kpis": row["kpis"].split()}
    )


def _terms_json(terms: SchemeTerms) -> dict[str, Any]:
    return {**terms.as_fields(), "described": terms.describe()}



def scheme_sheet(engine: Engine, access: Access, year: FinancialYear | str | None = None) -> dict[str, Any]:
    """The scheme's terms (for ``year``, or every version), with who set them, when and why (JSON-ready).

    What ``openbook incentives scheme show`` prints: each version's terms, in
    words too (the domain's ``SchemeTerms.describe``). The terms are the
    partnership's, but a fixed baseline is one provider's hours: a provider's
    access shows only its own.
    """
    agreement, own = access.agreement, only_provider(access)
    rows = scheme_versions(engine, agreement)
    if not rows:
        raise NotFound(f"the incentive scheme of {agreement!r} is not registered")
    versions = [_terms(row) for row in rows]
    if own is not None:
        versions = [
            dataclasses.replace(t, fixed_baselines={p: h for p, h in t.fixed_baselines.items() if p == own})
            for t in versions
        ]
    data: dict[str, Any] = {
        "agreement": agreement,
        "versions": [
            {**_terms_json(terms), "effective_date": row["effective_date"], "reason": row["reason"],
             "recorded_by": row["recorded_by"]}
            for terms, row in zip(versions, rows, strict=True)
        ],  # fmt: skip
    }
    if year is not None:
        chosen = check_financial_year(year)
        data["financial_year"] = chosen
        data["terms"] = _terms_json(terms_for(agreement, versions, chosen))
    return json_ready(data)


def incentive_assessment(
    engine: Engine, access: Access, financial_year: str, run: int | None = None
) -> dict[str, Any]:
    """A run of a year's assessment (the last by default): per-provider lines and their difference from the run before."""
    agreement = access.agreement
    a, ln = incentive_assessments.c, incentive_assessment_lines.c
    runs = read_rows(
        engine,
        select(incentive_assessments)
        .where((a.agreement == agreement) & (a.financial_year == financial_year))
        .order_by(a.run),
    )
    if not runs:
        raise NotFound(f"no incentive assessment of {agreement} for {financial_year} is recorded")
    chosen = runs[-1] if run is None else next((r for r in runs if r["run"] == run), None)
    if chosen is None:
        raise NotFound(f"the {financial_year} incentive assessment of {agreement} has runs 1 to {runs[-1]['run']}")
    query = select(incentive_assessment_lines).where(
        (ln.agreement == agreement) & (ln.financial_year == financial_year) & (ln.run == chosen["run"])
    )
    if only_provider(access):
        query = query.where(ln.provider == only_provider(access))
    lines = read_rows(engine, query.order_by(ln.provider))
    for line in lines:
        for name in ("kpis_in_gate", "missed_kpis"):
            line[name] = line[name].split()
        for name in ("kpi_notes", "changes"):
            line[name] = [text for text in line[name].split("\n") if text]
    if only_provider(access):
        for row in (chosen, *runs):
            row.update(total=None, previous_total=None, providers=None, paid_providers=None)
    return {**chosen, "lines": lines, "runs": runs}

