"""Delivered activity: the visit row, the rules a visit record must pass, and the import that records them.

Providers' electronic call monitoring (ECM) records say which visits were
planned and delivered. Rates, savings, arrears and incentives are only as good
as these hours, so a file of visits is checked in full before anything is
recorded, and what is recorded can be re-checked by anyone from the history.

Why it is built this way:

* **Rows live outside the event store.** A year of Wirral's visits is about a
  million rows. They are kept as content-addressed *chunks* (the sha256 of a
  chunk's canonical text is its name), and one ``Imported`` event lists every
  chunk and the file's own digest. The event is the commit point: chunks no
  event names are ignored and can be swept, so a killed import leaves nothing
  half-recorded. The hash chain covers the event, the event covers the chunk
  digests, so chunks are as tamper-evident as the event itself.
* **A visit is named by its ECM visit id, unique within the agreement.** A
  later file that repeats a visit unchanged records nothing for it; one that
  changes it records a ``Corrected`` event naming the visit, the field, and
  the value before and after. Nothing is edited.
* **Only pseudonymous references and the postcode district are kept.** The
  full postcode may identify someone's home: it is read only to find its
  district and zone. A reference that looks like a personal name (or an email
  address) is refused, saying which rule it broke.
* **Facts, not prices.** An import records what was delivered. Prices come
  from the rate card through the one pricing path when the activity is
  projected, so a backdated rate changes the priced activity without touching
  the record of what was delivered.

Minutes are ints; hours are Decimals (minutes ÷ 60); money never appears here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.bounds import MAX_VISIT_MINUTES
from domain.money import EXACT
from domain.periods import DateFormatError, parse_date

__all__ = [
    "CHUNK_KINDS",
    "COLUMNS",
    "COLUMN_HELP",
    "CORRECTIONS_KIND",
    "CORRECTION_FIELDS",
    "FIELDS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "START_FORMS",
    "VISITS_KIND",
    "Correction",
    "RowProblem",
    "VisitRow",
    "check_minutes",
    "check_visit_minutes",
    "check_reference",
    "check_visit_id",
    "corrections_between",
    "decode_chunk",
    "encode_chunk",
    "hours",
    "normalise_header",
    "parse_start",
]


#: The template's columns, in the template's order. Names match case-insensitively;
#: spaces and hyphens count as underscores ("Visit ID" is visit_id).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "visit_id",
    "provider",
    "client_ref",
    "postcode",
    "service",
    "planned_start",
    "planned_minutes",
    "actual_start",
    "actual_minutes",
    "carer_ref",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("rate_band", "lot")
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

#: What the template says about each column (the CLI's ``activity template`` prints it).
COLUMN_HELP: dict[str, str] = {
    "visit_id": "the ECM system's visit id, unique within the agreement (letters, digits and . _ - : /)",
    "provider": "the provider's organisation code, e.g. premier-care",
    "client_ref": "the person's pseudonymous reference, never a name: it must contain a digit, e.g. C000123",
    "postcode": "the person's postcode or postcode district; only the district is kept",
    "service": "standard, complex, reablement, sleep-in or live-in-24h",
    "planned_start": "date and time, ISO 2019-04-01T08:30 (or 2019-04-01 08:30) or UK day-first 01/04/2019 08:30",
    "planned_minutes": f"whole minutes planned, 1 to {MAX_VISIT_MINUTES}",
    "actual_start": "date and time the carer arrived, same formats, within a day of planned_start",
    "actual_minutes": f"whole minutes delivered, 1 to {MAX_VISIT_MINUTES}",
    "carer_ref": "the carer's pseudonymous reference, never a name: it must contain a digit",
    "rate_band": "optional: the package's rate band where the agreement has bands, e.g. urban or rural",
    "lot": "optional: the lot of a visit made under a lot award (e.g. complex-north); blank means the zone",
}

#: The fields of a visit as recorded (in chunks and the visits read model), in order: where and
#: what first (provider to band), then who, then when and how long.
FIELDS: tuple[str, ...] = (
    "visit_id",
    "provider",
    "district",
    "zone",
    "service",
    "band",
    "client_ref",
    "carer_ref",
    "planned_start",
    "planned_minutes",
    "actual_start",
    "actual_minutes",
)
#: Fields a correction can name (every field but the visit id itself).
CORRECTION_FIELDS: tuple[str, ...] = FIELDS[1:]

VISITS_KIND = "visits"
CORRECTIONS_KIND = "corrections"
_CHUNK_HEADERS = {
    VISITS_KIND: "openbook-visits/1\t" + "\t".join(FIELDS) + "\n",
    CORRECTIONS_KIND: "openbook-corrections/1\tvisit_id\tfield\tbefore\tafter\n",
}
CHUNK_KINDS = tuple(_CHUNK_HEADERS)


class RowProblem(ValueError):
    """One cell that breaks a rule: the message names the rule, never a person's postcode."""


# -- the visit as recorded ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitRow:
    """One visit, normalised: what a chunk line and a row of the visits read model hold.

    ``zone`` is the zone or lot the visit was delivered under; ``band`` is ""
    when the package has none. Starts are ISO text ("2019-04-01T08:30", seconds
    only when not zero), so equal times always have equal text.
    """

    visit_id: str
    provider: str
    district: str
    zone: str
    service: str
    band: str
    client_ref: str
    carer_ref: str
    planned_start: str
    planned_minutes: int
    actual_start: str
    actual_minutes: int

    @property
    def visit_date(self) -> date:
        """The day a visit is about (for rates, terms, awards and periods): its planned start's date."""
        return date.fromisoformat(self.planned_start[:10])

    def fields(self) -> tuple[str, ...]:
        """Every field as recorded text, in ``FIELDS`` order."""
        return (
            self.visit_id,
            self.provider,
            self.district,
            self.zone,
            self.service,
            self.band,
            self.client_ref,
            self.carer_ref,
            self.planned_start,
            str(self.planned_minutes),
            self.actual_start,
            str(self.actual_minutes),
        )

    def line(self) -> str:
        return "\t".join(self.fields()) + "\n"

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> VisitRow:
        if len(fields) != len(FIELDS):
            raise ValueError(f"a visit has {len(FIELDS)} fields, not {len(fields)}")
        (vid, provider, district, zone, service, band, client, carer, planned, pmin, actual, amin) = fields
        return cls(vid, provider, district, zone, service, band, client, carer, planned, int(pmin), actual, int(amin))

    def with_change(self, field: str, value: str) -> VisitRow:
        """This visit with one field replaced by its recorded text (a correction's ``after``)."""
        if field not in CORRECTION_FIELDS:
            raise ValueError(f"{field!r} is not a field a correction can change")
        values = dict(zip(FIELDS, self.fields(), strict=True))
        values[field] = value
        return VisitRow.from_fields([values[f] for f in FIELDS])


@dataclass(frozen=True, slots=True)
class Correction:
    """A later file changed one field of an already imported visit: both values, as recorded text."""

    visit_id: str
    field: str
    before: str
    after: str

    def line(self) -> str:
        return f"{self.visit_id}\t{self.field}\t{self.before}\t{self.after}\n"

    def as_list(self) -> list[str]:
        return [self.visit_id, self.field, self.before, self.after]


def corrections_between(old: VisitRow, new: VisitRow) -> list[Correction]:
    """The fields that differ between a recorded visit and a later file's version of it."""
    return [
        Correction(old.visit_id, field, before, after)
        for field, before, after in zip(FIELDS[1:], old.fields()[1:], new.fields()[1:], strict=True)
        if before != after
    ]


# -- chunks: the canonical text of a batch of rows --------------------------------------------


def encode_chunk(kind: str, lines: Iterable[str]) -> str:
    """A chunk's canonical text: a header naming its kind and columns, then one line per row.

    Its sha256 is the chunk's name, so the same rows always make the same chunk.
    Fields are tab-separated; the rules below never let a tab or newline into one.
    """
    return _CHUNK_HEADERS[kind] + "".join(lines)


def decode_chunk(text: str) -> tuple[str, list[list[str]]]:
    """(kind, rows as lists of fields) from a chunk's canonical text."""
    header, _, body = text.partition("\n")
    for kind, expected in _CHUNK_HEADERS.items():
        if header + "\n" == expected:
            width = expected.count("\t")  # one tab per column after the kind
            rows = [line.split("\t") for line in body.split("\n") if line]
            for row in rows:
                if len(row) != width:
                    raise ValueError(f"a {kind} chunk row has {len(row)} fields, not {width}")
            return kind, rows
    raise ValueError(f"not an openbook chunk: header {header[:60]!r}")


def hours(minutes: int) -> Decimal:
    """Minutes as hours, to 2 decimal places, half up, for people (minutes stay the exact figure)."""
    return EXACT.divide(Decimal(minutes), Decimal(60)).quantize(Decimal("0.01"), context=EXACT)


# -- the rules a row must pass (pure; the importer caches their answers) --------------------------


def normalise_header(name: object) -> str:
    """A column heading as the template spells it: "Visit ID" -> "visit_id", " Rate-Band " -> "rate_band"."""
    text = str(name or "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


_VISIT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/\-]{0,63}")


def check_visit_id(text: str) -> str:
    if not text:
        raise RowProblem("is blank")
    if not _VISIT_ID.fullmatch(text):
        raise RowProblem(
            f"{text[:70]!r} is not a visit id: up to 64 letters, digits and . _ - : /, starting with a letter or digit"
        )
    return text


_HAS_DIGIT = re.compile(r"[0-9]")
_NAME_LIKE = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")


def check_reference(text: str) -> str:
    """A pseudonymous reference: printable, at most 64 characters, and not a name or an email address.

    The rule (``pseudonymous-reference``): a reference must contain at least
    one digit. A personal name never does, so "Jane Smith" or "SMITH" is
    refused, while codes such as "C000123" or a hash pass. An '@' is refused
    as an email address. The message names the rule, not the person.
    """
    if not text or not text.strip():
        raise RowProblem("is blank")
    if len(text) > 64 or not text.isprintable() or text != text.strip():
        raise RowProblem("must be at most 64 printable characters without surrounding spaces")
    if "@" in text:
        raise RowProblem("looks like an email address (rule pseudonymous-reference: never a person's contact details)")
    if not _HAS_DIGIT.search(text):
        if _NAME_LIKE.fullmatch(text):
            raise RowProblem(
                "looks like a personal name (rule pseudonymous-reference: a reference must contain at least "
                "one digit, e.g. C000123)"
            )
        raise RowProblem("has no digit (rule pseudonymous-reference: a reference must contain at least one digit)")
    return text


_MINUTES = re.compile(r"[+-]?[0-9]+")


def check_minutes(text: str) -> int:
    """Whole minutes from 1 to 1,440 (a 24-hour live-in day), as a file's cell writes them."""
    stripped = text.strip()
    if not stripped:
        raise RowProblem("is blank")
    if not _MINUTES.fullmatch(stripped):
        if re.fullmatch(r"[+-]?[0-9]+\.0*", stripped):  # "30.0" from a spreadsheet is 30
            stripped = stripped.split(".")[0]
        else:
            raise RowProblem(f"{stripped[:20]!r} is not a whole number of minutes")
    return check_visit_minutes(int(stripped))


def check_visit_minutes(minutes: int) -> int:
    """The bounds on a visit's minutes, in a file or priced on its own: negative, zero or more than a day is refused."""
    if minutes < 0:
        raise RowProblem(f"{minutes} is negative")
    if minutes == 0:
        raise RowProblem("0 minutes is not a visit (record delivered visits only)")
    if minutes > MAX_VISIT_MINUTES:
        raise RowProblem(
            f"{minutes} is absurd: no visit is longer than {MAX_VISIT_MINUTES} minutes (a 24-hour live-in day)"
        )
    return minutes


_START = re.compile(r"([0-9/-]+)[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
START_FORMS = "ISO 2019-04-01T08:30 (or 2019-04-01 08:30) or UK day-first 01/04/2019 08:30"


def parse_start(text: str) -> tuple[str, str]:
    """(ISO date, canonical time) of a visit start in ISO or UK day-first form.

    "2019-04-01T08:30", "2019-04-01 08:30:00" and "01/04/2019 08:30" all give
    ("2019-04-01", "08:30"); seconds are kept only when not zero. The date is
    read by ``domain.periods.parse_date``, as every date a person types is, so
    a US month-first date is not accepted: 04/01/2019 is 4 January.
    """
    stripped = text.strip()
    match = _START.fullmatch(stripped)
    if not match or (match[0][match.end(1)] == "T" and "/" in match[1]):
        raise RowProblem(f"{stripped[:30]!r} is not a date and time; use {START_FORMS}")
    day, hour, minute, second = match.groups()
    try:
        on = parse_date(day)
    except DateFormatError as e:
        if e.in_form:
            raise RowProblem(f"{stripped[:30]!r} is not a real date") from None
        raise RowProblem(f"{stripped[:30]!r} is not a date and time; use {START_FORMS}") from None
    h, m, s = int(hour), int(minute), int(second or 0)
    if h > 23 or m > 59 or s > 59:
        raise RowProblem(f"{stripped[:30]!r} is not a real time of day")
    clock = f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
    return on.isoformat(), clock


# -- the import, as recorded --------------------------------------------------------------------

