"""Tests for financial years and quarters in domain.periods."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.periods import (
    DATE_FORMS,
    DateFormatError,
    FinancialYear,
    PeriodFormatError,
    Quarter,
    financial_year_of,
    parse_date,
    parse_financial_year,
    parse_period,
    parse_quarter,
    quarter_of,
)

FY2019 = FinancialYear(2019)


def test_financial_year_2019_20():
    assert str(FY2019) == "2019-20"
    assert FY2019.start == date(2019, 4, 1)
    assert FY2019.end == date(2020, 3, 31)
    assert FY2019.contains(date(2019, 4, 1)) and FY2019.contains(date(2020, 3, 31))
    assert not FY2019.contains(date(2019, 3, 31)) and not FY2019.contains(date(2020, 4, 1))


def test_century_rollover_is_written_with_two_digits():
    assert str(FinancialYear(1999)) == "1999-00"
    assert parse_financial_year("1999-00") == FinancialYear(1999)
    assert str(FinancialYear(2009)) == "2009-10"


@pytest.mark.parametrize(
    ("number", "start", "end"),
    [
        (1, date(2019, 4, 1), date(2019, 6, 30)),
        (2, date(2019, 7, 1), date(2019, 9, 30)),
        (3, date(2019, 10, 1), date(2019, 12, 31)),
        (4, date(2020, 1, 1), date(2020, 3, 31)),
    ],
)
def test_quarters_of_2019_20(number, start, end):
    quarter = Quarter(FY2019, number)
    assert str(quarter) == f"2019-20-Q{number}"
    assert (quarter.start, quarter.end) == (start, end)
    assert quarter.contains(start) and quarter.contains(end)
    assert not quarter.contains(start - timedelta(days=1))
    assert not quarter.contains(end + timedelta(days=1))


def test_first_open_book_year_is_wirral_start():
    # Wirral's contract started 1 April 2019: the first day of 2019-20-Q1.
    assert quarter_of(date(2019, 4, 1)) == parse_quarter("2019-20-Q1")
    # Herefordshire's first incentive assessment "by April 2018" closes 2017-18.
    assert financial_year_of(date(2018, 3, 31)) == parse_financial_year("2017-18")


def test_next_and_previous():
    assert FY2019.next() == FinancialYear(2020)
    assert FY2019.previous() == FinancialYear(2018)
    assert Quarter(FY2019, 4).next() == Quarter(FinancialYear(2020), 1)
    assert Quarter(FY2019, 2).next() == Quarter(FY2019, 3)
    assert Quarter(FY2019, 1).previous() == Quarter(FinancialYear(2018), 4)


def test_ordering_and_hashing():
    quarters = [parse_quarter(t) for t in ["2020-21-Q1", "2019-20-Q4", "2019-20-Q1"]]
    assert [str(q) for q in sorted(quarters)] == ["2019-20-Q1", "2019-20-Q4", "2020-21-Q1"]
    assert FinancialYear(2018) < FY2019
    assert {FY2019: "x"}[parse_financial_year("2019-20")] == "x"
    assert len({Quarter(FY2019, 1), parse_quarter("2019-20-Q1")}) == 1


def test_periods_are_frozen():
    with pytest.raises(AttributeError):
        FY2019.start_year = 2020  # type: ignore[misc]


@pytest.mark.parametrize("bad", [999, 9999, 0, -1])
def test_financial_year_range(bad):
    with pytest.raises(ValueError, match=str(bad)):
        FinancialYear(bad)


def test_constructor_types():
    with pytest.raises(TypeError):
        FinancialYear("2019")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FinancialYear(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Quarter(2019, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 to 4"):
        Quarter(FY2019, 5)
    with pytest.raises(TypeError):
        FY2019.contains("2019-05-01")  # type: ignore[arg-type]


def test_datetimes_are_dates():
    assert quarter_of(datetime(2019, 12, 31, 23, 59)) == Quarter(FY2019, 3)


def test_parse_period_accepts_both_forms():
    assert parse_period("2019-20") == FY2019
    assert parse_period("2019-20-Q3") == Quarter(FY2019, 3)


@pytest.mark.parametrize(
    "text",
    ["2019-21", "19-20", "2019/20", "2019-2020", "2019", " 2019-20", "2019-20\n", "", "٢٠١٩-٢٠"],
)
def test_parse_financial_year_refusals(text):
    with pytest.raises(PeriodFormatError) as info:
        parse_financial_year(text)
    assert repr(text) in str(info.value)
    assert "2019-20" in str(info.value)


def test_wrong_second_year_says_what_it_should_be():
    with pytest.raises(PeriodFormatError, match="2019 must be followed by 20"):
        parse_financial_year("2019-21")


@pytest.mark.parametrize(
    "text", ["2019-20-Q5", "2019-20-Q0", "2019-20-q1", "2019-21-Q1", "2019-20Q1", "2019-20-Q", "Q1"]
)
def test_parse_quarter_refusals(text):
    with pytest.raises(PeriodFormatError) as info:
        parse_quarter(text)
    assert repr(text) in str(info.value)
    assert "2019-20-Q1" in str(info.value)


@pytest.mark.parametrize("text", ["2019-21", "2019-20-Q5", "19-20", "April 2019", "0999-00"])
def test_parse_period_refusals(text):
    with pytest.raises(PeriodFormatError) as info:
        parse_period(text)
    assert repr(text) in str(info.value)
    assert "2019-20" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_refuses_non_text():
    with pytest.raises(PeriodFormatError, match="2019 is not text"):
        parse_period(2019)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------

years = st.integers(min_value=1000, max_value=9998).map(FinancialYear)
quarters = st.builds(Quarter, years, st.integers(min_value=1, max_value=4))
dates = st.dates(min_value=date(1000, 4, 1), max_value=date(9999, 3, 31))


@given(st.one_of(years, quarters))
def test_parse_str_round_trip(period):
    assert parse_period(str(period)) == period


@given(years)
def test_parse_financial_year_round_trip(year):
    assert parse_financial_year(str(year)) == year


@given(quarters)
def test_parse_quarter_round_trip(quarter):
    assert parse_quarter(str(quarter)) == quarter


@given(dates)
def test_every_date_is_in_exactly_one_quarter_of_its_year(d):
    year = financial_year_of(d)
    assert year.contains(d)
    containing = [q for q in year.quarters() if q.contains(d)]
    assert containing == [quarter_of(d)]
    assert quarter_of(d).year == year


@given(years)
def test_quarters_tile_the_year(year):
    qs = year.quarters()
    assert [q.number for q in qs] == [1, 2, 3, 4]
    assert qs[0].start == year.start and qs[-1].end == year.end
    for before, after in zip(qs, qs[1:]):
        assert after.start == before.end + timedelta(days=1)
        assert before.next() == after
    assert sum((q.end - q.start).days + 1 for q in qs) == (year.end - year.start).days + 1


@given(years.filter(lambda y: y.start_year < 9998))
def test_years_are_contiguous(year):
    assert year.next().start == year.end + timedelta(days=1)
    assert year.next().previous() == year
    assert year < year.next()


@given(quarters)
def test_quarter_ordering_matches_dates(quarter):
    if quarter != Quarter(FinancialYear(9998), 4):
        following = quarter.next()
        assert quarter < following
        assert following.start == quarter.end + timedelta(days=1)
        assert following.previous() == quarter


def test_days_between_includes_both_ends_and_crosses_a_leap_day():
    from datetime import date

    from domain.periods import days_between

    days = list(days_between(date(2020, 2, 27), date(2020, 3, 1)))
    assert days == [date(2020, 2, 27), date(2020, 2, 28), date(2020, 2, 29), date(2020, 3, 1)]
    assert list(days_between(date(2020, 3, 1), date(2020, 2, 29))) == []


# -- dates as people type them (files and options alike) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2019-04-01", date(2019, 4, 1)),  # ISO
        ("01/04/2019", date(2019, 4, 1)),  # UK, day first
        ("1/4/2019", date(2019, 4, 1)),  # without leading zeros, as a spreadsheet writes it
        ("04/01/2019", date(2019, 1, 4)),  # never month first
        (" 2020-02-29 ", date(2020, 2, 29)),  # surrounding spaces, a leap day
        ("31/03/2020", date(2020, 3, 31)),
    ],
)
def test_parse_date_reads_iso_and_uk_day_first(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019/04/01", f"'2019/04/01' is not a date; write it as {DATE_FORMS}"),
        ("20190401", f"'20190401' is not a date; write it as {DATE_FORMS}"),
        ("2019-W14-1", f"'2019-W14-1' is not a date; write it as {DATE_FORMS}"),
        ("2019-04-01T08:30", f"'2019-04-01T08:30' is not a date; write it as {DATE_FORMS}"),
        ("1 April 2019", f"'1 April 2019' is not a date; write it as {DATE_FORMS}"),
        ("", f"'' is not a date; write it as {DATE_FORMS}"),
        ("31/13/2021", f"'31/13/2021' is not a date (there is no such day); write it as {DATE_FORMS}"),
        ("2019-02-29", f"'2019-02-29' is not a date (there is no such day); write it as {DATE_FORMS}"),
        ("04/31/2020", f"'04/31/2020' is not a date (there is no such day); write it as {DATE_FORMS}"),
    ],
)
def test_parse_date_refuses_other_forms_naming_the_forms(text, message):
    with pytest.raises(DateFormatError) as refused:
        parse_date(text)
    assert str(refused.value) == message
    assert refused.value.in_form == ("no such day" in message)


@given(st.dates(min_value=date(1000, 1, 1)))
def test_parse_date_reads_both_forms_of_every_date(d):
    assert parse_date(d.isoformat()) == d
    assert parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}") == d
