"""A provider imports its own activity file, on SQLite and PostgreSQL: its own visits only, refused by row.

Proven here, with Wirral's figures (£15.60 an hour: a 30-minute visit is £7.80, 45 minutes £11.70):
- Premier Care's staff import a file of Premier Care's visits: recorded and priced, as the council's would be;
- a file with any row naming another provider records nothing, and names each such row and the column provider;
  so does a row that would correct a visit recorded for another provider (a correction could change its provider);
  Premier Care may still correct its own visits;
- a provider with no award under the agreement is refused (not found), as is an alliance's member (not allowed:
  the visits under the alliance's award are the alliance's), and a provider's file under an agreement it has no
  part in; the council's accountant still imports every provider's visits (the path is unchanged);
- queued as a background job by Premier Care, the import runs as Premier Care: a foreign row fails the job.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import InvalidInput, NotAllowed, NotFound
from ledger.authorisation import access_for
from ledger.jobs import activity_import as import_job
from ledger.jobs.worker import Worker
from ledger.queries import activity as views
from tests.integration.activity_setup import HAND_VISITS, WIRRAL, imported_on, visit, write_csv
from tests.integration.agreement_setup import wirral

PREMIER = Actor("finance@premier.example", "premier-care")
HAVEN = Actor("finance@haven.example", "haven-care")
MEMBER = Actor("finance@member.example", "alliance-member")  # a member of the Wirral Home Care Alliance
SET_UP = Envelope(SYSTEM, date(2019, 4, 1), "test set-up")

PREMIER_VISITS = [row for row in HAND_VISITS if row[1] == "premier-care"]  # H1 £7.80 (zone-1), H2 £11.70 (zone-2)


@pytest.fixture
def book(open_book):
    found = open_book()
    wirral(found)
    found.organisations.register_organisation(SET_UP, "alliance-member", "Alliance Member", "provider",
                                              member_of="wirral-home-care-alliance")  # fmt: skip
    for actor in (PREMIER, HAVEN, MEMBER):
        found.organisations.register_user(SET_UP, actor.user, actor.user, actor.organisation, ["provider"])
    return found


def by_provider(book) -> dict[str, tuple[int, D]]:
    rows = views.totals(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), ("provider",))
    return {r["provider"]: (r["visits"], r["spend"]) for r in rows}


def as_(actor: Actor, day: date = date(2019, 8, 5)) -> Envelope:
    return Envelope(actor, day, "our visits for April")


def test_a_provider_imports_its_own_visits_priced_as_the_councils_would_be(book, tmp_path):
    summary = book.activity.import_activity(as_(PREMIER), WIRRAL, write_csv(tmp_path / "ours.csv", PREMIER_VISITS))

    assert (summary.recorded, summary.visits, summary.spend) == (True, 2, D("7.80") + D("11.70"))
    assert by_provider(book) == {"premier-care": (2, D("19.50"))}
    own = views.totals(book.read_engine, access_for(book.records, PREMIER, WIRRAL), ("zone",))
    assert [(r["zone"], r["visits"], r["spend"]) for r in own] == [("zone-1", 1, D("7.80")), ("zone-2", 1, D("11.70"))]


def test_a_file_with_another_providers_row_records_nothing_and_names_the_row(book, tmp_path):
    before = book.projections.head()
    rows = [*PREMIER_VISITS, HAND_VISITS[2], visit("H6", "Haven-Care", "CH60 3XY", "2019-05-11", 30, 30)]
    with pytest.raises(InvalidInput) as refused:
        book.activity.import_activity(as_(PREMIER), WIRRAL, write_csv(tmp_path / "mixed.csv", rows), chunk_rows=1)

    problems = refused.value.problems
    assert problems[0] == "mixed.csv: 2 problem(s); nothing was recorded"
    assert problems[1:] == [
        "row 4, column provider: 'haven-care' is not premier-care: you may import only your own visits",
        "row 5, column provider: 'Haven-Care' is not premier-care: you may import only your own visits",
    ]
    assert book.projections.head() == before and by_provider(book) == {}


def test_a_provider_corrects_its_own_visits_but_never_another_providers(book, tmp_path):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "ecm.csv", HAND_VISITS))
    before = book.projections.head()
    # H3 is Haven Care's visit: Premier Care's row for it would move it (and its £14.30) to Premier Care.
    taking = [visit("H3", "premier-care", "CH41 2AB", "2019-05-10", 60, 55)]
    with pytest.raises(InvalidInput) as refused:
        book.activity.import_activity(as_(PREMIER), WIRRAL, write_csv(tmp_path / "taking.csv", taking))
    assert refused.value.problems[1:] == [
        "row 2, column provider: visit H3 is recorded for another provider, not premier-care"
    ]
    assert book.projections.head() == before and by_provider(book)["haven-care"] == (1, D("14.30"))

    longer = [visit("H1", "premier-care", "CH41 2AB", "2019-04-01", 30, 45)]  # 45 minutes, not 30: £11.70
    summary = book.activity.import_activity(as_(PREMIER), WIRRAL, write_csv(tmp_path / "fix.csv", longer))
    assert (summary.recorded, summary.corrected_visits, summary.changes) == (True, 1, 1)
    assert by_provider(book)["premier-care"] == (2, D("11.70") + D("11.70"))


def test_who_may_import_a_provider_file(book, tmp_path):
    path = write_csv(tmp_path / "member.csv", [HAND_VISITS[4]])  # the alliance's visit in zone-4
    with pytest.raises(NotAllowed, match="visits under wirral-home-care-alliance's award are the alliance's"):
        book.activity.import_activity(as_(MEMBER), WIRRAL, path)
    book.organisations.register_organisation(SET_UP, "acme-care", "Acme Care", "provider")
    book.organisations.register_user(SET_UP, "finance@acme.example", "Acme", "acme-care", ["provider"])
    with pytest.raises(NotFound):  # no award: as if the agreement did not exist
        book.activity.import_activity(as_(Actor("finance@acme.example", "acme-care")), WIRRAL, path)
    assert by_provider(book) == {}
    # Haven Care imports its own; the council's accountant, every provider's (unchanged).
    haven = book.activity.import_activity(as_(HAVEN), WIRRAL, write_csv(tmp_path / "haven.csv", [HAND_VISITS[2]]))
    assert (haven.visits, haven.spend) == (1, D("14.30"))
    council = book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, write_csv(tmp_path / "ecm.csv", HAND_VISITS))
    assert (council.visits, council.unchanged) == (4, 1)
    assert by_provider(book) == {
        "carewatch": (1, D("5.20")), "haven-care": (1, D("14.30")), "premier-care": (2, D("19.50")),
        "wirral-home-care-alliance": (1, D("10.40")),
    }  # fmt: skip


def test_a_providers_job_runs_as_the_provider_and_fails_on_a_foreign_row(book, tmp_path):
    def queue(name: str, rows: list[list[str]]) -> str:
        with write_csv(tmp_path / name, rows).open("rb") as stream:  # as the web hands on an upload
            kept = import_job.keep_upload(stream, name, tmp_path / "uploads")
        args = import_job.arguments(WIRRAL, kept, name, reason="our visits", effective=date(2019, 8, 5), uploaded=True)
        return book.jobs.enqueue(import_job.NAME, PREMIER, args)

    bad = queue("bad.csv", [PREMIER_VISITS[0], HAND_VISITS[3]])
    failed = Worker(book, beat=0.01).run_once()
    assert (failed.id, failed.state, failed.error["kind"]) == (bad, "failed", "invalid-input")
    assert failed.error["problems"][1].startswith("row 3, column provider: 'carewatch' is not premier-care")
    assert by_provider(book) == {}

    good = queue("good.csv", PREMIER_VISITS)
    done = Worker(book, beat=0.01).run_once()
    assert (done.id, done.state, done.result["visits"], D(done.result["spend"])) == (good, "done", 2, D("19.50"))
    assert book.jobs.get(PREMIER, good).actor == PREMIER
    with pytest.raises(NotFound):
        book.jobs.get(HAVEN, good)
