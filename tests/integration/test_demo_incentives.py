"""The incentive demo: Herefordshire's KPIs, its scheme, 2017-18 KPI results, a sample year, the first assessment.

Loading it twice records it once. Against the illustrative fixed baselines,
provider A reduced its hours by 8% (paid for the 3% beyond 5% at £2.00 an
hour), B by 3% (short of the minimum) and C by 10% but missed the "missed
visits" KPI (nothing paid, and the reason names the KPI).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from demo.incentives import DEMO_YEAR, HEREFORDSHIRE, incentive_steps
from demo.steps import run_steps
from domain.envelope import SYSTEM
from ledger.authorisation import access_for, provider_access
from ledger.jsonable import json_ready
from ledger.queries import incentives as views


@pytest.mark.demo
def test_the_first_herefordshire_assessment_pays_a_withholds_c_for_a_missed_kpi_once(book):
    head = book.projections.head()
    assert run_steps(book, incentive_steps()) == len(incentive_steps())
    assert book.projections.head() == head  # the demo ran them once: nothing new the second time

    result = json_ready(views.incentive_assessment(book.read_engine, access_for(book.records, SYSTEM, HEREFORDSHIRE),
                                                   DEMO_YEAR))  # fmt: skip  (as --json prints it)
    lines = {line["provider"]: line for line in result["lines"]}
    a, b, c = lines["hfd-provider-a"], lines["hfd-provider-b"], lines["hfd-provider-c"]
    assert result["run"] == 1 and a["baseline_source"] == "fixed in the scheme from 2017-18"
    for line, reduction in ((a, "0.08"), (b, "0.03"), (c, "0.10")):
        achieved = D(line["reduction_hours"]) / D(line["baseline_hours"])
        assert abs(achieved - D(reduction)) < D("0.001"), line["provider"]
    assert D(a["payment"]) > 0 and a["reason"].endswith("all KPIs were met.")
    assert b["payment"] == "0.00" and "short of the" in b["reason"]
    assert c["payment"] == "0.00" and c["missed_kpis"] == ["missed-visits"]
    assert "missed-visits (2017-18: 0.9 against a target of at most 0.5)" in c["reason"]
    assert result["total"] == a["payment"]
    assert views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HEREFORDSHIRE), "2018-19")["terms"]["baseline"] == "previous-year"


@pytest.mark.demo
def test_a_provider_sees_the_schemes_terms_but_only_its_own_fixed_baseline(book):
    everyone = views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HEREFORDSHIRE), DEMO_YEAR)
    assert set(everyone["terms"]["fixed_baselines"]) == {"hfd-provider-a", "hfd-provider-b", "hfd-provider-c"}
    own = provider_access(book.records, SYSTEM, HEREFORDSHIRE, "hfd-provider-a")
    mine = views.scheme_sheet(book.read_engine, own, DEMO_YEAR)
    assert mine["terms"]["fixed_baselines"] == {"hfd-provider-a": everyone["terms"]["fixed_baselines"]["hfd-provider-a"]}
    assert all(set(v["fixed_baselines"]) <= {"hfd-provider-a"} for v in mine["versions"])
    shown = str(mine)
    assert "hfd-provider-b" not in shown and "hfd-provider-c" not in shown
    assert {k: v for k, v in mine["terms"].items() if k not in ("fixed_baselines", "described")} == {
        k: v for k, v in everyone["terms"].items() if k not in ("fixed_baselines", "described")
    }
