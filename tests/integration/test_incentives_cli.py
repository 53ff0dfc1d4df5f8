"""``openbook kpis ...`` and ``openbook incentives ...`` on SQLite and PostgreSQL, text and --json.

The framework and two years of visits are set up through the ledger
(``incentive_setup``); KPI results, the scheme, the assessment, its re-run
and the dashboard go through the command line, as an accountant would use it;
a provider's finance officer sees only its own.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.integration.incentive_setup import HFD, herefordshire_style, import_two_years
from tests.support import ok, ok_json


@pytest.fixture(autouse=True)
def herefordshire(book, tmp_path):
    """Every test here starts from a Herefordshire-style agreement with two years of visits."""
    herefordshire_style(book)
    import_two_years(book, tmp_path)




def test_kpis_scheme_assessment_and_rerun_round_trip(openbook, tmp_path):
    scheme = ok_json(openbook(
        "incentives", "scheme", "set", "--agreement", HFD, "--from-year", "2017-18", "--minimum-reduction", "0.05",
        "--per-hour", "2.00", "--effective", "2017-04-01", "--reason", "Herefordshire incentive rule", "--json",
    ))  # fmt: skip
    assert (scheme["recorded"], scheme["minimum_reduction"], scheme["payment_per_hour"]) == (True, "0.05", "2.00")
    shown = ok(openbook("incentives", "scheme", "show", "--agreement", HFD, "--year", "2018-19")).stdout
    assert "minimum reduction: 0.05 (5% of the baseline)" in shown and "£2.00 per hour" in shown

    results = tmp_path / "kpis.csv"
    results.write_text(
        "provider,period,kpi,value,evidence\n"
        "hfd-provider-a,2018-19,missed-visits,0.3,ECM report\n"
        "hfd-provider-a,2018-19,continuity-of-carer,85,rota report\n"
        "hfd-provider-b,2018-19,missed-visits,0.2,ECM report\n"
        "hfd-provider-b,2018-19,continuity-of-carer,90,rota report\n"
        "hfd-provider-c,2018-19,continuity-of-carer,81,rota report\n",
        encoding="utf-8",
    )
    imported = ok_json(openbook("kpis", "import", str(results), "--agreement", HFD, "--effective", "2019-05-01",
                                "--reason", "KPI returns", "--json"))  # fmt: skip
    assert (imported["recorded"], imported["rows"]) == (5, 5)
    recorded = ok_json(openbook(
        "kpis", "record", "--agreement", HFD, "--provider", "hfd-provider-c", "--period", "2018-19", "--kpi",
        "missed-visits", "--value", "0.8", "--evidence", "ECM report", "--effective", "2019-05-01", "--json",
    ))  # fmt: skip
    assert (recorded["outcome"], recorded["met"]) == ("recorded", False)

    board = ok_json(openbook("kpis", "dashboard", "--agreement", HFD, "--period", "2018-19", "--json"))
    assert {(s["provider"], s["all_met"]) for s in board["summary"]} == {
        ("hfd-provider-a", True), ("hfd-provider-b", True), ("hfd-provider-c", False),
    }  # fmt: skip
    text = ok(openbook("kpis", "dashboard", "--agreement", HFD, "--period", "2018-19")).stdout
    assert "hfd-provider-c 2018-19: NOT all met" in text and "MISSED" in text

    assessed = openbook("incentives", "assess", "--agreement", HFD, "--year", "2018-19", "--effective", "2019-05-15")
    out = ok(assessed).stdout
    assert "hfd-provider-a: payment £20.00 (eligible)" in out
    assert "baseline:  200.00 h (2017-18 activity: 12,000 payable minutes ÷ 60)" in out
    assert "threshold = 200 h × 0.05 = 10 h; reduction = 200 h − 180 h = 20 h" in out
    assert "hfd-provider-c: payment £0.00 (not eligible)" in out
    assert "these KPIs were missed: missed-visits (2018-19: 0.8 against a target of at most 0.5)" in out
    assert "total £20.00" in out

    bad = openbook("kpis", "record", "--agreement", HFD, "--provider", "hfd-provider-c", "--period", "2018-19",
                   "--kpi", "missed-visits", "--value", "0.4", "--evidence", "re-run", "--effective", "2019-06-01")  # fmt: skip
    assert bad.exit_code == 1 and bad.stderr.strip().startswith("error: reason: a correction of hfd-provider-c's")
    ok(openbook("kpis", "record", "--agreement", HFD, "--provider", "hfd-provider-c", "--period", "2018-19", "--kpi",
                "missed-visits", "--value", "0.4", "--evidence", "ECM report re-run", "--effective", "2019-06-01",
                "--reason", "duplicates removed from the ECM report"))  # fmt: skip
    rerun = ok_json(openbook("incentives", "assess", "--agreement", HFD, "--year", "2018-19", "--effective",
                             "2019-06-02", "--reason", "KPI result corrected", "--json"))  # fmt: skip
    assert (rerun["run"], rerun["total"], rerun["difference"]["hfd-provider-c"]) == (2, "34.00", "14.00")

    last = ok_json(openbook("incentives", "show", "--agreement", HFD, "--year", "2018-19", "--json"))
    c = {line["provider"]: line for line in last["lines"]}["hfd-provider-c"]
    assert (last["run"], D(c["payment"]), D(c["difference"])) == (2, D("14.00"), D("14.00"))
    text = ok(openbook("incentives", "show", "--agreement", HFD, "--year", "2018-19")).stdout
    assert "vs run 1: £0.00 -> £14.00, difference +£14.00 (missed_kpis: missed-visits -> none" in text
    history = ok_json(openbook("kpis", "history", "--agreement", HFD, "--provider", "hfd-provider-c", "--period",
                               "2018-19", "--json"))  # fmt: skip
    assert [h["what"] for h in history] == ["recorded", "recorded", "corrected"]

    # Provider A's finance officer sees its own line and no total; another provider's history is not found.
    provider_a = ("--as", "finance@hfd-a.example")
    own = ok_json(openbook(*provider_a, "incentives", "show", "--agreement", HFD, "--year", "2018-19", "--json"))
    assert [line["provider"] for line in own["lines"]] == ["hfd-provider-a"] and own["total"] is None
    other = openbook(*provider_a, "kpis", "history", "--agreement", HFD, "--provider", "hfd-provider-c", "--period",
                     "2018-19")  # fmt: skip
    assert other.exit_code == 1 and "not found" in other.stderr


def test_a_bad_scheme_is_one_error_line_naming_each_field(openbook):
    result = openbook("incentives", "scheme", "set", "--agreement", HFD, "--minimum-reduction", "5",
                      "--payment", "share-of-saving", "--saving-share", "0.5", "--reason", "try")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: minimum_reduction: 5 must be a fraction less than 1, e.g. 0.05 for 5% (did you mean 0.05 for 5%?); "
        "saving_rate: required for a share of the saving, the hourly rate in pounds, e.g. 15.80"
    )
