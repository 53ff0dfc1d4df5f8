"""The auditors' pages: the event browser, a record's history and the integrity check (issue 16)."""

from __future__ import annotations

import re
import sqlite3
from html import unescape

import pytest

from domain.envelope import SYSTEM, Actor
from ledger.authorisation import history_access
from ledger.jobs.worker import Worker
from ledger.persistence import EVENTS_TABLE
from ledger.queries.events import EventFilter, event_page
from tests.support import DEMO_EVENTS
from tests.web.support import USERS, csrf_token, log_in, make_app
from web.auditor.events import PAGE_SIZE

AUDITOR = Actor(user=USERS["auditor"], organisation="partnership-audit")
EVENT_LINK = re.compile(r'href="/auditor/events/(\d+)"')
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
PREVIOUS_LINK = re.compile(r'<a rel="prev" href="([^"]+)"')


def positions_on(page: str) -> list[int]:
    return [int(p) for p in EVENT_LINK.findall(page)]


def test_the_browser_shows_the_rows_event_page_finds_for_a_filter(client_as, demo_book):
    page = client_as("auditor").get("/auditor/events?type=cost-return&actor=finance@premiercare.example")
    assert page.status_code == 200
    expected = event_page(
        demo_book.read_engine,
        history_access(demo_book.records, AUDITOR, demo_book.read_engine),
        EventFilter(kinds=("cost-return",), actor="finance@premiercare.example"),
        limit=PAGE_SIZE,
    )
    assert expected, "the demo has Premier Care's cost-return events"
    assert positions_on(page.get_data(as_text=True)) == [row["position"] for row in expected]
    text = page.get_data(as_text=True)
    assert all(row["topic"] in text for row in expected)


def test_pages_by_position_cover_the_history_without_gaps_or_overlaps(client_as, demo_book):
    client = client_as("auditor")
    url, seen, pages = "/auditor/events", [], 0
    while url:
        body = client.get(unescape(url)).get_data(as_text=True)
        shown = positions_on(body)
        assert len(shown) <= PAGE_SIZE
        pages += 1
        assert ('rel="first"' in body) == ('rel="prev"' in body) == (pages > 1)  # back a page, or to the start
        assert f"{len(shown)} of at most {PAGE_SIZE} (so are its downloads)" in body
        if pages > 1:  # the previous page, read backwards, is the page before, whole
            back = client.get(unescape(PREVIOUS_LINK.search(body).group(1))).get_data(as_text=True)
            assert positions_on(back) == seen[-PAGE_SIZE:]
        seen.extend(shown)
        found = NEXT_LINK.search(body)
        url = found.group(1) if found else None
    every = event_page(demo_book.read_engine, history_access(None, SYSTEM, None), limit=DEMO_EVENTS + 1)
    held = [row["position"] for row in every if row["aggregate_kind"] != "user"]  # appointed to both: all but users'
    assert len(every) == DEMO_EVENTS and len(held) < DEMO_EVENTS
    assert pages == -(-len(held) // PAGE_SIZE)
    assert seen == held


def test_a_previous_page_before_the_first_event_is_empty_and_leads_on_to_the_events(client_as):
    body = client_as("auditor").get("/auditor/events?before=1").get_data(as_text=True)
    assert positions_on(body) == [] and 'rel="prev"' not in body
    assert unescape(NEXT_LINK.search(body).group(1)) == "/auditor/events?after=0"


def test_an_event_shows_its_envelope_and_payload_escaped(client_as, demo_book):
    [first] = event_page(demo_book.read_engine, history_access(demo_book.records, AUDITOR, demo_book.read_engine), limit=1)
    page = client_as("auditor").get(f"/auditor/events/{first['position']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert first["topic"] in text and first["actor"] in text and "<dl class=\"payload\">" in text
    [(_, chain_hash)] = demo_book.ledger.recorder.select_hashes(first["position"], 1)
    assert f"<code>{chain_hash}</code>" in text
    assert client_as("auditor").get(f"/auditor/events/{DEMO_EVENTS + 1000}").status_code == 404


def test_a_bad_filter_is_refused_beside_its_field(client_as):
    page = client_as("auditor").get("/auditor/events?aggregate=not-a-uuid")
    assert page.status_code == 400
    assert "is not an aggregate id" in page.get_data(as_text=True)
    assert "Nothing was saved" not in page.get_data(as_text=True)  # a search, not a recording form


def test_a_cost_returns_history_shows_the_lines_each_revision_changed(client_as):
    client = client_as("auditor")
    page = client.get("/auditor/history?kind=cost-return&key=wirral-homecare+premier-care+2019-20-Q1")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lines changed at position" in text and "filing.lines." in text
    one = client.get("/auditor/history?kind=organisation&key=premier-care").get_data(as_text=True)
    assert ": 1 event</h2>" in one  # not "1 events"
    missing = client.get("/auditor/history?kind=cost-return&key=wirral-homecare+premier-care+2099-00-Q1")
    assert missing.status_code in (400, 404)
    short = client.get("/auditor/history?kind=cost-return&key=wirral-homecare")
    assert short.status_code == 400 and "is named by AGREEMENT PROVIDER PERIOD" in short.get_data(as_text=True)


@pytest.mark.parametrize("role", ["accountant", "provider", "admin"])
def test_only_an_auditor_of_an_audit_body_opens_the_auditor_pages(client_as, role):
    client = client_as(role)
    for path in ("/auditor/", "/auditor/events", "/auditor/events/1", "/auditor/integrity",
                 "/auditor/history?kind=agreement&key=wirral-homecare"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/auditor/integrity")  # the 403 page carries it too
    assert client.post("/auditor/integrity", data={"csrf_token": token}).status_code == 403
    unsigned = client_as("auditor").get("/auditor/integrity")
    assert unsigned.status_code == 200  # the demo ledger has no signing key: the verifier is shown without one
    assert "<code>python3 -I verify.py openbook-export.jsonl</code>" in unsigned.get_data(as_text=True)
    assert "--public-key" not in unsigned.get_data(as_text=True)


def _check_chain(client, book) -> str:
    """Ask for a check of the live chain, let a worker run it, and read its page."""
    asked = client.post("/auditor/integrity", data={"csrf_token": csrf_token(client, "/auditor/integrity")})
    assert asked.status_code == 302
    waiting = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "until the check ends" in waiting
    ran = Worker(book, beat=0.01).run_once()
    assert ran is not None and ran.kind == "verify" and ran.state == "done"
    return client.get(asked.headers["Location"]).get_data(as_text=True)


def test_the_integrity_check_says_ok_then_names_the_position_after_tampering(fresh_demo_book, tmp_path):
    app = make_app(fresh_demo_book, tmp_path / "instance")
    client = log_in(app.test_client(), USERS["auditor"])
    head = fresh_demo_book.projections.head()
    ok = _check_chain(client, fresh_demo_book)
    assert "Result: OK" in ok and f"{head:,} events verified, head at position {head}," in ok
    assert 'http-equiv="refresh"' not in ok

    position = 7
    _tamper_state(fresh_demo_book.database.sqlite_path, position)
    broken = _check_chain(client, fresh_demo_book)
    assert "Result: BROKEN" in broken and f"The chain breaks at position {position}:" in broken
    listed = client.get("/auditor/integrity").get_data(as_text=True)
    assert "Recent checks" in listed and "OK" in listed and "BROKEN" in listed


def test_the_chain_check_reports_its_progress_batch_by_batch_up_to_the_head(demo_book, monkeypatch):
    """On a large store the check's page shows how far it has gone: each batch read reports the positions done."""
    from types import SimpleNamespace

    from ledger.audit import export
    from ledger.jobs import verify_chain

    monkeypatch.setattr(export, "BATCH", 100)  # the demo's history in several batches, as a large store's
    seen: list[tuple[int, int]] = []
    report = verify_chain._run(demo_book, SimpleNamespace(actor=AUDITOR), lambda done, total, _: seen.append((done, total)))
    head = export.export_range(demo_book.ledger.recorder)
    assert report["status"] == "verified" and report["head"]["position"] == head
    assert {total for _, total in seen} == {head} and seen[0][0] == 0 and seen[-1][0] == head
    assert [done for done, _ in seen] == [0, *range(100, head, 100), head]  # a step per batch read, to the head


def test_another_users_check_is_not_found(client_as, demo_book):
    from ledger.jobs import verify_chain

    job = demo_book.jobs.enqueue(verify_chain.NAME, AUDITOR, {})
    assert client_as("auditor").get(f"/auditor/integrity/checks/{job}").status_code == 200
    assert client_as("accountant").get(f"/auditor/integrity/checks/{job}").status_code == 403
    assert client_as("auditor").get("/auditor/integrity/checks/00000000-0000-0000-0000-000000000000").status_code == 404
    Worker(demo_book, beat=0.01).run_once()  # leave no queued job for the tests after


def test_the_check_needs_the_csrf_token(client_as):
    assert client_as("auditor").post("/auditor/integrity", data={}).status_code == 400


def _tamper_state(path: str, position: int) -> None:
    """Alter one stored event's bytes with the append-only triggers lifted (as tests/integration's ``tamper``)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        conn.execute("BEGIN IMMEDIATE")
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (EVENTS_TABLE,)
        ).fetchall()
        for name, _sql in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        [(state,)] = conn.execute(f"SELECT state FROM {EVENTS_TABLE} WHERE notification_id = ?", (position,)).fetchall()
        conn.execute(f"UPDATE {EVENTS_TABLE} SET state = ? WHERE notification_id = ?", (bytes(state) + b" ", position))
        for _name, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_only_a_reader_of_the_history_may_queue_a_chain_check(demo_book):
    from domain.errors import NotAllowed
    from ledger.jobs import verify_chain

    council = Actor(user=USERS["accountant"], organisation="wirral-council")
    with pytest.raises(NotAllowed, match="only an auditor of an audit body"):
        demo_book.jobs.enqueue(verify_chain.NAME, council, {})


def test_an_events_record_history_is_the_history_by_its_key(client_as, demo_book):
    from ledger.audit.record_history import record_history

    key = ["wirral-homecare", "premier-care", "2019-20-Q1"]
    by_key = record_history(demo_book.read_engine, demo_book.ledger.mapper, history_access(demo_book.records, AUDITOR, demo_book.read_engine),
                            "cost-return", key)  # fmt: skip
    client = client_as("auditor")
    event_page_html = client.get(f"/auditor/events/{by_key['events'][-1]['position']}").get_data(as_text=True)
    link = f'href="/auditor/history?aggregate={by_key["aggregate_id"]}"'
    assert link in event_page_html
    page = client.get(f"/auditor/history?aggregate={by_key['aggregate_id']}")
    assert page.status_code == 200
    shown = [int(p) for p in re.findall(r'<h3><a href="/auditor/events/(\d+)">', page.get_data(as_text=True))]
    assert shown == [e["position"] for e in by_key["events"]] and len(shown) > 1
    assert client.get("/auditor/history?aggregate=nope").status_code == 400
    assert client.get("/auditor/history?aggregate=00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_settlement_as_known_before_and_when_it_was_drafted(client_as, demo_book):
    from ledger.audit.record_history import record_history

    history = record_history(demo_book.read_engine, demo_book.ledger.mapper, history_access(demo_book.records, AUDITOR, demo_book.read_engine),
                             "settlement", ["wirral-homecare", "2019-20", "1"])  # fmt: skip
    drafted = history["events"][0]
    client = client_as("accountant")
    url = "/accountant/settlements/wirral-homecare/2019-20/1"
    live = client.get(url).get_data(as_text=True)
    assert "Not the live figures" not in live and 'data-status="draft"' in live and f'method="post" action="{url}/' in live
    assert client.get(f"{url}?as_at={drafted['position'] - 1}").status_code == 404  # not drafted yet
    then = client.get(f"{url}?as_at={drafted['position']}")
    text = then.get_data(as_text=True)
    assert then.status_code == 200
    assert f", position {drafted['position']:,} (asked" in text and "as known on " in text and 'data-status="draft"' in text
    assert f'method="post" action="{url}/' not in text  # a past view offers no action
    assert client.get(f"{url}?as_at={DEMO_EVENTS + 1000}").status_code == 400


def test_the_market_as_at_the_head_shows_the_live_figures_under_a_banner(client_as, demo_book):
    client = client_as("accountant")
    url = "/accountant/market/wirral-homecare/2019-20-Q1"
    live = client.get(url).get_data(as_text=True)
    head = demo_book.projections.head()
    then = client.get(f"{url}?as_at={head}").get_data(as_text=True)
    assert f", position {head:,} (asked" in then and "Not the live figures" not in live
    tables = re.compile(r"<tbody>.*?</tbody>", re.S)
    kept = f"?as_at={head}"  # its links stay in the past; else the same rows
    assert kept in then and [t.replace(kept, "") for t in tables.findall(then)] == tables.findall(live)
    assert tables.findall(live)
    assert client.get(f"{url}?as_at=not-a-time").status_code == 400


@pytest.mark.parametrize(("kind", "key", "line", "new"), [
    ("cost-return", "wirral-homecare premier-care 2019-20-Q1", "filing.lines.mileage", "58240.00"),
    ("rate-card", "wirral-homecare", "rates.service standard, zone zone-1 from 2020-04-01", "16.34"),
    ("agreement", "wirral-homecare", "auditors.partnership-audit", "2019-04-01"),
    ("settlement", "wirral-homecare 2019-20 1", "inputs.target", "12000000.00"),
])  # fmt: skip
def test_each_kind_of_records_history_shows_the_lines_its_revisions_changed(client_as, kind, key, line, new):
    page = client_as("auditor").get(f"/auditor/history?kind={kind}&key={key.replace(' ', '+')}")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "Lines changed at position" in text
    assert re.search(rf"<th scope=\"row\">{re.escape(line)}</th><td>\(none\)</td><td>{re.escape(new)}", text), line


def test_an_auditor_posts_only_to_start_a_chain_check_or_an_export_besides_their_own_session(app):
    """Every route taking a non-GET method that the auditor role may open: the two jobs, checking a copy of a
    statement against the issued digests (it records nothing), and the user's own session and password (no event). Any other is refused by role (the route x role walk checks each answers 403)."""
    from domain.organisations.user import Role
    from web.access import PUBLIC, rule_of

    open_to_auditors = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if set(rule.methods) - {"GET", "HEAD", "OPTIONS"}
        and (rule_of(app, rule.endpoint) == PUBLIC or Role.AUDITOR in rule_of(app, rule.endpoint))
    }
    assert open_to_auditors == {"auditor.start_chain_check", "auditor.start_export", "issued_statements.check_upload",
                                "auth.logout", "auth.account", "auth.login", "auth.first_login"}  # fmt: skip
