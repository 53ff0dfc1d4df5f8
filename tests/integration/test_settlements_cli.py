"""``openbook pool``, ``payments`` and ``settle`` on SQLite and PostgreSQL, through the real entry point.

Each command runs as ``openbook --database <test database> --as USER ...``
(the ``openbook`` fixture), on the database the test set up. The ``--json``
output carries exact figures: the round trip gives back the recorded Decimals.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

from tests.integration.settlement_setup import (
    COUNCIL_ACCOUNTANT,
    YEAR,
    accepted_return,
    by,
    check_settlements_read_as_recorded,
    import_visits,
    setup,
    visits,
)
from tests.support import error_line, ok, ok_json

WIRRAL = "wirral-homecare"
COUNCIL = "accountant@wirral.example"
CCG = "accountant@wirralccg.example"


def test_an_accountant_runs_the_year_from_the_command_line(openbook, book, tmp_path):
    setup(book)
    book.agreements.set_profit_cap(by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "5% cap"), WIRRAL, "0.05")
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5)]
    import_visits(book, tmp_path, "april.csv", rows)
    accepted_return(book, "haven-care", YEAR, D("9200.00"), D("800.00"))

    common = ["--agreement", WIRRAL, "--year", YEAR]
    result = ok(openbook(
        "pool", "set", *common, "--target", "260.00", "--band", "0:0.9:0.25", "--band", "0.9:1:0.5",
        "--band", "1:1.1:0.5", "--band", "1.1:-:1", "--gain-cap", "10.00", "--clawback-share", "0.5",
        "--effective", "2019-04-01", "--reason", "section 75 pool", "--json", as_user=COUNCIL,
    ))  # fmt: skip
    assert json.loads(result.stdout)["terms"]["bands"][0] == {"lower": None, "upper": "0.9", "provider_share": "0.25"}
    refused = openbook("pool", "set", *common, "--target", "1", "--band", "0:0.9:0.25", as_user=COUNCIL)
    assert "bands leave a gap above 90% of target" in error_line(refused)

    paid = ok(openbook("payments", "run", "--agreement", WIRRAL, "--month", "2019-04", "--effective", "2019-05-10",
                    "--reason", "April", as_user=COUNCIL))  # fmt: skip
    assert "total £234.00" in paid.stdout
    statement = ok(openbook("payments", "statement", "--provider", "haven-care", "--agreement", WIRRAL,
                         "--month", "2019-04", "--json", as_user="finance@havencare.example"))  # fmt: skip
    assert json.loads(statement.stdout)["amount"] == "78.00" and json.loads(statement.stdout)["cumulative_paid"] == "78.00"
    shown = ok(openbook("pool", "show", *common, as_user=COUNCIL))
    assert "due (priced − paid):    £0.00" in shown.stdout and "forecast to year end:   £2,808.00" in shown.stdout
    refused = openbook("pool", "show", *common, as_user="finance@havencare.example")
    assert "may not see every provider's figures" in error_line(refused)

    head = book.projections.head()
    preview = ok_json(openbook("settle", *common, "--preview", "--json", as_user=COUNCIL))
    assert preview["status"] == "preview" and book.projections.head() == head

    # 15 hours at £15.60 = £234.00 of £260.00: 90%; £26.00 × 50% = £13.00, capped at £10.00.
    drafted = ok_json(openbook("settle", *common, "--effective", "2020-06-30", "--reason", "year end", "--json",
                               as_user=COUNCIL))  # fmt: skip
    recorded = book.settlements.settlement(WIRRAL, YEAR, 1)
    assert drafted["statement"]["provider_amount"] == "10.00" and drafted["statement"]["removed_by_cap"] == "3.00"
    for party, figures in drafted["statement"]["providers"].items():
        assert {k: D(v) for k, v in figures.items()} == recorded.statement["providers"][party]
    labels = [step["label"] for step in drafted["statement"]["steps"]]
    assert "provider side's amount after cap" in labels and "excess surplus clawback" in labels

    text = ok(openbook("settle", "show", *common, as_user=COUNCIL)).stdout
    assert "£10.00  provider side's amount after cap: £13.00 limited by gain cap £10.00" in text
    assert "awaiting approval by: wirral-ccg, wirral-council" in text
    shown = ok_json(openbook("settle", "show", *common, "--json", as_user=COUNCIL))
    assert shown["statement"] == drafted["statement"] and shown["inputs"] == drafted["inputs"]
    # A provider sees its own lines: by default as itself, or as anyone who may read its figures asks to see it.
    own = ok_json(openbook("settle", "show", *common, "--json", as_user="finance@havencare.example"))
    assert list(own["statement"]["providers"]) == ["haven-care"] and "inputs" not in own
    as_haven = ok(openbook("settle", "show", *common, "--provider", "haven-care", "--json", as_user=COUNCIL))
    assert json.loads(as_haven.stdout) == own
    other = openbook("settle", "show", *common, "--provider", "premier-care", as_user="finance@havencare.example")
    assert "premier-care's figures under wirral-homecare are not found" in error_line(other)

    ok(openbook("settle", "review", *common, "--note", "checked", as_user=CCG))
    ok(openbook("settle", "approve", *common, as_user=COUNCIL))
    early = openbook("settle", "issue", *common, as_user=COUNCIL)
    assert "awaiting approval by wirral-ccg" in error_line(early)
    early = json.loads(openbook("settle", "issue", *common, "--json", as_user=COUNCIL).stderr)["error"]
    assert early["kind"] == "rule-broken" and "awaiting approval by wirral-ccg" in early["message"]
    ok(openbook("settle", "approve", *common, as_user=CCG))
    issued = ok(openbook("settle", "issue", *common, "--reason", "signed", as_user=COUNCIL))
    assert "is now issued" in issued.stdout
    listed = ok(openbook("settle", "list", "--agreement", WIRRAL, as_user=COUNCIL)).stdout
    assert listed.startswith("2019-20 no. 1   issued")
    assert check_settlements_read_as_recorded(book) == 1
    usage = openbook("settle")
    assert usage.exit_code == 2 and "give --agreement and --year" in usage.output
