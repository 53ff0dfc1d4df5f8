"""ledger.persistence.transcoding on the library's JSON transcoder: stored values come back exactly.

"Exactly" means equal, of the same type, and printing the same: a Decimal keeps
its exponent and sign ("1.50" stays "1.50", "-0" stays "-0"), a datetime its
UTC offset, a date stays a date (not a datetime).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.envelope import Actor, Envelope
from ledger.persistence.transcoding import stored_transcoder

TRANSCODER = stored_transcoder()


def round_trip(value: Any) -> Any:
    return TRANSCODER.decode(TRANSCODER.encode(value))


def assert_exact(back: Any, value: Any) -> None:
    assert back == value
    assert type(back) is type(value)
    assert str(back) == str(value)


decimals = st.decimals(allow_nan=False, allow_infinity=False)
# Real UTC offsets are whole minutes. (CPython 3.11's fromisoformat drops an offset of
# under one second, e.g. "+00:00:00.000001", so such offsets could not round-trip.)
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(lambda m: timedelta(minutes=m))
timezones = st.one_of(st.just(timezone.utc), offsets.map(timezone))
aware_datetimes = st.datetimes(timezones=timezones)
texts = st.text(max_size=30)
envelopes = st.builds(
    Envelope,
    actor=st.builds(Actor, user=texts, organisation=st.none() | texts),
    effective_date=st.dates(),
    reason=st.none() | texts,
    idempotency_key=st.none() | texts,
)


@given(decimals)
def test_decimals_keep_value_sign_and_exponent(value: Decimal):
    back = round_trip(value)
    assert_exact(back, value)
    assert back.as_tuple() == value.as_tuple()


@given(st.dates())
def test_dates_stay_dates(value: date):
    assert_exact(round_trip(value), value)


@given(aware_datetimes)
def test_aware_datetimes_keep_their_offset(value: datetime):
    back = round_trip(value)
    assert_exact(back, value)
    assert back.utcoffset() == value.utcoffset()


@given(st.uuids())
def test_uuids(value: UUID):
    assert_exact(round_trip(value), value)


@given(envelopes)
def test_envelopes_and_their_actor(value: Envelope):
    back = round_trip(value)
    assert_exact(back, value)
    assert type(back.actor) is Actor and type(back.effective_date) is date


@given(st.dictionaries(st.text(max_size=5), st.lists(decimals | st.dates() | aware_datetimes | st.uuids() | envelopes)))
def test_nested_values(value: dict[str, list[Any]]):
    back = round_trip(value)
    assert back.keys() == value.keys()
    for key, items in value.items():
        assert len(back[key]) == len(items)
        for got, expected in zip(back[key], items, strict=True):
            assert_exact(got, expected)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (Decimal("15.80"), b'{"_type_":"decimal_str","_data_":"15.80"}'),
        (Decimal("0.0500"), b'{"_type_":"decimal_str","_data_":"0.0500"}'),
        (date(2024, 2, 29), b'{"_type_":"date_iso","_data_":"2024-02-29"}'),
    ],
)
def test_stored_text_is_the_exact_text(value: Any, stored: bytes):
    """The stored form is part of the data format: it must not change."""
    assert TRANSCODER.encode(value) == stored
