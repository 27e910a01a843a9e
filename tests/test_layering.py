"""The package layout stays true: imports between sub-packages only point down the layers,
and no private name crosses a module.

The layers are :data:`LAYERS` (bottom first), the same list as ``ARCHITECTURE.md``. A module of
package P may import from package Q only when Q is below P (or Q is P). Imports under
``if TYPE_CHECKING:`` are annotations, not dependencies, and are not counted. The few
imports that point *up* are the delegates in :data:`DELEGATES`, each inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mlrails

ROOT = Path(mlrails.__file__).parent

#: every sub-package and top-level module, bottom layer first
LAYERS: tuple[str, ...] = (
    # foundation: no mlrails imports but each other's
    "version",
    "errors",
    "_json",
    "_state",
    "clock",
    "registry",
    "measure",
    "tabular_io",
    "protocol",
    # what the guard is built from
    "contract",
    "models",
    "store",
    "descriptors",
    "detectors",
    "reliability",
    "explain",
    "drift",
    # the guard, its artifact, and what reads descriptors
    "guard",
    "artifact",
    "mismatch",
    # the applications of the guard
    "bench",
    "serve",
    "describe",
    "score",
    # entry points
    "__init__",
    "demo",
    "cli",
)

#: the imports allowed to point up, (importing module, imported module): each sits inside the
#: one function that delegates, so importing the lower package never imports the upper one
DELEGATES: dict[tuple[str, str], str] = {
    ("mlrails.guard.rails", "mlrails.artifact.io"): "Rails.save writes the artifact",
    ("mlrails.guard.fitting", "mlrails.artifact.io"): "fit stamps verdicts with the artifact hash",
}

#: private modules every layer above them may import (underscore: not part of the public API)
SHARED_PRIVATE_MODULES = frozenset({"mlrails._json", "mlrails._state"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module
    name: str | None  # the imported name (``from target import name``)
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True
    return False


def _imports() -> Iterator[Import]:
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                pairs: list[tuple[str, str | None]] = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                pairs = [(target, alias.name) for alias in node.names]
            else:
                continue
            if _under_type_checking(node, parents):
                continue
            for target, name in pairs:
                if (
                    target == "mlrails"
                    and name is not None
                    and ((ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file())
                ):
                    target, name = f"mlrails.{name}", None  # ``from mlrails import describe``
                if target == "mlrails" or target.startswith("mlrails."):
                    yield Import(module, target, name, node.lineno, _in_function(node, parents))


IMPORTS = list(_imports())


def test_every_package_has_a_layer() -> None:
    found = {_layer(_module_name(p)) for p in ROOT.rglob("*.py")}
    assert found <= set(LAYERS), f"add {sorted(found - set(LAYERS))} to LAYERS and ARCHITECTURE.md"
    assert set(LAYERS) <= found, f"{sorted(set(LAYERS) - found)} no longer exist"


def test_imports_between_packages_only_point_down() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    up = [
        f"{i.module}:{i.line} imports {i.target} ({_layer(i.target)} is above {_layer(i.module)})"
        for i in IMPORTS
        if rank[_layer(i.target)] > rank[_layer(i.module)]
        and not (i.in_function and (i.module, i.target) in DELEGATES)
    ]
    assert not up, "imports that point up:\n" + "\n".join(up)


def test_the_upward_delegates_are_few_and_still_used() -> None:
    assert len(DELEGATES) <= 3
    used = {(i.module, i.target) for i in IMPORTS if i.in_function}
    assert set(DELEGATES) <= used, f"stale delegates: {set(DELEGATES) - used}"


def _private(name: str | None) -> bool:
    return name is not None and name.startswith("_") and not name.startswith("__")


def test_no_private_name_crosses_a_module() -> None:
    crossing = [
        f"{i.module}:{i.line} takes {i.target}.{i.name}"
        for i in IMPORTS
        if _private(i.name) and i.target != i.module
    ]
    crossing += [
        f"{i.module}:{i.line} imports the private module {i.target}"
        for i in IMPORTS
        if any(_private(part) for part in i.target.split("."))
        and i.target not in SHARED_PRIVATE_MODULES
        and i.target.rpartition(".")[0] != i.module.rpartition(".")[0]
    ]
    assert not crossing, "private names used from another module:\n" + "\n".join(crossing)


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_800_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 800, f"{path.relative_to(ROOT)} has {lines} lines: split it by concept"
