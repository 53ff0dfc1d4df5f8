"""The year-end settlement of Wirral's pooled budget, signed by both commissioners in the browser.

The demo leaves settlement 1 of wirral-homecare 2019-20 drafted by the
council's accountant. The CCG's accountant reviews it (someone other than who
drafted it must) and approves it for the CCG; trying to issue it then is
refused on the page, since the council has not approved; the council's
accountant approves and issues it; Premier Care reads its own balance on it.
The tests build on each other in file order on one live server; the main
pages are photographed (test-artifacts/) and checked by axe under the app's
own Content-Security-Policy.
"""

from __future__ import annotations

import pytest

from demo.settlements import DEMO_YEAR, GAIN_CAP, TARGET, WIRRAL
from domain.envelope import Actor
from domain.money import format_gbp
from ledger.authorisation import access_for
from ledger.queries.settlements import settlement
from tests.e2e.accessibility import serious
from tests.e2e.conftest import csp_refusals, log_in, screenshot

COUNCIL = "accountant@wirral.example"
CCG = "accountant@wirralccg.example"
PREMIER = "finance@premiercare.example"
SETTLEMENT = f"/accountant/settlements/{WIRRAL}/{DEMO_YEAR}/1"


@pytest.fixture
def refused(page) -> list[str]:
    return csp_refusals(page)


def _check(page, name: str, refused: list[str]) -> None:
    """A main page: photographed, no serious accessibility violation, nothing refused by the CSP."""
    screenshot(page, f"settlement-{name}")
    assert serious(page) == [], name
    assert refused == [], name


def _open_the_draft(page, base: str) -> None:
    """From the menu to the year's settlement, by its row in the list of every settlement."""
    page.get_by_role("link", name="Settlements", exact=True).click()
    page.wait_for_url(base + "/accountant/settlements")
    row = page.locator("table[data-table=settlements] tbody tr", has_text=DEMO_YEAR)
    assert row.count() == 1
    row.get_by_role("link", name="1", exact=True).click()
    page.wait_for_url(base + SETTLEMENT)


def _status(page) -> str:
    return page.locator("h1 .badge").inner_text()


def test_the_ccg_accountant_reviews_the_drafted_settlement_and_approves_it_for_the_ccg(page, live_server, refused):
    log_in(page, live_server, CCG)
    page.wait_for_url(live_server + "/accountant/")
    page.get_by_role("link", name="Settlements", exact=True).click()
    _check(page, "accountant-settlements", refused)
    _open_the_draft(page, live_server)
    assert page.locator("h1").inner_text() == f"Settlement 1 of {WIRRAL}, {DEMO_YEAR}: draft"
    # The demo's year is a large underspend, so the provider side is held at the gain cap.
    assert page.locator("[data-figure=provider_amount]").inner_text() == format_gbp(GAIN_CAP)
    assert f"Drafted by {COUNCIL}" in page.locator("#signatures").inner_text()

    # Before signing, the pool it settles: the same £12m target, its chart drawn under the CSP.
    page.get_by_role("link", name=f"Every settlement of {DEMO_YEAR}").click()
    page.get_by_role("link", name="Pool position").click()
    page.wait_for_url(f"{live_server}/accountant/pool/{WIRRAL}/{DEMO_YEAR}")
    assert page.locator("[data-figure=target]").inner_text() == format_gbp(TARGET)
    assert page.locator("figure.chart").count() == 1
    _check(page, "accountant-pool", refused)
    page.go_back()
    page.go_back()
    page.wait_for_url(live_server + SETTLEMENT)

    page.get_by_label("Reviewer's note").fill("Checked against the pool position and the payment runs")
    page.get_by_role("button", name="Review").click()
    page.wait_for_url(live_server + SETTLEMENT)
    assert page.locator(".flash").inner_text() == (
        f"Reviewed: settlement 1 of {WIRRAL} {DEMO_YEAR} is now reviewed; awaiting approval by NHS Wirral CCG, "
        "Wirral Council."
    )
    page.get_by_role("button", name="Approve for NHS Wirral CCG").click()
    page.wait_for_url(live_server + SETTLEMENT)
    assert page.locator(".flash").inner_text().endswith("awaiting approval by Wirral Council.")
    assert f"Approved for NHS Wirral CCG by {CCG}" in page.locator("#signatures").inner_text()

    page.get_by_role("button", name="Issue").click()  # the council has not approved yet: refused on the page
    assert "wirral-council" in page.get_by_role("alert").inner_text()
    page.goto(live_server + SETTLEMENT)
    assert _status(page) != "issued"
    assert "Awaiting approval by: Wirral Council" in page.locator("#signatures").inner_text()
    _check(page, "accountant-settlement", refused)


def test_the_council_accountant_approves_for_the_council_and_issues_it(page, live_server, refused):
    log_in(page, live_server, COUNCIL)
    page.wait_for_url(live_server + "/accountant/")
    _open_the_draft(page, live_server)
    page.get_by_role("button", name="Approve for Wirral Council").click()
    page.wait_for_url(live_server + SETTLEMENT)
    assert page.locator(".flash").inner_text() == f"Approved: settlement 1 of {WIRRAL} {DEMO_YEAR} is now approved."
    page.get_by_role("button", name="Issue").click()
    page.wait_for_url(live_server + SETTLEMENT)
    assert page.locator(".flash").inner_text() == f"Issued: settlement 1 of {WIRRAL} {DEMO_YEAR} is now issued."
    assert _status(page) == "issued"
    signatures = page.locator("#signatures").inner_text()
    assert f"Approved for Wirral Council by {COUNCIL}" in signatures
    assert f"Approved for NHS Wirral CCG by {CCG}" in signatures
    assert f"Issued by {COUNCIL}" in signatures
    assert page.get_by_role("button", name="Issue").count() == 0  # an issued settlement never changes
    _check(page, "accountant-settlement-issued", refused)


def test_a_provider_reads_its_own_balance_on_the_issued_settlement(page, served, refused):
    log_in(page, served.url, PREMIER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").click()
    row = page.locator("table[data-table=settlements] tbody tr", has_text=DEMO_YEAR)
    assert "issued" in row.inner_text()
    row.get_by_role("link", name="1", exact=True).click()
    page.wait_for_url(f"{served.url}/provider/settlements/{WIRRAL}/{DEMO_YEAR}/1")
    assert "issued" in page.locator("main p").first.inner_text()
    access = access_for(served.book.records, Actor(PREMIER, "premier-care"), WIRRAL)
    own = settlement(served.book.read_engine, access, WIRRAL, DEMO_YEAR, 1)["statement"]["providers"]["premier-care"]
    assert f"Balance\n{format_gbp(own['balance'])}" in page.locator("dl.facts").first.inner_text()
    _check(page, "provider-settlement", refused)
