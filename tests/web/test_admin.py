"""The admin's pages: users and their first-login links, roles, organisations, agreement set-up, wage floors, log.

Each page calls the same use case as the CLI; these tests check what the
ledger then holds (read models, the history's head), that a refused or bad
form records nothing and says why beside the field, and that a double
submit records once. Tests in this module build on one demo, in order.
"""

from __future__ import annotations

import re

import pytest

from ledger.queries import organisations as views
from tests.web.support import USERS, csrf_token, log_in, post_form

LINK = re.compile(r"<code data-first-login-link>https?://[^/]+(/first-login/[^<]+)</code>")
ADMIN_PAGES = [
    "/admin/",
    "/admin/organisations/new",
    "/admin/organisations/wirral-council/rename",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/accountant@wirral.example",
]


def _form(client, path: str) -> dict[str, str]:
    """The hidden fields of the first recording form on ``path`` (its idempotency key), as a browser keeps them."""
    page = client.get(path).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key is not None, f"no recording form on {path}"
    return {"idempotency_key": key.group(1)}


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

    newcomer = app.test_client()
    assert newcomer.get(link).status_code == 200
    chosen = "a long new password 42"
    response = post_form(newcomer, link, {"password": chosen, "confirm": chosen})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert newcomer.get(link).status_code == 404  # the link works once
    log_in(newcomer, "clerk@wirral.example", chosen)
    assert "Wirral Clerk" in newcomer.get("/account").get_data(as_text=True)


def test_an_admin_changes_roles_and_a_role_the_organisation_may_not_hold_is_shown_beside_the_field(client_as, demo_book):
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
    ccg = "/admin/users/accountant@wirralccg.example"
    assert post_form(admin, ccg + "/roles", {**_form(admin, ccg), "roles": ["admin"]}, form_page=ccg).status_code == 404
    assert post_form(admin, ccg + "/reset", _form(admin, ccg), form_page=ccg).status_code == 404
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
