"""The admin's pages: users and their first-login links, roles, organisations, agreement set-up, wage floors, log.

Each page calls the same use case as the CLI; these tests check what the
ledger then holds (read models, the history's head), that a refused or bad
form records nothing and says why beside the field, and that a double
submit records once. Tests in this module build on one demo, in order.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from domain.agreements.terms import AgreementKind
from domain.envelope import Actor
from domain.errors import NotAllowed, NotFound
from domain.money import format_gbp
from ledger.authorisation import check_may_keep_account, check_may_rename, check_may_set_up
from ledger.queries import agreements as agreement_views
from ledger.queries import organisations as views
from ledger.queries.organisations import list_users
from ledger.queries.returns import wage_floors_added
from ledger.queries.settlements import pool_terms
from tests.web.support import USERS, csrf_token, log_in, post_form

LINK = re.compile(r"<code data-first-login-link>https?://[^/]+(/first-login/[^<]+)</code>")
ADMIN_PAGES = [
    "/admin/",
    "/admin/organisations/new",
    "/admin/organisations/wirral-council/rename",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/accountant@wirral.example",
    "/admin/agreements",
    "/admin/agreements/wirral-homecare",
    "/admin/wage-floors",
    "/admin/security-log",
]


def _form(client, path: str, prefix: str = "") -> dict[str, str]:
    """The idempotency key of a recording form on ``path`` (``prefix``: the form's, on a page of several)."""
    name = f"{prefix}-idempotency_key" if prefix else "idempotency_key"
    page = client.get(path).get_data(as_text=True)
    key = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page)
    assert key is not None, f"no recording form {prefix} on {path}"
    return {name: key.group(1)}


def _csv(client, path: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(client.get(path).get_data(as_text=True))))


def _user(book, username: str) -> dict | None:
    return next((u for u in views.list_users(book.read_engine) if u["username"] == username), None)


def test_a_user_registered_through_the_page_chooses_a_password_through_the_link_shown_once_and_logs_in(
    app, client_as, demo_book
):
    admin = client_as("admin")
    data = {**_form(admin, "/admin/users/new"), "username": "Clerk@Wirral.example", "display_name": "Wirral Clerk",
            "organisation": "wirral-council", "roles": ["accountant", "auditor"], "reason": "new starter"}
    before = demo_book.projections.head()
    shown = admin.post("/admin/users/new", data={**data, "csrf_token": csrf_token(admin, "/admin/users/new")})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    link = LINK.search(shown.get_data(as_text=True)).group(1)
    assert _user(demo_book, "clerk@wirral.example") == {**_user(demo_book, "clerk@wirral.example"),
                                                         "organisation": "wirral-council",
                                                         "roles": ["accountant", "auditor"], "active": True}
    recorded = demo_book.projections.head()
    assert recorded > before

    again = admin.post("/admin/users/new", data={**data, "csrf_token": csrf_token(admin, "/admin/users/new")})
    assert again.status_code == 200 and demo_book.projections.head() == recorded  # the double submit records once
    # A browser shows the answer to the last submit: its link is the one that works, the first one no longer does.
    assert app.test_client().get(link).status_code == 404
    link = LINK.search(again.get_data(as_text=True)).group(1)

    newcomer = app.test_client()
    assert newcomer.get(link).status_code == 200
    chosen = "a long new password 42"
    response = post_form(newcomer, link, {"password": chosen, "confirm": chosen})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert newcomer.get(link).status_code == 404  # the link works once
    log_in(newcomer, "clerk@wirral.example", chosen)
    assert "Wirral Clerk" in newcomer.get("/account").get_data(as_text=True)


def test_an_admin_changes_roles_and_an_unknown_role_is_shown_beside_the_field(client_as, demo_book):
    admin = client_as("admin")
    page = "/admin/users/clerk@wirral.example"
    response = post_form(admin, page + "/roles", {**_form(admin, page), "roles": ["accountant"], "reason": "no audits"},
                         form_page=page)
    assert response.status_code == 302
    assert _user(demo_book, "clerk@wirral.example")["roles"] == ["accountant"]

    before = demo_book.projections.head()
    unknown = post_form(admin, page + "/roles", {**_form(admin, page), "roles": ["superuser"]}, form_page=page)
    assert unknown.status_code == 400
    html = unknown.get_data(as_text=True)
    assert re.search(r'class="field-error" id="roles-error-1">[^<]*not a valid choice', html)
    assert demo_book.projections.head() == before


def test_the_ledger_keeps_other_organisations_users_from_a_councils_admin(client_as, demo_book):
    admin = client_as("admin")
    before = demo_book.projections.head()
    data = {**_form(admin, "/admin/users/new"), "username": "mole@premiercare.example", "display_name": "Mole",
            "organisation": "premier-care", "roles": ["provider"]}
    assert post_form(admin, "/admin/users/new", data).status_code == 403  # a provider's users: the operator's
    ccg, own = "/admin/users/accountant@wirralccg.example", "/admin/users/accountant@wirral.example"
    assert admin.get(ccg).status_code == 404  # another organisation's user: as if there were none
    roles = {**_form(admin, own), "roles": ["admin"]}  # a form as shown for one of the admin's own users
    assert post_form(admin, ccg + "/roles", roles, form_page=own).status_code == 404
    assert post_form(admin, ccg + "/reset", _form(admin, own), form_page=own).status_code == 404
    assert demo_book.projections.head() == before


def test_a_reset_makes_a_new_link_and_the_old_password_works_until_it_is_used(app, client_as, demo_book):
    admin = client_as("admin")
    page = "/admin/users/accountant@wirral.example"
    before = demo_book.projections.head()
    shown = post_form(admin, page + "/reset", _form(admin, page), form_page=page)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "old password keeps working" in html
    assert demo_book.projections.head() == before  # credentials are not events
    log_in(app.test_client(), USERS["accountant"])  # the old password still works
    link = LINK.search(html).group(1)
    post_form(app.test_client(), link, {"password": "another long password", "confirm": "another long password"})
    with pytest.raises(AssertionError):
        log_in(app.test_client(), USERS["accountant"])
    log_in(app.test_client(), USERS["accountant"], "another long password")
    demo_book.security.set_password(USERS["accountant"], "demo", check=False)  # as the demo had it, for later tests


def test_a_deactivated_user_can_no_longer_log_in(app, client_as, demo_book):
    admin = client_as("admin")
    page = "/admin/users/clerk@wirral.example"
    response = post_form(admin, page + "/deactivate", {**_form(admin, page), "reason": "left"}, form_page=page)
    assert response.status_code == 302
    assert _user(demo_book, "clerk@wirral.example")["active"] is False
    with pytest.raises(AssertionError):
        log_in(app.test_client(), "clerk@wirral.example", "a long new password 42")


def test_a_provider_or_an_accountant_is_refused_every_admin_page(client_as):
    for role in ("provider", "accountant"):
        client = client_as(role)
        for path in ADMIN_PAGES:
            assert client.get(path).status_code == 403, (role, path)


WIRRAL = "/admin/agreements/wirral-homecare"


def test_the_agreement_page_shows_agreement_sheets_figures_as_on_the_date_asked(client_as, demo_book):
    admin = client_as("admin")
    for on in (date(2019, 6, 1), date(2021, 1, 15)):
        sheet = agreement_views.agreement_sheet(demo_book.read_engine, "wirral-homecare", on)
        page = admin.get(f"{WIRRAL}?on={on.isoformat()}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f'value="{on.isoformat()}"' in html
        assert 'for="zone-idempotency_key"' not in html  # hidden fields are not shown as fields
        assert ", ".join(sheet.agreement.commissioners) in html
        budget = re.search(r"<dt>Pooled budget (\S+)</dt><dd data-pooled-budget>([^<]+)</dd>", html).groups()
        shown = "none (no contributions that year)" if sheet.pooled_budget is None else format_gbp(sheet.pooled_budget)
        assert budget == (sheet.financial_year, shown)
        contributions = _csv(admin, f"{WIRRAL}?on={on.isoformat()}&export=contributions&format=csv")
        assert contributions[1:] == [[c, f"{amount:.2f}"] for c, amount in sheet.contributions.items()]
        if sheet.pooled_budget is not None:
            assert sum((Decimal(amount) for _, amount in contributions[1:]), Decimal(0)) == sheet.pooled_budget
        awards = _csv(admin, f"{WIRRAL}?on={on.isoformat()}&export=awards&format=csv")
        assert awards[1:] == [[a.zone, str(a.tier), a.provider, a.from_date.isoformat(),
                               a.to_date.isoformat() if a.to_date else ""] for a in sheet.agreement.awards]
        zones = _csv(admin, f"{WIRRAL}?on={on.isoformat()}&export=zones&format=csv")
        assert [row[0] for row in zones[1:]] == [z.code for z in sheet.agreement.zones]
        assert [row[4] for row in zones[1:]] == [sheet.primary_providers.get(z.code, "") for z in sheet.agreement.zones]
        pool = pool_terms(demo_book.read_engine, "wirral-homecare", "2019-20")
        if sheet.financial_year == "2019-20":
            assert f"<dd data-pool-target>{format_gbp(pool.target)}</dd>" in html
            bands = _csv(admin, f"{WIRRAL}?on={on.isoformat()}&export=bands&format=csv")
            assert [[Decimal(x) if x else None for x in row] for row in bands[1:]] == [
                [b.lower, b.upper, b.provider_share] for b in pool.bands
            ]
        rates = _csv(admin, f"{WIRRAL}?on={on.isoformat()}&export=rates&format=csv")
        assert [Decimal(row[3]) for row in rates[1:]] == [r["hourly_rate"] for r in sheet.rates] and sheet.rates
    assert admin.get(f"{WIRRAL}?on=2021-02-30").status_code == 400
    assert admin.get("/admin/agreements/herefordshire-homecare").status_code == 404  # Wirral's admin has no part in it


def test_a_zone_is_added_once_however_often_the_form_is_sent_and_a_bad_district_is_shown_beside_its_field(
    client_as, demo_book
):
    admin = client_as("admin")
    before = demo_book.projections.head()
    bad = {**_form(admin, WIRRAL, "zone"), "zone-zone": "zone-5", "zone-name": "Hoylake",
           "zone-districts": "CH47 ZZ9 9", "zone-reason": "new zone", "zone-effective": "2021-04-01"}
    refused = post_form(admin, f"{WIRRAL}/zone", bad, form_page=WIRRAL)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'id="zone-districts-error-1">[^<]*is not a postcode district', html)
    assert demo_book.projections.head() == before
    unknown = {**_form(admin, WIRRAL, "award"), "award-provider": "carewatch", "award-zone": "zone-99",
               "award-tier": "peripheral", "award-reason": "cover", "award-effective": "2021-04-01"}
    refused = post_form(admin, f"{WIRRAL}/award", unknown, form_page=WIRRAL)
    assert refused.status_code == 400
    assert re.search(r'id="award-zone-error-1">zone-99 is not a zone', refused.get_data(as_text=True))
    assert demo_book.projections.head() == before

    taken = post_form(admin, f"{WIRRAL}/zone", {**bad, "zone-districts": "CH47"}, form_page=WIRRAL)
    assert taken.status_code == 422 and 'id="zone-districts-error-1"' in taken.get_data(as_text=True)  # zone-4's
    assert demo_book.projections.head() == before

    good = {**bad, "zone-districts": "CH98, CH99"}
    assert post_form(admin, f"{WIRRAL}/zone", good, form_page=WIRRAL).status_code == 302
    recorded = demo_book.projections.head()
    assert recorded > before
    assert post_form(admin, f"{WIRRAL}/zone", good, form_page=WIRRAL).status_code == 302  # sent twice
    assert demo_book.projections.head() == recorded
    zones = agreement_views.agreement_sheet(demo_book.read_engine, "wirral-homecare", date(2021, 4, 1)).agreement.zones
    assert [(z.name, z.districts) for z in zones if z.code == "zone-5"] == [("Hoylake", ("CH98", "CH99"))]
    assert "zone-5" in admin.get(f"{WIRRAL}?on=2021-04-01").get_data(as_text=True)


def test_an_admin_registers_an_agreement_and_sets_it_up_as_its_commissioner(client_as, demo_book):
    admin = client_as("admin")
    data = {**_form(admin, "/admin/agreements"), "code": "wirral-reablement", "name": "Wirral reablement",
            "kind": AgreementKind.FRAMEWORK.value, "term_start": "2024-04-01", "term_end": "2027-03-31",
            "payment_basis": "planned", "effective": "2024-01-10"}
    response = post_form(admin, "/admin/agreements", data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/agreements/wirral-reablement")
    page = "/admin/agreements/wirral-reablement"
    steps = [
        ("commissioner", {"commissioner": "wirral-council"}),
        ("contribution", {"commissioner": "wirral-council", "financial_year": "2024-25", "amount": "250000"}),
        ("service", {"service": "reablement"}),
    ]
    for part, fields in steps:
        form = {**_form(admin, page, part), **{f"{part}-{k}": v for k, v in fields.items()},
                f"{part}-effective": "2024-04-01", f"{part}-reason": "set-up"}
        assert post_form(admin, f"{page}/{part}", form, form_page=page).status_code == 302, part
    sheet = agreement_views.agreement_sheet(demo_book.read_engine, "wirral-reablement", date(2024, 6, 1))
    assert sheet.agreement.commissioners == ("wirral-council",) and sheet.pooled_budget == Decimal("250000.00")
    assert "£250,000.00" in admin.get(f"{page}?on=2024-06-01").get_data(as_text=True)


def test_an_admin_adds_a_wage_floor_and_a_bad_rate_records_nothing(client_as, demo_book):
    admin = client_as("admin")
    before = demo_book.projections.head()
    bad = {**_form(admin, "/admin/wage-floors"), "floor": "real-living-wage", "effective_from": "2027-04-01",
           "hourly_rate": "twelve", "reason": "announced"}
    refused = post_form(admin, "/admin/wage-floors", bad)
    assert refused.status_code == 400 and 'id="hourly_rate-error-1"' in refused.get_data(as_text=True)
    assert demo_book.projections.head() == before
    good = {**bad, "hourly_rate": "13.95"}
    assert post_form(admin, "/admin/wage-floors", good).status_code == 302
    added = wage_floors_added(demo_book.read_engine)
    assert [(r["floor"], r["effective_from"], r["hourly_rate"]) for r in added][-1:] == [
        ("real-living-wage", date(2027, 4, 1), Decimal("13.95"))
    ]
    rows = _csv(admin, "/admin/wage-floors?export=wage-floors&format=csv")
    assert ["Real Living Wage", "2027-04-01", "13.95"] == rows[[r[:2] for r in rows].index(["Real Living Wage",
                                                                                            "2027-04-01"])][:3]


def test_the_security_log_shows_logins_failures_and_password_changes_of_the_admins_own_organisation(
    app, client_as, demo_book
):
    stranger = app.test_client()
    for who in (USERS["accountant"], USERS["auditor"]):  # Wirral Council's accountant; the audit body's auditor
        stranger.post("/login", data={"username": who, "password": "wrong", "csrf_token": csrf_token(stranger)})
    admin = client_as("admin")
    rows = _csv(admin, "/admin/security-log?export=security-log&format=csv")
    entries = [(r[1], r[2]) for r in rows[1:]]
    assert entries[0] == ("login", USERS["admin"])  # newest first: this admin's own login
    assert ("login-failed", USERS["accountant"]) in entries
    assert ("first-login-used", "clerk@wirral.example") in entries and ("password-set", USERS["accountant"]) in entries
    wirral = {u["username"] for u in list_users(demo_book.read_engine, "wirral-council")}
    assert {r[2] for r in rows[1:]} <= wirral  # never another organisation's people (the auditor's failure)
    assert len(rows) - 1 == len(demo_book.security.recent(200, among=wirral))
    only = _csv(admin, f"/admin/security-log?user={USERS['accountant']}&export=security-log&format=csv")
    assert {r[2] for r in only[1:]} == {USERS["accountant"]}
    assert _csv(admin, f"/admin/security-log?user={USERS['auditor']}&export=security-log&format=csv")[1:] == []
    assert admin.get("/admin/users?organisation=herefordshire-council").status_code == 404
    assert admin.get(f"/admin/users/{USERS['herefordshire-accountant']}").status_code == 404


def test_the_ledger_says_who_may_keep_an_account_and_set_an_agreement_up(demo_book):
    """The two questions these pages ask the ledger that no recorded command asks for them."""
    records = demo_book.records
    admin, accountant = Actor(USERS["admin"], "wirral-council"), Actor(USERS["accountant"], "wirral-council")
    check_may_keep_account(records, admin, USERS["accountant"])
    check_may_set_up(records, admin, "wirral-homecare")
    check_may_rename(records, admin, "wirral-council")
    check_may_set_up(records, accountant, "wirral-homecare")  # accountants set agreements up too
    refusals = [
        (lambda: check_may_keep_account(records, accountant, USERS["admin"]), NotAllowed),  # not an admin
        (lambda: check_may_keep_account(records, admin, USERS["provider"]), NotAllowed),  # a provider's: the operator
        (lambda: check_may_keep_account(records, admin, USERS["ccg-accountant"]), NotFound),  # another council's
        (lambda: check_may_set_up(records, admin, "herefordshire-homecare"), NotFound),  # no part in it
        (lambda: check_may_rename(records, admin, "wirral-ccg"), NotFound),  # another council's name
        (lambda: check_may_rename(records, admin, "premier-care"), NotAllowed),  # a provider's: the operator's
        (lambda: check_may_rename(records, accountant, "wirral-council"), NotAllowed),  # not an admin
        (lambda: check_may_set_up(records, Actor(USERS["provider"], "premier-care"), "wirral-homecare"), NotAllowed),
    ]
    for refused, kind in refusals:
        with pytest.raises(kind):
            refused()


def test_an_admin_registers_and_renames_organisations_and_a_bad_alliance_is_shown_beside_it(client_as, demo_book):
    admin = client_as("admin")
    before = demo_book.projections.head()
    data = {**_form(admin, "/admin/organisations/new"), "code": "new-care", "name": "New Care", "kind": "provider",
            "member_of": "aspire"}  # itself a member of an alliance
    refused = post_form(admin, "/admin/organisations/new", data)
    assert refused.status_code == 409
    assert re.search(r'id="member_of-error-1">[^<]*is not a provider alliance', refused.get_data(as_text=True))
    assert demo_book.projections.head() == before

    data["member_of"] = "wirral-home-care-alliance"
    assert post_form(admin, "/admin/organisations/new", data).status_code == 302
    recorded = demo_book.projections.head()
    assert post_form(admin, "/admin/organisations/new", data).status_code == 302  # sent twice, recorded once
    assert demo_book.projections.head() == recorded
    rows = {o["code"]: o for o in views.list_organisations(demo_book.read_engine)}
    assert (rows["new-care"]["name"], rows["new-care"]["member_of"]) == ("New Care", "wirral-home-care-alliance")
    home = admin.get("/admin/").get_data(as_text=True)  # listed; not a link: its users are the operator's to keep
    assert '<tr data-code="new-care"><td>New Care</td>' in home
    assert "/admin/users?organisation=new-care" not in home

    page = "/admin/organisations/wirral-council/rename"
    renamed = post_form(admin, page, {**_form(admin, page), "name": "Wirral Borough Council", "reason": "new name"})
    assert renamed.status_code == 302
    assert {o["code"]: o["name"] for o in views.list_organisations(demo_book.read_engine)}["wirral-council"] == (
        "Wirral Borough Council"
    )
    key = _form(admin, page)
    for other, status in (("wirral-ccg", 404), ("premier-care", 403), ("no-such-organisation", 404)):
        path = f"/admin/organisations/{other}/rename"  # another's name is 404; a provider's is the operator's: 403
        assert admin.get(path).status_code == status, other  # the form is not even offered
        assert post_form(admin, path, {**key, "name": "Taken over"}, form_page=page).status_code == status, other
    assert {o["code"]: o["name"] for o in views.list_organisations(demo_book.read_engine)}["wirral-ccg"] != "Taken over"


def test_an_admins_menu_leads_to_each_admin_page_and_a_providers_has_none_of_them(client_as):
    menu = re.compile(r'<li><a href="(/admin/[^"]*)"[^>]*>([^<]+)</a></li>')
    admin = client_as("admin")
    entries = menu.findall(admin.get("/admin/").get_data(as_text=True))
    assert [label for _, label in entries] == ["Admin", "Users", "Agreements", "Wage floors", "Security log"]
    assert all(admin.get(path).status_code == 200 for path, _ in entries)
    assert menu.findall(client_as("provider").get("/account").get_data(as_text=True)) == []
