"""One writer process for the crash tests: ``python -m tests.integration.killed_writer URL COMMAND [ARG]``.

Run with ``OPENBOOK_FAULT=<point>`` (``ledger/faults.py``) it dies by SIGKILL at
that point inside the command (opened as the CLI and the web app open it, by
``bootstrap``, which reads the setting and installs the point); ``test_killed_writers.py`` then checks what it
left. The commands are those of the settlement tests' year of care:
``import FILE`` (an activity import, ten rows a chunk), ``payments MONTH`` (a
payment run), ``issue`` (issuing the approved 2019-20 settlement) and ``rebuild [PROJECTION...]`` (``projections rebuild``).
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

from ledger.bootstrap import bootstrap
from ledger.settings import Settings
from tests.integration.settlement_setup import COUNCIL_ACCOUNTANT, WIRRAL, YEAR, by

DRAFTED_ON = date(2020, 6, 30)
CHUNK_ROWS = 10


def main(url: str, command: str, *args: str) -> None:
    book = bootstrap(dataclasses.replace(Settings.from_environ(), database_url=url))
    try:
        if command == "import":
            envelope = by(COUNCIL_ACCOUNTANT, date(2019, 7, 5), "providers' call monitoring")
            book.activity.import_activity(envelope, WIRRAL, Path(args[0]), chunk_rows=CHUNK_ROWS)
        elif command == "payments":
            book.settlements.run_payments(by(COUNCIL_ACCOUNTANT, date(2019, 7, 10), "monthly payment"), WIRRAL, args[0])
        elif command == "issue":
            book.settlements.issue_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
        elif command == "rebuild":
            book.projections.rebuild(args or None)
        else:
            raise SystemExit(f"unknown command {command!r}")
    finally:
        book.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
