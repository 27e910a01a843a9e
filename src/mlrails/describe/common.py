"""What ``mlrails describe`` cannot measure: the marker it writes, and where it wrote it."""

from __future__ import annotations

from typing import Any

from mlrails.descriptors.common import Descriptor
from mlrails.descriptors.errors import json_path
from mlrails.descriptors.placeholders import TO_FILL

__all__ = ["TO_FILL", "fields_to_fill"]


def fields_to_fill(descriptor: Descriptor) -> list[str]:
    """JSON paths (``$.model_components[0].hyper_parameters``) of the values still
    :data:`TO_FILL` in ``descriptor``, in document order."""
    found: list[str] = []
    _walk(descriptor.to_document(), (), found)
    return found


def _walk(value: Any, loc: tuple[str | int, ...], found: list[str]) -> None:
    if isinstance(value, str):
        if value.startswith(TO_FILL):
            found.append(json_path(loc))
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*loc, str(key)), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*loc, index), found)
