"""KPI results and incentive assessments on SQLite and PostgreSQL, with Herefordshire's rule.

Proven here (figures in ``incentive_setup``: 60-minute visits, so hours = visits):
- KPI results are recorded against the KPI's target and direction, and a
  correction is a new event the dashboard shows; the dashboard lists provider
  × KPI × period, with "no result" where one is missing; a provider sees only
  its own; an import is all or nothing, naming rows and columns;
- the 2018-19 assessment takes each provider's baseline from its 2017-18
  activity: A (200 → 180 h) is paid £20.00 for the 10 h beyond 5%; B (100 →
  97 h) is short of the minimum; C (100 → 88 h) would earn £14.00 but missed a
  KPI and has no result for another, and the reason names both;
- the cap limits a payment; a fixed baseline stated in the scheme is used;
- after C's KPI result is corrected to met, a re-run records run 2 with C's
  difference of +£14.00; re-running with nothing changed records nothing;
- the read side answers as the aggregates do: the dashboard's KPIs (in the
  agreement's order, a revised one in its place) and awarded providers are
  the Agreement's, and the scheme's sheet is the IncentiveScheme's for every
  year, before its first and after each amendment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from domain.envelope import SYSTEM
from domain.errors import InvalidInput, NotAllowed, NotFound, RuleBroken
from domain.incentives.incentive_assessment import IncentiveAssessment
from domain.periods import parse_period
from ledger.authorisation import access_for, accountant_access, provider_access
from ledger.bootstrap import Openbook
from ledger.jsonable import json_ready
from ledger.persistence.history import read_events
from ledger.projections.incentives import IncentivesProjection
from ledger.queries import incentives as views
from tests.integration.incentive_setup import (
    ACCOUNTANT,
    AFTER_Y2,
    HFD,
    PROVIDER_A_FINANCE,
    PROVIDERS,
    Y1,
    Y2,
    all_met,
    by,
    herefordshire_scheme,
    herefordshire_style,
    import_two_years,
)


@pytest.fixture
def book(open_book: Callable[[], Openbook]) -> Openbook:
    found = open_book()
    herefordshire_style(found)
    return found


@pytest.fixture
def assessed_setup(book, tmp_path) -> Openbook:
    """Two years of visits, the Herefordshire scheme; A and B meet every KPI, C misses one and lacks another."""
    import_two_years(book, tmp_path)
    herefordshire_scheme(book)
    all_met(book, providers=PROVIDERS[:2])
    book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-c", Y2, "missed-visits", D("0.8"),
                             "ECM exception report 2018-19")  # fmt: skip
    return book


def read_models(book: Openbook) -> dict[str, list[tuple]]:
    """Every row of the incentive read models, as text, in a stable order."""
    found = {}
    with book.read_engine.connect() as conn:
        for table in IncentivesProjection.tables:
            found[table.name] = sorted(tuple(str(v) for v in row) for row in conn.execute(select(table)))
    return found


def lines(result) -> dict[str, dict]:
    return {line["provider"]: line for line in result["lines"]}


# -- KPI results ---------------------------------------------------------------------------------


def test_results_are_judged_against_the_target_and_a_correction_is_a_new_event(book):
    first = book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-c", Y2, "Missed visits", D("0.8"),
                                     "ECM exception report")  # fmt: skip
    assert (first["outcome"], first["kpi"], first["met"], first["verdict"]) == (
        "recorded", "missed-visits", False, "0.8 against a target of at most 0.5 (missed)",
    )  # fmt: skip
    head = book.projections.head()
    again = book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-c", Y2, "missed-visits", "0.8",
                                     "ECM exception report")  # fmt: skip
    assert again["outcome"] == "unchanged" and book.projections.head() == head

    with pytest.raises(InvalidInput, match="reason: a correction of hfd-provider-c's missed-visits result"):
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-c", Y2, "missed-visits", "0.4", "re-run")
    fixed = book.incentives.record_kpi_result(by(ACCOUNTANT, date(2019, 6, 3), "ECM report re-run: duplicates removed"), HFD,
                                     "hfd-provider-c", Y2, "missed-visits", "0.4", "ECM exception report, re-run")  # fmt: skip
    assert (fixed["outcome"], fixed["met"], fixed["previous_value"], fixed["corrections"]) == ("corrected", True, "0.8", 1)

    topics = [e.topic for e in read_events(book.ledger.recorder, book.ledger.mapper, after=0, limit=1000) if "kpi-results" in e.topic]
    assert topics == ["openbook:kpi-results.opened", "openbook:kpi-results.recorded", "openbook:kpi-results.corrected"]
    history = views.kpi_history(book.read_engine, accountant_access(book.records, SYSTEM, HFD), "hfd-provider-c", Y2)
    assert [(h["what"], h["value"], h["met"], h["previous_value"]) for h in history] == [
        ("recorded", D("0.8"), False, None), ("corrected", D("0.4"), True, D("0.8")),
    ]  # fmt: skip
    assert history[1]["reason"] == "ECM report re-run: duplicates removed"


def test_only_awarded_providers_known_kpis_and_commissioners_accountants(book):
    book.organisations.register_organisation(by(SYSTEM, date(2017, 4, 1), "test"), "hfd-provider-d", "Provider D", "provider")
    with pytest.raises(RuleBroken, match="provider: hfd-provider-d holds no award under hfd in 2018-19"):
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-d", Y2, "missed-visits", "0.1", "r")
    with pytest.raises(NotFound, match="kpi: 'late-visits' is not a KPI of hfd on 2019-03-31"):
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-a", Y2, "late-visits", "0.1", "r")
    with pytest.raises(NotAllowed, match="record kpi result: only an accountant of a commissioner of hfd"):
        book.incentives.record_kpi_result(by(PROVIDER_A_FINANCE, AFTER_Y2), HFD, "hfd-provider-a", Y2, "missed-visits", "0.1",
                                 "our own report")  # fmt: skip


def test_the_dashboard_shows_provider_by_kpi_by_period_and_what_is_missing(book):
    all_met(book, providers=("hfd-provider-a",))
    book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-b", "2018-19-Q2", "continuity-of-carer",
                             "75", "rostering report Q2")  # fmt: skip
    board = views.kpi_dashboard(book.read_engine, accountant_access(book.records, SYSTEM, HFD), Y2)
    cells = {(r["provider"], r["period"], r["kpi"]): (r["value"], r["target"], r["direction"], r["met"]) for r in board["rows"]}
    assert cells == {
        ("hfd-provider-a", Y2, "missed-visits"): (D("0.3"), D("0.5"), "lower-is-better", True),
        ("hfd-provider-a", Y2, "continuity-of-carer"): (D("85"), D("80"), "higher-is-better", True),
        ("hfd-provider-b", "2018-19-Q2", "continuity-of-carer"): (D("75"), D("80"), "higher-is-better", False),
    }
    summary = {(s["provider"], s["period"]): (s["all_met"], s["missed"], s["no_result"]) for s in board["summary"]}
    assert summary == {
        ("hfd-provider-a", Y2): (True, [], []),
        ("hfd-provider-b", "2018-19-Q2"): (False, ["continuity-of-carer"], ["missed-visits"]),
        ("hfd-provider-b", Y2): (False, [], ["missed-visits", "continuity-of-carer"]),
        ("hfd-provider-c", Y2): (False, [], ["missed-visits", "continuity-of-carer"]),
    }
    provider_a = provider_access(book.records, PROVIDER_A_FINANCE, HFD, "hfd-provider-a")
    own = views.kpi_dashboard(book.read_engine, provider_a, Y2)
    assert {r["provider"] for r in own["rows"]} == {s["provider"] for s in own["summary"]} == {"hfd-provider-a"}


def test_the_dashboards_kpis_and_providers_are_the_agreements(book):
    everyone = accountant_access(book.records, SYSTEM, HFD)
    # missed-visits is revised from 2018-19 (target 0.4): still listed first, as the agreement lists it.
    book.agreements.define_kpi(by(ACCOUNTANT, date(2018, 4, 1), "tighter target"), HFD, "missed-visits", "Missed visits",
                               "missed visits per 1,000 planned", "0.4", "lower-is-better")  # fmt: skip
    # Provider C's award ends with effect from 1 January 2019: it held one in 2018-19 Q3, not in Q4.
    book.agreements.end_award(by(ACCOUNTANT, date(2019, 1, 1), "award ended"), HFD, "hfd-provider-c", "zone-a")
    agreement = book.records.agreement(HFD)
    for period in (None, Y1, Y2, "2018-19-Q3", "2018-19-Q4"):
        board = views.kpi_dashboard(book.read_engine, everyone, period)
        chosen = parse_period(period) if period else None
        kpis = agreement.kpis_on(chosen.end if chosen else date.max)
        assert [(k["kpi"], k["target"], k["direction"]) for k in board["kpis"]] == [
            (k.code, k.target, k.direction.value) for k in kpis
        ], period
        if chosen is not None:
            awarded = {a.provider for a in agreement.awards_during(chosen.start, chosen.end)}
            assert {s["provider"] for s in board["summary"]} == awarded, period
            assert all(s["no_result"] == [k.code for k in kpis] for s in board["summary"])
    assert [k["target"] for k in views.kpi_dashboard(book.read_engine, everyone, Y2)["kpis"]] == [D("0.4"), D("80")]
    q4 = views.kpi_dashboard(book.read_engine, everyone, "2018-19-Q4")
    assert {s["provider"] for s in q4["summary"]} == {"hfd-provider-a", "hfd-provider-b"}


def test_a_provider_sees_only_its_own_kpi_history(book):
    book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, "hfd-provider-c", Y2, "missed-visits", "0.8",
                                      "ECM report")  # fmt: skip
    own = provider_access(book.records, PROVIDER_A_FINANCE, HFD, "hfd-provider-a")
    assert views.kpi_history(book.read_engine, own, "hfd-provider-a", Y2) == []
    with pytest.raises(NotFound, match="hfd-provider-c's figures under hfd are not found"):
        views.kpi_history(book.read_engine, own, "hfd-provider-c", Y2)


def test_an_import_records_every_row_or_none_naming_rows_and_columns(book, tmp_path):
    bad = tmp_path / "kpis-bad.csv"
    bad.write_text(
        "Provider,Period,KPI,Value,Evidence\n"
        "hfd-provider-a,2018-19,missed-visits,0.3,ECM report\n"
        "hfd-provider-b,2018-20,missed-visits,0.3,ECM report\n"
        "hfd-provider-c,2018-19,late-visits,abc,\n"
        "hfd-provider-a,2018-19,missed-visits,0.2,ECM report\n",
        encoding="utf-8",
    )
    head = book.projections.head()
    with pytest.raises(InvalidInput) as caught:
        book.incentives.import_kpi_results(by(ACCOUNTANT, AFTER_Y2, "KPI returns"), HFD, bad)
    assert caught.value.problems[0] == "kpis-bad.csv: 5 problem(s); nothing was recorded"
    assert caught.value.problems[1].startswith("row 3, column period: '2018-20' is not a financial")
    assert caught.value.problems[2:] == [
        "row 4, column kpi: 'late-visits' is not a KPI of hfd on 2019-03-31 (its KPIs then: missed-visits, "
        "continuity-of-carer)",
        "row 4, column value: 'abc' is not a number",
        "row 4, column evidence: must not be blank",
        "row 5: repeats the provider, period and KPI of row 2",
    ]
    assert book.projections.head() == head

    good = tmp_path / "kpis-2018-19.csv"
    good.write_text(
        "provider,period,kpi,value,evidence\n"
        + "".join(f"{p},2018-19,missed-visits,0.3,ECM report\n{p},2018-19,continuity-of-carer,85,rota\n" for p in PROVIDERS),
        encoding="utf-8",
    )
    done = book.incentives.import_kpi_results(by(ACCOUNTANT, AFTER_Y2, "KPI returns"), HFD, good)
    assert (done["rows"], done["recorded"], done["corrected"], done["unchanged"]) == (6, 6, 0, 0)
    head = book.projections.head()
    again = book.incentives.import_kpi_results(by(ACCOUNTANT, AFTER_Y2, "KPI returns"), HFD, good)
    assert (again["recorded"], again["unchanged"]) == (0, 6) and book.projections.head() == head
    with pytest.raises(InvalidInput, match=r"missing column\(s\) evidence"):
        book.incentives.import_kpi_results(by(ACCOUNTANT, AFTER_Y2), HFD, b"provider,period,kpi,value\n", "short.csv")


# -- the scheme ------------------------------------------------------------------------------------


def test_the_scheme_is_checked_field_by_field_and_amended_from_a_year(book):
    with pytest.raises(InvalidInput) as caught:
        herefordshire_scheme(book, minimum_reduction="5", payment_per_hour=None, kpi_gate="named", kpis=["late"])
    assert [p.split(":")[0] for p in caught.value.problems] == ["minimum_reduction", "payment_per_hour", "kpis"]
    with pytest.raises(NotAllowed):
        book.incentives.set_incentive_scheme(by(PROVIDER_A_FINANCE, date(2017, 4, 1), "ours"), HFD, minimum_reduction="0",
                                    payment_per_hour="100.00")  # fmt: skip
    assert herefordshire_scheme(book)["recorded"] is True
    assert herefordshire_scheme(book)["recorded"] is False  # the same terms again: nothing recorded
    book.incentives.set_incentive_scheme(by(ACCOUNTANT, date(2019, 4, 1), "cap from 2019-20"), HFD, from_year="2019-20",
                                minimum_reduction="0.05", payment_per_hour="2.00", cap="5000.00")  # fmt: skip
    sheet = views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD), Y2)
    assert sheet["terms"]["cap"] is None and len(sheet["versions"]) == 2
    assert views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD), "2019-20")["terms"]["cap"] == "5000.00"
    assert [v["from_year"] for v in views.scheme_versions(book.read_engine, HFD)] == [Y1, "2019-20"]


def sheet_of_the_aggregate(book: Openbook, year: str | None = None) -> dict:
    """What the IncentiveScheme aggregate says: every version with who, when and why, and the terms for ``year``."""
    scheme = book.incentives.incentive_scheme(HFD)

    def terms_json(terms) -> dict:
        return {**terms.as_fields(), "described": terms.describe()}

    data = {
        "agreement": HFD,
        "versions": [
            {**terms_json(t), "effective_date": e.effective_date, "reason": e.reason, "recorded_by": str(e.actor)}
            for t, e in scheme.history
        ],
    }
    if year is not None:
        data |= {"financial_year": year, "terms": terms_json(scheme.terms_for(year))}
    return json_ready(data)


def test_the_scheme_sheet_is_the_aggregates_for_every_year(book):
    with pytest.raises(NotFound, match="the incentive scheme of 'hfd' is not registered"):
        views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD))
    herefordshire_scheme(book, from_year="2018-19", baseline="fixed",
                         fixed_baselines={"hfd-provider-a": "87452", "hfd-provider-b": "113046.50"})  # fmt: skip
    book.incentives.set_incentive_scheme(
        by(ACCOUNTANT, date(2019, 4, 1), "a share of the saving, gated on one KPI"), HFD, from_year="2019-20",
        minimum_reduction="0.05", payment="share-of-saving", saving_rate="15.80", saving_share="0.5",
        kpi_gate="named", kpis=["missed-visits"], cap="5000.00",
    )  # fmt: skip
    book.incentives.set_incentive_scheme(
        by(ACCOUNTANT, date(2019, 5, 1), "the same year again: this one wins"), HFD, from_year="2019-20",
        minimum_reduction="0.10", payment_per_hour="2.50",
    )  # fmt: skip
    shown = views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD))
    assert shown == sheet_of_the_aggregate(book) and len(shown["versions"]) == 3
    assert list(shown["versions"][0]) == list(sheet_of_the_aggregate(book)["versions"][0])  # the same --json text
    with pytest.raises(NotFound, match="the incentive scheme of hfd applies from 2018-19, not in 2017-18"):
        views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD), Y1)
    for year in (Y2, "2019-20", "2020-21"):
        assert views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD), year) == sheet_of_the_aggregate(book, year), year
    assert views.scheme_sheet(book.read_engine, access_for(book.records, SYSTEM, HFD), "2020-21")["terms"]["minimum_reduction"] == "0.10"


# -- assessments -----------------------------------------------------------------------------------


def test_herefordshire_rule_pays_reduction_beyond_5_percent_only_if_all_kpis_are_met(assessed_setup):
    book = assessed_setup
    result = book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "annual assessment"), HFD, Y2)
    found = lines(result)
    a, b, c = found["hfd-provider-a"], found["hfd-provider-b"], found["hfd-provider-c"]
    assert (a["baseline_hours"], a["actual_hours"], a["threshold_hours"], a["reduction_hours"]) == (
        "200.00", "180.00", "10.0000", "20.00",
    )  # fmt: skip
    assert (a["eligible_hours"], a["payment"], a["eligible"]) == ("10.0000", "20.00", True)
    assert a["baseline_source"] == "2017-18 activity: 12,000 payable minutes ÷ 60"
    assert "threshold = 200 h × 0.05 = 10 h; reduction = 200 h − 180 h = 20 h" in a["working"]

    assert (b["reduction_hours"], b["threshold_hours"], b["payment"], b["eligible"]) == ("3.00", "5.0000", "0.00", False)
    assert "short of the 5-hour minimum reduction" in b["reason"]

    assert (c["eligible_hours"], c["payment"], c["missed_kpis"]) == ("7.0000", "0.00", ["missed-visits", "continuity-of-carer"])
    assert "worth £14.00" in c["reason"]
    assert "missed-visits (2018-19: 0.8 against a target of at most 0.5)" in c["reason"]
    assert "continuity-of-carer (no result recorded for 2018-19 or its quarters, so it counts as missed)" in c["reason"]
    assert (result["run"], result["total"], result["assessed_by"]) == (1, "20.00", str(ACCOUNTANT))

    shown = views.incentive_assessment(book.read_engine, accountant_access(book.records, SYSTEM, HFD), Y2)
    assert (shown["run"], shown["total"], shown["recorded_by"]) == (1, D("20.00"), str(ACCOUNTANT))
    assert [(x["provider"], x["payment"], x["difference"]) for x in shown["lines"]] == [
        ("hfd-provider-a", D("20.00"), None), ("hfd-provider-b", D("0.00"), None), ("hfd-provider-c", D("0.00"), None),
    ]  # fmt: skip
    provider_a = provider_access(book.records, PROVIDER_A_FINANCE, HFD, "hfd-provider-a")
    own = views.incentive_assessment(book.read_engine, provider_a, Y2)
    assert [x["provider"] for x in own["lines"]] == ["hfd-provider-a"] and own["total"] is None


def test_a_rerun_after_a_correction_records_a_new_assessment_with_the_difference(assessed_setup):
    book = assessed_setup
    book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "annual assessment"), HFD, Y2)
    head = book.projections.head()
    same = book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "again"), HFD, Y2)
    assert same["recorded"] is False and same["message"] == "unchanged since run 1: nothing new was recorded"
    assert book.projections.head() == head

    book.incentives.record_kpi_result(by(ACCOUNTANT, date(2019, 6, 3), "report re-run"), HFD, "hfd-provider-c", Y2,
                             "missed-visits", "0.4", "ECM exception report, re-run")  # fmt: skip
    book.incentives.record_kpi_result(by(ACCOUNTANT, date(2019, 6, 3), "late return"), HFD, "hfd-provider-c", Y2,
                             "continuity-of-carer", "88", "rostering report")  # fmt: skip
    rerun = book.incentives.assess_incentives(by(ACCOUNTANT, date(2019, 6, 4), "KPI results corrected"), HFD, Y2)
    c = lines(rerun)["hfd-provider-c"]
    assert (rerun["run"], rerun["total"], rerun["previous_total"]) == (2, "34.00", "20.00")
    assert (c["payment"], c["previous_payment"], c["difference"]) == ("14.00", "0.00", "14.00")
    assert rerun["difference"] == {"hfd-provider-a": "0.00", "hfd-provider-b": "0.00", "hfd-provider-c": "14.00"}
    assert c["changes"] == [
        {"provider": "hfd-provider-c", "field": "missed_kpis", "before": "missed-visits, continuity-of-carer",
         "after": "none"},
        {"provider": "hfd-provider-c", "field": "payment", "before": "0.00", "after": "14.00"},
    ]  # fmt: skip

    shown = views.incentive_assessment(book.read_engine, accountant_access(book.records, SYSTEM, HFD), Y2)
    assert [r["run"] for r in shown["runs"]] == [1, 2] and shown["previous_total"] == D("20.00")
    row = {x["provider"]: x for x in shown["lines"]}["hfd-provider-c"]
    assert (row["previous_payment"], row["difference"]) == (D("0.00"), D("14.00"))
    assert row["changes"] == ["missed_kpis: missed-visits, continuity-of-carer -> none", "payment: 0.00 -> 14.00"]
    first = views.incentive_assessment(book.read_engine, accountant_access(book.records, SYSTEM, HFD), Y2, run=1)
    assert first["total"] == D("20.00")
    topics = [e.topic for e in read_events(book.ledger.recorder, book.ledger.mapper, limit=10_000) if "assessment" in e.topic]
    assert topics == ["openbook:incentive-assessment.assessed", "openbook:incentive-assessment.reassessed"]
    stored: IncentiveAssessment = book.ledger.repository.get(IncentiveAssessment.create_id(HFD, Y2))
    assert stored.run == 2  # never edited: run 1 is still the first event

    before = read_models(book)
    book.projections.rebuild(["incentives"])
    assert read_models(book) == before  # a replay of the history gives the same tables


def test_the_cap_limits_a_providers_payment(book, tmp_path):
    import_two_years(book, tmp_path)
    herefordshire_scheme(book, cap="15.00")
    all_met(book)
    found = lines(book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "annual assessment"), HFD, Y2))
    assert (found["hfd-provider-a"]["payment"], found["hfd-provider-a"]["capped"]) == ("15.00", True)  # £20.00 earned
    assert "worth £20.00 at £2.00 per hour, limited by the £15.00 cap" in found["hfd-provider-a"]["reason"]
    assert (found["hfd-provider-c"]["payment"], found["hfd-provider-c"]["capped"]) == ("14.00", False)
    book.incentives.set_incentive_scheme(by(ACCOUNTANT, date(2018, 4, 1), "cap lowered"), HFD, from_year=Y2,
                                minimum_reduction="0.05", payment_per_hour="2.00", cap="12.50")  # fmt: skip
    rerun = lines(book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "scheme amended"), HFD, Y2))
    a = rerun["hfd-provider-a"]
    assert (a["payment"], a["capped"], a["difference"]) == ("12.50", True, "-2.50")
    assert "limited by the £12.50 cap" in a["reason"]
    c = rerun["hfd-provider-c"]
    assert (c["payment"], c["capped"], c["difference"]) == ("12.50", True, "-1.50")


def test_a_fixed_baseline_and_a_named_kpi_gate(book, tmp_path):
    import_two_years(book, tmp_path)
    herefordshire_scheme(book, baseline="fixed", fixed_baselines={"hfd-provider-a": "250", "hfd-provider-b": "100"},
                         kpi_gate="named", kpis=["missed-visits"])  # fmt: skip
    for provider in PROVIDERS:
        book.incentives.record_kpi_result(by(ACCOUNTANT, AFTER_Y2), HFD, provider, Y2, "missed-visits", "0.3", "ECM report")
    found = lines(book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "annual assessment"), HFD, Y2))
    a = found["hfd-provider-a"]  # 250 → 180 h: 70 h less, 12.5 h threshold, 57.5 h × £2.00
    assert (a["baseline_source"], a["payment"], a["kpis_in_gate"]) == ("fixed in the scheme from 2017-18", "115.00",
                                                                        ["missed-visits"])  # fmt: skip
    c = found["hfd-provider-c"]
    assert (c["baseline_hours"], c["payment"]) == (None, "0.00")
    assert c["reason"] == "No payment: there is no baseline to reduce from (the scheme states no baseline for this provider)."


def test_a_year_is_assessed_once_it_is_over_and_only_with_a_scheme(book, tmp_path):
    import_two_years(book, tmp_path)
    with pytest.raises(NotFound, match="the incentive scheme of 'hfd' is not registered"):
        book.incentives.assess_incentives(by(ACCOUNTANT, AFTER_Y2, "annual assessment"), HFD, Y2)
    herefordshire_scheme(book)
    with pytest.raises(RuleBroken, match="financial_year: 2018-19 runs to 2019-03-31; assess it once it is over"):
        book.incentives.assess_incentives(by(ACCOUNTANT, date(2019, 3, 1), "early"), HFD, Y2)
    first_year = lines(book.incentives.assess_incentives(by(ACCOUNTANT, date(2018, 4, 30), "first year"), HFD, Y1))
    assert first_year["hfd-provider-a"]["reason"].startswith(
        "No payment: there is no baseline to reduce from (no payable hours of hfd-provider-a recorded under hfd in 2016-17)"
    )
    with pytest.raises(NotAllowed):
        book.incentives.assess_incentives(by(PROVIDER_A_FINANCE, AFTER_Y2, "ours"), HFD, Y2)
