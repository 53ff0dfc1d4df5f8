"""The demo ends with a recorded checkpoint, and every statement built from it cites one that verifies (issue 15).

The demo is loaded once, on SQLite, with a signing key configured (as ``openbook demo`` opens the ledger when
OPENBOOK_SIGNING_KEY is set): its last step is the auditor's checkpoint of the head, signed. A statement of each of
the five kinds is built from it; each cites that checkpoint and the head after it. The history is then exported
(``openbook export``) and the standalone verifier, copied on its own and run by the system's ``python3 -I``, checks
that the export extends the checkpoint the statements cite and, separately, the head they cite (hash and signature).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.partnerships import (
    AUDITOR,
    DEMO_LAST_DAY,
    PREMIER_CARE_FINANCE,
    WIRRAL,
    WIRRAL_ACCOUNTANT,
    load_demo,
    steps,
)
from domain.envelope import SYSTEM
from ledger.audit import verify
from ledger.audit.signing import SigningKey, checkpoint_json, generate_key_files
from ledger.audit.verify import CHECKPOINT_KEYS
from ledger.authorisation import accountant_access, history_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries.checkpoints import latest_recorded_checkpoint
from ledger.queries.events import EventFilter, event_page
from reports.statements import Statement
from reports.statements.cost import cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import rate_notice
from reports.statements.settlement import settlement_statement
from tests.integration.audit_setup import run
from tests.support import DEMO_CHECKPOINT, DEMO_EVENTS

SYSTEM_PYTHON = "/usr/bin/python3"
YEAR = "2019-20"

#: The five kinds of statement, each built from the demo as the party it is for reads it.
KINDS: dict[str, Callable[[Openbook, Any, Any], Statement]] = {
    "settlement": lambda book, accountant, provider: settlement_statement(book, accountant, YEAR),
    "cost": lambda book, accountant, provider: cost_statement(book, provider, "premier-care", "2019-20-Q1"),
    "payment": lambda book, accountant, provider: payment_statement(book, provider, "premier-care", "2019-06"),
    "incentive": lambda book, accountant, provider: incentive_statement(book, accountant, YEAR),
    "rate-notice": lambda book, accountant, provider: rate_notice(book, provider, "2020-21", "premier-care"),
}


@pytest.fixture(scope="module")
def signed_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Openbook, Database, Path, SigningKey]]:
    folder = tmp_path_factory.mktemp("demo-checkpoint")
    key_path = folder / "signing.pem"
    key = generate_key_files(key_path)
    database = Database.from_url(f"sqlite:///{folder}/demo.sqlite")
    book = open_openbook(database, signing_key=key)
    try:
        assert load_demo(book) == len(steps())
        yield book, database, key_path, key
    finally:
        book.close()


def test_the_demo_ends_with_its_auditors_signed_checkpoint_of_the_head(signed_demo) -> None:
    book, _database, _key_path, key = signed_demo
    assert steps()[-1][0] == "checkpoint of the head"
    recorded = latest_recorded_checkpoint(book.read_engine)
    assert recorded is not None
    c = recorded["checkpoint"]
    assert (c["position"], c["events"], recorded["recorded_in"]) == (DEMO_CHECKPOINT, DEMO_CHECKPOINT, DEMO_EVENTS)
    assert book.projections.head() == DEMO_EVENTS  # the checkpoint's own event is the head
    assert recorded["recorded_by"] == str(AUDITOR)
    assert c["key_id"] == key.key_id and c["signature"]  # signed: a key was configured
    assert load_demo(book) == len(steps()) and book.projections.head() == DEMO_EVENTS  # again: nothing recorded
    assert latest_recorded_checkpoint(book.read_engine) == recorded


def test_the_checkpoint_is_effective_on_the_demos_last_day_of_recorded_business(signed_demo) -> None:
    """DEMO_LAST_DAY is written by hand: it must stay the latest effective date of the demo's other events, or
    the checkpoint would attest a head "as on" a day before business it covers (or long after it)."""
    book = signed_demo[0]
    access = history_access(book.records, SYSTEM, book.read_engine)
    on_the_day = event_page(book.read_engine, access, EventFilter(effective_from=DEMO_LAST_DAY), limit=DEMO_EVENTS)
    assert [e["topic"] for e in on_the_day if e["effective_date"] > DEMO_LAST_DAY] == []
    business = [e for e in on_the_day if e["position"] != DEMO_EVENTS]
    assert business, f"no demo event before the checkpoint is effective on {DEMO_LAST_DAY}"
    checkpoint = event_page(book.read_engine, access, after=DEMO_EVENTS - 1)
    assert [(e["position"], e["effective_date"]) for e in checkpoint] == [(DEMO_EVENTS, DEMO_LAST_DAY)]


def test_each_statement_kind_cites_the_checkpoint_and_both_verify_with_the_standalone_verifier(
    signed_demo, tmp_path: Path
) -> None:
    book, database, key_path, key = signed_demo
    accountant = accountant_access(book.records, WIRRAL_ACCOUNTANT, WIRRAL)
    provider = provider_access(book.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")
    recorded = latest_recorded_checkpoint(book.read_engine)
    assert recorded is not None
    cited = {kind: build(book, accountant, provider).provenance for kind, build in KINDS.items()}
    heads: dict[str, dict[str, Any]] = {}
    for kind, p in cited.items():
        assert p.checkpoint is not None, kind  # not "no checkpoint recorded yet"
        assert {k: v for k, v in p.checkpoint.items() if k in CHECKPOINT_KEYS} == recorded["checkpoint"], kind
        assert p.checkpoint["recorded_in"] == DEMO_EVENTS and p.head["position"] == DEMO_EVENTS, kind
        assert p.signed and p.head["key_id"] == key.key_id, kind
        heads[kind] = {k: v for k, v in p.head.items() if k in CHECKPOINT_KEYS}  # signed when it was built

    exported = tmp_path / "history.jsonl"
    done = run(database, "export", "--out", str(exported), signing_key=key_path)
    assert done.exit_code == 0, done.stderr or done.output
    alone = tmp_path / "auditor"  # the verifier on its own, with only the public key and the cited checkpoints
    alone.mkdir()
    shutil.copy(verify.__file__, alone / "verify.py")
    shutil.copy(f"{key_path}.pub", alone / "key.pub")
    (alone / "checkpoint.json").write_text(checkpoint_json(recorded["checkpoint"]) + "\n")
    for kind, head in heads.items():
        (alone / f"head-{kind}.json").write_text(checkpoint_json(head) + "\n")

    def verified(since: str) -> dict[str, Any]:
        ran = subprocess.run(
            [SYSTEM_PYTHON, "-I", "verify.py", str(exported), "--public-key", "key.pub", "--since", since, "--json"],
            cwd=alone, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        return json.loads(ran.stdout)

    [head_hash] = {head["hash"] for head in heads.values()}  # one head, cited by each statement at its own time
    cited_files = [("checkpoint.json", recorded["checkpoint"]), *((f"head-{k}.json", h) for k, h in heads.items())]
    for since, attested in cited_files:
        report = verified(since)
        assert report["status"] == "verified" and report["events"] == DEMO_EVENTS, since
        assert (report["since"]["position"], report["since"]["hash"]) == (attested["position"], attested["hash"]), since
        assert report["head"] == {"position": DEMO_EVENTS, "hash": head_hash}, since
    # A checkpoint the history does not extend (its hash altered) is refused: the check above can fail.
    # Unsigned, so the refusal is the history's, not the signature's.
    forged = {**recorded["checkpoint"], "hash": "0" * 64, "key_id": None, "signature": None}
    (alone / "forged.json").write_text(checkpoint_json(forged) + "\n")
    ran = subprocess.run([SYSTEM_PYTHON, "-I", "verify.py", str(exported), "--public-key", "key.pub", "--since",
                          "forged.json", "--json"], cwd=alone, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ran.returncode != 0
    assert json.loads(ran.stdout)["failure"]["reason"] == "checkpoint not extended", ran.stdout + ran.stderr
