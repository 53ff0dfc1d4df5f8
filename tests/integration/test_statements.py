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
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from cli.main import cli
from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from domain.envelope import Actor, Envelope
from domain.money import format_gbp
from domain.returns.wage_checks import EXPLANATION_NEEDED
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
from reports.statements.rate_notice import rate_notice
from reports.statements.settlement import settlement_statement
from tests.support import DEMO_CHECKPOINT, DEMO_EVENTS, demo_copy

YEAR = "2019-20"
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")
AUDITOR = Actor("auditor@audit.example", "partnership-audit")
REVIEW_NOTE = "checked <script>alert('x')</script> & the bands"
#: Who issues every statement of the demo's Wirral agreement: its commissioners, in the order they joined it.
ISSUED_BY = "Wirral Council & NHS Wirral CCG"
RLW_FLAG = "£7.70 is below the Real Living Wage of £9.00 the provider committed to"
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
    assert re.search(rf"^Author:\s+{ISSUED_BY}$", info, re.M)
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


#: One statement of each kind, as its provider reads it (a provider's statement is the one whose header named it alone).
PROVIDER_KINDS = {
    "settlement": lambda book, access: settlement_statement(book, access, YEAR),
    "cost": lambda book, access: cost_statement(book, access, "premier-care", "2019-20-Q1"),
    "payment": lambda book, access: payment_statement(book, access, "premier-care", "2019-06"),
    "incentive": lambda book, access: incentive_statement(book, access, YEAR),
    "rate-notice": lambda book, access: rate_notice(book, access, "2020-21", "premier-care"),
}


@pytest.mark.parametrize("kind", PROVIDER_KINDS)
def test_every_kind_is_issued_by_the_agreements_commissioners_and_its_header_names_them(demo, premier, kind,
                                                                                       tmp_path):  # fmt: skip
    """One rule for the author in the PDF's metadata, whatever the kind: the organisations that issue it, the
    agreement's commissioners (not the agreement's name, a drafter's organisation or the provider it is about); and
    the running header of a provider's statement names them as well as the provider."""
    pdf = render_pdf(PROVIDER_KINDS[kind](demo, premier))
    assert re.search(rf"^Author:\s+{ISSUED_BY}$", pdf_info(pdf, tmp_path), re.M), pdf_info(pdf, tmp_path)
    (tmp_path / "page.pdf").write_bytes(pdf)
    layout = subprocess.run(["pdftotext", "-layout", "-f", "2", "-l", "2", str(tmp_path / "page.pdf"), "-"],
                            check=True, capture_output=True, text=True).stdout  # fmt: skip
    header = next(line for line in layout.splitlines() if line.strip())  # page 2: the header alone names them
    assert "Wirral homecare alliance (wirral-homecare)" in header
    assert header.rstrip().endswith("Wirral Council · NHS Wirral CCG · Premier Care"), header


def test_an_explained_wage_floor_breach_shows_the_explanation_not_the_instruction_to_record_one(demo, accountant):
    """Carewatch's 2019-20-Q1 return pays apprentices below the National Living Wage; an accountant explained it and
    accepted the return. Its statement states the breach and who explained it, when and why — not that an
    explanation must still be recorded."""
    sheet = returns.return_sheet(demo.read_engine, accountant, "carewatch", "2019-20-Q1")
    [breach] = [f for f in sheet["findings"] if f["kind"] == "nlw-breach"]
    assert sheet["status"] == "accepted" and breach["explained"] and breach["message"].endswith(EXPLANATION_NEEDED)
    html = render_html(cost_statement(demo, accountant, "carewatch", "2019-20-Q1"))
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html.split("<h2>Wage floors", 1)[1])).split())  # as read
    assert breach["message"].removesuffix(EXPLANATION_NEEDED) + "." in text
    assert "must record an explanation" not in text
    assert f"Explained by {breach['explained_by']}" in text and "Explained on 6 August 2019" in text
    assert f"Explanation {breach['explanation']}" in text


def test_a_findings_explanation_is_escaped_and_a_breach_not_yet_explained_keeps_its_instruction(demo, accountant,
                                                                                              monkeypatch):  # fmt: skip
    """The explanation is text an accountant typed: markup in it is shown, never run. A return whose breach has no
    explanation yet (here, the same sheet with it taken away) still says one must be recorded, as a warning; a flag
    that needs none (the Real Living Wage the provider committed to) is a plain sentence."""
    real = returns.return_sheet

    def with_explanation(text: str | None):
        def sheet(*args, **kwargs):
            found = real(*args, **kwargs)
            found["findings"] = [{**f, "explained": text is not None, "explanation": text} if f.get("needs_explanation")
                                 else f for f in found["findings"]]  # fmt: skip
            if text is None:  # and a Real Living Wage flag, which needs no explanation (its finding has no such key)
                found["findings"].append({"kind": "rlw-flag", "floor": Decimal("9.00"), "message": RLW_FLAG})
            return found
        return sheet

    monkeypatch.setattr("reports.statements.cost.return_sheet", with_explanation("<b>apprentices</b> & under-25s"))
    html = render_html(cost_statement(demo, accountant, "carewatch", "2019-20-Q1"))
    assert "&lt;b&gt;apprentices&lt;/b&gt; &amp; under-25s" in html and "<b>apprentices" not in html
    monkeypatch.setattr("reports.statements.cost.return_sheet", with_explanation(None))
    unexplained = cost_statement(demo, accountant, "carewatch", "2019-20-Q1")
    [findings] = [s for s in unexplained.sections if s.heading == "Wage floors and other findings"]
    assert [(b.text.endswith(EXPLANATION_NEEDED), b.warning) for b in findings.blocks] == [(True, True), (False, False)]
    assert findings.blocks[1].text == RLW_FLAG


def test_the_incentive_statements_hours_are_one_column_right_aligned_to_two_places(demo, accountant):
    """Baseline and actual hours (with their sources beside them), the reduction, the threshold and the eligible
    hours are one kind of figure: each in the same right-aligned column, to 2 places (28.00 beside 17.78, not 28)."""
    everyone = incentives.incentive_assessment(demo.read_engine, accountant, YEAR)
    html = render_html(incentive_statement(demo, accountant, YEAR))
    for line in everyone["lines"]:
        name = demo.records.organisation(line["provider"]).name
        section = html.split(f"<h2>{name}</h2>", 1)[1].split("<h2>", 1)[0]
        hours = re.search(r"<caption>Hours:.*?</table>", section, re.S).group(0)
        cells = re.findall(r'<td class="num">([^<]*)</td>', hours)
        assert cells == [f"{line[k]:,.2f}" for k in ("baseline_hours", "actual_hours", "reduction_hours",
                                                     "threshold_hours", "eligible_hours")], (name, cells)  # fmt: skip
        assert f"<td>{line['baseline_source']}</td>" in hours and f"<td>{line['actual_source']}</td>" in hours
    carewatch = next(x for x in everyone["lines"] if x["provider"] == "carewatch")
    assert (f"{carewatch['threshold_hours']:.2f}", f"{carewatch['eligible_hours']:.2f}") == ("28.00", "17.78")
    summary = html.split("<caption>Each provider&#39;s payment</caption>", 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<td class="num">([\d,.]+)</td>', summary) == [f"{x['eligible_hours']:,.2f}"
                                                                      for x in everyone["lines"]]  # fmt: skip


def test_the_bands_are_named_by_their_stretch_of_target_in_a_column_that_does_not_wrap(demo, accountant, tmp_path):
    """The bands table's first column once read "25% of the variance below 90% of target" over four lines; the share
    has a column of its own, so a band is named by where it lies: each name on one line of the PDF."""
    statement = settlement_statement(demo, accountant, YEAR)
    [bands] = [b for section in statement.sections for b in section.blocks
               if getattr(b, "caption", "").startswith("The gain and pain share bands")]  # fmt: skip
    names = [row["band"] for row in bands.rows]
    assert names == ["below 90%", "90% to 100%", "100% to 110%", "above 110%", "total, before cap"]
    (tmp_path / "s.pdf").write_bytes(render_pdf(statement))
    layout = subprocess.run(["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"], check=True, capture_output=True,
                            text=True).stdout  # fmt: skip
    for name, row in zip(names, bands.rows, strict=True):
        assert re.search(rf"^\s*{re.escape(name)}\s.*{re.escape(format_gbp(row['amount']))}\s*$", layout, re.M), name
