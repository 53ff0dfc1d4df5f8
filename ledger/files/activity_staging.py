"""Reading, checking and staging a file of visits: streamed, checked in full, all or nothing.

The file is read row by row (``csv`` or openpyxl's read-only mode) and never
held whole. Every row is checked against the agreement *as it stood on the
visit's date* (zones, term, service types, the provider's awards) and, when a
provider imports its own file, against its name (``AgreementRules.only``: a row
naming another provider, or correcting a visit recorded for one, is a problem
of that row; ``ledger.authorisation.importing_for`` says who); problems are
collected by row and column (the first 100, then a count) and a file with any
problem records nothing. Rows that pass are normalised (``VisitRow``) and
staged as content-addressed chunks while the file is still being read; the
caller records the one event that references them.

Speed: a million rows must check in seconds, so the rules in
``domain.activity.visits`` run once per *distinct* value, not once per row. The
lookups built from the agreement (``AgreementRules``) answer "may this
provider deliver this service here on this day" with one set membership, and
caches hold each distinct start time, minutes value, postcode and reference
already checked. Every cache is bounded (``CACHE_LIMIT`` entries; past it,
values are checked without being remembered).

Memory: bounded by the caches, the chunks waiting to be written
(``ChunkWriter`` depth × ``CHUNK_ROWS``) and the duplicate check, which keeps
one 64-bit hash per visit id (about 70 bytes a row in CPython: ~70 MB for a
million rows). A repeated hash is only a *suspect*: suspects are confirmed by
reading the visit-id column again, so a hash collision can never refuse a
good file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from domain.activity.activity_import import INLINE_CORRECTIONS
from domain.activity.visits import (
    COLUMNS,
    CORRECTIONS_KIND,
    OPTIONAL_COLUMNS,
    VISITS_KIND,
    Correction,
    RowProblem,
    VisitRow,
    check_minutes,
    check_reference,
    check_visit_id,
    corrections_between,
    hours,
    parse_start,
)
from domain.agreements.agreement import Agreement
from domain.agreements.postcodes import postcode_district
from domain.agreements.terms import ServiceType
from domain.errors import InvalidInput
from domain.periods import days_between
from ledger import faults
from ledger.files.chunks import ChunkWriter
from ledger.files.csv_text import refusal_of
from ledger.files.visit_files import FileInfo, _Rows, column_positions

__all__ = [
    "AgreementRules",
    "Problems",
    "Staged",
    "stage_file",
]

#: Rows per staged chunk: ~1 MB of text, ~200 KB compressed.
CHUNK_ROWS = 10_000
#: Problems listed in full; the rest are counted.
MAX_PROBLEMS = 100
#: Entries each lookup cache may hold.
CACHE_LIMIT = 200_000

Progress = Callable[[str, int, int], None]  # (stage, rows done, rows expected: an estimate)
Existing = Callable[[list[str]], dict[str, VisitRow]]  # visit ids -> already recorded visits among them



# -- the agreement, as lookups ---------------------------------------------------------------------


class AgreementRules:
    """What the agreement allowed on each day of its term, precomputed once for fast row checks."""

    def __init__(self, agreement: Agreement, only: str | None = None):
        self.agreement = agreement
        #: The one provider whose visits the file may hold (a provider importing its own), or None for any.
        self.only = only
        self.code = agreement.code
        self.term_start = agreement.term_start
        self.term_end = agreement.term_end
        every_place = agreement.zones_on(date.max)
        self.district_zone = {d: z.code for z in every_place if not z.is_lot for d in z.districts}
        self.lots_covering: dict[str, list[str]] = {}
        for z in every_place:
            for covered in z.covers:
                self.lots_covering.setdefault(covered, []).append(z.code)
        self.place_from = {z.code: z.from_date for z in every_place}
        allowed: dict[tuple[str, str, str], set[str]] = {}
        self.provider_places: dict[str, set[str]] = {}
        self.service_from = {s.value: since for s, since in agreement.service_starts().items()}
        # Each day of the term written once; an award's days are a slice of them (writing them per award
        # and service was most of the time a small import took).
        term_days = [day.isoformat() for day in days_between(self.term_start, self.term_end)]
        origin = self.term_start.toordinal()
        for award in agreement.awards_during(self.term_start, self.term_end):
            self.provider_places.setdefault(award.provider, set()).add(award.zone)
            first = max(award.from_date, self.term_start, self.place_from.get(award.zone, date.max))
            last = min(award.to_date or self.term_end, self.term_end)
            for service, since in self.service_from.items():
                days = allowed.setdefault((award.provider, award.zone, service), set())
                days.update(term_days[max(first, since).toordinal() - origin : last.toordinal() - origin + 1])
        self.allowed = {key: frozenset(days) for key, days in allowed.items()}

    def place_for(self, provider: str, zone: str, lot: str) -> tuple[str, str]:
        """(column, zone or lot) of a visit; raises RowProblem naming the column at fault."""
        if lot:
            code = lot.strip().lower()
            if code not in self.lots_covering.get(zone, ()):
                raise _ColumnProblem("lot", f"{code!r} is not a lot of {self.code} covering zone {zone}")
            return "lot", code
        places = self.provider_places.get(provider, set())
        if zone in places:
            return "postcode", zone
        lots = [lt for lt in self.lots_covering.get(zone, ()) if lt in places]
        if len(lots) > 1:
            raise _ColumnProblem(
                "lot", f"{provider} holds awards in lots {', '.join(lots)} covering zone {zone}: name the lot"
            )
        return ("lot", lots[0]) if lots else ("postcode", zone)

    def why_not(self, provider: str, place: str, service: str, day: str) -> tuple[str, str]:
        """(column, message) saying why a visit is not allowed on ``day``."""
        on = date.fromisoformat(day)
        if not self.term_start <= on <= self.term_end:
            return "planned_start", (
                f"{day} is outside the term of {self.code} "
                f"({self.term_start.isoformat()} to {self.term_end.isoformat()})"
            )
        since = self.service_from.get(service)
        if since is None or since > on:
            return "service", f"{service} is not a service type of {self.code} on {day}"
        starts = self.place_from.get(place)
        if starts is not None and starts > on:
            return "postcode", f"zone {place} of {self.code} starts on {starts.isoformat()}, after {day}"
        return "provider", f"{provider} holds no award for zone {place} of {self.code} on {day}"


class _ColumnProblem(RowProblem):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


# -- problems --------------------------------------------------------------------------------------


class Problems:
    """The first ``MAX_PROBLEMS`` problems by row and column, and how many there were in all."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self.listed: list[tuple[int, str, str]] = []
        self.count = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append((row, column, message))

    def error(self) -> InvalidInput:
        lines = [f"row {row}, column {column}: {message}" for row, column, message in sorted(self.listed)]
        if self.count > len(self.listed):
            lines.append(f"... and {self.count - len(self.listed):,} more problem(s)")
        head = f"{self.file_name}: {self.count:,} problem(s); nothing was recorded"
        return InvalidInput([head, *lines])


# -- checking and staging ----------------------------------------------------------------------------


@dataclass
class Staged:
    """What checking and staging a file produced, ready to be recorded in one event."""

    rows: int = 0
    visits: int = 0
    unchanged: int = 0
    chunks: list[str] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)  # when few enough to list in the event
    correction_chunks: list[str] = field(default_factory=list)
    corrected_visits: int = 0
    changes: int = 0
    totals: list[dict[str, Any]] = field(default_factory=list)
    first_date: date | None = None
    last_date: date | None = None


def _bounded_set(cache: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(cache) < CACHE_LIMIT:
        cache[key] = value
    return value


def stage_file(
    info: FileInfo,
    rules: AgreementRules,
    writer: ChunkWriter,
    *,
    existing: Existing | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Staged:
    """Check every row of the file and stage the new visits as chunks; raise InvalidInput on any problem.

    ``existing`` (given when the agreement already has visits) answers which
    of a batch of visit ids are already recorded, for corrections. On a
    problem the writer is abandoned: what it staged stays unreferenced.
    """
    source: _Rows | None = None
    try:
        source = _Rows(info)
        try:
            return _stage(source, info, rules, writer, existing, progress, chunk_rows)
        except (UnicodeDecodeError, csv.Error):
            refused = refusal_of(info.path, info.name)  # read again for the line and byte: the error's path only
            raise InvalidInput([*refused.problems, "nothing was recorded"]) from None
    except BaseException:
        writer.abandon()
        raise
    finally:
        if source is not None:
            source.close()


class _Where:
    """A checked (provider, postcode, service, band, lot) as recorded, and the days it is allowed.

    ``text`` is the recorded fields provider to band, ready to go into a line;
    ``totals`` counts the visits staged here (visits, planned, actual minutes).
    """

    __slots__ = ("provider", "zone", "service", "days", "text", "totals")

    def __init__(
        self, provider: str, district: str, zone: str, service: str, band: str, days: frozenset[str], totals: list[int]
    ):
        self.provider = provider
        self.zone = zone
        self.service = service
        self.days = days
        self.text = f"{provider}\t{district}\t{zone}\t{service}\t{band}"
        self.totals = totals  # shared by every _Where of the same provider, zone and service


def _stage(
    source: _Rows,
    info: FileInfo,
    rules: AgreementRules,
    writer: ChunkWriter,
    existing: Existing | None,
    progress: Progress | None,
    chunk_rows: int,
) -> Staged:
    positions = column_positions(source.header, info.name)
    width = len(source.header)
    missing = [c for c in OPTIONAL_COLUMNS if c not in positions]
    for k, column in enumerate(missing):
        positions[column] = width + k
    rows = source.rows
    if missing:  # optional columns left out: read them as blank
        pad = [""] * len(missing)
        rows = (row + pad if len(row) == width else row for row in rows)
    pick = itemgetter(*(positions[c] for c in COLUMNS))
    problems = Problems(info.name)
    staged = Staged()
    say = progress or (lambda _stage, _done, _total: None)

    def report(done: int) -> None:
        say("checking", done, max(source.estimate, done))

    fail = problems.add

    # Caches: each maps raw text to its checked, normalised value (bounded; see CACHE_LIMIT).
    districts: dict[str, str] = {}  # raw postcode -> its district (in a zone of the agreement)
    wheres: dict[tuple[str, str, str, str, str], _Where] = {}  # (provider, district, service, band, lot)
    starts: dict[str, tuple[str, int, str]] = {}  # raw -> (ISO date, day ordinal, canonical start)
    days: dict[str, tuple[str, int]] = {}  # raw date part with its separator ("2019-04-01T") -> (ISO, ordinal)
    clocks: dict[str, str] = {}  # raw time part -> canonical time
    minutes: dict[str, int] = {}
    refs: set[str] = set()
    # Duplicate visit ids: while ids arrive in increasing order (as ECM exports usually do) none can
    # repeat and nothing is kept; from the first id out of order, a 64-bit hash of each id is.
    first_id = last_id = ""
    ordered_up_to: str | None = None
    seen: set[int] = set()
    suspects: dict[str, list[int]] = {}
    pending: list[str] = []
    pending_ids: list[str] = []
    pending_rows: list[int] = []  # the row of each pending id (a visit recorded for another provider is named)
    check_existing = existing is not None
    corrections: list[Correction] = []
    totals_by_key: dict[tuple[str, str, str], list[int]] = {}  # (provider, zone, service) -> visits, minutes
    first = "9999-12-31"
    last = "0000-01-01"

    def slow_district(row: int, postcode: str) -> str | None:
        """The postcode's district, if it is in a zone of the agreement; the full postcode is then forgotten."""
        try:
            district = postcode_district(postcode)
        except InvalidInput:
            fail(row, "postcode", "not a UK postcode (e.g. 'CH45 3AB') or postcode district (e.g. 'CH45')")
            return None
        if district not in rules.district_zone:
            fail(row, "postcode", f"postcode district {district} is outside every zone of {rules.code}")
            return None
        return _bounded_set(districts, postcode, district)

    def slow_where(row: int, provider: str, district: str | None, service: str, band: str, lot: str) -> _Where | None:
        """Check provider, service, band and lot (in the postcode's zone); remember the answer if all pass."""
        ok = district is not None
        code = provider.strip().lower()
        if rules.only is not None and code != rules.only:
            fail(row, "provider", f"{provider.strip()[:63]!r} is not {rules.only}: you may import only your own visits")
            ok = False
        elif code not in rules.provider_places:
            fail(row, "provider", f"unknown provider {provider.strip()[:63]!r}: it holds no award under {rules.code}")
            ok = False
        try:
            kind = ServiceType(service.strip().lower()).value
        except ValueError:
            fail(row, "service", f"{service.strip()[:40]!r} is not one of {', '.join(ServiceType)}")
            ok = False
        band_code = band.strip().lower()
        if band_code and not (len(band_code) <= 63 and band_code.replace("-", "").isalnum() and band_code.isascii()):
            fail(row, "rate_band", f"{band.strip()[:40]!r} is not a rate band code such as urban or rural")
            ok = False
        if not ok or district is None:
            return None
        try:
            _, place = rules.place_for(code, rules.district_zone[district], lot)
        except _ColumnProblem as e:
            fail(row, e.column, str(e))
            return None
        allowed = rules.allowed.get((code, place, kind), frozenset())
        totals = totals_by_key.setdefault((code, place, kind), [0, 0, 0])
        where = _Where(code, district, place, kind, band_code, allowed, totals)
        if len(wheres) < CACHE_LIMIT:
            wheres[(provider, district, service, band, lot)] = where
        return where

    def slow_start(row: int, column: str, raw: str) -> tuple[str, int, str] | None:
        # Actual starts are mostly distinct (to the minute), but their date and time parts repeat:
        # look those up (learned from full parses, the date keyed with its separator) before parsing.
        head = raw[:11]
        sep = head[10:]
        if sep == "T" or sep == " ":
            day_part = days.get(head)
            clock = clocks.get(raw[11:])
            if day_part is not None and clock is not None:
                value = (day_part[0], day_part[1], f"{day_part[0]}T{clock}")
                if len(starts) < CACHE_LIMIT:
                    starts[raw] = value
                return value
        try:
            day, clock = parse_start(raw)
        except RowProblem as e:
            fail(row, column, str(e))
            return None
        ordinal = date.fromisoformat(day).toordinal()
        if (sep == "T" or sep == " ") and len(days) < CACHE_LIMIT and len(clocks) < CACHE_LIMIT:
            days[head] = (day, ordinal)
            clocks[raw[11:]] = clock
        return _bounded_set(starts, raw, (day, ordinal, f"{day}T{clock}"))

    def slow_minutes(row: int, column: str, raw: str) -> int | None:
        try:
            return _bounded_set(minutes, raw, check_minutes(raw))
        except RowProblem as e:
            fail(row, column, str(e))
            return None

    def slow_ref(row: int, column: str, raw: str) -> bool:
        try:
            check_reference(raw)
        except RowProblem as e:
            fail(row, column, str(e))
            return False
        if len(refs) < CACHE_LIMIT:
            refs.add(raw)
        return True

    def flush() -> None:
        nonlocal pending, pending_ids, pending_rows
        if check_existing and pending:
            keep: list[str] = []
            recorded = existing(pending_ids)  # type: ignore[misc]
            for visit_id, line, row in zip(pending_ids, pending, pending_rows, strict=True):
                old = recorded.get(visit_id)
                if old is None:
                    keep.append(line)
                    continue
                new = VisitRow.from_fields(line[:-1].split("\t"))
                if rules.only is not None and old.provider != rules.only:  # a correction would take it over
                    fail(row, "provider", f"visit {visit_id} is recorded for another provider, not {rules.only}")
                    continue
                totals = totals_by_key[(new.provider, new.zone, new.service)]
                totals[0] -= 1
                totals[1] -= new.planned_minutes
                totals[2] -= new.actual_minutes
                changed = corrections_between(old, new)
                if changed:
                    staged.corrected_visits += 1
                    corrections.extend(changed)
                else:
                    staged.unchanged += 1
            pending = keep
            pending_ids = []
            pending_rows = []
        if pending:
            writer.submit(VISITS_KIND, pending)
            staged.visits += len(pending)
            pending = []

    row_number = 1  # the header is row 1, as a spreadsheet shows it
    staging = True  # False after the first problem: keep checking, stage nothing more
    full_width = width + len(missing)
    for row_number, row in enumerate(rows, 2):
        if len(row) != full_width:
            if not any(row):
                continue  # a blank line
            fail(row_number, "(row)", f"has {len(row)} cells; the header has {width}")
            staging = False
            continue
        (visit_id, provider, client, postcode, service, planned, planned_min, actual, actual_min, carer, band, lot) = (
            pick(row)
        )
        ok = True
        if not (len(visit_id) <= 64 and visit_id.isascii() and visit_id.isalnum()):
            if not visit_id and not any(row):
                continue  # a row of empty cells
            try:
                check_visit_id(visit_id)
            except RowProblem as e:
                fail(row_number, "visit_id", str(e))
                ok = False
        if ok:
            if visit_id > last_id:  # still in increasing order: no earlier row can have this id
                last_id = visit_id
            else:
                if ordered_up_to is None:  # the order breaks: index every id from here on
                    ordered_up_to = last_id
                    last_id = "\U0010ffff"
                h = hash(visit_id)
                size = len(seen)
                seen.add(h)
                # A suspect: the same hash seen before, or within the range of the ordered rows.
                # Confirmed (or cleared, if only the hashes collide) by reading the ids again.
                if len(seen) == size or first_id <= visit_id <= ordered_up_to:
                    suspects.setdefault(visit_id, []).append(row_number)
            if not first_id:
                first_id = visit_id
        try:
            district = districts[postcode]
        except KeyError:
            district = slow_district(row_number, postcode)
        try:
            where = wheres[(provider, district, service, band, lot)]
        except KeyError:
            where = slow_where(row_number, provider, district, service, band, lot)
        try:
            ps = starts[planned]
        except KeyError:
            ps = slow_start(row_number, "planned_start", planned)
        try:
            actual_day = days[actual[:11]]
            actual_start = f"{actual_day[0]}T{clocks[actual[11:]]}"
            actual_ordinal = actual_day[1]
        except KeyError:
            as_ = slow_start(row_number, "actual_start", actual)
            if as_ is None:
                ok = False
            else:
                actual_start, actual_ordinal = as_[2], as_[1]
        try:
            pm = minutes[planned_min]
            am = minutes[actual_min]
        except KeyError:
            pm = minutes.get(planned_min) or slow_minutes(row_number, "planned_minutes", planned_min)
            am = minutes.get(actual_min) or slow_minutes(row_number, "actual_minutes", actual_min)
        if client not in refs and not slow_ref(row_number, "client_ref", client):
            ok = False
        if carer not in refs and not slow_ref(row_number, "carer_ref", carer):
            ok = False
        if not (ok and where and ps and pm and am):
            staging = False
            continue
        day = ps[0]
        if day not in where.days:
            column, message = rules.why_not(where.provider, where.zone, where.service, day)
            fail(row_number, column, message)
            staging = False
            continue
        if not -1 <= actual_ordinal - ps[1] <= 1:
            fail(row_number, "actual_start", f"{actual_start} is more than a day from planned_start {ps[2]}")
            staging = False
            continue
        if not staging:
            continue

        if day < first:
            first = day
        if day > last:
            last = day
        totals = where.totals
        totals[0] += 1
        totals[1] += pm
        totals[2] += am
        pending.append(f"{visit_id}\t{where.text}\t{client}\t{carer}\t{ps[2]}\t{pm}\t{actual_start}\t{am}\n")
        if check_existing:
            pending_ids.append(visit_id)
            pending_rows.append(row_number)
        if len(pending) >= chunk_rows:
            flush()
            report(row_number - 1)
            faults.fault_point("activity-import.mid-chunks")

    staged.rows = row_number - 1
    if suspects:
        _confirm_duplicates(info, positions["visit_id"], suspects, problems)
    if problems.count:
        raise problems.error()
    flush()
    if problems.count:  # a visit recorded for another provider, found by the last flush
        raise problems.error()
    report(staged.rows)
    if not (staged.visits or staged.unchanged or corrections):
        raise InvalidInput(f"{info.name}: no visits: it has a header but no rows of visits")

    staged.changes = len(corrections)
    if len(corrections) <= INLINE_CORRECTIONS:
        staged.corrections = corrections
    else:
        for start in range(0, len(corrections), chunk_rows):
            writer.submit(CORRECTIONS_KIND, [c.line() for c in corrections[start : start + chunk_rows]])
    for kind, digest in writer.finish():
        (staged.chunks if kind == VISITS_KIND else staged.correction_chunks).append(digest)
    staged.totals = [
        {
            "provider": provider,
            "zone": zone,
            "service": service,
            "visits": t[0],
            "planned_minutes": t[1],
            "actual_minutes": t[2],
            "hours": hours(t[2]),
        }
        for (provider, zone, service), t in sorted(totals_by_key.items())
        if t[0]
    ]
    if staged.visits:
        staged.first_date, staged.last_date = date.fromisoformat(first), date.fromisoformat(last)
    return staged


def _confirm_duplicates(info: FileInfo, column: int, suspects: dict[str, list[int]], problems: Problems) -> None:
    """Read the visit-id column again: a suspect seen more than once is a duplicate, with its first row."""
    first_rows: dict[str, int] = {}
    source = _Rows(info)
    try:
        row_number = 1
        for row in source.rows:
            row_number += 1
            if len(row) > column and row[column] in suspects and row[column] not in first_rows:
                first_rows[row[column]] = row_number
    finally:
        source.close()
    for visit_id, rows in suspects.items():
        first_row = first_rows.get(visit_id)
        for row in rows:
            if first_row is not None and first_row != row:
                problems.add(row, "visit_id", f"{visit_id} is a duplicate of row {first_row}")

