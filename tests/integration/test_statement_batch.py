"""The rate notice and the batch of a period's statements, on the demo's own figures.

The module has its own copy of the loaded demo (SQLite). Its 2020-21 Wirral rate review was decided on 15 June 2020
with rates from 1 April: backdated. Visits of April to mid-June 2020 are imported here (``demo.visits``, a seeded
file) and the arrears calculated, so every provider's notice has arrears lines with their working. Expected figures
are the queries' (``ledger.queries.rates.rate_review``, ``ledger.queries.activity.arrears``, ...), formatted as
people read them (``format_gbp``); the PDFs' text is read back with poppler's ``pdftotext``.

PDFs take about a second each to render, so the batch runs end to end through ``openbook statements`` for a
quarter, a month and a year with its plan narrowed to Premier Care's statements (and the partnership's
settlement) — except the month, written whole — while the whole plan of each period is compared, unrendered,
with the queries it comes from.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli.statements as statements_cli
from cli.main import cli
from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from demo.visits import visit_rows
from domain.activity.visits import COLUMNS
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.money import format_gbp
from ledger.audit.head_check import current_head
from ledger.authorisation import accountant_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries import activity, incentives, rates, returns, settlements
from ledger.queries.as_at import resolve_as_at
from ledger.queries.organisations import list_organisations
from reports.statements import render_pdf
from reports.statements.batch import batch_period, plan_batch
from reports.statements.rate_notice import notice_providers, rate_notice
from tests.support import demo_copy

REVIEW = "2020-21"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_copy(request, "sqlite", tmp_path_factory.mktemp("batch")).url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def demo(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    """The demo with visits in the 2020-21 review's backdated window (1 April to 14 June 2020) and their arrears."""
    book = open_openbook(Database.from_url(demo_url))
    window = list(visit_rows(book.records.agreement(WIRRAL), 60, date(2020, 4, 1), date(2020, 6, 14), seed=7,
                             id_prefix="RN"))  # fmt: skip
    path = tmp_path_factory.mktemp("visits") / "ecm-2020-q1.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([list(COLUMNS), *window])
    book.activity.import_activity(Envelope(WIRRAL_ACCOUNTANT, date(2020, 6, 20), "ECM file", "batch-import"), WIRRAL,
                                  path)  # fmt: skip
    book.activity.calculate_arrears(Envelope(WIRRAL_ACCOUNTANT, date(2020, 7, 1), "arrears", "batch-arrears"), WIRRAL,
                                    REVIEW)  # fmt: skip
    yield book
    book.close()


@pytest.fixture(scope="module")
def accountant(demo):
    return accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL)


@pytest.fixture(scope="module")
def premier(demo):
    return provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")


def pdf_text(path: Path) -> str:
    """The PDF's text with its whitespace run together, as a reader's copy-and-paste gives it."""
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())  # fmt: skip


def openbook(url: str, user: str | None, *args: str):
    runner = CliRunner()
    return runner.invoke(cli, ["--database", url, *(["--as", user] if user else []), *args], env={"OPENBOOK_USER": None})


def test_the_rate_notice_states_the_decided_rates_the_uplift_arithmetic_and_the_providers_arrears(demo, premier,
                                                                                                  tmp_path):  # fmt: skip
    review = rates.rate_review(demo.read_engine, WIRRAL, REVIEW)
    decision = review["decision"]
    before = rates.rates_in_force(demo.read_engine, WIRRAL, decision["effective_from"] - timedelta(days=1))
    owed = activity.arrears(demo.read_engine, premier, REVIEW)
    everyone = activity.arrears(demo.read_engine, accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL), REVIEW)
    assert owed["lines"] and Decimal(owed["total"]) > 0 and len(everyone["providers"]) > 1

    statement = rate_notice(demo, premier, REVIEW, "premier-care")
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(render_pdf(statement))
    text = pdf_text(pdf)
    assert statement.title == f"Rate notice, {REVIEW}: Premier Care" and statement.title in text
    assert "15 June 2020" in text and "1 April 2020" in text and decision["decided_by"] in text
    assert all(format_gbp(r["hourly_rate"]) in text for r in decision["rates"]) and decision["rates"]
    assert all(format_gbp(r["hourly_rate"]) in text for r in before) and before  # the rate before, beside the new
    for line in review["proposals"][-1]["lines"]:  # the calculator's steps, as it kept them
        assert line["formula"] in text and f"{line['amount']:f}" in text, line["label"]
    for line in owed["lines"]:
        assert line["working"] in text and format_gbp(Decimal(line["amount"])) in text
    assert f"owed to Premier Care {format_gbp(Decimal(owed['total']))}" in text
    for other in (line for line in everyone["lines"] if line["provider"] != "premier-care"):
        assert other["working"] not in text  # no other provider's lines
    assert format_gbp(Decimal(everyone["total"])) not in text  # nor the partnership's total
    assert current_head(demo)["hash"] in text and "page 1 of" in text
    position = activity.arrears_position(demo.read_engine, premier, REVIEW, owed["calculations"])
    assert ("the arrears, calculation 1", position) in statement.provenance.built_from
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / "statement-rate-notice")], check=True)  # fmt: skip


def test_a_provider_gets_its_own_notice_an_accountant_any_and_an_undecided_review_has_none(demo, premier,
                                                                                           accountant):  # fmt: skip
    with pytest.raises(NotFound):
        rate_notice(demo, premier, REVIEW, "haven-care")
    with pytest.raises(NotFound):  # a Herefordshire provider has no part in Wirral's agreement
        rate_notice(demo, accountant, REVIEW, "hfd-provider-a")
    assert rate_notice(demo, accountant, REVIEW, "haven-care").title == f"Rate notice, {REVIEW}: Haven Care"
    assert notice_providers(demo, premier, REVIEW) == ["premier-care"]
    everyone = activity.arrears(demo.read_engine, accountant, REVIEW)["providers"]
    assert set(everyone) <= set(notice_providers(demo, accountant, REVIEW))
    # The alliance holds the award; its members deliver the care at its rates, so each has its own notice.
    members = {o["code"] for o in list_organisations(demo.read_engine, "provider")
               if o["member_of"] == "wirral-home-care-alliance"}  # fmt: skip
    assert len(members) == 3 and members <= set(notice_providers(demo, accountant, REVIEW))
    for member in members:
        assert rate_notice(demo, accountant, REVIEW, member).parties[-1].code == member
    with pytest.raises(NotFound, match="has not been opened"):
        rate_notice(demo, accountant, "2021-22", "premier-care")


def test_the_notice_as_the_ledger_knew_it_before_the_arrears_were_calculated_says_they_were_not(demo, premier):
    calculation = activity.arrears(demo.read_engine, premier, REVIEW)["calculations"]
    position = activity.arrears_position(demo.read_engine, premier, REVIEW, calculation)
    before = resolve_as_at(demo.ledger.recorder, demo.ledger.mapper, demo.read_engine, str(position - 1))
    then = rate_notice(demo, premier, REVIEW, "premier-care", as_at=before)
    [arrears] = [s for s in then.sections if s.heading == "Arrears owed to Premier Care"]
    assert [b.text for b in arrears.blocks][0].startswith("The arrears of this backdated decision have not been "
                                                          "calculated yet")  # fmt: skip
    assert then.provenance.head["position"] == position - 1
    now = rate_notice(demo, premier, REVIEW, "premier-care")
    assert [s.heading for s in then.sections] == [s.heading for s in now.sections]


def test_openbook_statements_rate_notice_writes_the_readers_own_and_refuses_anothers(demo_url, demo, premier,
                                                                                      tmp_path):  # fmt: skip
    out = tmp_path / "notice.pdf"
    done = openbook(demo_url, PREMIER_CARE_FINANCE.user, "statements", "rate-notice", "--agreement", WIRRAL,
                    "--review", REVIEW, "--out", str(out), "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["title"] == f"Rate notice, {REVIEW}: Premier Care"
    assert format_gbp(Decimal(activity.arrears(demo.read_engine, premier, REVIEW)["total"])) in pdf_text(out)
    other = tmp_path / "haven.pdf"
    refused = openbook(demo_url, PREMIER_CARE_FINANCE.user, "statements", "rate-notice", "--agreement", WIRRAL,
                       "--review", REVIEW, "--provider", "haven-care", "--out", str(other))  # fmt: skip
    assert refused.exit_code == 1 and "not found" in refused.stderr and not other.exists()


# -- the batch ----------------------------------------------------------------------------------------------------


def test_a_period_is_a_quarter_a_month_or_a_financial_year():
    assert [(p.kind, p.text, p.financial_year) for p in map(batch_period, ("2019-20-Q1", "2019-06", "2019-20"))] == [
        ("quarter", "2019-20-Q1", "2019-20"), ("month", "2019-06", "2019-20"), ("year", "2019-20", "2019-20")]
    assert (batch_period("2020-03").start, batch_period("2020-03").end) == (date(2020, 3, 1), date(2020, 3, 31))
    for wrong in ("2019", "2019-13", "2019-20-Q5", "Q1"):
        with pytest.raises(InvalidInput, match="--period"):
            batch_period(wrong)


def test_each_periods_plan_is_every_partys_statements_the_queries_give(demo, accountant, premier):
    def plan(period: str) -> list[str]:
        return [p.file_name for p in plan_batch(demo, accountant, batch_period(period))]

    engine = demo.read_engine
    accepted = sorted(r["provider"] for r in returns.list_returns(engine, accountant, "2019-20-Q1")
                      if r["status"] == "accepted")  # fmt: skip
    assert plan("2019-20-Q1") == [f"cost-{p}-2019-20-Q1.pdf" for p in accepted] and len(accepted) >= 5
    paid = sorted(r["provider"] for r in settlements.payment_runs(engine, accountant, "2019-20") if r["month"] == "2019-06")
    assert plan("2019-06") == [f"payment-{p}-2019-06.pdf" for p in paid] and paid
    assessed = [line["provider"] for line in incentives.incentive_assessment(engine, accountant, "2019-20")["lines"]]
    settled = settlements.settlement(engine, accountant, WIRRAL, "2019-20")["statement"]
    assert plan("2019-20") == [
        *(f"incentive-{p}-2019-20.pdf" for p in assessed), f"settlement-{WIRRAL}-2019-20.pdf",
        *(f"settlement-{c}-2019-20.pdf" for c in settled["commissioners"]),
        *(f"settlement-{p}-2019-20.pdf" for p in settled["providers"]),
    ]  # fmt: skip
    notices = [f"rate-notice-{p}-{REVIEW}.pdf" for p in notice_providers(demo, accountant, REVIEW)]
    assert plan("2020-06") == plan("2020-21-Q1") == plan("2020-21") == notices  # decided 15 June 2020
    assert plan("2020-05") == [] and plan("2021-22-Q3") == []
    with pytest.raises(NotAllowed):  # a batch holds every provider's statements: for accountants
        plan_batch(demo, premier, batch_period("2019-06"))


@pytest.fixture
def premier_only(monkeypatch):
    """The batch's plan narrowed to Premier Care's statements and the partnership's settlement (fewer PDFs)."""
    whole = statements_cli.plan_batch
    monkeypatch.setattr(statements_cli, "plan_batch", lambda book, access, period: [
        p for p in whole(book, access, period) if p.party in ("premier-care", WIRRAL)])  # fmt: skip


def batch(url: str, period: str, out: Path, user: str = WIRRAL_ACCOUNTANT.user) -> dict:
    done = openbook(url, user, "statements", "--agreement", WIRRAL, "--period", period, "--out", str(out), "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)  # stdout is the JSON alone: the progress bar is on stderr
    files = summary["files"]
    assert all(Path(f["file"]).parent == out and Path(f["file"]).stat().st_size == f["bytes"] for f in files)
    assert (f"building {len(files)} statements" in done.stderr) is bool(files)
    return summary


def test_the_batch_of_a_month_writes_each_providers_payment_statement(demo_url, demo, accountant, tmp_path):
    out = tmp_path / "june"
    written = batch(demo_url, "2019-06", out)
    head = current_head(demo)["position"]
    runs = [r for r in settlements.payment_runs(demo.read_engine, accountant, "2019-20") if r["month"] == "2019-06"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"payment-{r['provider']}-2019-06.pdf" for r in runs)
    for f, run in zip(written["files"], sorted(runs, key=lambda r: r["provider"]), strict=True):
        assert (f["kind"], f["party"], f["head_position"]) == ("payment", run["provider"], head)
        assert f["bytes"] == Path(f["file"]).stat().st_size
        assert format_gbp(run["amount"]) in pdf_text(Path(f["file"]))

    again = openbook(demo_url, WIRRAL_ACCOUNTANT.user, "statements", "--agreement", WIRRAL, "--period", "2019-06",
                     "--out", str(out))  # fmt: skip
    assert again.exit_code == 1 and "already holds payment-" in again.stderr  # never written over


def test_the_batch_of_a_quarter_writes_cost_statements_and_of_the_review_quarter_its_rate_notices(
    demo_url, demo, premier, premier_only, tmp_path
):  # fmt: skip
    out = tmp_path / "q1"
    [cost] = batch(demo_url, "2019-20-Q1", out)["files"]
    sheet = returns.return_sheet(demo.read_engine, premier, "premier-care", "2019-20-Q1")
    assert Path(cost["file"]).name == "cost-premier-care-2019-20-Q1.pdf" and cost["kind"] == "cost"
    assert format_gbp(sheet["totals"]["total_per_hour"]) in pdf_text(Path(cost["file"]))

    [notice] = batch(demo_url, "2020-21-Q1", out)["files"]  # into the same folder: other names, nothing clashes
    assert Path(notice["file"]).name == f"rate-notice-premier-care-{REVIEW}.pdf" and notice["kind"] == "rate-notice"
    owed = activity.arrears(demo.read_engine, premier, REVIEW)["total"]
    assert f"owed to Premier Care {format_gbp(Decimal(owed))}" in pdf_text(Path(notice["file"]))
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in (cost["file"], notice["file"]))


def test_the_batch_of_a_year_writes_the_incentive_and_settlement_statements_per_party(
    demo_url, demo, accountant, premier, premier_only, tmp_path
):  # fmt: skip
    out = tmp_path / "year"
    files = {(f["kind"], f["party"]): Path(f["file"]) for f in batch(demo_url, "2019-20", out)["files"]}
    assert set(files) == {("incentive", "premier-care"), ("settlement", WIRRAL), ("settlement", "premier-care")}
    [line] = incentives.incentive_assessment(demo.read_engine, premier, "2019-20")["lines"]
    assert format_gbp(line["payment"]) in pdf_text(files["incentive", "premier-care"])
    everyone = settlements.settlement(demo.read_engine, accountant, WIRRAL, "2019-20")["statement"]
    partnership = pdf_text(files["settlement", WIRRAL])
    assert format_gbp(everyone["provider_amount"]) in partnership and "Haven Care" in partnership
    own = pdf_text(files["settlement", "premier-care"])
    assert format_gbp(everyone["providers"]["premier-care"]["balance"]) in own and "Haven Care" not in own


def test_a_refused_batch_writes_nothing_and_a_period_with_nothing_to_state_says_so(demo_url, tmp_path):
    out = tmp_path / "refused"
    refused = openbook(demo_url, PREMIER_CARE_FINANCE.user, "statements", "--agreement", WIRRAL, "--period", "2019-06",
                       "--out", str(out))  # fmt: skip
    assert refused.exit_code == 1 and "may not see every provider's figures" in refused.stderr and not out.exists()
    out.mkdir()
    (out / "payment-premier-care-2019-06.pdf").write_bytes(b"someone's copy")
    clash = openbook(demo_url, WIRRAL_ACCOUNTANT.user, "statements", "--agreement", WIRRAL, "--period", "2019-06",
                     "--out", str(out))  # fmt: skip
    assert clash.exit_code == 1 and "payment-premier-care-2019-06.pdf" in clash.stderr
    assert [p.name for p in out.iterdir()] == ["payment-premier-care-2019-06.pdf"]  # nothing else written
    assert (out / "payment-premier-care-2019-06.pdf").read_bytes() == b"someone's copy"

    empty = batch(demo_url, "2021-22-Q3", tmp_path / "empty")
    assert empty["files"] == [] and empty["message"].startswith(f"nothing to state for {WIRRAL} in 2021-22-Q3")
    assert not (tmp_path / "empty").exists()
    said = openbook(demo_url, WIRRAL_ACCOUNTANT.user, "statements", "--agreement", WIRRAL, "--period", "2020-05",
                    "--out", str(tmp_path / "may"))  # fmt: skip
    assert said.exit_code == 0 and "nothing to state" in said.stdout
    usage = openbook(demo_url, None, "statements", "--agreement", WIRRAL, "cost", "--period", "2019-20-Q1",
                     "--out", str(tmp_path / "x.pdf"))  # fmt: skip
    assert usage.exit_code == 2 and "are the batch's" in usage.output
