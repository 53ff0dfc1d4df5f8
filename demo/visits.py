"""Generated visit files for the demo, the tests and the benchmark: plausible, deterministic, never real.

Rows follow the agreement as recorded: each visit is in a zone (or lot) whose
award is in force that day, by one of its providers (primary about 70% of the
time), at a postcode in one of the zone's districts. Client and carer
references are pseudonymous codes; there are no names anywhere. The same seed
always gives the same file, byte for byte.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from domain.activity.visits import COLUMNS
from domain.agreements.agreement import Agreement
from domain.agreements.terms import AwardTier

PLANNED_MINUTES = (15, 30, 30, 30, 45, 45, 60)


def visit_rows(
    agreement: Agreement,
    rows: int,
    start: date,
    end: date,
    *,
    seed: int = 2019,
    services: Sequence[str] = ("standard",),
    id_prefix: str = "V",
) -> Iterator[list[str]]:
    """``rows`` visits spread evenly over ``start``..``end`` (inclusive), in date order, as template rows."""
    rng = random.Random(seed)
    days = (end - start).days + 1
    if days <= 0 or rows < 0:
        raise ValueError("end must not be before start, and rows must not be negative")
    zones = {z.code: z for z in agreement.zones_on(end)}
    day_plans: dict[date, list[tuple[str, str, str, str]]] = {}  # day -> [(provider, place, zone, lot)]

    def plan(on: date) -> list[tuple[str, str, str, str]]:
        found = day_plans.get(on)
        if found is None:
            found = []
            for award in agreement.awards_on(on):
                place = zones.get(award.zone)
                if place is None or place.from_date > on:
                    continue
                weight = 7 if award.tier is AwardTier.PRIMARY else 3
                covered = place.covers or (place.code,)
                for zone in covered:
                    if zones.get(zone) and zones[zone].districts:
                        found.extend([(award.provider, place.code, zone, place.code if place.covers else "")] * weight)
            day_plans.clear()
            day_plans[on] = found
        return found

    inward = [f"{d}{a}{b}" for d in "0123456789" for a in "ABDEFGHJLNPQRSTUWXYZ" for b in "ABDEFGHJ"]
    for i in range(rows):
        on = start + timedelta(days=i * days // rows if rows else 0)
        choices = plan(on)
        if not choices:
            raise ValueError(f"{agreement.code} has no award in force on {on.isoformat()} to generate visits for")
        provider, _place, zone, lot = rng.choice(choices)
        district = rng.choice(zones[zone].districts)
        planned = rng.choice(PLANNED_MINUTES)
        minute_of_day = 7 * 60 + 15 * rng.randrange(60)
        late = rng.randrange(-5, 11)
        actual_start = minute_of_day + late
        actual = max(1, planned + rng.randrange(-8, 6))
        yield [
            f"{id_prefix}{i:08d}",
            provider,
            f"C{rng.randrange(20000):06d}",
            f"{district} {rng.choice(inward)}",
            rng.choice(services),
            f"{on.isoformat()}T{minute_of_day // 60:02d}:{minute_of_day % 60:02d}",
            str(planned),
            f"{on.isoformat()}T{actual_start // 60:02d}:{actual_start % 60:02d}",
            str(actual),
            f"K{rng.randrange(900):05d}",
            "",
            lot,
        ]


def write_visits(path: str | Path, rows: Iterator[list[str]], fmt: str = "csv") -> Path:
    """Write template rows (with the template's header) as CSV or XLSX."""
    target = Path(path)
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("visits")
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append(row)
        book.save(target)
        return target
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return target
