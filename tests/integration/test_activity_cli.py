"""``openbook activity ...`` on the demo agreement, on SQLite and PostgreSQL.

Proven here: the template documents the columns; a generated year of Wirral
visits imports with a progress bar and a summary, is priced by the demo's rate
card, and the demo's backdated 2020-21 review shows arrears per provider; a
provider sees only its own totals and arrears; a bad file is one "error:" line naming rows and columns, exit status 1.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.support import ok_json


def test_the_template_lists_the_columns_and_says_what_they_hold(openbook, tmp_path):
    result = openbook("activity", "template")
    assert result.exit_code == 0
    header, example = result.stdout.splitlines()
    assert header.startswith("visit_id,provider,client_ref,postcode,service,planned_start,planned_minutes")
    assert "UK day-first 01/04/2019 08:30" in result.stderr and "never a name" in result.stderr
    assert openbook("activity", "template", "--format", "xlsx", "--out", str(tmp_path / "t.xlsx")).exit_code == 0


def test_a_year_of_demo_visits_imports_is_priced_and_the_backdated_review_shows_arrears(openbook, tmp_path):
    assert openbook("demo").exit_code == 0
    path = tmp_path / "wirral-2020-21.csv"
    made = openbook(
        "activity", "generate", "--agreement", "wirral-homecare", "--from", "2020-04-01", "--to", "2021-03-31",
        "--rows", "2000", "--out", str(path),
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr

    shown = openbook("activity", "import", str(path), "--agreement", "wirral-homecare", "--reason", "ECM year")
    assert shown.exit_code == 0, shown.stderr
    assert "checking rows" in shown.stderr and "pricing visits" in shown.stderr  # the progress bars
    assert shown.stdout.startswith("recorded 2,000 new visits from wirral-2020-21.csv")
    assert "hours by provider: carewatch" in shown.stdout and "unpriced visits: 0" in shown.stdout

    again = ok_json(openbook("activity", "import", str(path), "--agreement", "wirral-homecare", "--json"))
    assert again["recorded"] is False and again["message"].startswith("already imported")

    totals = ok_json(openbook("activity", "totals", "--agreement", "wirral-homecare", "--by", "provider",
                              "--period", "2020-21", "--json"))  # fmt: skip  (the demo's own sample is 2019-20)
    assert sum(row["visits"] for row in totals) == 2000
    quarters = ok_json(openbook("activity", "totals", "--agreement", "wirral-homecare", "--by", "quarter",
                                "--period", "2020-21", "--json"))  # fmt: skip
    assert [q["quarter"] for q in quarters] == ["2020-21-Q1", "2020-21-Q2", "2020-21-Q3", "2020-21-Q4"]
    assert sum(D(q["spend"]) for q in quarters) == sum(D(row["spend"]) for row in totals)

    # A provider's finance officer sees its own totals only; another provider's are not found.
    carewatch = ("--as", "finance@carewatch.example")
    own = ok_json(openbook(*carewatch, "activity", "totals", "--agreement", "wirral-homecare", "--period", "2020-21",
                           "--json"))  # fmt: skip
    assert own == [row for row in totals if row["provider"] == "carewatch"]
    other = openbook(*carewatch, "activity", "totals", "--agreement", "wirral-homecare", "--provider", "haven-care")
    assert other.exit_code == 1 and "not found" in other.stderr

    review = ("--agreement", "wirral-homecare", "--review", "2020-21")
    arrears = ok_json(openbook("activity", "arrears", *review, "--json"))
    assert (arrears["window_start"], arrears["window_end"]) == ("2020-04-01", "2020-06-14")
    assert set(arrears["providers"]) == {"carewatch", "haven-care", "premier-care", "wirral-home-care-alliance"}
    assert all(line["old_rate"] == "15.60" and line["new_rate"] == "16.34" for line in arrears["lines"])
    assert D(arrears["total"]) == sum(D(line["amount"]) for line in arrears["lines"]) > 0
    text = openbook("activity", "arrears", *review, "--last")
    assert text.exit_code == 0 and "visit by visit at £16.34 = " in text.stdout and "less at £15.60 = " in text.stdout
    last = ok_json(openbook("activity", "arrears", *review, "--last", "--json"))
    assert last == {k: v for k, v in arrears.items() if k != "unpriced_groups"}
    own = ok_json(openbook(*carewatch, "activity", "arrears", *review, "--last", "--json"))
    assert own["providers"] == {"carewatch": arrears["providers"]["carewatch"]} == {"carewatch": own["total"]}
    assert own["lines"] == [line for line in arrears["lines"] if line["provider"] == "carewatch"]

    listed = openbook("activity", "imports", "--agreement", "wirral-homecare")
    assert "wirral-2020-21.csv" in listed.stdout


def test_a_bad_file_is_one_error_line_naming_rows_and_columns(openbook, tmp_path):
    assert openbook("demo").exit_code == 0
    path = tmp_path / "bad.csv"
    path.write_text(
        "visit_id,provider,client_ref,postcode,service,planned_start,planned_minutes,actual_start,actual_minutes,"
        "carer_ref\n"
        "V1,premier-care,C000123,CH41 2AB,standard,2020-04-01T08:30,-30,2020-04-01T08:30,30,K1\n",
        encoding="utf-8",
    )
    result = openbook("activity", "import", str(path), "--agreement", "wirral-homecare")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: bad.csv: 1 problem(s); nothing was recorded; row 2, column planned_minutes: -30 is negative"
    )
