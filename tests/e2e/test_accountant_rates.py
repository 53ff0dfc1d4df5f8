"""An accountant in the browser: from the menu to the rate card on a date, the 2020-21 review's uplift arithmetic,
and a 2021-22 review opened and proposed by the uplift calculator; the pages pass the accessibility check."""

from __future__ import annotations

from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot

RATES = "/accountant/rates/wirral-homecare"


def test_an_accountant_reads_the_card_on_a_date_and_proposes_an_uplift(page, live_server):
    log_in(page, live_server, "accountant@wirral.example")
    page.get_by_role("link", name="Rates", exact=True).click()
    page.get_by_role("link", name="Rate card, history and pricing").first.click()
    page.get_by_label("Show the rates in force on").fill("2020-05-01")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url("**on=2020-05-01**")
    rates = page.locator("table[data-table=rates] tbody tr td:nth-child(4)").all_inner_texts()
    assert rates == ["£16.34"] * 4

    page.get_by_role("link", name="Rate reviews").first.click()
    page.get_by_role("link", name="2020-21").click()
    page.wait_for_url("**/reviews/2020-21")  # reading before the page is there would read the list of reviews
    steps = page.locator("table[data-table=uplift-1] tbody tr td:first-child").all_inner_texts()
    assert steps[0] == "median cost per contact hour" and steps[-1] == "uplift per hour" and len(steps) == 8
    screenshot(page, "accountant-rate-review")

    page.get_by_role("link", name="All reviews").click()
    page.get_by_label("Financial year").fill("2021-22")
    page.get_by_label("Why the review is opened").fill("annual review: the National Living Wage rises")
    page.get_by_role("button", name="Open the review").click()
    page.wait_for_url(live_server + RATES + "/reviews/2021-22")
    page.get_by_label("Median cost per contact hour (£)").fill("16.34")
    page.get_by_label("Pay-related share of the cost").fill("0.65")
    page.get_by_label("Rise on the other costs").fill("0.015")
    page.get_by_role("button", name="Propose the uplift").click()
    page.wait_for_url(live_server + RATES + "/reviews/2021-22")
    assert "Proposed by the uplift calculator" in page.locator(".flash").inner_text()
    assert page.locator("table[data-table=uplift-1] tbody tr").count() == 8


def test_the_rates_pages_have_no_serious_accessibility_violation(page, live_server):
    log_in(page, live_server, "accountant@wirral.example")
    for path in ("/accountant/agreements", "/accountant/agreements/wirral-homecare?on=2020-05-01", "/accountant/rates",
                 f"{RATES}?on=2020-05-01", f"{RATES}/publish", f"{RATES}/reviews", f"{RATES}/reviews/2020-21",
                 f"{RATES}/reviews/2021-22"):  # fmt: skip
        page.goto(live_server + path)
        assert serious(page) == [], path
    page.goto(live_server + f"{RATES}/publish")
    page.get_by_role("button", name="Publish the rate").click()  # the form re-shown with its errors
    assert serious(page) == []
