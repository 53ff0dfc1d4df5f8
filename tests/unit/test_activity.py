"""Delivered activity without a database: the row rules, the file checks, the import and arrears aggregates.

Figures follow DOMAIN.md: Wirral's zones by postcode district, its January
2019 award, £15.60 an hour rising to £16.34 from 1 April 2020.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears, ArrearsGroup, arrears_lines
from domain.activity.visits import (
    CORRECTIONS_KIND,
    VISITS_KIND,
    Correction,
    RowProblem,
    VisitRow,
    check_minutes,
    check_reference,
    check_visit_id,
    corrections_between,
    decode_chunk,
    encode_chunk,
    hours,
    normalise_header,
    parse_start,
)
from domain.agreements.agreement import Agreement
from domain.bounds import MAX_VISIT_MINUTES
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput
from domain.rates.pricing import price_visit
from ledger.files.activity_staging import AgreementRules, stage_file
from ledger.files.visit_files import inspect_file

ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
START = date(2019, 4, 1)


def on(day: date = START, reason: str | None = "test") -> Envelope:
    return Envelope(ACCOUNTANT, day, reason)


# -- row rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2019-04-01T08:30", ("2019-04-01", "08:30")),
        ("2019-04-01 08:30", ("2019-04-01", "08:30")),
        ("2019-04-01T08:30:00", ("2019-04-01", "08:30")),
        ("2019-04-01T08:30:15", ("2019-04-01", "08:30:15")),
        ("01/04/2019 08:30", ("2019-04-01", "08:30")),  # UK day-first: 1 April
        ("1/4/2019 8:30", ("2019-04-01", "08:30")),
        ("04/01/2019 17:05", ("2019-01-04", "17:05")),  # 4 January, never US month-first
        ("  2019-04-01T08:30 ", ("2019-04-01", "08:30")),
    ],
)
def test_starts_are_read_in_iso_or_uk_day_first_form(text, expected):
    assert parse_start(text) == expected


@pytest.mark.parametrize(
    "text, why",
    [
        ("2019-04-01", "not a date and time"),
        ("31/02/2020 08:00", "not a real date"),
        ("2019-04-01T24:00", "not a real time"),
        ("April 1st 2019 8am", "not a date and time"),
        ("2019/04/01 08:30", "not a date and time"),
    ],
)
def test_a_start_that_is_not_a_date_and_time_is_refused_saying_which_forms_are(text, why):
    with pytest.raises(RowProblem, match=why):
        parse_start(text)


@pytest.mark.parametrize("text, minutes", [("30", 30), (" 45 ", 45), ("30.0", 30), ("1", 1), ("1440", MAX_VISIT_MINUTES)])
def test_minutes_are_whole_and_from_1_to_1440(text, minutes):
    assert check_minutes(text) == minutes


@pytest.mark.parametrize(
    "text, why",
    [
        ("-5", "-5 is negative"),
        ("0", "0 minutes is not a visit"),
        ("1441", "absurd"),
        ("30.5", "not a whole number"),
        ("half an hour", "not a whole number"),
        ("", "blank"),
    ],
)
def test_negative_zero_absurd_or_fractional_minutes_are_refused(text, why):
    with pytest.raises(RowProblem, match=why):
        check_minutes(text)


@pytest.mark.parametrize("reference", ["C000123", "CL-2019-77", "a3f9c2e1", "K00042"])
def test_pseudonymous_references_pass(reference):
    assert check_reference(reference) == reference


@pytest.mark.parametrize(
    "reference, rule",
    [
        ("Jane Smith", "looks like a personal name"),
        ("SMITH", "looks like a personal name"),
        ("Mary-Jane O'Brien", "looks like a personal name"),
        ("J. Smith", "looks like a personal name"),
        ("jane@example.org", "email address"),
        ("XYZ_ABC", "has no digit"),
        ("", "blank"),
        ("C0001\t23", "printable"),
        (" C000123", "surrounding spaces"),
    ],
)
def test_a_reference_that_looks_like_a_name_is_refused_naming_the_rule(reference, rule):
    with pytest.raises(RowProblem, match=rule) as refused:
        check_reference(reference)
    if "name" in rule or "email" in rule:
        assert "pseudonymous-reference" in str(refused.value)
        assert reference not in str(refused.value)  # the message never repeats the name


def test_visit_ids_are_codes():
    assert check_visit_id("V-2019/04:001") == "V-2019/04:001"
    for bad in ("", "V 1", "-V1", "V" * 65, "visité1"):
        with pytest.raises(RowProblem):
            check_visit_id(bad)


@pytest.mark.parametrize(
    "heading, column",
    [
        ("Visit ID", "visit_id"),
        (" Rate-Band ", "rate_band"),
        ("PLANNED_MINUTES", "planned_minutes"),
        ("client ref", "client_ref"),
    ],
)
def test_column_names_match_case_insensitively(heading, column):
    assert normalise_header(heading) == column


def test_hours_are_minutes_over_sixty_to_two_places():
    assert hours(30) == D("0.50")
    assert hours(20) == D("0.33")
    assert hours(770_000 * 60) == D("770000.00")


# -- the recorded row and chunks ---------------------------------------------------------------------

ROW = VisitRow(
    "V1", "premier-care", "CH41", "zone-1", "standard", "", "C000123", "K00042", "2019-04-01T08:30", 30,
    "2019-04-01T08:34", 28,
)  # fmt: skip


def test_a_chunk_is_self_describing_text_and_decodes_to_the_same_rows():
    text = encode_chunk(VISITS_KIND, [ROW.line()])
    assert text.startswith("openbook-visits/1\tvisit_id\t")
    kind, rows = decode_chunk(text)
    assert kind == VISITS_KIND and [VisitRow.from_fields(r) for r in rows] == [ROW]
    correction = Correction("V1", "actual_minutes", "28", "45")
    assert decode_chunk(encode_chunk(CORRECTIONS_KIND, [correction.line()])) == (
        CORRECTIONS_KIND,
        [["V1", "actual_minutes", "28", "45"]],
    )
    with pytest.raises(ValueError, match="not an openbook chunk"):
        decode_chunk("visit_id,provider\n")


def test_corrections_name_the_visit_the_field_and_both_values():
    later = ROW.with_change("actual_minutes", "45").with_change("carer_ref", "K00077")
    assert corrections_between(ROW, later) == [
        Correction("V1", "carer_ref", "K00042", "K00077"),
        Correction("V1", "actual_minutes", "28", "45"),
    ]
    assert corrections_between(ROW, ROW) == []


# -- checking a file against an agreement (no database: chunks go to a fake writer) ---------------------


class FakeWriter:
    def __init__(self) -> None:
        self.chunks: list[tuple[str, list[str]]] = []
        self.abandoned = False

    def submit(self, kind: str, lines: list[str]) -> str:
        self.chunks.append((kind, list(lines)))
        return f"{len(self.chunks):064x}"

    def finish(self) -> list[tuple[str, str]]:
        return [(kind, f"{i + 1:064x}") for i, (kind, _) in enumerate(self.chunks)]

    def abandon(self) -> None:
        self.abandoned = True


@pytest.fixture(scope="module")
def wirral() -> Agreement:
    agreement = Agreement.register(
        on(START, "joint commission"), "wirral-homecare", "Wirral", "alliance", START, date(2024, 3, 31)
    )
    agreement.add_zone(on(), "zone-1", "Birkenhead", ["CH41", "CH42", "CH43"])
    agreement.add_zone(on(), "zone-3", "South Wirral", ["CH60", "CH62", "CH63"])
    agreement.add_service_type(on(), "standard")
    agreement.award_provider(on(), "premier-care", "zone-1", "primary")
    agreement.award_provider(on(), "haven-care", "zone-3", "primary")
    agreement.award_provider(on(), "carewatch", "zone-3", "secondary", to_date=date(2019, 9, 30))
    return agreement


HEADER = (
    "visit_id,provider,client_ref,postcode,service,planned_start,planned_minutes,actual_start,actual_minutes,carer_ref"
)


def write(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "visits.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def stage(path: Path, agreement: Agreement, writer: FakeWriter | None = None, chunk_rows: int = 10_000):
    return stage_file(inspect_file(path), AgreementRules(agreement), writer or FakeWriter(), chunk_rows=chunk_rows)


def test_a_good_file_is_normalised_into_chunks_with_totals(tmp_path, wirral):
    path = write(
        tmp_path,
        "V1,premier-care,C000123,ch41 2ab,Standard,2019-04-01T08:30,30,2019-04-01 08:34,28,K00042",
        "V2,Premier-Care,C000124,CH41 2AB,standard,02/04/2019 09:00,45,02/04/2019 09:02:30,45,K00042",
        "V3,haven-care,C000125,CH60,standard,2019-10-01T10:00,60,2019-10-01T10:00,55,K00043",
    )
    writer = FakeWriter()
    staged = stage(path, wirral, writer, chunk_rows=2)
    assert (staged.rows, staged.visits, staged.unchanged) == (3, 3, 0)
    assert [len(lines) for _, lines in writer.chunks] == [2, 1]
    rows = [VisitRow.from_fields(line[:-1].split("\t")) for _, lines in writer.chunks for line in lines]
    assert rows[1] == VisitRow(
        "V2", "premier-care", "CH41", "zone-1", "standard", "", "C000124", "K00042", "2019-04-02T09:00", 45,
        "2019-04-02T09:02:30", 45,
    )  # fmt: skip
    assert {(t["provider"], t["zone"], t["visits"], t["actual_minutes"], t["hours"]) for t in staged.totals} == {
        ("premier-care", "zone-1", 2, 73, D("1.22")),
        ("haven-care", "zone-3", 1, 55, D("0.92")),
    }
    assert (staged.first_date, staged.last_date) == (date(2019, 4, 1), date(2019, 10, 1))


def test_headings_in_any_case_and_order_with_optional_columns(tmp_path, wirral):
    header = (
        "Carer Ref,ACTUAL MINUTES,Actual Start,Planned Minutes,Planned Start,Service,Postcode,Client Ref,Provider,"
        "Visit ID,Rate Band"
    )
    row = "K1,28,2019-04-01T08:34,30,2019-04-01T08:30,standard,CH41 2AB,C1,premier-care,V1,"
    path = write(tmp_path, row, header=header)
    assert stage(path, wirral).visits == 1


def test_a_missing_unknown_or_repeated_column_is_refused_before_any_row(tmp_path, wirral):
    path = write(tmp_path, "x", header="visit_id,provider,client_name,client_name,postcode")
    with pytest.raises(InvalidInput) as refused:
        stage(path, wirral)
    text = str(refused.value)
    assert "'client_name' is not in the template" in text
    assert "missing column(s) client_ref, service, planned_start" in text


def problems_of(tmp_path: Path, wirral: Agreement, *lines: str) -> list[str]:
    writer = FakeWriter()
    with pytest.raises(InvalidInput) as refused:
        stage(write(tmp_path, *lines), wirral, writer)
    assert writer.abandoned
    return refused.value.problems


GOOD = "premier-care,C000123,CH41 2AB,standard,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042"


def test_every_kind_of_problem_is_reported_by_row_and_column(tmp_path, wirral):
    problems = problems_of(
        tmp_path,
        wirral,
        f"V1,{GOOD}",
        "V2,acme-care,C000123,CH41 2AB,standard,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042",
        "V3,premier-care,C000123,CH99 1AA,standard,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042",
        "V4,premier-care,C000123,CH41 2AB,standard,2019-04-01T08:30,-5,2019-04-01T08:34,2000,K00042",
        f"V1,{GOOD}",
        "V6,premier-care,C000123,CH41 2AB,standard,2019-03-31T08:30,30,2019-03-31T08:34,28,K00042",
        "V7,premier-care,C000123,CH60 1AA,standard,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042",
        "V8,carewatch,C000123,CH60 1AA,standard,2019-10-01T08:30,30,2019-10-01T08:34,28,K00042",
        "V9,premier-care,Jane Smith,CH41 2AB,standard,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042",
        "V10,premier-care,C000123,CH41 2AB,complex,2019-04-01T08:30,30,2019-04-01T08:34,28,K00042",
    )
    assert problems[0] == "visits.csv: 10 problem(s); nothing was recorded"
    assert problems[1:] == [
        "row 3, column provider: unknown provider 'acme-care': it holds no award under wirral-homecare",
        "row 4, column postcode: postcode district CH99 is outside every zone of wirral-homecare",
        "row 5, column actual_minutes: 2000 is absurd: no visit is longer than 1440 minutes (a 24-hour live-in day)",
        "row 5, column planned_minutes: -5 is negative",
        "row 6, column visit_id: V1 is a duplicate of row 2",
        "row 7, column planned_start: 2019-03-31 is outside the term of wirral-homecare (2019-04-01 to 2024-03-31)",
        "row 8, column provider: premier-care holds no award for zone zone-3 of wirral-homecare on 2019-04-01",
        "row 9, column provider: carewatch holds no award for zone zone-3 of wirral-homecare on 2019-10-01",
        "row 10, column client_ref: looks like a personal name (rule pseudonymous-reference: a reference must "
        "contain at least one digit, e.g. C000123)",
        "row 11, column service: complex is not a service type of wirral-homecare on 2019-04-01",
    ]


def test_only_the_first_hundred_problems_are_listed_then_a_count(tmp_path, wirral):
    lines = [f"V{i},{GOOD.replace(',30,', ',0,')}" for i in range(250)]
    problems = problems_of(tmp_path, wirral, *lines)
    assert len(problems) == 1 + 100 + 1
    assert problems[-1] == "... and 150 more problem(s)"


def test_an_actual_start_more_than_a_day_from_the_plan_is_refused(tmp_path, wirral):
    line = "V1,premier-care,C000123,CH41 2AB,standard,2019-04-01T08:30,30,2019-04-03T08:34,28,K00042"
    assert problems_of(tmp_path, wirral, line)[1] == (
        "row 2, column actual_start: 2019-04-03T08:34 is more than a day from planned_start 2019-04-01T08:30"
    )


def test_a_file_that_is_not_utf8_is_refused_in_words(tmp_path, wirral):
    path = tmp_path / "visits.csv"
    path.write_bytes((HEADER + "\nV1,premier-care,C\xe9,CH41,standard,x,1,x,1,K1\n").encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"^visits.csv: line 2, byte 18: 0xE9 is not UTF-8 .*'CSV UTF-8'"):
        stage(path, wirral)


def test_an_xlsx_file_is_read_like_a_csv_with_spreadsheet_dates(tmp_path, wirral):
    from datetime import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["V1", "premier-care", "C000123", "CH41 2AB", "standard", datetime(2019, 4, 1, 8, 30), 30,
                  datetime(2019, 4, 1, 8, 34), 28.0, "K00042"])  # fmt: skip
    sheet.append([None] * 10)
    path = tmp_path / "visits.xlsx"
    book.save(path)
    writer = FakeWriter()
    staged = stage(path, wirral, writer)
    assert staged.visits == 1 and inspect_file(path).format == "xlsx"
    assert writer.chunks[0][1][0].endswith("2019-04-01T08:30\t30\t2019-04-01T08:34\t28\n")


# -- the aggregates ---------------------------------------------------------------------------------------

DIGEST = "ab" * 32


def test_an_import_is_recorded_once_per_agreement_and_file():
    totals = [{"provider": "premier-care", "zone": "zone-1", "service": "standard", "visits": 2,
               "planned_minutes": 75, "actual_minutes": 73, "hours": D("1.22")}]  # fmt: skip
    record = ActivityImport.record(
        on(date(2019, 5, 1), "April's ECM file"), agreement="wirral-homecare", file_name="april.csv",
        file_digest=DIGEST, file_format="csv", rows=2, visits=2, unchanged=0, chunks=[DIGEST], totals=totals,
        first_date=START, last_date=START,
    )  # fmt: skip
    assert record.id == ActivityImport.create_id("wirral-homecare", DIGEST)
    assert record.providers == ["premier-care"]
    record.correct(on(), visits=1, corrections=[Correction("V1", "actual_minutes", "28", "45")])
    assert (record.corrected_visits, record.correction_changes) == (1, 1)
    with pytest.raises(InvalidInput, match="count 2 visits, not the 3"):
        ActivityImport.record(
            on(), agreement="w", file_name="a", file_digest=DIGEST, file_format="csv", rows=3, visits=3,
            unchanged=0, chunks=[DIGEST], totals=totals, first_date=None, last_date=None,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="not a field"):
        record.correct(on(), visits=1, corrections=[Correction("V1", "visit_id", "V1", "V2")])


def test_arrears_add_what_each_visit_owes_at_its_penny_prices():
    groups = [
        ArrearsGroup("premier-care", "standard", "zone-1", "", date(2020, 4, 1), 30, 30, 2),  # two 30-minute visits
        ArrearsGroup("premier-care", "standard", "zone-1", "", date(2020, 5, 1), 20, 20, 1),
        ArrearsGroup("haven-care", "standard", "zone-3", "", date(2020, 4, 1), 45, 45, 1),
        ArrearsGroup("haven-care", "complex", "zone-3", "", date(2020, 4, 1), 45, 45, 1),  # no rate: left out
    ]

    def at(rate):
        def price(service, zone, day, band, planned, actual):
            return price_visit(D(rate), "actual", planned, actual) if service == "standard" else None

        return price

    old, new = at("15.60"), at("16.34")
    lines, unpriced = arrears_lines(groups, old, new)
    assert [(ln.provider, ln.payable_minutes, ln.amount) for ln in lines] == [
        ("haven-care", 45, D("0.56")),  # £12.26 (12.255) − £11.70
        # 2 × (£8.17 − £7.80) + (£5.45 (5.4466…) − £5.20) = 0.74 + 0.25 = 0.99
        ("premier-care", 80, D("0.99")),
    ]
    assert lines[1].working == (
        "1.33 h (80 min, 3 visits) priced visit by visit at £16.34 = £21.79, less at £15.60 = £20.80: owed £0.99"
    )
    assert len(unpriced) == 1

    arrears = Arrears.calculate(
        on(date(2020, 6, 20), "arrears"), agreement="wirral-homecare", financial_year="2020-21",
        decided_on=date(2020, 6, 15), window_start=date(2020, 4, 1), window_end=date(2020, 6, 14), lines=lines,
        basis="test",
    )  # fmt: skip
    assert arrears.providers == {"haven-care": D("0.56"), "premier-care": D("0.99")} and arrears.total == D("1.55")
    assert arrears.recalculate(on(), lines, "again") is False  # nothing changed: nothing recorded
    longer = ArrearsGroup("haven-care", "standard", "zone-3", "", date(2020, 4, 1), 60, 60, 1)  # 45 -> 60 minutes
    corrected, _ = arrears_lines([*groups[:2], longer], old, new)
    assert arrears.recalculate(on(), corrected, "hours corrected") is True
    event = arrears.collect_events()[-1]
    assert event.difference == {"haven-care": D("0.18"), "premier-care": D("0.00")}  # 0.74 now, 0.56 before
    assert arrears.total == D("1.73")
