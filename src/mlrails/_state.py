"""Pickle-free persistence of fitted components.

A fitted component turns itself into a JSON-able ``meta`` dict plus a dict of NumPy arrays,
and is rebuilt from the two. The artifact writer namespaces the arrays per component and
stores them in one ``.npz`` file, so an artifact never executes code when it is loaded.
The metadata is written as JSON with sorted keys: a state must not rely on the order of a
dict's keys (anything ordered, such as per-column vocabularies, is a list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass
class State:
    """The saved form of one fitted component: JSON metadata plus named arrays."""

    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, NDArray[Any]] = field(default_factory=dict)

    def array(self, name: str) -> NDArray[Any]:
        """Return the array ``name``; a missing array is an artifact error, not a KeyError."""
        from mlrails.errors import ArtifactError

        try:
            return self.arrays[name]
        except KeyError:
            raise ArtifactError(f"saved state lacks the array {name!r}") from None


def flatten_states(states: dict[str, State]) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Merge named component states into one meta dict and one flat, prefixed array dict."""
    meta: dict[str, Any] = {}
    arrays: dict[str, NDArray[Any]] = {}
    for name, state in states.items():
        meta[name] = state.meta
        for key, value in state.arrays.items():
            arrays[f"{name}/{key}"] = np.asarray(value)
    return meta, arrays


def unflatten_states(meta: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> dict[str, State]:
    """Inverse of :func:`flatten_states`."""
    states = {name: State(meta=dict(m), arrays={}) for name, m in meta.items()}
    for key, value in arrays.items():
        name, _, sub = key.partition("/")
        states.setdefault(name, State()).arrays[sub] = value
    return states
