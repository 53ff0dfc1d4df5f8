"""PDF statements of the demo's figures: what their text says, whom they show, where they came from, how they look.

The module has its own copy of the loaded demo on SQLite (``demo_copy``); a CCG accountant reviews its
2019-20 settlement with a note holding markup (user text that must stay text)
and a checkpoint is recorded, so every statement's footer has one to cite.
Expected figures come from the same queries the statements are built from,
formatted as people read them (``format_gbp``); the PDF's text is read back
with poppler's ``pdftotext``, as a reader's copy-and-paste would. Page 1 of
each statement is kept as a PNG (100 dpi) in test-artifacts/ to be looked at.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from cli.main import cli
from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from domain.envelope import Actor, Envelope
from domain.money import format_gbp
from ledger.audit.head_check import current_head
from ledger.audit.signing import checkpoint_json, checkpoint_message, generate_key_files
from ledger.authorisation import accountant_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries import incentives, reconcile, returns, settlements
from ledger.queries.as_at import resolve_as_at
from ledger.queries.checkpoints import latest_recorded_checkpoint
from reports.statements import render_html, render_pdf
from reports.statements.cost import HISTORY, cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.settlement import settlement_statement
from tests.support import DEMO_CHECKPOINT, DEMO_EVENTS, demo_copy

YEAR = "2019-20"
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")
AUDITOR = Actor("auditor@audit.example", "partnership-audit")
REVIEW_NOTE = "checked <script>alert('x')</script> & the bands"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's own copy of the loaded demo (SQLite), which its fixture reviews and checkpoints."""
    return demo_copy(request, "sqlite", tmp_path_factory.mktemp("statements")).url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def demo(demo_url: str) -> Iterator[Openbook]:
    book = open_openbook(Database.from_url(demo_url))
    on = date(2020, 7, 1)
    book.settlements.review_settlement(Envelope(CCG_ACCOUNTANT, on, "review", "stmt-review"), WIRRAL, YEAR, 1,
                                       REVIEW_NOTE)  # fmt: skip
    book.checkpoints.record_checkpoint(Envelope(AUDITOR, on, "before statements", "stmt-checkpoint"))
    yield book
    book.close()


@pytest.fixture(scope="module")
def accountant(demo):
    return accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL)


@pytest.fixture(scope="module")
def premier(demo):
    return provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_info(pdf: bytes, tmp_path: Path, tool: str = "pdfinfo") -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout


def first_page_png(pdf: bytes, name: str, tmp_path: Path) -> Path:
    """Page 1 at 100 dpi as test-artifacts/NAME.png, to be looked at (and kept by CI as an artefact): an A4 page
    (827 × 1170 pixels) with real ink on it — more than 3% of its pixels not white: text, rules and a table or chart
    (a blank or nearly blank page, the failure a broken font or stylesheet gives, has well under 1%)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(ARTIFACTS / name)], check=True)  # fmt: skip
    png = ARTIFACTS / f"{name}.png"
    with Image.open(png) as image:
        grey = image.convert("L")
        assert grey.size == (827, 1170), grey.size
        inked = sum(grey.histogram()[:250]) / (grey.size[0] * grey.size[1])
    assert inked > 0.03, f"{png.name}: only {inked:.1%} of page 1 has ink"
    return png


def test_the_settlement_statement_states_the_settlements_figures_and_the_years_reconciliation(demo, accountant,
                                                                                             tmp_path):  # fmt: skip
    view = settlements.settlement(demo.read_engine, accountant, WIRRAL, YEAR)
    s = view["statement"]
    pdf = render_pdf(settlement_statement(demo, accountant, YEAR))
    text = pdf_text(pdf, tmp_path)

    for figure in ("target", "actual", "variance", "provider_amount", "provider_amount_uncapped", "removed_by_cap",
                   "clawback_total", "commissioner_cost"):  # fmt: skip
        assert format_gbp(s[figure]) in text, figure
    for provider, x in s["providers"].items():
        assert all(format_gbp(x[f]) in text for f in ("activity", "share", "balance")), provider
    for commissioner, x in s["commissioners"].items():
        assert format_gbp(x["cost"]) in text and format_gbp(x["pool_balance"]) in text, commissioner
    for step in s["steps"]:
        assert format_gbp(step["amount"]) in text
    premier = next(c for c in s["clawbacks"] if c["provider"] == "premier-care")
    assert format_gbp(premier["excess"]) in text and format_gbp(premier["amount"]) in text
    # the year's reconciliation: each identity's sides as the query gives them
    year = reconcile.reconcile(demo.read_engine, accountant, YEAR)
    assert year["holds"] and "Every identity holds to the penny." in text
    for identity in year["identities"]:
        assert identity["identity"] in " ".join(text.split()) and format_gbp(identity["left"]["amount"]) in text
    # who reviewed it, and who has still to approve
    assert "accountant@wirralccg.example" in text and "Awaiting approval by:" in text
    first_page_png(pdf, "statement-settlement", tmp_path)


def test_every_page_cites_the_head_and_the_latest_checkpoint_and_counts_its_pages(demo, accountant, tmp_path):
    statement = settlement_statement(demo, accountant, YEAR)
    pdf = render_pdf(statement)
    text = pdf_text(pdf, tmp_path)
    pages = int(re.search(r"^Pages:\s+(\d+)$", pdf_info(pdf, tmp_path), re.M).group(1))
    assert pages > 1
    for n in range(1, pages + 1):
        assert f"page {n} of {pages}" in text

    head, checkpoint = current_head(demo), latest_recorded_checkpoint(demo.read_engine)
    assert statement.provenance.head["position"] == head["position"] and statement.provenance.head["hash"] == head["hash"]
    assert text.count(head["hash"]) >= pages  # in every page's footer
    assert f"head at position {head['position']}" in text
    recorded = checkpoint["checkpoint"]
    assert text.count(recorded["hash"]) >= pages and f"position {recorded['position']}" in text
    view = settlements.settlement(demo.read_engine, accountant, WIRRAL, YEAR)
    assert f"event {view['event_position']}" in text  # the settlement's own last event, among those it was built from
    assert "unsigned (no signing key)" in text  # the demo has no key: it says so rather than leave it out


@pytest.mark.parametrize("kind", ["settlement", "payment"])
def test_where_the_figures_come_from_is_on_one_page_with_each_hash_whole(demo, accountant, premier, kind, tmp_path):
    """The last section is never split over a page break (the demo's payment statement ended a page with its first
    row), and its hashes are each on one line, so an auditor copying one from the text gets all 64 characters: the
    head's and the checkpoint's hash are in every page's footer and once more, whole, in that section."""
    statement = (settlement_statement(demo, accountant, YEAR) if kind == "settlement"
                 else payment_statement(demo, premier, "premier-care", "2019-06"))  # fmt: skip
    pages = pdf_text(render_pdf(statement), tmp_path).rstrip("\f").split("\f")
    [section] = [" ".join(page.split()) for page in pages if "Where these figures come from" in page]
    assert "Head: position" in section and "Built from: the read models, as at the head event" in section
    head, recorded = statement.provenance.head, latest_recorded_checkpoint(demo.read_engine)["checkpoint"]
    for digest in (head["hash"], recorded["hash"]):
        assert digest in section.split("Where these figures come from", 1)[1]
        assert sum(page.count(digest) for page in pages) == len(pages) + 1


def test_a_table_that_runs_over_a_page_repeats_its_headings(demo, accountant, tmp_path):
    """The settlement's steps run over more than one page; each page they are on opens them with their headings."""
    view = settlements.settlement(demo.read_engine, accountant, WIRRAL, YEAR)
    pages = [" ".join(page.split()) for page in pdf_text(render_pdf(settlement_statement(demo, accountant, YEAR)),
                                                         tmp_path).split("\f")]  # fmt: skip
    first, last = view["statement"]["steps"][0], view["statement"]["steps"][-1]
    start = next(i for i, page in enumerate(pages) if first["formula"] in page)
    end = max(i for i, page in enumerate(pages) if last["formula"] in page)
    assert end > start, "the demo's steps should run over a page break"
    for page in pages[start : end + 1]:
        assert all(re.search(rf"\b{heading}\b", page) for heading in ("Step", "Party", "Working", "Amount"))


def test_a_statement_pdf_has_its_title_author_and_the_embedded_fonts_only(demo, accountant, tmp_path):
    pdf = render_pdf(settlement_statement(demo, accountant, YEAR))
    info = pdf_info(pdf, tmp_path)
    assert re.search(r"^Title:\s+Settlement statement, 2019-20 · Wirral homecare alliance$", info, re.M)
    assert re.search(r"^Author:\s+Wirral Council$", info, re.M)
    assert re.search(r"^Page size:\s+595.276 x 841.89 pts \(A4\)$", info, re.M)
    fonts = pdf_info(pdf, tmp_path, "pdffonts").splitlines()[2:]
    assert fonts and all("Openbook-Statement-Sans" in line and " yes yes " in line for line in fonts)


def test_a_providers_settlement_statement_shows_its_own_figures_and_no_other_providers(demo, premier, tmp_path):
    own = settlements.settlement(demo.read_engine, premier, WIRRAL, YEAR)["statement"]
    statement = settlement_statement(demo, premier, YEAR)
    pdf = render_pdf(statement)
    text = pdf_text(pdf, tmp_path)
    assert statement.title == "Settlement statement, 2019-20: Premier Care"
    x = own["providers"]["premier-care"]
    assert all(format_gbp(x[f]) in text for f in ("activity", "incentives", "share", "clawback", "balance"))
    html = render_html(statement)
    everyone = settlements.settlement(demo.read_engine, accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL),
                                      WIRRAL, YEAR)["statement"]  # fmt: skip
    for other, figures in everyone["providers"].items():
        if other != "premier-care":
            assert format_gbp(figures["balance"]) not in text and format_gbp(figures["balance"]) not in html
    assert "Haven Care" not in text and "haven" not in html.lower()
    assert "reconciliation" not in text.lower()  # every provider's figures: for accountants only
    first_page_png(pdf, "statement-settlement-provider", tmp_path)


def test_a_commissioners_statement_shows_that_commissioners_position(demo, accountant, tmp_path):
    s = settlements.settlement(demo.read_engine, accountant, WIRRAL, YEAR)["statement"]
    statement = settlement_statement(demo, accountant, YEAR, commissioner="wirral-ccg")
    text = pdf_text(render_pdf(statement), tmp_path)
    assert "Settlement statement, 2019-20: NHS Wirral CCG" in text
    assert format_gbp(s["commissioners"]["wirral-ccg"]["pool_balance"]) in text
    # the partnership's steps still show every commissioner's cost; the position table is this commissioner's
    [position] = [b for section in statement.sections for b in section.blocks
                  if getattr(b, "caption", "").startswith("Each commissioner's position")]  # fmt: skip
    assert [row["commissioner"] for row in position.rows] == ["NHS Wirral CCG"]


def test_user_text_is_escaped_in_the_html_and_printed_as_text_in_the_pdf(demo, accountant, tmp_path):
    statement = settlement_statement(demo, accountant, YEAR)
    html = render_html(statement)
    assert "<script>" not in html
    assert "checked &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; the bands" in html
    assert REVIEW_NOTE in " ".join(pdf_text(render_pdf(statement), tmp_path).split())


def test_the_cost_statement_states_the_return_the_rate_paid_the_anonymised_market_and_the_history(demo, premier,
                                                                                                   tmp_path):  # fmt: skip
    quarter = "2019-20-Q1"
    sheet = returns.return_sheet(demo.read_engine, premier, "premier-care", quarter)
    view = returns.market(demo.read_engine, premier, quarter)
    periods = returns.history(demo.read_engine, premier, "premier-care")[-HISTORY:]
    statement = cost_statement(demo, premier, "premier-care", quarter)
    pdf = render_pdf(statement)
    text = pdf_text(pdf, tmp_path)
    assert statement.title == f"Cost statement, {quarter}: Premier Care"
    for line in sheet["lines"]:
        assert format_gbp(line["amount"]) in text and format_gbp(line["per_hour"]) in text, line["line"]
    assert format_gbp(sheet["totals"]["total_cost"]) in text and format_gbp(sheet["totals"]["total_per_hour"]) in text
    assert format_gbp(sheet["rate"].rate) in text and format_gbp(sheet["gap"]) in text
    assert f"{sheet['totals']['surplus_percent_of_total']}%" in text
    assert all(f["message"] in " ".join(text.split()) for f in sheet["findings"])
    assert view["market"]["contributors"] >= 5  # the demo's quarter has a market to show
    total = view["market"]["total"]
    assert all(format_gbp(total[q]) in text for q in ("lower", "median", "upper"))
    assert f"{view['market']['contributors']} accepted provider returns, anonymised" in text
    assert periods and all(p["period"] in text for p in periods)
    for name in ("Haven Care", "Carewatch", "Community Caring"):  # the market never names a provider
        assert name not in text
    svg = statement.sections[-1].blocks[1].svg
    assert all(format_gbp(p["total_per_hour"]) in svg for p in periods)  # the chart writes each period's cost
    head = current_head(demo)
    assert head["hash"] in text and "page 1 of" in text
    first_page_png(pdf, "statement-cost", tmp_path)


def test_openbook_statements_writes_the_readers_statement_and_refuses_another_providers(demo, demo_url, tmp_path):
    runner = CliRunner()

    def run(user: str, *args: str):
        return runner.invoke(cli, ["--database", demo_url, "--as", user, "statements", *args],
                             env={"OPENBOOK_USER": None})  # fmt: skip

    out = tmp_path / "premier-settlement.pdf"
    done = run(PREMIER_CARE_FINANCE.user, "settlement", "--agreement", WIRRAL, "--year", YEAR, "--out", str(out))
    assert done.exit_code == 0, done.output
    head = current_head(demo)
    assert f"built at head position {head['position']}, hash {head['hash']}" in done.output
    text = pdf_text(out.read_bytes(), tmp_path)
    premier = provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")
    balance = settlements.settlement(demo.read_engine, premier, WIRRAL, YEAR)["statement"]["providers"]
    assert format_gbp(balance["premier-care"]["balance"]) in text and "Haven Care" not in text

    again = run(PREMIER_CARE_FINANCE.user, "settlement", "--agreement", WIRRAL, "--year", YEAR, "--out", str(out))
    assert again.exit_code == 1 and "already exists" in again.output  # a statement is never written over

    other = tmp_path / "haven.pdf"
    refused = run(PREMIER_CARE_FINANCE.user, "cost", "--agreement", WIRRAL, "--provider", "haven-care",
                  "--period", "2019-20-Q1", "--out", str(other))  # fmt: skip
    assert refused.exit_code == 1 and "not found" in refused.output and not other.exists()

    html = tmp_path / "cost.html"
    shown = run(WIRRAL_ACCOUNTANT.user, "cost", "--agreement", WIRRAL, "--provider", "haven-care", "--period",
                "2019-20-Q1", "--out", str(html), "--html")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and "Haven Care" in html.read_text()


def test_the_payment_statement_states_the_runs_lines_and_the_year_to_date(demo, premier, tmp_path):
    month = "2019-06"
    v = settlements.payment_statement(demo.read_engine, premier, "premier-care", month)
    pdf = render_pdf(payment_statement(demo, premier, "premier-care", month))
    text = pdf_text(pdf, tmp_path)
    assert v["lines"] and all(format_gbp(line["amount"]) in text and line["label"] in " ".join(text.split())
                              for line in v["lines"])  # fmt: skip
    assert all(format_gbp(m["amount"]) in text for m in v["months_paid"])
    for figure in ("amount", "cumulative_paid", "priced_activity_to_date", "priced_less_paid"):
        assert format_gbp(v[figure]) in text, figure
    assert f"event {v['event_position']}" in text and current_head(demo)["hash"] in text
    first_page_png(pdf, "statement-payment", tmp_path)


def test_the_incentive_statement_states_each_providers_working_kpis_gate_and_payment(demo, accountant, premier,
                                                                                    tmp_path):  # fmt: skip
    everyone = incentives.incentive_assessment(demo.read_engine, accountant, YEAR)
    text = " ".join(pdf_text(render_pdf(incentive_statement(demo, accountant, YEAR)), tmp_path).split())
    assert len(everyone["lines"]) > 1 and format_gbp(everyone["total"]) in text
    for line in everyone["lines"]:
        assert format_gbp(line["payment"]) in text and line["working"] in text, line["provider"]
        assert all(note.split(" ", 1)[1] in text for note in line["kpi_notes"])
        assert ("Gate passed" if not line["missed_kpis"] else f"Gate failed: missed {line['missed_kpis'][0]}") in text

    statement = incentive_statement(demo, premier, YEAR)
    pdf = render_pdf(statement)
    own = " ".join(pdf_text(pdf, tmp_path).split())
    [line] = incentives.incentive_assessment(demo.read_engine, premier, YEAR)["lines"]
    assert statement.title == f"Incentive statement, {YEAR}: Premier Care"
    assert format_gbp(line["payment"]) in own and line["reason"] in own
    others = [x for x in everyone["lines"] if x["provider"] != "premier-care"]
    assert others and all(x["working"] not in own for x in others) and format_gbp(everyone["total"]) not in own
    first_page_png(pdf, "statement-incentive", tmp_path)


def test_with_a_signing_key_the_head_is_signed_at_build_time_and_nothing_is_recorded(demo, demo_url, tmp_path):
    key = generate_key_files(tmp_path / "signing.key")
    signed = open_openbook(Database.from_url(demo_url), signing_key=key)
    try:
        before = signed.projections.head()
        access = accountant_access(signed.records, WIRRAL_ACCOUNTANT, WIRRAL)
        statement = payment_statement(signed, access, "premier-care", "2019-06")
        pdf = render_pdf(statement)
        text = pdf_text(pdf, tmp_path)
        assert signed.projections.head() == before  # the head was signed, not recorded as a checkpoint
    finally:
        signed.close()
    head = statement.provenance.head
    assert head["position"] == before and head["key_id"] == key.key_id
    key.public.verify(bytes.fromhex(head["signature"]), checkpoint_message(head))  # raises if it does not verify
    flat = " ".join(text.split())
    assert f"signed by key {key.key_id}" in flat, flat[-1500:]
    assert head["signature"] in "".join(text.split())  # the long signature wraps in its cell
    (tmp_path / "signed.pdf").write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile", str(tmp_path / "signed.pdf"),
                    str(ARTIFACTS / "statement-signed-provenance")], check=True)  # fmt: skip


def test_a_statements_head_is_verified_by_the_standalone_verifier_and_as_at_its_checkpoint_it_is_the_same(
    demo, demo_url, accountant, tmp_path
):  # fmt: skip
    """An auditor holding the statement checks its head against an export; rebuilt as the ledger knew it at the
    recorded checkpoint (nothing changed since but the checkpoint's own event), it shows the same figures and cites
    that checkpoint's head."""
    live = settlement_statement(demo, accountant, YEAR)
    head = live.provenance.head
    exported, cited = tmp_path / "history.jsonl", tmp_path / "statement-head.json"
    cited.write_text(checkpoint_json(dict(head)) + "\n", encoding="ascii")
    runner = CliRunner()
    done = runner.invoke(cli, ["--database", demo_url, "export", "--out", str(exported)], env={"OPENBOOK_USER": None})
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["--database", demo_url, "verify", str(exported), "--since", str(cited), "--json"],
                         env={"OPENBOOK_USER": None})  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["status"] == "verified" and report["since"]["position"] == head["position"]

    recorded = latest_recorded_checkpoint(demo.read_engine)["checkpoint"]
    as_at = resolve_as_at(demo.ledger.recorder, demo.ledger.mapper, demo.read_engine, str(recorded["position"]))
    then = settlement_statement(demo, accountant, YEAR, as_at=as_at)
    assert then.sections == live.sections
    assert (then.provenance.head["position"], then.provenance.head["hash"]) == (recorded["position"], recorded["hash"])
    # this checkpoint was recorded after the head it attests: as at that head, the latest is the demo's own
    assert (then.provenance.checkpoint["position"], then.provenance.checkpoint["recorded_in"]) == (
        DEMO_CHECKPOINT, DEMO_EVENTS
    )
