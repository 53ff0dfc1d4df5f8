"""The first page a newcomer sees after `make demo`: organisations read from the event store."""

from __future__ import annotations

from demo.partnerships import ORGANISATIONS


def test_home_page_lists_every_demo_organisation_by_kind(page, live_server, tmp_path):
    page.goto(live_server + "/")
    assert page.title() == "Organisations · openbook"
    codes = page.locator("tr[data-code]").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert sorted(codes) == sorted(o.code for o in ORGANISATIONS)
    headings = page.locator("h2").all_inner_texts()
    assert headings == ["Audit bodies", "Councils", "CCGs and ICBs", "Providers"]
    alliance_member = page.locator("tr[data-code='aspire'] td").all_inner_texts()
    assert alliance_member == ["Aspire", "aspire", "wirral-home-care-alliance", "2019-04-01"]
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
