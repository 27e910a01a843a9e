"""The top-level package: what ``dir(mlrails)`` shows and the lazy imports behind it."""

from __future__ import annotations

import subprocess
import sys

import mlrails


def test_dir_shows_the_public_api_and_no_typing_names() -> None:
    names = dir(mlrails)
    assert {"fit", "load", "Policy", "Rails", "Verdict", "MlrailsError"} <= set(names)
    assert not {"Any", "Path", "TYPE_CHECKING", "annotations"} & set(names)
    assert names == sorted(mlrails.__all__)
    for name in names:  # every listed name resolves (lazily where it is lazy)
        assert getattr(mlrails, name) is not None


def test_import_stays_lazy() -> None:
    """``import mlrails`` and ``dir(mlrails)`` load no guard (nor scikit-learn)."""
    code = (
        "import sys, mlrails; dir(mlrails); "
        "print('mlrails.guard' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
