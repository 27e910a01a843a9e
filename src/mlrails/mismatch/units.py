"""Quantities in descriptors, in one unit each: times in milliseconds, sizes in bytes.

Descriptors say a quantity as a number and a unit (``InferenceTime``: ``time`` + ``unit``) or as
free text (``"512 MiB"``, ``"500m"`` CPUs, ``"about 200 images per day"``). Every comparison of
quantities goes through these conversions, with the relative tolerance :data:`REL_TOL` (float
round-off, not a business margin).
"""

from __future__ import annotations

import math
import re

from mlrails.descriptors.common import InferenceTime

REL_TOL = 1e-9
"""Relative tolerance of every quantity comparison (float round-off, not a business margin)."""


_TIME_MS: dict[str, float] = {
    "us": 1e-3,
    "µs": 1e-3,
    "μs": 1e-3,
    "microsecond": 1e-3,
    "ms": 1.0,
    "millisecond": 1.0,
    "s": 1e3,
    "sec": 1e3,
    "second": 1e3,
    "min": 6e4,
    "minute": 6e4,
    "h": 3.6e6,
    "hr": 3.6e6,
    "hour": 3.6e6,
    "d": 8.64e7,
    "day": 8.64e7,
}

_SIZE_BYTES: dict[str, float] = {
    "b": 1.0,
    "byte": 1.0,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "pb": 1e15,
    "kib": 2.0**10,
    "mib": 2.0**20,
    "gib": 2.0**30,
    "tib": 2.0**40,
    "pib": 2.0**50,
    "k": 1e3,
    "m": 1e6,
    "g": 1e9,
    "t": 1e12,
    "ki": 2.0**10,
    "mi": 2.0**20,
    "gi": 2.0**30,
    "ti": 2.0**40,
}

_COUNT_FACTOR: dict[str, float] = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµμ]*)\s*$")


def _unit_key(unit: str) -> str:
    u = unit.strip().lower()
    if len(u) > 3 and u.endswith("s") and u[:-1] in _TIME_MS:
        return u[:-1]
    return u


def to_milliseconds(value: float, unit: str) -> float:
    """A time in milliseconds; ``unit`` is us/ms/s/min/h/d or their names (any case, plural).

    >>> to_milliseconds(0.1, "Seconds")
    100.0
    """
    key = _unit_key(unit)
    if key not in _TIME_MS:
        raise ValueError(f"unknown time unit {unit!r} (use us, ms, s, min, h or d)")
    return float(value) * _TIME_MS[key]


def inference_ms(t: InferenceTime) -> float:
    """An inference time of a descriptor in milliseconds."""
    return to_milliseconds(t.time, t.unit)


def to_bytes(value: float, unit: str) -> float:
    """A memory or storage size in bytes: B, kB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB
    (powers of 1024), any case; Kubernetes-style ``Mi``/``Gi`` and ``M``/``G`` too."""
    u = unit.strip()
    key = u.lower().removesuffix("ytes").removesuffix("yte") if u.lower() != "b" else "b"
    if key.endswith("b") and key not in _SIZE_BYTES:
        key = key[:-1] + "b"
    if key == "byte" or key == "b":
        return float(value)
    if key not in _SIZE_BYTES:
        raise ValueError(f"unknown size unit {unit!r} (use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    return float(value) * _SIZE_BYTES[key]


def to_gigabytes(value: float, unit: str) -> float:
    """A size in (decimal) gigabytes, the unit of the v1.2 ``memory``/``storage`` fields."""
    return to_bytes(value, unit) / 1e9


def parse_quantity(text: str) -> tuple[float, str]:
    """``"512 MiB"`` → ``(512.0, "MiB")``; the unit may be empty. ValueError otherwise."""
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a number with an optional unit")
    return float(m.group(1)), m.group(2)


def parse_count(text: str | float) -> float:
    """A compute count: ``2``, ``"1.5"``, Kubernetes ``"500m"`` (0.5 CPU), ``"2k"``."""
    if isinstance(text, int | float):
        return float(text)
    value, suffix = parse_quantity(text)
    if suffix not in _COUNT_FACTOR:
        raise ValueError(f"unknown count suffix {suffix!r} in {text!r} (use m, k, M or G)")
    return value * _COUNT_FACTOR[suffix]


_RATE = re.compile(
    rf"({_NUMBER})\s*(?:[A-Za-z ]*?)\s*(?:per|/|an?|each)\s*"
    r"(second|sec|s|minute|min|hour|hr|h|day|d)\b",
    re.IGNORECASE,
)


def parse_rate_per_second(text: str) -> float | None:
    """Items per second from free text such as ``"about 200 images per day"``, or ``None``."""
    m = _RATE.search(text.replace(",", ""))
    if not m:
        return None
    return float(m.group(1)) / (to_milliseconds(1, m.group(2)) / 1e3)


_RANGE = re.compile(
    rf"^\s*(?:range\s*:?\s*|between\s+|from\s+)?[\[(]?\s*({_NUMBER})\s*"
    rf"(?:,|;|\.\.|to|and|–|-)\s*({_NUMBER})\s*[\])]?\s*$",
    re.IGNORECASE,
)


def parse_range(text: str) -> tuple[float, float] | None:
    """``"[0, 1]"``, ``"0-1"``, ``"0 to 1"``, ``"between -5 and 5"`` → (low, high); else None."""
    m = _RANGE.match(text)
    if not m:
        return None
    lo, hi = float(m.group(1)), float(m.group(2))
    return (lo, hi) if lo <= hi else (hi, lo)


def exceeds(value: float, limit: float) -> bool:
    """``value > limit`` beyond the relative tolerance :data:`REL_TOL`."""
    return value > limit and not math.isclose(value, limit, rel_tol=REL_TOL, abs_tol=1e-12)
