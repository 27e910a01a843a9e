"""Quantities in one unit each: times, sizes, counts, rates and ranges parsed from descriptors."""

from __future__ import annotations

import pytest

from mlrails.mismatch.units import (
    parse_count,
    parse_quantity,
    parse_range,
    parse_rate_per_second,
    to_bytes,
    to_gigabytes,
    to_milliseconds,
)


@pytest.mark.parametrize(
    ("value", "unit", "ms"),
    [(250, "ms", 250.0), (0.1, "Seconds", 100.0), (1500, "us", 1.5), (2, "Minutes", 120000.0)],
)
def test_time_units(value: float, unit: str, ms: float) -> None:
    assert to_milliseconds(value, unit) == pytest.approx(ms)


def test_size_units_and_counts() -> None:
    assert to_bytes(1, "GiB") == 2**30
    assert to_bytes(512, "MiB") == 512 * 2**20
    assert to_gigabytes(1500, "MB") == pytest.approx(1.5)
    assert to_gigabytes(1, "Gi") == pytest.approx(1.073741824)
    assert parse_quantity("512 MiB") == (512.0, "MiB")
    assert parse_count("500m") == 0.5 and parse_count("2") == 2.0 and parse_count(4) == 4.0
    with pytest.raises(ValueError):
        to_bytes(1, "parsecs")
    with pytest.raises(ValueError):
        to_milliseconds(1, "fortnights")


def test_parsers() -> None:
    assert parse_range("[0, 1]") == (0.0, 1.0)
    assert parse_range("-5 to 5") == (-5.0, 5.0)
    assert parse_range("0-1") == (0.0, 1.0)
    assert parse_range("red, green") is None
    assert parse_rate_per_second("about 200 images per day") == pytest.approx(200 / 86400)
    assert parse_rate_per_second("50/s") == 50
