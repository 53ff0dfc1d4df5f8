"""Statements from the pages: a PDF with the page's figures, the provider's own only, another's a 404."""

from __future__ import annotations

import re
import subprocess

import pytest

from domain.envelope import Actor
from domain.money import format_gbp
from ledger.authorisation import access_for
from ledger.queries.rates import rate_review
from ledger.queries.settlements import settlement
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
