"""Moments in time: naive is UTC, ISO 8601 text parsed as datetime.fromisoformat reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlrails.clock import parse_time, utc

moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30))
zones = st.one_of(
    st.none(), st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
)


@given(moment=moments, zone=zones)
def test_utc_keeps_an_aware_time_and_reads_a_naive_one_as_utc(
    moment: datetime, zone: timezone | None
) -> None:
    aware = moment.replace(tzinfo=zone) if zone is not None else moment
    got = utc(aware)
    assert got.tzinfo is not None
    if zone is None:
        assert got == moment.replace(tzinfo=UTC)
    else:
        assert got is aware


@given(moment=moments, zone=zones)
def test_parse_time_round_trips_isoformat(moment: datetime, zone: timezone | None) -> None:
    aware = moment.replace(tzinfo=zone) if zone is not None else moment
    assert parse_time(aware.isoformat()) == utc(aware)


def test_parse_time_reads_z_and_refuses_what_is_not_a_time() -> None:
    assert parse_time("2025-01-31T12:00:00Z") == datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert parse_time("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    for text in ("yesterday", "", "2025-13-01", "31/01/2025"):
        with pytest.raises(ValueError):
            parse_time(text)
