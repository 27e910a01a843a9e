"""An error message repeats a user-supplied value only up to a bounded length (issue 12)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mlrails.errors import ECHO_LIMIT, echo
from runcli import run_cli

HUGE = "x" * 100_000


@given(st.text(max_size=2000))
def test_echo_is_bounded_and_keeps_short_values_whole(value: str) -> None:
    shown = echo(value)
    if len(repr(value)) <= ECHO_LIMIT:
        assert shown == repr(value)
    else:
        assert shown.startswith(repr(value)[:ECHO_LIMIT])
        assert len(shown) <= ECHO_LIMIT + 30
        assert f"({len(value)} characters)" in shown


def test_log_export_does_not_echo_a_huge_since(tmp_path: Path) -> None:
    res = run_cli(
        "log", "export", "-o", tmp_path / "o.csv", "--store", tmp_path / "d.db", "--since", HUGE
    )
    assert res.returncode == 2
    assert "--since" in res.stderr and "100000 characters" in res.stderr
    assert len(res.stderr) < 1000


def test_describe_does_not_echo_a_huge_since_or_window(tmp_path: Path) -> None:
    for option in ("--since", "--window"):
        res = run_cli("describe", "--store", tmp_path / "d.db", option, HUGE)
        assert res.returncode != 0
        assert option in res.stderr and "100000 characters" in res.stderr, res.stderr[:300]
        assert len(res.stderr) < 1000
