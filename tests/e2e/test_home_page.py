"""The first pages a newcomer sees after `make demo`: the login page, then the admin's organisations."""

from __future__ import annotations

from demo.partnerships import ORGANISATIONS
from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot


def test_the_login_page_leads_an_admin_to_every_demo_organisation_by_kind(page, live_server):
    page.goto(live_server + "/")
    assert page.title() == "Log in · openbook"
    log_in(page, live_server, "admin@wirral.example")
    page.wait_for_url(live_server + "/admin/")
    assert page.title() == "Organisations · openbook"
    codes = page.locator("tr[data-code]").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert sorted(codes) == sorted(o.code for o in ORGANISATIONS)
    headings = page.locator("h2").all_inner_texts()
    assert headings == ["Audit bodies", "Councils", "CCGs and ICBs", "Providers"]
    alliance_member = page.locator("tr[data-code='aspire'] td").all_inner_texts()
    assert alliance_member == ["Aspire", "aspire", "wirral-home-care-alliance", "2019-04-01"]
    assert screenshot(page, "admin-organisations").stat().st_size > 0


def test_a_wrong_password_is_shown_beside_the_form_and_logs_nobody_in(page, live_server):
    log_in(page, live_server, "admin@wirral.example", "wrong")
    assert "That username and password do not match an account." in page.locator("[role=alert]").inner_text()
    assert page.url.endswith("/login")


def test_the_login_page_and_every_admin_page_of_the_menu_have_no_serious_accessibility_violation(page, live_server):
    page.goto(live_server + "/login")
    assert serious(page) == []
    log_in(page, live_server, "admin@wirral.example")
    page.wait_for_url(live_server + "/admin/")
    assert serious(page) == []
    menu = page.get_by_role("navigation", name="Main")
    for label, path in (("Users", "/admin/users"), ("Agreements", "/admin/agreements"),
                        ("Wage floors", "/admin/wage-floors"), ("Security log", "/admin/security-log")):  # fmt: skip
        menu.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(live_server + path)
        screenshot(page, f"admin-{path.rsplit('/', 1)[1]}")
        assert serious(page) == [], label
