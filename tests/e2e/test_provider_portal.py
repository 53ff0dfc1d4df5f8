"""The provider portal in a real browser: Premier Care's dashboard, activity chart and payments, under the app's CSP."""

from __future__ import annotations

from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot

PREMIER = "finance@premiercare.example"


def test_a_provider_goes_from_the_dashboard_to_its_activity_and_the_chart_draws_under_the_csp(page, live_server):
    log_in(page, live_server, PREMIER)
    page.wait_for_url(live_server + "/provider/")
    page.goto(live_server + "/provider/?on=2020-08-15")
    assert page.locator("h1").inner_text() == "Premier Care"
    assert "2020-21-Q1" in page.locator("p[data-overdue='1']").inner_text()
    assert screenshot(page, "provider-dashboard").stat().st_size > 0
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity", exact=True).click()
    page.wait_for_url(live_server + "/provider/activity/wirral-homecare")
    bars = page.locator("figure.chart svg path[fill='#0072b2']")
    assert bars.count() == 12  # one bar per month of 2019-20
    # the page's Content-Security-Policy blocks inline styles: the bars keep their colour as attributes
    assert bars.first.evaluate("bar => getComputedStyle(bar).fill") == "rgb(0, 114, 178)"
    assert screenshot(page, "provider-activity").stat().st_size > 0


def test_the_provider_pages_have_no_serious_accessibility_violation(page, live_server):
    log_in(page, live_server, PREMIER)
    page.wait_for_url(live_server + "/provider/")
    for path in ("/provider/?on=2020-08-15", "/provider/activity/wirral-homecare",
                 "/provider/incentives/wirral-homecare", "/provider/incentives/wirral-homecare/2019-20",
                 "/provider/payments/wirral-homecare", "/provider/payments/wirral-homecare/premier-care/2019-05",
                 "/provider/settlements/wirral-homecare/2019-20/1"):  # fmt: skip
        page.goto(live_server + path)
        assert serious(page) == [], path
