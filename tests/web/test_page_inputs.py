"""A page's inputs - query arguments, URL numbers, uploaded names - are refused with a 400 naming them, never a 500.

Each case is one a review found answering 500 (or worse, redirecting off the
site): a date outside the ledger's range, a number too large for the
database, an argument that changed the URL a redirect was built from.
"""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from werkzeug.routing import IntegerConverter
from wtforms import StringField

from domain.bounds import EARLIEST_DATE, LATEST_DATE, MAX_POSITION
from domain.envelope import SYSTEM
from domain.errors import Conflict, InvalidInput, RuleBroken
from ledger.files.cost_returns import template_csv
from reports.charts import activity_chart
from tests.web.support import post_form
from web.forms import LedgerForm, show_refusal
from web.params import MAX_NUMBER

WIRRAL = "wirral-homecare"
PREMIER_RETURN = f"/provider/returns/{WIRRAL}/premier-care/2019-20-Q1"
ACCOUNTANT_RETURN = f"/accountant/returns/{WIRRAL}/premier-care/2019-20-Q1"

# -- ?on= --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", ["0001-01-01", "9999-12-31", "1990-03-31", "2099-04-01"])
@pytest.mark.parametrize(
    ("role", "path"),
    [("provider", "/provider/returns"), ("provider", "/provider/"),
     ("accountant", f"/accountant/agreements/{WIRRAL}"), ("admin", f"/admin/agreements/{WIRRAL}")],
)  # fmt: skip
def test_a_date_outside_the_ledgers_dates_is_a_400_naming_the_argument(client_as, role, path, on):
    response = client_as(role).get(f"{path}?on={on}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"on: {on} is outside the dates the ledger records" in page
    assert EARLIEST_DATE.isoformat() in page and LATEST_DATE.isoformat() in page


@pytest.mark.parametrize(
    ("role", "path"),
    [("provider", "/provider/returns"), ("provider", "/provider/"),
     ("accountant", f"/accountant/agreements/{WIRRAL}"), ("admin", f"/admin/agreements/{WIRRAL}")],
)  # fmt: skip
def test_the_ledgers_first_and_last_dates_and_a_uk_date_are_answered(client_as, role, path):
    client = client_as(role)
    for on in (EARLIEST_DATE.isoformat(), LATEST_DATE.isoformat(), "01/06/2019"):
        assert client.get(f"{path}?on={on}").status_code == 200, on
    refused = client.get(f"{path}?on=2019-02-30")
    assert refused.status_code == 400 and "on: " in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "path"),
    [("accountant", f"/accountant/payments/{WIRRAL}/runs/0001-01"),
     ("provider", f"/provider/payments/{WIRRAL}/premier-care/9999-12")],
)  # fmt: skip
def test_a_month_outside_the_ledgers_dates_is_a_400_naming_it(client_as, role, path):
    response = client_as(role).get(path)
    assert response.status_code == 400 and "is outside the months the ledger records" in response.get_data(as_text=True)


# -- whole numbers in the query -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["x", "-1", "0", "1.5", "99999999999999999999999", "١"])
@pytest.mark.parametrize(
    ("role", "path", "name"),
    [("provider", PREMIER_RETURN, "revision"), ("accountant", ACCOUNTANT_RETURN, "revision"),
     ("provider", f"/provider/incentives/{WIRRAL}/2019-20", "run"),
     ("accountant", f"/accountant/incentives/{WIRRAL}/2019-20", "run")],
)  # fmt: skip
def test_a_number_that_is_not_one_is_refused_not_ignored(client_as, role, path, name, value):
    response = client_as(role).get(f"{path}?{name}={value}")
    assert response.status_code == 400
    assert f"{name}: " in response.get_data(as_text=True)


def test_a_revision_that_is_a_number_is_the_one_shown(client_as):
    client = client_as("provider")
    assert client.get(f"{PREMIER_RETURN}?revision=1").status_code == 200
    assert client.get(f"{PREMIER_RETURN}?revision=99").status_code == 404


# -- numbers in the URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [("provider", "get", f"/provider/settlements/{WIRRAL}/2019-20/{10**30}"),
     ("accountant", "get", f"/accountant/settlements/{WIRRAL}/2019-20/{10**30}"),
     ("accountant", "post", f"/accountant/settlements/{WIRRAL}/2019-20/{10**30}/approve"),
     ("provider", "get", f"/provider/settlements/{WIRRAL}/2019-20/100001")],
)  # fmt: skip
def test_a_sequence_too_large_for_any_settlement_is_not_found(client_as, role, method, path):
    assert getattr(client_as(role), method)(path).status_code == 404


def test_every_number_in_a_url_is_bounded(app):
    numbers = {(rule.rule, name): converter.max for rule in app.url_map.iter_rules()
               for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)}  # fmt: skip
    assert numbers and all(bound is not None and bound <= MAX_POSITION for bound in numbers.values()), numbers
    assert {bound for (_, name), bound in numbers.items() if name == "sequence"} == {MAX_NUMBER}


# -- the provider's one-agreement redirect --------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["endpoint=auth.login", "_external=1&_scheme=javascript", "_anchor=x", "agreement=other", "values=1"]
)
def test_the_one_agreement_redirect_carries_only_the_pages_own_arguments(client_as, query):
    response = client_as("provider").get(f"/provider/activity?{query}&period=2019-20-Q1&on=2019-06-01")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/provider/activity/{WIRRAL}?on=2019-06-01&period=2019-20-Q1"


# -- text in charts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["$Cash$ Care", "Care $\\frac{1}{0}$ Ltd", "A $ B", "$"])
def test_a_name_with_dollar_signs_is_drawn_as_written_not_as_mathematics(name):
    rows = [{"month": "2019-04", "spend": Decimal("1234.50")}, {"month": "2019-05", "spend": Decimal("99.99")}]
    svg = activity_chart(rows, title=f"Priced activity of {name}")
    found = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)
    drawn = [html.unescape(re.sub(r"<[^>]+>", "", text)) for text in found]
    assert f"Priced activity of {name}" in drawn
    assert "£1,234.50" in drawn and "£99.99" in drawn


# -- uploaded file names ------------------------------------------------------------------------------

BIDI_NAME = "report\u202evsc.csv"  # shows as "reportcsv.csv" reversed: a name that lies about its type


def _key(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("..", "upload.csv"), ("../../..", "upload.csv"), ("/", "upload.csv"), (BIDI_NAME, "reportvsc.csv"),
     ("a/b/visits.xlsx", "visits.xlsx"), ("q 1.csv", "q_1.csv")],
)  # fmt: skip
def test_an_activity_upload_is_stored_under_its_own_name_and_listed_under_a_clean_one(client_as, demo_book, sent,
                                                                                       kept):
    client, path = client_as("accountant"), f"/accountant/activity/{WIRRAL}/imports"
    key = _key(client.get(path).get_data(as_text=True), "idempotency_key")
    response = post_form(client, path, {"idempotency_key": key, "file": (io.BytesIO(b"visit_id\n"), sent)},
                         form_page=path)  # fmt: skip
    assert response.status_code == 302
    jobs = demo_book.jobs.list_for(SYSTEM)
    job = next(j for j in jobs if j.arguments.get("idempotency_key") == f"web-{key}")
    assert job.arguments["file_name"] == kept
    assert Path(job.arguments["path"]).name == f"upload{Path(kept).suffix}"
    listed = client.get(path).get_data(as_text=True)
    assert kept in listed and "\u202e" not in listed


def test_a_kpi_file_and_a_return_file_are_named_without_their_bidi_controls(client_as, demo_book):
    head = demo_book.projections.head()
    accountant, kpis = client_as("accountant"), f"/accountant/kpis/{WIRRAL}"
    content = b"provider,period,kpi,value,evidence\ncarewatch,2019-20-Q1,missed-visits,many,ECM\n"
    data = {"upload-idempotency_key": _key(accountant.get(kpis).get_data(as_text=True), "upload-idempotency_key"),
            "upload-file": (io.BytesIO(content), BIDI_NAME)}  # fmt: skip
    refused = post_form(accountant, f"{kpis}/import", data, form_page=kpis)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "reportvsc.csv" in page and "\u202e" not in page

    provider, base = client_as("provider"), f"/provider/returns/{WIRRAL}/premier-care/2020-21-Q3"
    sent = {"idempotency_key": str(uuid4()), "save": "y", "file": (io.BytesIO(template_csv().encode()), BIDI_NAME)}
    refused = post_form(provider, f"{base}/upload", sent, form_page=f"{base}/file")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "reportvsc.csv: " in page and "\u202e" not in page
    assert demo_book.projections.head() == head


# -- one way to show a refusal, one accountant access ---------------------------------------------------


class _ChangeForm(LedgerForm):
    effective = StringField("Applies from")
    reason = StringField("Reason")


def test_a_refusal_goes_beside_the_fields_it_names_and_the_rest_above_the_form(app):
    invalid = InvalidInput(["effective_date: 2099-04-01 is outside the dates", "reason: needs a reason",
                            "no field: at all", "idempotency_key: reused", "a whole sentence without a field"])
    with app.test_request_context("/", method="POST"):
        form = _ChangeForm(meta={"csrf": False})
        assert show_refusal(form, invalid, {"effective_date": "effective"}) == 400
        assert form.effective.errors == ["2099-04-01 is outside the dates"] and form.reason.errors == ["needs a reason"]
        assert form.form_errors == ["no field: at all", "idempotency_key: reused", "a whole sentence without a field"]
        assert not form.idempotency_key.errors

        form = _ChangeForm(meta={"csrf": False})
        assert show_refusal(form, RuleBroken("reason: the agreement requires one"), {}) == 422
        assert show_refusal(form, Conflict("already recorded on 2019-04-01"), {}) == 409
        assert form.reason.errors == ["the agreement requires one"]
        assert form.form_errors == ["already recorded on 2019-04-01"]


@pytest.mark.parametrize(("role", "status"), [("accountant", 200), ("ccg-accountant", 200),
                                               ("herefordshire-accountant", 404), ("provider", 403)])
def test_every_accountant_page_asks_the_one_accountant_access(client_as, role, status):
    client = client_as(role)
    for path in (f"/accountant/agreements/{WIRRAL}", f"/accountant/returns/{WIRRAL}/premier-care/2019-20-Q1",
                 f"/accountant/pool/{WIRRAL}/2019-20", f"/accountant/payments/{WIRRAL}/2019-20",
                 f"/accountant/settlements/{WIRRAL}/2019-20", f"/accountant/reconcile/{WIRRAL}/2019-20",
                 f"/accountant/kpis/{WIRRAL}", f"/accountant/activity/{WIRRAL}/imports"):  # fmt: skip
        assert client.get(path).status_code == status, path
