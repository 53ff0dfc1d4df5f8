"""The JSON API, /api/v1: tokens, the one error shape, idempotency keys, and cost returns filed and read back.

One demo copy for the module; tests build on each other in file order.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from tests.web.api_support import api_filing, bearer, post, token_for
from tests.web.support import USERS, log_in
from web.api import calls

BASE = "/api/v1/agreements/wirral-homecare/returns"
PERIOD = "2020-21-Q1"


@pytest.fixture(scope="module")
def tokens(demo_book):
    return {role: token_for(demo_book, USERS[role]) for role in ("provider", "other-provider", "accountant", "auditor")}


def test_without_a_valid_token_the_api_answers_401_in_its_one_error_shape(app, tokens):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer ob_00000000_nonsense"}, {"Authorization": f"Basic {tokens['provider']}"}):
        answer = client.get("/api/v1/organisations", headers=headers)
        assert answer.status_code == 401
        assert answer.get_json()["kind"] == "not-logged-in" and answer.get_json()["fields"] == []
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    logged_in = log_in(app.test_client(), USERS["admin"])  # a session cookie opens pages, never the API
    assert logged_in.get("/admin/").status_code == 200
    assert logged_in.get("/api/v1/organisations").status_code == 401
    assert client.get("/api/v1/organisations", headers=bearer(tokens["provider"])).status_code == 200


def test_a_role_refused_is_403_another_organisations_record_404_and_an_unknown_route_404(app, tokens):
    client = app.test_client()
    refused = client.get("/api/v1/events", headers=bearer(tokens["provider"]))
    assert refused.status_code == 403 and refused.get_json()["kind"] == "not-allowed"
    other = client.get(f"{BASE}/premier-care/2019-20-Q1", headers=bearer(tokens["other-provider"]))
    assert other.status_code == 404 and other.get_json()["kind"] == "not-found"
    assert "premier" not in other.get_data(as_text=True)
    assert client.get(f"{BASE}/premier-care/2019-20-Q1", headers=bearer(tokens["provider"])).status_code == 200
    assert client.get("/api/v1/nothing-here", headers=bearer(tokens["provider"])).status_code == 404
    assert client.get("/api/organisations", headers=bearer(tokens["provider"])).status_code == 404  # the old API


def test_a_token_lists_only_its_own_organisation_and_the_parties_to_its_agreements(app, tokens):
    def listed(role: str, query: str = "") -> set[str]:
        answer = app.test_client().get(f"/api/v1/organisations{query}", headers=bearer(tokens[role]))
        assert answer.status_code == 200
        return {row["code"] for row in answer.get_json()["organisations"]}

    assert listed("provider") == {"premier-care", "wirral-council", "wirral-ccg"}  # never another provider
    assert listed("provider", "?kind=provider") == {"premier-care"}
    wirrals = listed("accountant")
    assert {"wirral-council", "wirral-ccg", "premier-care", "haven-care"} <= wirrals
    assert not {code for code in wirrals if code.startswith(("herefordshire", "hfd-"))}  # not a party to Wirral's
    assert "partnership-audit" not in wirrals


def test_a_provider_files_a_return_and_reads_back_its_per_hour_figures(app, demo_book, tokens):
    body = {"provider": "premier-care", "period": PERIOD, "filing": api_filing(hours=2500), "submit": True}
    head = demo_book.projections.head()
    answer = post(app, tokens["provider"], BASE, body)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {
        "agreement": "wirral-homecare", "provider": "premier-care", "period": PERIOD, "in_house": False,
        "status": "submitted", "revision": 1, "open_queries": 0,
    }  # fmt: skip
    assert demo_book.projections.head() > head
    sheet = app.test_client().get(f"{BASE}/premier-care/{PERIOD}", headers=bearer(tokens["provider"])).get_json()
    per_hour = {line["line"]: line["per_hour"] for line in sheet["lines"]}
    assert per_hour["contact_pay"] == "8.7200" and per_hour["travel_pay"] == "1.7000"  # the 2020-21 worked example
    assert sheet["totals"]["contact_hours"] == "2500.00"
    assert D(sheet["totals"]["total_per_hour"]) == sum(D(v) for v in per_hour.values())
    assert isinstance(sheet["totals"]["total_cost"], str)  # money is text, never a JSON number
    listed = app.test_client().get(f"{BASE}?period={PERIOD}", headers=bearer(tokens["provider"])).get_json()
    assert [(r["provider"], r["status"]) for r in listed["returns"]] == [("premier-care", "submitted")]


def test_a_float_in_a_money_field_is_refused_naming_the_field_and_nothing_is_recorded(app, demo_book, tokens):
    filing = api_filing()
    filing["lines"]["pension"] = 15.6
    filing["volumes"]["visits"] = "5000"
    head = demo_book.projections.head()
    answer = post(app, tokens["provider"], BASE, {"provider": "premier-care", "period": "2020-21-Q2", "filing": filing})
    assert answer.status_code == 400
    error = answer.get_json()
    assert error["kind"] == "invalid-input"
    fields = {problem["field"]: problem["message"] for problem in error["fields"]}
    assert "JSON number" in fields["filing.lines.pension"] and '"15.60"' in fields["filing.lines.pension"]
    assert "filing.volumes.visits" in fields
    negative = api_filing()
    negative["lines"]["pension"] = "-1.00"
    refused = post(app, tokens["provider"], BASE, {"provider": "premier-care", "period": "2020-21-Q2", "filing": negative})
    assert refused.status_code == 400
    assert [p["field"] for p in refused.get_json()["fields"]] == ["lines.pension"]  # the ledger's own check
    assert demo_book.projections.head() == head


def test_the_same_key_and_body_answer_again_another_body_is_409_and_a_post_needs_a_key(app, demo_book, tokens,
                                                                                      monkeypatch):
    path = f"{BASE}/premier-care/{PERIOD}/amend"
    body = {"filing": api_filing(hours=2600), "reason": "the July payroll run was late"}
    first = post(app, tokens["provider"], path, body, key="amend-premier-1")
    assert first.status_code == 200 and first.get_json()["revision"] == 2
    head = demo_book.projections.head()
    again = post(app, tokens["provider"], path, body, key="amend-premier-1")
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert demo_book.projections.head() == head  # recorded once

    class Tomorrow(date):
        @classmethod
        def today(cls) -> date:
            return date.today() + timedelta(days=1)

    monkeypatch.setattr(calls, "date", Tomorrow)  # the envelope's date, filled in when the body gives none
    retried = post(app, tokens["provider"], path, body, key="amend-premier-1")  # a retry the next day, as sent
    assert retried.get_data() == first.get_data() and retried.headers["Idempotent-Replayed"] == "true"
    assert demo_book.projections.head() == head
    monkeypatch.undo()
    other = post(app, tokens["provider"], path, {**body, "reason": "another"}, key="amend-premier-1")
    assert other.status_code == 409
    assert other.get_json()["kind"] == "idempotency-mismatch" and "amend-premier-1" in other.get_json()["message"]
    mine = post(app, tokens["other-provider"], path, body, key="amend-premier-1")  # keys are each user's own
    assert mine.status_code == 404
    no_key = app.test_client().post(path, json=body, headers=bearer(tokens["provider"]))
    assert no_key.status_code == 400 and no_key.get_json()["fields"][0]["field"] == "Idempotency-Key"
    form = app.test_client().post(path, data={"reason": "x"}, headers=bearer(tokens["provider"], "form-body-1"))
    assert form.status_code == 400
    broken = app.test_client().post(path, data="{not json", content_type="application/json",
                                    headers=bearer(tokens["provider"], "broken-json-1"))  # fmt: skip
    assert broken.status_code == 400 and broken.get_json()["fields"] == [{"field": "body", "message": "is not valid JSON"}]
    assert demo_book.projections.head() == head


def test_an_accountant_queries_the_return_the_provider_answers_and_the_accountant_accepts(app, tokens):
    returns = f"{BASE}/premier-care/{PERIOD}"
    asked = post(app, tokens["accountant"], f"{returns}/query",
                 {"line": "travel_pay", "question": "Why is travel time up on last year?"})  # fmt: skip
    assert asked.status_code == 200, asked.get_json()
    query_id = asked.get_json()["query_id"]
    assert asked.get_json()["open_queries"] == 1
    assert post(app, tokens["provider"], f"{returns}/query", {"line": "pension", "question": "?"}).status_code == 403
    early = post(app, tokens["accountant"], f"{returns}/accept", {})
    assert early.status_code == 422 and early.get_json()["kind"] == "rule-broken"  # a query is open
    answered = post(app, tokens["provider"], f"{returns}/queries/{query_id}/answer", {"answer": "longer rural runs"})
    assert answered.status_code == 200 and answered.get_json()["open_queries"] == 0
    accepted = post(app, tokens["accountant"], f"{returns}/accept", {})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted"
    unexplained = post(app, tokens["accountant"], f"{returns}/reopen", {})
    assert unexplained.status_code == 400 and unexplained.get_json()["fields"][0]["field"] == "reason"
    reopened = post(app, tokens["accountant"], f"{returns}/reopen", {"reason": "the auditors asked to see travel again"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] != "accepted"
    assert post(app, tokens["accountant"], f"{returns}/accept", {}).get_json()["status"] == "accepted"


def test_a_rule_refused_is_422_and_a_duplicate_409(app, tokens):
    body = {"provider": "premier-care", "period": PERIOD, "filing": api_filing()}
    duplicate = post(app, tokens["provider"], BASE, body)
    assert duplicate.status_code == 409 and duplicate.get_json()["kind"] == "conflict"
    submitted_again = post(app, tokens["provider"], f"{BASE}/premier-care/{PERIOD}/submit", {})
    assert submitted_again.status_code == 422 and submitted_again.get_json()["kind"] == "rule-broken"


def test_a_change_that_loses_a_race_is_a_409_concurrency_conflict_and_records_nothing(app, demo_book, monkeypatch):
    """Just before the API's reopen is saved, another worker (another ledger on the database) reopens first."""
    from datetime import date

    from domain.envelope import Actor, Envelope
    from ledger.bootstrap import open_openbook

    council = Actor(USERS["accountant"], "wirral-council")
    token = token_for(demo_book, USERS["accountant"])
    other = open_openbook(demo_book.database)
    save = demo_book.ledger.save

    def another_worker_first(*aggregates, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the library's signature
        monkeypatch.setattr(demo_book.ledger, "save", save)  # race once
        other.returns.reopen_cost_return(Envelope(council, date.today(), "reopened first"), "wirral-homecare",
                                         "premier-care", PERIOD)  # fmt: skip
        return save(*aggregates, **kwargs)

    head = demo_book.projections.head()
    try:
        monkeypatch.setattr(demo_book.ledger, "save", another_worker_first)
        path = f"{BASE}/premier-care/{PERIOD}/reopen"
        raced = post(app, token, path, {"reason": "reopened second"}, key="reopen-race-1")
        assert raced.status_code == 409, raced.get_json()
        assert raced.get_json()["kind"] == "concurrency-conflict"
        demo_book.projections.catch_up()
        [recorded] = demo_book.ledger.recorder.select_notifications(start=head + 1, limit=10)  # the other's only
        assert recorded.topic.endswith("cost-return.reopened") and b"reopened first" in recorded.state
        again = post(app, token, path, {"reason": "reopened second"}, key="reopen-race-1")  # a refusal is not kept
        assert again.status_code == 422 and "Idempotent-Replayed" not in again.headers
    finally:
        other.close()


def test_a_queried_provider_answers_through_the_api(app, demo_book):
    token = token_for(demo_book, "finance@aspire.example")
    sheet = app.test_client().get(f"{BASE}/aspire/2019-20-Q1", headers=bearer(token)).get_json()
    query = next(q for q in sheet["queries"] if q["answer"] is None)
    answer = post(app, token, f"{BASE}/aspire/2019-20-Q1/queries/{query['query_id']}/answer",
                  {"answer": "the long rural runs between West Wirral villages"})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["open_queries"] == sum(1 for q in sheet["queries"] if q["answer"] is None) - 1
    after = app.test_client().get(f"{BASE}/aspire/2019-20-Q1", headers=bearer(token)).get_json()
    assert next(q for q in after["queries"] if q["query_id"] == query["query_id"])["answered_by"]


def test_agreements_rates_events_and_checkpoints(app, tokens):
    client = app.test_client()
    mine = client.get("/api/v1/agreements", headers=bearer(tokens["provider"])).get_json()["agreements"]
    assert [(a["code"], a["sees"]) for a in mine] == [("wirral-homecare", "own-figures")]
    sheet = client.get("/api/v1/agreements/wirral-homecare?on=2019-06-30", headers=bearer(tokens["accountant"]))
    assert sheet.get_json()["financial_year"] == "2019-20"
    card = client.get("/api/v1/agreements/wirral-homecare/rates?on=2019-06-30", headers=bearer(tokens["provider"]))
    assert {r["hourly_rate"] for r in card.get_json()["rates"]} >= {"15.60"}
    bad = client.get("/api/v1/agreements/wirral-homecare/rates?on=1066-10-14", headers=bearer(tokens["provider"]))
    assert bad.status_code == 400 and bad.get_json()["fields"][0]["field"] == "on"
    elsewhere = client.get("/api/v1/agreements/herefordshire-hlh", headers=bearer(tokens["provider"]))
    assert elsewhere.status_code == 404
    page = client.get("/api/v1/events?limit=5", headers=bearer(tokens["auditor"])).get_json()
    assert [e["position"] for e in page["events"]] == [1, 2, 3, 4, 5] and page["next_after"] == 5
    following = client.get("/api/v1/events?limit=5&after=5", headers=bearer(tokens["auditor"])).get_json()
    assert following["events"][0]["position"] == 6
    assert client.get("/api/v1/checkpoints", headers=bearer(tokens["provider"])).get_json()["head"] > 5


def test_an_auditor_filters_the_history_as_the_event_browser_does_and_reads_an_event_whole(app, tokens, demo_book):
    client = app.test_client()
    auditor = bearer(tokens["auditor"])
    submitted = "openbook:cost-return.submitted"
    q1 = client.get(f"/api/v1/events?topic={submitted}&effective_from=2019-07-01&effective_to=2019-09-30&limit=500",
                    headers=auditor).get_json()["events"]  # fmt: skip
    assert q1 and {e["topic"] for e in q1} == {submitted}
    assert all("2019-07-01" <= e["effective_date"] <= "2019-09-30" for e in q1)
    everything = client.get(f"/api/v1/events?topic={submitted}&limit=500", headers=auditor).get_json()["events"]
    assert len(everything) > len(q1)  # the dates narrowed it
    by_premier = client.get("/api/v1/events?organisation=premier-care&limit=500", headers=auditor).get_json()["events"]
    assert by_premier and {e["organisation"] for e in by_premier} == {"premier-care"}
    today = client.get("/api/v1/events?recorded_from=2000-01-01&recorded_to=2000-01-02", headers=auditor)
    assert today.get_json()["events"] == []  # recorded days are when the ledger was written, not the demo's dates
    day = q1[0]["recorded_at"][:10]  # a UTC day, both ends included
    that_day = client.get(f"/api/v1/events?topic={submitted}&recorded_from={day}&recorded_to={day}&limit=500",
                          headers=auditor).get_json()["events"]  # fmt: skip
    assert q1[0]["position"] in {e["position"] for e in that_day}
    assert all(e["recorded_at"].startswith(day) for e in that_day)
    bad = client.get("/api/v1/events?aggregate_id=not-a-uuid", headers=auditor)
    assert bad.status_code == 400 and bad.get_json()["fields"][0]["field"] == "aggregate_id"

    first = q1[0]
    whole = client.get(f"/api/v1/events/{first['position']}", headers=auditor)
    assert whole.status_code == 200
    event = whole.get_json()
    stored = demo_book.ledger.recorder.select_hashes(first["position"], 1)
    assert (event["position"], event["topic"], event["chain_hash"]) == (first["position"], submitted, stored[0][1])
    assert event["payload"] == {"revision": 1}  # a submission's own field: the revision submitted
    assert event["agreement"] == "wirral-homecare" and event["aggregate_kind"] == "cost-return"
    assert client.get(f"/api/v1/events/{first['position']}", headers=bearer(tokens["provider"])).status_code == 403
    assert client.get("/api/v1/events/999999", headers=auditor).status_code == 404


def test_activity_kpis_incentives_payments_and_settlements_as_each_reader_may_see_them(app, tokens):
    client = app.test_client()
    agreement = "/api/v1/agreements/wirral-homecare"

    def get(path: str, role: str):
        return client.get(f"{agreement}{path}", headers=bearer(tokens[role]))

    rows = get("/activity/totals?by=zone,month&period=2019-04", "provider").get_json()["totals"]
    zone_1 = next(r for r in rows if r["zone"] == "zone-1")
    assert (zone_1["visits"], zone_1["hours"]) == (155, "96.25")  # the README's audit figures
    assert get("/activity/totals?provider=haven-care", "provider").status_code == 404
    every = get("/activity/totals?by=provider&period=2019-20-Q1", "accountant").get_json()["totals"]
    assert {"premier-care", "haven-care"} <= {r["provider"] for r in every}
    assert get("/activity/totals?by=postcode", "accountant").status_code == 400

    kpis = get("/kpis?period=2019-20", "provider").get_json()
    assert kpis["rows"] and {r["provider"] for r in kpis["rows"]} == {"premier-care"}
    result = {"provider": "premier-care", "period": "2020-21-Q1", "kpi": "missed-visits", "value": "0.3",
              "evidence": "ECM report, July 2020"}  # fmt: skip
    recorded = post(app, tokens["accountant"], f"{agreement}/kpis", result)
    assert recorded.status_code == 200, recorded.get_json()
    assert (recorded.get_json()["outcome"], recorded.get_json()["met"]) == ("recorded", True)
    assert post(app, tokens["provider"], f"{agreement}/kpis", result).status_code == 403
    q1 = get("/kpis?period=2020-21-Q1", "provider").get_json()["rows"]
    assert any(r["kpi"] == "missed-visits" and r["value"] == "0.3" for r in q1), q1
    own = get("/incentives/2019-20", "provider").get_json()
    assert [line["provider"] for line in own["lines"]] == ["premier-care"] and own["total"] is None
    assert len(get("/incentives/2019-20", "accountant").get_json()["lines"]) > 1

    paid = get("/payments?financial_year=2019-20", "provider").get_json()["payments"]
    assert paid and {p["provider"] for p in paid} == {"premier-care"}
    statement = get(f"/payments/premier-care/{paid[0]['month']}", "provider").get_json()
    assert statement["amount"] == paid[0]["amount"]
    assert get(f"/payments/haven-care/{paid[0]['month']}", "provider").status_code == 404

    assert get("/settlements", "provider").status_code == 403  # every provider's figures: accountants'
    listed = get("/settlements?financial_year=2019-20", "accountant").get_json()["settlements"]
    assert [s["sequence"] for s in listed] == [1]
    mine = get("/settlements/2019-20", "provider").get_json()
    assert set(mine["statement"]["providers"]) == {"premier-care"}


def test_an_activity_file_is_queued_imported_by_a_worker_and_its_job_read_back(app, demo_book, tokens, tmp_path):
    from ledger.jobs.worker import Worker
    from tests.integration.activity_setup import visit, write_csv

    files = "/api/v1/agreements/wirral-homecare/activity/files"
    own = write_csv(tmp_path / "may.csv", [visit("API-P1", "premier-care", "CH41 2AB", "2019-05-03", 30, 30)])

    def send(path, key: str):
        with path.open("rb") as stream:
            return app.test_client().post(files, data={"file": (stream, path.name), "reason": "May's visits"},
                                          headers=bearer(tokens["provider"], key), content_type="multipart/form-data")  # fmt: skip

    queued = send(own, "may-visits-1")
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()["job"]
    again = send(own, "may-visits-1")  # a retry: a new multipart boundary, the same request
    assert again.status_code == 202 and again.get_json()["job"] == job and again.headers["Idempotent-Replayed"]
    status = app.test_client().get(f"{files}/{job}", headers=bearer(tokens["provider"])).get_json()
    assert (status["state"], status["file_name"], status["result"]) == ("queued", "may.csv", None)

    ran = Worker(demo_book, beat=0.01).run_once()

    assert ran.id == job and ran.state == "done", ran.error
    done = app.test_client().get(f"{files}/{job}", headers=bearer(tokens["provider"])).get_json()
    assert done["state"] == "done" and done["percent"] == 100 and done["result"]["visits"] == 1
    assert app.test_client().get(f"{files}/{job}", headers=bearer(tokens["other-provider"])).status_code == 404

    mixed = write_csv(tmp_path / "mixed.csv", [visit("API-H1", "haven-care", "CH60 3XY", "2019-05-05", 60, 55)])
    failing = send(mixed, "mixed-visits-1").get_json()["job"]
    assert Worker(demo_book, beat=0.01).run_once().state == "failed"
    failed = app.test_client().get(f"{files}/{failing}", headers=bearer(tokens["provider"])).get_json()
    assert failed["error"]["kind"] == "invalid-input"
    assert any("row 2, column provider" in problem for problem in failed["error"]["problems"])
    as_json = app.test_client().post(files, json={}, headers=bearer(tokens["provider"], "json-not-a-file"))
    assert as_json.status_code == 400 and as_json.get_json()["fields"][0]["field"] == "body"


def test_tokens_from_the_command_line_shown_once_listed_without_the_secret_and_revoked(app, demo_book):
    from click.testing import CliRunner

    from cli.main import cli

    url = demo_book.database.url.render_as_string(hide_password=False)

    def run(*args: str):
        return CliRunner().invoke(cli, ["--database", url, "tokens", *args], env={"OPENBOOK_USER": None})

    made = run("create", "--user", USERS["accountant"], "--name", "finance system", "--json")
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    token = created["token"]
    assert app.test_client().get("/api/v1/agreements", headers=bearer(token)).status_code == 200
    listed = run("list", "--user", USERS["accountant"], "--json")
    row = next(r for r in json.loads(listed.stdout) if r["token_id"] == created["token_id"])
    assert row["name"] == "finance system" and row["last_used_at"] and row["revoked_at"] is None
    assert token not in listed.stdout and token.split("_")[-1] not in listed.stdout
    assert run("create", "--user", "nobody@nowhere.example").exit_code == 1
    assert run("revoke", created["token_id"]).exit_code == 0
    assert app.test_client().get("/api/v1/agreements", headers=bearer(token)).status_code == 401


def test_a_deactivated_users_tokens_stop_working(app, demo_book, tokens):
    from datetime import date

    from domain.envelope import SYSTEM, Envelope

    client = app.test_client()
    assert client.get("/api/v1/agreements", headers=bearer(tokens["other-provider"])).status_code == 200
    demo_book.organisations.deactivate_user(Envelope(SYSTEM, date(2020, 7, 1)), USERS["other-provider"])
    assert client.get("/api/v1/agreements", headers=bearer(tokens["other-provider"])).status_code == 401
    [revoked] = demo_book.security.tokens.list(USERS["other-provider"])  # revoked: a reactivation revives nothing
    assert revoked["revoked_at"] is not None


# -- the document and the fuzzing ---------------------------------------------------------------------

#: Objects on the demo each fuzzed operation also tries (beside schemathesis's own made-up values, mostly 404s).
DEMO_PATH = {
    "agreement": "wirral-homecare", "provider": "premier-care", "period": "2019-20-Q1", "query_id": "Q1",
    "financial_year": "2019-20", "month": "2019-05",
}  # fmt: skip
#: Examples per operation and role: enough to reach each refusal and answer, few enough for ~1 minute in all.
FUZZ_EXAMPLES = 12


def test_every_api_route_is_in_the_openapi_document_with_its_methods(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    routes = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method)  # <int:position> -> {position}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes and routes <= documented, sorted(routes - documented)
    posts = [operation for operations in document["paths"].values() for m, operation in operations.items() if m == "post"]
    assert posts and all(
        any(p["name"] == "Idempotency-Key" and p["required"] for p in operation["parameters"]) for operation in posts
    )
    pension = document["components"]["schemas"]["FilingIn"]["properties"]["lines"]["additionalProperties"]
    assert pension["type"] == "string"  # money is a decimal string in the document too


def test_the_document_lists_every_error_status_the_api_answers_in_the_one_error_shape(app):
    from web.errors import STATUS

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    answered = {str(status) for status in STATUS.values() if status < 500} | {"401", "503"}  # 503: unavailable
    for path, operations in document["paths"].items():
        if path.endswith("/openapi.json"):
            continue
        for method, operation in operations.items():
            expected = answered | ({"413"} if method == "post" else set())  # a body over the size limit
            responses = operation["responses"]
            assert expected <= set(responses), (method, path, sorted(expected - set(responses)))
            for status in expected:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
            assert "Retry-After" in responses["503"]["headers"]
            if method == "post":
                answer = next(code for code in responses if code.startswith("2"))
                assert "Idempotent-Replayed" in responses[answer]["headers"]


def test_fuzzing_the_api_from_its_document_finds_no_server_error_and_no_answer_outside_its_schema(app, tokens):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        # the auditor reads (its own access to every provider's figures, and the only role /events answers)
        for role in ("provider", "accountant", *(["auditor"] if operation.method.upper() == "GET" else [])):
            auth = {"Authorization": f"Bearer {tokens[role]}"}
            on_demo = {name: value for name, value in DEMO_PATH.items() if name in names}
            cases = st.one_of(
                operation.as_strategy(headers=auth), operation.as_strategy(headers=auth, path_parameters=on_demo)
            )

            @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=cases)
            def fuzz(case) -> None:
                case.call_and_validate(checks=checks)

            fuzz()
