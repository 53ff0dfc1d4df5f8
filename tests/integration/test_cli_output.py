"""The CLI says one true thing (issue 12): no "nothing new" beside "new visits 3", counts that agree with
their nouns, dates typed as a file writes them, a visit's minutes bounded as in a file, an absent pool
shown as absent, and ``settle list`` marking what ``settle show`` marks out of date. On both databases.
"""

from __future__ import annotations

import json
from datetime import date

from domain.activity.visits import check_minutes
from domain.periods import DATE_FORMS
from domain.returns.filing import CostReturnFiling, FilingInvalid
from ledger.authorisation import access_for
from ledger.queries import settlements as views
from tests.integration.activity_setup import visit, write_csv
from tests.integration.agreement_setup import WIRRAL, wirral
from tests.integration.returns_setup import filing_data
from tests.integration.settlement_setup import COUNCIL_ACCOUNTANT, YEAR
from tests.integration.test_settlement_incentives import assess, draft, issue, year_of_care
from tests.support import error_line, ok, ok_json


def test_a_file_imported_again_says_nothing_new_and_counts_no_new_visits(openbook, book, tmp_path):
    wirral(book)
    ok(openbook("rates", "publish", "--agreement", WIRRAL, "--service", "standard", "--zone", "zone-1",
                "--rate", "15.60", "--effective", "2019-04-01", "--reason", "card"))  # fmt: skip
    path = write_csv(tmp_path / "april.csv", [visit("A1", "premier-care", "CH41 2AB", "2019-04-01", 30, 30),
                                              visit("A2", "premier-care", "CH41 2AB", "2019-04-02", 45, 45)])  # fmt: skip
    first = ok(openbook("activity", "import", str(path), "--agreement", WIRRAL)).stdout.splitlines()
    assert first[:2] == [
        "recorded 2 new visits from april.csv",
        "rows 2; new visits 2; already recorded (skipped) 0; corrected 0 visits (0 fields)",
    ]

    again = ok(openbook("activity", "import", str(path), "--agreement", WIRRAL)).stdout.splitlines()
    [said] = again  # one line: what happened now, and what was recorded the first time, named as such
    assert said.startswith("already imported: this file (sha256 ")
    assert said.endswith(f"was recorded as 'april.csv' on {date.today().isoformat()} (2 new visits); "
                         "nothing new was recorded")  # fmt: skip
    shown = ok_json(openbook("activity", "import", str(path), "--agreement", WIRRAL, "--json"))
    assert (shown["recorded"], shown["rows"], shown["visits"], shown["corrected_visits"]) == (False, 0, 0, 0)
    assert shown["hours_by_provider"] == {} and shown["spend"] is None
    assert (shown["earlier"]["file_name"], shown["earlier"]["rows"], shown["earlier"]["visits"]) == ("april.csv", 2, 2)

    one = write_csv(tmp_path / "may.csv", [visit("A3", "premier-care", "CH41 2AB", "2019-05-01", 30, 30)])
    assert ok(openbook("activity", "import", str(one), "--agreement", WIRRAL)).stdout.startswith(
        "recorded 1 new visit from may.csv\nrows 1; new visits 1;"
    )
    copy = tmp_path / "copy.csv"
    copy.write_bytes(one.read_bytes().replace(b"\n", b"\r\n"))  # another file, the same visit
    assert ok(openbook("activity", "import", str(copy), "--agreement", WIRRAL)).stdout.startswith(
        "nothing new: the 1 visit in copy.csv is already recorded as it is\n"
    )


def test_an_option_takes_a_date_in_the_forms_a_file_does_and_refuses_one_in_the_same_words(openbook, book):
    wirral(book)
    iso = ok_json(openbook("agreements", "show", WIRRAL, "--on", "2019-06-01", "--json"))
    uk = ok_json(openbook("agreements", "show", WIRRAL, "--on", "01/06/2019", "--json"))
    assert iso == uk and uk["agreement"]["on"] == "2019-06-01"
    ok(openbook("organisations", "register", "dated-care", "Dated Care", "--kind", "provider",
                "--effective", "1/4/2019", "--reason", "UK date"))  # fmt: skip
    [registered] = [e for e in ok_json(openbook("events", "--json")) if "dated-care" in json.dumps(e)]
    assert registered["effective_date"] == "2019-04-01"

    refused = openbook("agreements", "show", WIRRAL, "--on", "2019/06/01")
    assert refused.exit_code == 2
    assert f"'2019/06/01' is not a date; write it as {DATE_FORMS}" in refused.stderr
    try:
        CostReturnFiling.parse({**filing_data(), "prepared_on": "2019/06/01"})
    except FilingInvalid as invalid:
        [problem] = invalid.field_problems
        assert problem.message == f"'2019/06/01' is not a date; write it as {DATE_FORMS}"
    else:
        raise AssertionError("a cost return took 2019/06/01")


def test_rates_price_holds_a_visits_minutes_to_the_bounds_of_a_visit_file(openbook, book, tmp_path):
    wirral(book)
    ok(openbook("rates", "publish", "--agreement", WIRRAL, "--service", "standard", "--zone", "zone-1",
                "--rate", "15.60", "--effective", "2019-04-01", "--reason", "card"))  # fmt: skip
    price = ["rates", "price", "--agreement", WIRRAL, "--service", "standard", "--zone", "zone-1", "--on", "2019-06-03"]
    for planned, actual in (("0", "30"), ("30", "1441"), ("-5", "30")):
        bad = planned if planned != "30" else actual
        column = "planned_minutes" if planned != "30" else "actual_minutes"
        try:
            check_minutes(bad)
        except ValueError as e:
            in_a_file = str(e)
        assert error_line(openbook(*price, "--planned", planned, "--actual", actual)) == f"error: {column}: {in_a_file}"
        path = write_csv(tmp_path / f"{planned}-{actual}.csv",
                         [visit("B1", "premier-care", "CH41 2AB", "2019-06-03", int(planned), int(actual))])  # fmt: skip
        imported = error_line(openbook("activity", "import", str(path), "--agreement", WIRRAL))
        assert f"row 2, column {column}: {in_a_file}" in imported
    assert ok_json(openbook(*price, "--planned", "1440", "--actual", "1", "--json"))["amount"] == "0.26"


def test_an_absent_pooled_budget_is_none_and_null_never_nought(openbook, book):
    wirral(book)  # contributions for 2019-20 only
    pooled = ok_json(openbook("agreements", "show", WIRRAL, "--on", "2019-06-01", "--json"))
    assert pooled["pooled_budget"] == "12000000.00"
    none = ok_json(openbook("agreements", "show", WIRRAL, "--on", "2020-06-01", "--json"))
    assert (none["contributions"], none["pooled_budget"]) == ({}, None)
    assert "pooled budget 2020-21: none" in ok(openbook("agreements", "show", WIRRAL, "--on", "2020-06-01")).stdout


def test_settle_list_marks_out_of_date_what_settle_show_marks(openbook, book, tmp_path):
    year_of_care(book, tmp_path)
    draft(book, date(2020, 4, 30))
    issue(book, 1)
    assess(book, date(2020, 8, 3))  # after the settlement was issued: it is out of date
    accountant = COUNCIL_ACCOUNTANT.user
    [stale] = views.settlement(book.read_engine, access_for(book.records, COUNCIL_ACCOUNTANT, WIRRAL), WIRRAL, YEAR)[
        "out_of_date"
    ]
    shown = ok(openbook("settle", "show", "--agreement", WIRRAL, "--year", YEAR, as_user=accountant)).stdout
    listed = ok(openbook("settle", "list", "--agreement", WIRRAL, as_user=accountant)).stdout.splitlines()
    assert f"OUT OF DATE: {stale['note']}" in shown
    assert listed[0].startswith(f"{YEAR} no. 1   issued ")
    assert listed[1:] == [f"  OUT OF DATE: {stale['note']}"]
    [row] = ok_json(openbook("settle", "list", "--agreement", WIRRAL, "--json", as_user=accountant))
    assert row["out_of_date"] == [stale]
    assert row["commissioners"] == ["wirral-ccg", "wirral-council"]  # lists as lists, never "wirral-ccg wirral-council"
    assert [(a["commissioner"], a["on"]) for a in row["approved_by"]] == [
        ("wirral-council", "2020-07-06"), ("wirral-ccg", "2020-07-08"),
    ]  # fmt: skip
