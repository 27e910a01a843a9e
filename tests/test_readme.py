"""The README's Python examples run as written (in a scratch directory)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Every ```python block of ``text`` with the README line its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


def test_readme_has_a_python_example() -> None:
    assert python_blocks(README.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_readme_python_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # files the example writes (rails/) land here
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for line, code in python_blocks(README.read_text(encoding="utf-8")):
        # pad so a traceback points at the README's own line numbers
        exec(compile("\n" * (line - 1) + code, str(README), "exec"), namespace)
    out = capsys.readouterr().out

    code = "".join(c for _, c in python_blocks(README.read_text(encoding="utf-8")))
    if ".check(" in code:  # the example shows a clean row and a contract-violating row
        lines = out.splitlines()
        assert any(s.startswith("200 None ") for s in lines), out
        assert any(
            s.startswith("400 https://mlrails.dev/problems/invalid-input None") for s in lines
        ), out
    if ".save(" in code:
        assert (tmp_path / "rails" / "manifest.json").is_file()
