"""``openbook pool``, ``payments`` and ``settle`` on SQLite and PostgreSQL, through click.

The commands run against a ``LedgerWithSettlements`` handed to the CLI's
context (the application's ``Ledger`` gains the use cases when the lead wires
them in); ``--as`` is the context's acting user, as the main group sets it.
The ``--json`` output carries exact figures: the round trip gives back the
recorded Decimals.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from cli.context import Context
from cli.settlements import payments, pool, settle
from domain.errors import RuleBroken
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

WIRRAL = "wirral-homecare"
COUNCIL = "accountant@wirral.example"
CCG = "accountant@wirralccg.example"


@pytest.fixture
def openbook(book):
    """Run a command group as ``openbook [--as USER] ...`` would, with the test's ledger."""

    def run(group, *args: str, user: str | None = None, ok: bool = True):
        context = Context(None, user)
        context._book = book
        result = CliRunner().invoke(group, list(args), obj=context)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


def as_json(result) -> dict:
    return json.loads(result.stdout)


def test_an_accountant_runs_the_year_from_the_command_line(openbook, book, tmp_path):
    setup(book)
    book.agreements.set_profit_cap(by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "5% cap"), WIRRAL, "0.05")
    rows = [*visits("premier-care", "zone-1", "2019-04", 10), *visits("haven-care", "zone-3", "2019-04", 5)]
    import_visits(book, tmp_path, "april.csv", rows)
    accepted_return(book, "haven-care", YEAR, D("9200.00"), D("800.00"))

    common = ["--agreement", WIRRAL, "--year", YEAR]
    result = openbook(
        pool, "set", *common, "--target", "260.00", "--band", "0:0.9:0.25", "--band", "0.9:1:0.5",
        "--band", "1:1.1:0.5", "--band", "1.1:-:1", "--gain-cap", "10.00", "--clawback-share", "0.5",
        "--effective", "2019-04-01", "--reason", "section 75 pool", "--json", user=COUNCIL,
    )  # fmt: skip
    assert as_json(result)["terms"]["bands"][0] == {"lower": None, "upper": "0.9", "provider_share": "0.25"}
    refused = openbook(pool, "set", *common, "--target", "1", "--band", "0:0.9:0.25", user=COUNCIL, ok=False)
    assert "bands leave a gap above 90% of target" in str(refused.exception)

    paid = openbook(payments, "run", "--agreement", WIRRAL, "--month", "2019-04", "--effective", "2019-05-10",
                    "--reason", "April", user=COUNCIL)  # fmt: skip
    assert "total £234.00" in paid.stdout
    statement = openbook(payments, "statement", "--provider", "haven-care", "--agreement", WIRRAL,
                         "--month", "2019-04", "--json", user="finance@havencare.example")  # fmt: skip
    assert as_json(statement)["amount"] == "78.00" and as_json(statement)["cumulative_paid"] == "78.00"
    shown = openbook(pool, "show", *common, user=COUNCIL)
    assert "due (priced − paid):    £0.00" in shown.stdout and "forecast to year end:   £2,808.00" in shown.stdout
    refused = openbook(pool, "show", *common, user="finance@havencare.example", ok=False)
    assert "may not see every provider's figures" in str(refused.exception)

    head = book.projections.head()
    preview = as_json(openbook(settle, *common, "--preview", "--json", user=COUNCIL))
    assert preview["status"] == "preview" and book.projections.head() == head

    # 15 hours at £15.60 = £234.00 of £260.00: 90%; £26.00 × 50% = £13.00, capped at £10.00.
    drafted = as_json(openbook(settle, *common, "--effective", "2020-06-30", "--reason", "year end", "--json",
                               user=COUNCIL))  # fmt: skip
    recorded = book.settlements.settlement(WIRRAL, YEAR, 1)
    assert drafted["statement"]["provider_amount"] == "10.00" and drafted["statement"]["removed_by_cap"] == "3.00"
    for party, figures in drafted["statement"]["providers"].items():
        assert {k: D(v) for k, v in figures.items()} == recorded.statement["providers"][party]
    labels = [step["label"] for step in drafted["statement"]["steps"]]
    assert "provider side's amount after cap" in labels and "excess surplus clawback" in labels

    text = openbook(settle, "show", *common, user=COUNCIL).stdout
    assert "£10.00  provider side's amount after cap: £13.00 limited by gain cap £10.00" in text
    assert "awaiting approval by: wirral-ccg, wirral-council" in text
    shown = as_json(openbook(settle, "show", *common, "--json", user=COUNCIL))
    assert shown["statement"] == drafted["statement"] and shown["inputs"] == drafted["inputs"]
    # A provider sees its own lines: by default as itself, or as anyone who may read its figures asks to see it.
    own = as_json(openbook(settle, "show", *common, "--json", user="finance@havencare.example"))
    assert list(own["statement"]["providers"]) == ["haven-care"] and "inputs" not in own
    as_haven = openbook(settle, "show", *common, "--provider", "haven-care", "--json", user=COUNCIL)
    assert as_json(as_haven) == own
    other = openbook(settle, "show", *common, "--provider", "premier-care", user="finance@havencare.example", ok=False)
    assert "premier-care's figures under wirral-homecare are not found" in str(other.exception)

    openbook(settle, "review", *common, "--note", "checked", user=CCG)
    openbook(settle, "approve", *common, user=COUNCIL)
    early = openbook(settle, "issue", *common, user=COUNCIL, ok=False)
    assert isinstance(early.exception, RuleBroken) and "awaiting approval by wirral-ccg" in str(early.exception)
    openbook(settle, "approve", *common, user=CCG)
    issued = openbook(settle, "issue", *common, "--reason", "signed", user=COUNCIL)
    assert "is now issued" in issued.stdout
    listed = openbook(settle, "list", "--agreement", WIRRAL, user=COUNCIL).stdout
    assert listed.startswith("2019-20 no. 1   issued")
    assert check_settlements_read_as_recorded(book) == 1
    usage = openbook(settle, ok=False)
    assert usage.exit_code == 2 and "give --agreement and --year" in usage.output
