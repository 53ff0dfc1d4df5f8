"""Set-up shared by the activity tests: visit files and who imports them.

Figures are DOMAIN.md's: Wirral's zones and award, £15.60 an
hour; a 30-minute visit is £7.80.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from domain.activity.visits import COLUMNS
from domain.envelope import Envelope
from tests.integration.agreement_setup import ACCOUNTANT

WIRRAL = "wirral-homecare"
ECM = ACCOUNTANT  # the council's accountant imports the electronic call monitoring (ECM) files


def imported_on(day: date, reason: str = "monthly ECM file", key: str | None = None) -> Envelope:
    return Envelope(ECM, day, reason, key)


def visit(
    visit_id: str,
    provider: str,
    postcode: str,
    day: str,
    planned: int,
    actual: int,
    *,
    service: str = "standard",
    client: str = "C000123",
    carer: str = "K00042",
    start: str = "08:30",
    band: str = "",
    lot: str = "",
) -> list[str]:
    """One template row; the actual start is the planned start."""
    when = f"{day}T{start}"
    return [visit_id, provider, client, postcode, service, when, str(planned), when, str(actual), carer, band, lot]


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    lines = [",".join(COLUMNS), *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Five visits priced by hand at £15.60 an hour (rate × actual minutes ÷ 60, to the penny).
HAND_VISITS = [
    visit("H1", "premier-care", "CH41 2AB", "2019-04-01", 30, 30),  # zone-1: 30 min = £7.80
    visit("H2", "premier-care", "CH44 1AA", "2019-04-02", 30, 45),  # zone-2: 45 min = £11.70
    visit("H3", "haven-care", "CH60 3XY", "2019-05-10", 60, 55),  # zone-3: 55 min = £14.30
    visit("H4", "carewatch", "CH62 4QQ", "2019-06-30", 15, 20),  # zone-3: 20 min = £5.20
    visit("H5", "wirral-home-care-alliance", "CH47 5RT", "2019-07-01", 45, 40),  # zone-4: 40 min = £10.40
]
