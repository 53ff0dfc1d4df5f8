"""Statements from the pages: a PDF (or HTML, or CSV data) with the page's figures, the provider's own only, another's
a 404."""

from __future__ import annotations

import csv
import io
import re
import subprocess

import pytest

from domain.envelope import Actor
from domain.money import format_gbp, format_percent
from ledger.audit.head_check import current_head
from ledger.authorisation import access_for
from ledger.queries.rates import rate_review
from ledger.queries.returns import return_sheet
from ledger.queries.settlements import payment_statement, settlement
from tests.web.support import USERS

WIRRAL, YEAR = "wirral-homecare", "2019-20"
SETTLEMENT = f"/statements/settlement/{WIRRAL}/{YEAR}/1"


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_a_provider_downloads_its_own_settlement_statement_from_its_settlement_page(client_as, demo_book):
    client = client_as("provider")
    page = client.get(f"/provider/settlements/{WIRRAL}/{YEAR}/1").get_data(as_text=True)
    assert f'href="{SETTLEMENT}"' in page
    response = client.get(SETTLEMENT)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="settlement-{WIRRAL}-{YEAR}-1.pdf"'
    text = _text(response.data)
    own = access_for(demo_book.records, Actor(USERS["provider"], "premier-care"), WIRRAL)
    view = settlement(demo_book.read_engine, own, WIRRAL, YEAR, 1)
    assert list(view["statement"]["providers"]) == ["premier-care"]  # a provider sees its own line only
    line = view["statement"]["providers"]["premier-care"]
    assert format_gbp(line["balance"]) in text and "Premier Care" in text
    assert "Haven Care" not in text  # the provider's own statement: no other provider


def test_an_accountant_gets_the_partnerships_statement_and_other_organisations_get_404(client_as):
    accountant = client_as("accountant")
    page = accountant.get(f"/accountant/settlements/{WIRRAL}/{YEAR}/1").get_data(as_text=True)
    assert f'href="{SETTLEMENT}"' in page
    text = _text(accountant.get(SETTLEMENT).data)
    assert "Haven Care" in text and "Premier Care" in text
    assert client_as("herefordshire-accountant").get(SETTLEMENT).status_code == 404
    haven = client_as("other-provider")
    assert haven.get(f"/statements/cost/{WIRRAL}/premier-care/2019-20-Q1").status_code == 404
    assert haven.get(f"/statements/payment/{WIRRAL}/premier-care/2019-05").status_code == 404
    assert client_as("admin").get(SETTLEMENT).status_code == 403  # an admin's role has no statements


@pytest.mark.parametrize("path", [f"/statements/cost/{WIRRAL}/premier-care/2019-20-Q1",
                                  f"/statements/payment/{WIRRAL}/premier-care/2019-05"])  # fmt: skip
def test_the_cost_and_payment_statements_open_from_their_pages_as_pdf_and_html(client_as, path):
    client = client_as("provider")
    pdf = client.get(path)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    html = client.get(path + "?format=html")
    assert html.mimetype == "text/html" and re.search(r"page|Premier Care", html.get_data(as_text=True))


PAGES_WITH_STATEMENTS = {  # page (as the provider) -> the statement it links to
    f"/provider/settlements/{WIRRAL}/{YEAR}/1": SETTLEMENT,
    f"/provider/returns/{WIRRAL}/premier-care/2019-20-Q1": f"/statements/cost/{WIRRAL}/premier-care/2019-20-Q1",
    f"/provider/payments/{WIRRAL}/premier-care/2019-05": f"/statements/payment/{WIRRAL}/premier-care/2019-05",
}


@pytest.mark.parametrize("page", PAGES_WITH_STATEMENTS)
def test_every_statement_link_has_its_html_and_csv_data_beside_it(client_as, page):
    html = client_as("provider").get(page).get_data(as_text=True)
    statement = PAGES_WITH_STATEMENTS[page]
    links = re.search(r'<p class="statement-links">.*?</p>', html, re.S).group(0)
    assert f'href="{statement}"' in links
    assert f'href="{statement}?format=html"' in links and f'href="{statement}?format=csv"' in links


ACCOUNTANT_AND_AUDITOR_PAGES = {  # (role, page) -> the statements it links to, each as PDF, HTML and CSV data
    ("accountant", f"/accountant/payments/{WIRRAL}/runs/2019-05"): [
        f"/statements/payment/{WIRRAL}/{provider}/2019-05"
        for provider in ("carewatch", "haven-care", "premier-care", "wirral-home-care-alliance")
    ],
    ("accountant", f"/accountant/incentives/{WIRRAL}/{YEAR}"): [f"/statements/incentive/{WIRRAL}/{YEAR}"],
    ("auditor", f"/auditor/settlements/{WIRRAL}/{YEAR}/1"): [SETTLEMENT],
}


@pytest.mark.parametrize("role, page", ACCOUNTANT_AND_AUDITOR_PAGES)
def test_the_accountants_run_and_incentive_pages_and_the_auditors_settlement_link_their_statements(client_as, role,
                                                                                                  page):  # fmt: skip
    html = client_as(role).get(page).get_data(as_text=True)
    for statement in ACCOUNTANT_AND_AUDITOR_PAGES[role, page]:
        for link in (statement, f"{statement}?format=html", f"{statement}?format=csv"):
            assert f'href="{link}"' in html


def test_the_payment_run_pages_statement_csv_data_has_the_providers_payment(client_as, demo_book):
    accountant = access_for(demo_book.records, Actor(USERS["accountant"], "wirral-council"), WIRRAL)
    paid = payment_statement(demo_book.read_engine, accountant, "haven-care", "2019-05")
    data = client_as("accountant").get(f"/statements/payment/{WIRRAL}/haven-care/2019-05?format=csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    assert ["Amount of this payment", format(paid["amount"], "f")] in list(csv.reader(io.StringIO(data.get_data(
        as_text=True))))  # fmt: skip


def test_the_rate_notices_links_have_their_html_and_csv_data_beside_them(client_as):
    notice = f"/statements/rate-notice/{WIRRAL}/2020-21/premier-care"
    dashboard = client_as("provider").get("/provider/?on=2020-07-01").get_data(as_text=True)
    review = client_as("accountant").get(f"/accountant/rates/{WIRRAL}/reviews/2020-21").get_data(as_text=True)
    for page in (dashboard, review):
        assert f'href="{notice}?format=html"' in page and f'href="{notice}?format=csv"' in page
    data = client_as("provider").get(notice + "?format=csv")
    assert data.mimetype == "text/csv" and "Rate notice, 2020-21: Premier Care" in data.get_data(as_text=True)


def test_the_settlement_statements_csv_data_holds_every_table_with_the_settlements_figures(client_as, demo_book):
    response = client_as("accountant").get(SETTLEMENT + "?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="settlement-{WIRRAL}-{YEAR}-1.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    accountant = access_for(demo_book.records, Actor(USERS["accountant"], "wirral-council"), WIRRAL)
    s = settlement(demo_book.read_engine, accountant, WIRRAL, YEAR)["statement"]
    head = current_head(demo_book)
    assert ["head", str(head["position"]), head["hash"]] in rows  # traceable like the PDF
    # money as plain fixed-point text (reports.tables), a figure of the query's own
    assert ["Target spend", format(s["target"], "f")] in rows and ["Actual spend", format(s["actual"], "f")] in rows
    steps = rows.index(["The banded share, step by step", "Every step of the settlement, in order"])
    assert rows[steps + 1] == ["Step", "Party", "Working", "Amount"]
    assert [r[3] for r in rows[steps + 2 : steps + 2 + len(s["steps"])]] == [format(x["amount"], "f") for x in s["steps"]]
    bands = rows.index(["The banded share, step by step", "The gain and pain share bands (an empty 'from' or 'to' is no "
                              "limit)"])  # fmt: skip
    assert [r[-2:] for r in rows[bands + 2 : bands + 2 + len(s["bands"])]] == [
        [format_percent(band["provider_share"]), format(band["provider_amount"], "f")] for band in s["bands"]
    ]  # each band's share and amount, in order
    assert any(r[:1] == ["The year's reconciliation"] for r in rows)


def test_a_providers_csv_data_is_its_own_and_another_providers_is_404(client_as):
    text = client_as("provider").get(SETTLEMENT + "?format=csv").get_data(as_text=True)
    assert "Premier Care" in text and "Haven Care" not in text
    cost = f"/statements/cost/{WIRRAL}/premier-care/2019-20-Q1?format=csv"
    assert client_as("other-provider").get(cost).status_code == 404


@pytest.mark.parametrize("role, page", [("provider", f"/provider/returns/{WIRRAL}/premier-care/2019-20-Q1"),
                                        ("accountant", f"/accountant/returns/{WIRRAL}/premier-care/2019-20-Q1")])  # fmt: skip
def test_both_return_pages_stack_the_cost_groups_against_the_rate_paid(client_as, demo_book, role, page):
    html = client_as(role).get(page).get_data(as_text=True)
    own = access_for(demo_book.records, Actor(USERS["provider"], "premier-care"), WIRRAL)
    sheet = return_sheet(demo_book.read_engine, own, "premier-care", "2019-20-Q1")
    chart = re.search(r"<svg\b.*?Cost per contact hour by group against the rate paid.*?</svg>", html, re.S).group(0)
    assert f"cost {format_gbp(sheet['totals']['total_per_hour'])}" in chart
    assert f"rate paid {format_gbp(sheet['rate'].rate)}" in chart
    assert all(f"{g['label']} {format_gbp(g['per_hour'])}" in chart for g in sheet["groups"])


NOTICE = f"/statements/rate-notice/{WIRRAL}/2020-21"


def test_the_rate_notice_opens_from_the_providers_rates_and_the_accountants_decided_review(client_as, demo_book):
    """The demo's 2020-21 review is decided and backdated; the provider's dashboard (its rates) links its own notice,
    the accountant's review page each provider's, and another organisation's notice is a 404."""
    provider = client_as("provider")
    assert f'href="{NOTICE}/premier-care"' in provider.get("/provider/?on=2020-07-01").get_data(as_text=True)
    text = _text(provider.get(f"{NOTICE}/premier-care").data)
    decision = rate_review(demo_book.read_engine, WIRRAL, "2020-21")["decision"]
    assert "Rate notice, 2020-21: Premier Care" in text and decision["rates"]
    assert all(format_gbp(r["hourly_rate"]) in text for r in decision["rates"])
    assert "16.3391" in text and "15 June 2020" in text  # the calculator's proposed cost per hour; the decision
    assert provider.get(f"{NOTICE}/haven-care").status_code == 404

    accountant = client_as("accountant")
    page = accountant.get(f"/accountant/rates/{WIRRAL}/reviews/2020-21").get_data(as_text=True)
    assert f'href="{NOTICE}/premier-care"' in page and f'href="{NOTICE}/haven-care"' in page
    assert "Haven Care" in _text(accountant.get(f"{NOTICE}/haven-care").data)
    assert client_as("herefordshire-accountant").get(f"{NOTICE}/premier-care").status_code == 404
