"""Setting up a year's pooled budget in the browser: the same terms `openbook pool set` records, once."""

from __future__ import annotations

from decimal import Decimal

from ledger.queries.settlements import pool_terms
from tests.web.support import post_form

WIRRAL = "wirral-homecare"
FORM = f"/accountant/pool/{WIRRAL}/set"
TERMS = {
    "financial_year": "2020-21",
    "target": "12500000.00",
    "bands": "-:0.9:0.25\n0.9:1:0.5\n1:1.1:0.5\n1.1:-:1",
    "gain_cap": "250000.00",
    "loss_cap": "250000.00",
    "mechanism": "rate",
    "clawback_share": "0.5",
    "margin_basis": "total",
    "reason": "2020-21 pool agreed at the partnership board",
}


def _form(client) -> dict[str, str]:
    page = client.get(FORM).get_data(as_text=True)
    key = page.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    return {"idempotency_key": key}


def test_an_accountant_sets_up_a_years_pool_once_with_the_terms_the_ledger_reads_back(client_as, demo_book):
    client = client_as("accountant")
    assert FORM in client.get("/accountant/pool").get_data(as_text=True)
    data = {**_form(client), **TERMS}
    before = demo_book.projections.head()
    answer = post_form(client, FORM, data)
    assert answer.status_code == 302 and answer.location.endswith(f"/accountant/pool/{WIRRAL}/2020-21")
    assert demo_book.projections.head() > before
    terms = pool_terms(demo_book.read_engine, WIRRAL, "2020-21")
    assert terms.target == Decimal("12500000.00") and terms.clawback_share == Decimal("0.5")
    assert [(b.lower, b.upper, b.provider_share) for b in terms.bands] == [
        (None, Decimal("0.9"), Decimal("0.25")), (Decimal("0.9"), Decimal("1"), Decimal("0.5")),
        (Decimal("1"), Decimal("1.1"), Decimal("0.5")), (Decimal("1.1"), None, Decimal("1")),
    ]  # fmt: skip
    recorded = demo_book.projections.head()
    assert post_form(client, FORM, data).status_code == 302  # the double submit
    assert demo_book.projections.head() == recorded


def test_a_bad_band_is_shown_beside_the_bands_and_nothing_is_recorded(client_as, demo_book):
    client = client_as("accountant")
    before = demo_book.projections.head()
    page = post_form(client, FORM, {**_form(client), **TERMS, "financial_year": "2021-22", "bands": "0.9-1-0.5"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "is not LOWER:UPPER:SHARE" in html
    assert html.index("is not LOWER:UPPER:SHARE") < html.index('name="bands"')  # beside the field, above it
    assert demo_book.projections.head() == before


def test_another_commissioners_agreement_is_404_and_a_provider_403(client_as):
    assert client_as("herefordshire-accountant").get(FORM).status_code == 404
    assert client_as("provider").get(FORM).status_code == 403
