"""The one registry helper: add, register, look up, list, conflicts, plugins."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlrails.registry import Registry


class _Boom(Exception):
    pass


@given(names=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=12))
def test_names_are_sorted_and_lookup_returns_what_was_added(names: list[str]) -> None:
    reg: Registry[int] = Registry("thing")
    for i, name in enumerate(names):
        assert reg.add(name, i) == i
    assert reg.names() == sorted(names)
    assert list(reg) == names  # a mapping in registration order
    assert len(reg) == len(names)
    for i, name in enumerate(names):
        assert reg.get(name) == i and reg[name] == i
    assert reg.names(lambda v: v % 2 == 0) == sorted(n for i, n in enumerate(names) if i % 2 == 0)


def test_unknown_name_raises_the_chosen_error_listing_known_names() -> None:
    reg: Registry[int] = Registry("attack", error=_Boom)
    reg.add("fgsm", 1)
    reg.add("hopskipjump", 2)
    with pytest.raises(_Boom, match=r"unknown attack 'carlini'; available: fgsm, hopskipjump"):
        reg.get("carlini")
    with pytest.raises(KeyError):
        reg["carlini"]  # plain mapping access stays a KeyError
    with pytest.raises(ValueError, match="unknown thing 'x'; available: none"):
        Registry[int]("thing").get("x")


def test_a_taken_name_is_a_conflict_but_the_same_object_again_is_not() -> None:
    class A:
        name = "a"

    class B:
        name = "a"

    reg: Registry[type] = Registry("perturbation", conflict=TypeError)
    assert reg.register(A) is A
    assert reg.register(A) is A
    with pytest.raises(TypeError, match="perturbation 'a' is already registered to"):
        reg.register(B)
    with pytest.raises(TypeError, match="needs a class attribute 'name'"):
        reg.register(object)
    assert reg.get("a") is A


def test_copy_is_independent() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("a", 1)
    other = reg.copy()
    other.add("b", 2)
    assert "b" not in reg and other.names() == ["a", "b"]


def test_plugins_are_imported_on_the_first_unknown_lookup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = types.ModuleType("_mlrails_plugin_host")
    reg: Registry[int] = Registry("thing", plugins=("_mlrails_plugin_x", "_mlrails_plugin_missing"))
    host.REG = reg  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_mlrails_plugin_host", host)
    (tmp_path / "_mlrails_plugin_x.py").write_text(
        "import _mlrails_plugin_host as h\nh.REG.add('late', 7)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "_mlrails_plugin_x", raising=False)
    reg.add("early", 1)
    assert reg.get("early") == 1 and "_mlrails_plugin_x" not in sys.modules  # known: no import
    assert reg.get("late") == 7  # unknown: the plugin was imported and registered it
    with pytest.raises(ValueError, match="unknown thing 'nope'; available: early, late"):
        reg.get("nope")  # the missing plugin module is skipped, not an error
    (tmp_path / "_mlrails_plugin_y.py").write_text("import _mlrails_no_such_dependency\n")
    broken: Registry[int] = Registry("thing", plugins=("_mlrails_plugin_y",))
    with pytest.raises(ModuleNotFoundError):
        broken.get("x")  # a plugin whose own import fails is an error, not skipped
