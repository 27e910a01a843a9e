"""Named plugins of one kind — detectors, perturbations, attacks, calibrators, rules.

Every place that looks something up by name uses one :class:`Registry`: ``register`` adds
(usable as a decorator), lookup by name (``registry[name]`` or :meth:`Registry.get`, whose
error lists the known names), :meth:`Registry.names` lists, and it reads as a mapping. Adding a
detector, an attack or a rule is then one decorated class or function in one file.

Registering another object under a name already taken is an error (``conflict``); registering
the same object again is a no-op, so re-importing a module is harmless. Modules named in
``plugins`` are imported on the first look-up of a name not yet known, so plugins register
themselves even when nothing imported them yet.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")
Item = TypeVar("Item")


class Registry(Mapping[str, T], Generic[T]):
    """Objects of one kind by name (in registration order).

    ``kind`` names them in messages (``"unknown attack 'x'; available: a, b"``); ``error`` is raised
    for an unknown name (``ValueError`` by default) and ``conflict`` for a name taken by another
    object (``ValueError`` by default).
    """

    def __init__(
        self,
        kind: str,
        *,
        error: Callable[[str], Exception] = ValueError,
        conflict: Callable[[str], Exception] = ValueError,
        plugins: tuple[str, ...] = (),
    ) -> None:
        self.kind = kind
        self.error = error
        self.conflict = conflict
        self.plugins = plugins
        self._items: dict[str, T] = {}
        self._plugins_loaded = not plugins

    def add(self, name: str, item: T) -> T:
        """Register ``item`` as ``name``; returns ``item``."""
        current = self._items.get(name)
        if current is not None and current is not item:
            raise self.conflict(f"{self.kind} {name!r} is already registered to {_label(current)}")
        self._items[name] = item
        return item

    def register(self, item: Item) -> Item:
        """Class decorator: register ``item`` under its ``name`` attribute."""
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{_label(item)} needs a class attribute 'name' to be registered")
        self.add(name, item)  # type: ignore[arg-type]
        return item

    def get(self, name: str) -> T:  # type: ignore[override]
        """The object registered as ``name``; ``error`` listing the known names otherwise."""
        if name not in self._items:
            self._load_plugins()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            known = ", ".join(self.names()) or "none"
            raise self.error(f"unknown {self.kind} {name!r}; available: {known}") from None

    def names(self, where: Callable[[T], bool] | None = None) -> list[str]:
        """The registered names (of the objects ``where`` accepts), sorted."""
        return sorted(n for n, item in self._items.items() if where is None or where(item))

    def copy(self) -> Registry[T]:
        """An independent registry with the same entries (for tests that register more)."""
        out: Registry[T] = Registry(
            self.kind, error=self.error, conflict=self.conflict, plugins=self.plugins
        )
        out._items = dict(self._items)
        out._plugins_loaded = self._plugins_loaded
        return out

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for module in self.plugins:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:  # the module exists but one of its imports is missing
                    raise

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._items)})"


def _label(item: object) -> str:
    return getattr(item, "__qualname__", None) or repr(item)
