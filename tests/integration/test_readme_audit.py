"""The README's "Audit" walk-through, run as written and in order, on SQLite and PostgreSQL, so it cannot rot.

The commands are read from the README itself (its first ``sh`` block under
"## Audit"), each run as a newcomer would: ``openbook ...`` through the real
entry point on the test's database (the ``openbook`` fixture, so the
walk-through's ``OPENBOOK_DATABASE_URL`` line is the fixture's database),
``export OPENBOOK_SIGNING_KEY`` into the environment, ``cp`` of the verifier
from this checkout, and ``python3 -I verify.py`` with the system Python,
outside the virtualenv, in a folder holding nothing of openbook. ``/tmp/audit``
is the test's own folder. A line of any other kind fails the test: a new step
in the README needs a way to run it here. Then the figures the README quotes
are checked in what the commands printed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
SYSTEM_PYTHON = "/usr/bin/python3"
FOLDER = "/tmp/audit"


def walk_through() -> list[str]:
    """The commands of the README's Audit walk-through, in order, without comments."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Audit\n") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the Audit section has a sh block"
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_readme_audit_walk_through_runs_as_written(openbook, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENBOOK_SIGNING_KEY", raising=False)
    printed: list[tuple[str, str]] = []
    for line in walk_through():
        words = shlex.split(line.replace(FOLDER, str(tmp_path)))
        if words[:2] == ["mkdir", "-p"]:
            continue  # the test's folder exists
        if words[0] == "export" and words[1].startswith("OPENBOOK_DATABASE_URL="):
            continue  # the fixture's database, named with --database on every command
        if words[0] == "export" and words[1].startswith("OPENBOOK_SIGNING_KEY="):
            monkeypatch.setenv("OPENBOOK_SIGNING_KEY", words[1].split("=", 1)[1])
            continue
        if words[0] == "cp":
            shutil.copy(README.parent / words[1], words[2])
            continue
        if words[0] == "openbook":
            done = openbook(*words[1:])
            assert done.exit_code == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            printed.append((line, done.stdout))
            continue
        if words[:2] == ["python3", "-I"]:
            ran = subprocess.run([SYSTEM_PYTHON, *words[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
            assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
            printed.append((line, ran.stdout))
            continue
        pytest.fail(f"the README's Audit walk-through has a line this test cannot run: {line}")

    def output(*parts: str) -> str:
        [found] = [out for line, out in printed if all(p in line for p in parts)]
        return found

    offline = output("verify.py")
    assert offline.startswith("OK: 282 events verified, positions 1 to 282, head ")
    assert "then 1 signed, checked" in offline and "signed by key" in offline
    assert "extends the checkpoint at position 281 (281 events)" in offline
    premier = re.search(r"wirral-homecare\s+premier-care\s+zone-1\s+standard\s+2019-04\s+(\S+)\s+\S+\s+(\S+)", offline)
    assert premier and (premier.group(1), premier.group(2)) == ("155", "5,775")  # visits, actual minutes
    live = output("verify --database")
    assert live.startswith("OK: 282 events verified") and "extends the checkpoint at position 281" in live
    totals = output("activity totals")
    assert re.search(r"zone-1\s+2019-04\s+155\s+96\.25\s", totals)  # 5,775 minutes: the same visits, in hours
    assert re.search(r"^\s+56\s.*openbook:rate-review\.decided$", output("events --type rate-review"), re.MULTILINE)
    then = output("rates show", "--as-at 56")
    assert then.startswith("as known at position 56 (recorded ")
    assert re.search(r"standard\s+zone-1\s+-\s+£15\.60 from 2019-04-01", then)
    now = next(out for line, out in printed if "rates show" in line and "--as-at" not in line)
    assert re.search(r"standard\s+zone-1\s+-\s+£16\.34 from 2020-04-01", now)
    assert output("settle list").splitlines()[1:] == ["no settlements"]
    history = output("events history cost-return")
    assert history.startswith("cost-return wirral-homecare premier-care 2019-20-Q1 (aggregate ")
    assert "3 events" in history.splitlines()[0]
    card = output("events history rate-card")
    assert card.startswith("as known at position 56 ") and "5 events" in card.splitlines()[1]
