"""An auditor reads only the history of the agreements their audit body is appointed to now (review finding 1).

On the demo (``partnership-audit`` appointed to both agreements) three more audit bodies: one never appointed,
one appointed to Wirral and its appointment ended, one appointed to Wirral only.
"""

from __future__ import annotations

from datetime import date

import pytest

from demo.partnerships import DEMO_PASSWORD
from domain.agreements.agreement import Agreement
from domain.envelope import SYSTEM, Envelope
from ledger.authorisation import history_access
from ledger.queries.events import event_page
from tests.support import DEMO_EVENTS
from tests.web.api_support import bearer, token_for
from tests.web.support import csrf_token, log_in

WIRRAL, HEREFORDSHIRE = "wirral-homecare", "herefordshire-hlah"
NEVER, ENDED, ONE = "auditor@never-audit.example", "auditor@ended-audit.example", "auditor@one-audit.example"


@pytest.fixture(scope="module")
def audit_bodies(demo_book):
    book = demo_book
    for code in ("never-audit", "ended-audit", "one-audit"):
        set_up = Envelope(SYSTEM, date(2019, 4, 1), f"{code} for the audit-scope tests")
        book.organisations.register_organisation(set_up, code, code.replace("-", " ").title(), "audit-body")
        book.organisations.register_user(set_up, f"auditor@{code}.example", "Auditor", code, ["auditor"])
        book.security.set_password(f"auditor@{code}.example", DEMO_PASSWORD, check=False)
    for code in ("ended-audit", "one-audit"):
        book.agreements.appoint_auditor(Envelope(SYSTEM, date(2019, 4, 1), "audit"), WIRRAL, code)
    book.agreements.end_auditor_appointment(Envelope(SYSTEM, date(2022, 4, 1), "re-tendered"), WIRRAL, "ended-audit")
    return book


@pytest.fixture(scope="module")
def every_event(audit_bodies):
    """Every row of the event index, as the operator reads it."""
    return event_page(audit_bodies.read_engine, history_access(None, SYSTEM, None), limit=DEMO_EVENTS + 100)


def test_the_index_names_each_records_agreement_from_its_first_event(every_event):
    by_kind: dict[str, set] = {}
    for row in every_event:
        by_kind.setdefault(row["aggregate_kind"], set()).add(row["agreement"])
    # a checkpoint (the demo ends with one) attests the whole history, not one agreement's
    assert by_kind.pop("user") == by_kind.pop("organisation") == by_kind.pop("checkpoint") == {None}
    assert by_kind.pop("agreement") == by_kind["rate-card"] == by_kind["kpi-results"] == {WIRRAL, HEREFORDSHIRE}
    assert by_kind["cost-return"] == by_kind["settlement"] == {WIRRAL}  # the demo files returns under Wirral only
    assert all(None not in agreements for agreements in by_kind.values())
    later = [r for r in every_event if r["topic"] == "openbook:cost-return.submitted"]
    assert later and all(r["version"] > 1 and r["agreement"] == WIRRAL for r in later)  # from its record's first


@pytest.mark.parametrize("username", [NEVER, ENDED])
def test_an_auditor_appointed_to_nothing_now_finds_no_history(app, audit_bodies, every_event, username):
    client = log_in(app.test_client(), username)
    wirral_id = Agreement.create_id(WIRRAL)
    for path in ("/auditor/events", "/auditor/events/1", f"/auditor/history?kind=agreement&key={WIRRAL}",
                 f"/auditor/history?aggregate={wirral_id}", "/auditor/integrity/exports/anything"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    api = app.test_client().get("/api/v1/events", headers=bearer(token_for(audit_bodies, username)))
    assert api.status_code == 404 and api.get_json()["kind"] == "not-found"
    page = client.get("/auditor/integrity")  # the chain check is no payload: still theirs
    assert page.status_code == 200 and "appointed to audit no agreement" in page.get_data(as_text=True)
    token = csrf_token(client, "/auditor/integrity")
    assert client.post("/auditor/integrity/exports", data={"export-csrf_token": token}).status_code == 404


def test_an_auditor_appointed_to_one_agreement_sees_none_of_anothers_events(app, audit_bodies, every_event):
    client = log_in(app.test_client(), ONE)
    api, after, headers = [], 0, bearer(token_for(audit_bodies, ONE))
    while after is not None:
        page = app.test_client().get(f"/api/v1/events?limit=500&after={after}", headers=headers).get_json()
        api, after = api + page["events"], page["next_after"]
    expected = [r["position"] for r in every_event
                if r["agreement"] == WIRRAL or r["aggregate_kind"] in ("organisation", "wage-floors", "checkpoint")]
    assert [e["position"] for e in api] == expected
    assert {e["agreement"] for e in api} == {WIRRAL, None} and "user" not in {e["aggregate_kind"] for e in api}
    hereford = next(r for r in every_event if r["agreement"] == HEREFORDSHIRE and r["aggregate_kind"] == "rate-card")
    assert client.get(f"/auditor/events/{hereford['position']}").status_code == 404
    by_id = client.get(f"/auditor/events?aggregate={hereford['aggregate_id']}").get_data(as_text=True)
    assert f'href="/auditor/events/{hereford["position"]}"' not in by_id
    assert client.get(f"/auditor/history?aggregate={hereford['aggregate_id']}").status_code == 404
    assert client.get(f"/auditor/history?kind=agreement&key={HEREFORDSHIRE}").status_code == 404
    assert client.get(f"/auditor/history?kind=agreement&key={WIRRAL}").status_code == 200
    wirral = next(r for r in every_event if r["agreement"] == WIRRAL and r["aggregate_kind"] == "cost-return")
    assert client.get(f"/auditor/events/{wirral['position']}").status_code == 200
    user = next(r for r in every_event if r["aggregate_kind"] == "user")
    assert client.get(f"/auditor/events/{user['position']}").status_code == 404
    page = client.get("/auditor/integrity").get_data(as_text=True)
    assert "appointed to 1 of 2" in page and 'action="/auditor/integrity/exports"' not in page
    token = csrf_token(client, "/auditor/integrity")
    refused = client.post("/auditor/integrity/exports", data={"export-csrf_token": token})
    assert refused.status_code == 403 and "cannot be verified" in refused.get_data(as_text=True)
