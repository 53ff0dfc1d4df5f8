"""An accountant in the browser: narrows the inbox, opens Aspire's queried return, queries a line, is refused
acceptance while queries are open, and reads the market with names; the pages pass the accessibility check."""

from __future__ import annotations

from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot

ASPIRE = "/accountant/returns/wirral-homecare/aspire/2019-20-Q1"


def test_an_accountant_finds_the_queried_return_and_queries_another_line(page, live_server):
    log_in(page, live_server, "accountant@wirral.example")
    page.wait_for_url(live_server + "/accountant/")
    page.get_by_label("State").select_option("queried")
    page.get_by_role("button", name="Show returns").click()
    page.wait_for_url("**state=queried**")
    rows = page.locator("table[data-table=returns] tbody tr")
    assert rows.count() == 1 and "Aspire" in rows.first.inner_text()
    page.get_by_role("link", name="Aspire").click()
    page.wait_for_url(live_server + ASPIRE)
    assert page.locator("h1").inner_text() == "Cost return: Aspire, 2019-20-Q1"

    page.get_by_label("Line or volume queried").select_option("mileage")
    page.get_by_label("Question to the provider").fill("How many miles does a visit take on average?")
    page.get_by_role("button", name="Send the query").click()
    page.wait_for_url(live_server + ASPIRE)
    assert "Query Q2 sent on Mileage and vehicle costs" in page.locator(".flash").inner_text()
    queries = page.locator("table[data-table=queries] tbody tr").all_inner_texts()
    assert [q.split("\t")[0] for q in queries] == ["Q1", "Q2"]
    screenshot(page, "accountant-return-queried")

    page.get_by_role("button", name="Accept revision 1").click()
    alert = page.locator(".card .form-errors").inner_text()
    assert "2 open queries (Q1 on travel_pay, Q2 on mileage)" in alert
    page.goto(live_server + ASPIRE)
    assert page.locator("table[data-table=queries] tbody tr").count() == 2  # the refusal recorded nothing


def test_the_market_names_each_provider_for_an_accountant(page, live_server):
    log_in(page, live_server, "accountant@wirralccg.example")
    page.get_by_role("link", name="Market", exact=True).click()
    page.get_by_label("Period").select_option("2019-20-Q1")
    page.get_by_role("button", name="Show the market").click()
    page.wait_for_url(live_server + "/accountant/market/wirral-homecare/2019-20-Q1")
    names = page.locator("table[data-table=providers] tbody tr td:first-child").all_inner_texts()
    assert names == ["Carewatch", "Community Caring", "Haven Care", "Premier Care", "Professional Carers"]
    assert page.locator("figure.chart svg").count() == 1
    screenshot(page, "accountant-market")


def test_the_market_as_known_before_any_return_was_accepted(page, served):
    """The as-at box on the market: by position, the banner, a link that stays in the past, and back to live."""
    log_in(page, served.url, "accountant@wirralccg.example")
    events = served.book.ledger.recorder.select_notifications(start=1, limit=served.book.projections.head())
    before = next(n.id for n in events if n.topic.endswith("cost-return.accepted")) - 1
    market = served.url + "/accountant/market/wirral-homecare/2019-20-Q1"
    page.goto(market)
    page.get_by_label("or at log position").fill(str(before))
    page.get_by_role("button", name="Show as known then").click()
    page.wait_for_url(f"{market}?as_at={before}")
    assert f"position {before:,}" in page.get_by_role("status").first.inner_text()
    assert "No accepted provider returns for 2019-20-Q1 yet" in page.locator("[data-figure=market]").inner_text()
    assert serious(page) == []
    screenshot(page, "accountant-market-as-at")
    page.locator("main").get_by_role("link", name="Market", exact=True).click()
    page.wait_for_url(f"{served.url}/accountant/market?as_at={before}")
    page.get_by_role("link", name="Show the live figures").click()
    page.wait_for_url(served.url + "/accountant/market")
    assert page.get_by_label("or at log position").input_value() == ""


def test_the_returns_pages_have_no_serious_accessibility_violation(page, live_server):
    log_in(page, live_server, "accountant@wirral.example")
    page.wait_for_url(live_server + "/accountant/")
    for path in ("/accountant/", ASPIRE, "/accountant/market", "/accountant/market/wirral-homecare/2019-20-Q1"):
        page.goto(live_server + path)
        assert serious(page) == [], path
    page.goto(live_server + ASPIRE)
    page.get_by_role("button", name="Send the query").click()  # the form re-shown with its error
    assert serious(page) == []
