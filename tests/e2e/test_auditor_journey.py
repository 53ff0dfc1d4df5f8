"""An auditor's day in the browser: a cost return's events and revisions, the live chain and a signed checkpoint,
and what the 2019-20 settlement showed before its re-settlement.

The demo stops at a drafted 2019-20 settlement for Wirral (it has no re-settled year), so the served ledger first
records what an audit looks at, as the people who would: the commissioners' accountants review, approve and issue
settlement 1; a late visit of March 2020 is imported after it was issued and the council's accountant drafts
re-settlement 2; the council's accountant reopens Premier Care's 2019-20-Q1 return and Premier Care amends it
(revision 2: contact pay and mileage). The ledger is opened with a signing key from then on, and the auditor records
a checkpoint of the head before logging in. Each main page is photographed and checked by axe under the app's CSP.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from demo.settlements import DEMO_YEAR, WIRRAL
from domain.envelope import Actor, Envelope
from domain.returns.cost_return import CostReturn
from ledger.audit.signing import SigningKey
from ledger.bootstrap import open_openbook
from ledger.settings import Settings
from tests.e2e.accessibility import serious
from tests.e2e.conftest import Served, csp_refusals, log_in, screenshot
from tests.integration.activity_setup import visit, write_csv
from tests.support import demo_copy
from web.app import create_app

AUDITOR = Actor("auditor@audit.example", "partnership-audit")
COUNCIL = Actor("accountant@wirral.example", "wirral-council")
CCG = Actor("accountant@wirralccg.example", "wirral-ccg")
PREMIER = Actor("finance@premiercare.example", "premier-care")
RETURN = (WIRRAL, "premier-care", "2019-20-Q1")
KEY = SigningKey.of(Ed25519PrivateKey.generate())


def _by(actor: Actor, on: date, reason: str) -> Envelope:
    return Envelope(actor, on, reason)


def _audit_material(book, folder: Path) -> dict[str, int]:
    """Settlement 1 issued, a late visit, re-settlement 2 drafted, Premier Care's Q1 amended; a signed checkpoint.

    Returns the positions the journey asks about."""
    s = book.settlements
    s.review_settlement(_by(CCG, date(2020, 7, 1), "reviewed"), WIRRAL, DEMO_YEAR, 1, "checked against the runs")
    s.approve_settlement(_by(COUNCIL, date(2020, 7, 2), "approved"), WIRRAL, DEMO_YEAR, 1)
    s.approve_settlement(_by(CCG, date(2020, 7, 3), "approved"), WIRRAL, DEMO_YEAR, 1)
    s.issue_settlement(_by(COUNCIL, date(2020, 7, 6), "signed by both commissioners"), WIRRAL, DEMO_YEAR, 1)
    late = write_csv(folder / "late.csv", [visit("AUDIT-LATE-1", "premier-care", "CH41 2AB", "2020-03-20", 60, 60)])
    book.activity.import_activity(_by(COUNCIL, date(2020, 9, 1), "a March visit found late"), WIRRAL, late)
    resettled = s.draft_settlement(_by(COUNCIL, date(2020, 9, 30), "the late March visit"), WIRRAL, DEMO_YEAR)
    book.projections.catch_up()
    book.returns.reopen_cost_return(_by(COUNCIL, date(2020, 10, 2), "mileage double-counted"), *RETURN)
    filing = book.returns.cost_return(*RETURN).current.filing.to_data()
    filing["lines"] = {**filing["lines"], "contact_pay": "380000.00", "mileage": "58000.00"}
    book.returns.amend_cost_return(_by(PREMIER, date(2020, 10, 5), "payroll accrual and mileage corrected"),
                                   *RETURN, filing)  # fmt: skip
    checkpoint = book.checkpoints.record_checkpoint(_by(AUDITOR, date(2026, 1, 5), "start of the audit"))
    book.projections.catch_up()
    return {"resettlement": resettled["sequence"], "checkpoint": checkpoint["checkpoint"]["position"]}


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """conftest's ``served``, on a demo copy with the audit material above, its later events signed with ``KEY``."""
    tmp_path = tmp_path_factory.mktemp("e2e-audit")
    book = open_openbook(demo_copy(request, "sqlite", tmp_path), signing_key=KEY)
    request.module.POSITIONS = _audit_material(book, tmp_path)
    app = create_app({"OPENBOOK": book, "SETTINGS": Settings(secret_key="a" * 64, instance_path=f"{tmp_path}/instance")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", book)
    finally:
        server.shutdown()
        book.close()


def _check(page, name: str, refused: list[str]) -> None:
    screenshot(page, f"auditor-{name}")
    assert serious(page) == [], name
    assert refused == [], name


def test_an_auditor_reads_a_returns_revisions_checks_the_chain_and_a_past_settlement(
    page, served, live_server, job_worker
):
    refused = csp_refusals(page)
    book, positions = served.book, POSITIONS  # noqa: F821 - set by the served fixture
    log_in(page, live_server, AUDITOR.user)
    page.wait_for_url(live_server + "/auditor/")

    # The event browser, filtered to Premier Care's 2019-20-Q1 return by its id: five events, the amendment last.
    page.get_by_role("link", name="Event history").click()
    return_id = str(CostReturn.create_id(*RETURN))
    page.get_by_label("Aggregate id").fill(return_id)
    page.get_by_role("button", name="Show events").click()
    rows = page.locator("table[data-table=events] tbody tr")
    assert rows.count() == 5
    assert rows.last.inner_text().count("openbook:cost-return.amended") == 1
    _check(page, "events", refused)

    # The amendment's event, then the return's history: revision 2 changed exactly contact pay and mileage.
    rows.last.get_by_role("link").click()
    assert page.locator("h1").inner_text().startswith("Event at position")
    page.get_by_role("link", name=re.compile("cost-return's history, revision by revision")).click()
    amended = page.locator("section.revision").last
    assert "cost-return.amended" in amended.inner_text()
    changes = amended.locator("tbody tr")
    assert [changes.nth(i).inner_text().split("\t") for i in range(changes.count())] == [
        ["revision", "1", "2"],
        ["filing.lines.contact_pay", "377650.00", "380000.00"],
        ["filing.lines.mileage", "58240.00", "58000.00"],
    ]
    _check(page, "history", refused)

    # Integrity: the checkpoint the auditor recorded is signed with the published key and matches the chain.
    page.get_by_role("link", name="Integrity").click()
    checkpoint = page.locator(f"tr[data-checkpoint=\"{positions['checkpoint']}\"]")
    assert checkpoint.locator("[data-signature]").inner_text() == f"signed with key {KEY.key_id}: the signature verifies"
    assert "is the checkpoint's" in checkpoint.locator("[data-chain]").inner_text()
    assert page.locator("[data-key-id]").inner_text() == KEY.key_id
    _check(page, "integrity", refused)

    # The live chain checked by a background job, to the end.
    page.get_by_role("button", name="Check the live chain now").click()
    page.wait_for_selector("[data-state=done]", timeout=60_000)
    head = book.projections.head()
    assert page.locator("h2").first.inner_text() == "Result: OK"
    assert f"{head:,} events verified, head at position {head}," in page.locator("section.verification").inner_text()
    _check(page, "chain-check", refused)

    # The re-settlement, and what settlement 1 looked like before it was drafted (as at the position before).
    page.get_by_role("link", name="Settlements audited").click()
    listed = page.locator("table[data-table=settlements] tbody tr")
    assert listed.count() == 2
    listed.nth(1).get_by_role("link", name=str(positions["resettlement"]), exact=True).click()
    assert page.locator("h1").inner_text().startswith(f"Re-settlement 2 of {WIRRAL}, {DEMO_YEAR}")
    assert page.locator("table[data-table=comparison]").count() == 1
    live_actual = page.locator("[data-figure=actual]").inner_text()
    _check(page, "resettlement", refused)
    page.get_by_role("link", name="This settlement's history, revision by revision").click()
    drafted = int(page.locator("section.revision h3 a").first.inner_text().removeprefix("Position "))
    page.go_back()
    page.get_by_role("link", name="settlement 1", exact=True).click()
    page.get_by_label("or at log position (or a time, 2020-03-01T12:00)").fill(str(drafted - 1))
    page.get_by_role("button", name="Show as known then").click()
    assert f"position {drafted - 1:,} (asked: {drafted - 1})" in page.locator("p.as-at").inner_text()
    assert page.locator("h1 .badge").inner_text() == "issued"
    before_actual = page.locator("[data-figure=actual]").inner_text()
    assert before_actual != live_actual  # the late visit is in the re-settlement's actual spend, not settlement 1's
    page.get_by_role("link", name="Every settlement audited").click()
    assert page.locator("table[data-table=settlements] tbody tr").count() == 1  # no re-settlement yet then
    _check(page, "settlement-before", refused)
