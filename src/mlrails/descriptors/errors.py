"""Errors and warnings about descriptor documents, each naming file, JSON path and problem.

A path is a JSONPath into the document as written (``$.model_components[0].learning_algorithm``),
so a user can find the offending value without knowing mlrails' Python models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlrails.errors import MlrailsError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_LISTED = 10


def json_path(loc: Sequence[str | int]) -> str:
    """JSONPath text for a location given as keys and list indexes (``()`` is ``$``)."""
    parts = ["$"]
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            parts.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


@dataclass(frozen=True)
class DescriptorIssue:
    """One problem (or warning) found in a descriptor document."""

    file: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.problem}"


class DescriptorError(MlrailsError):
    """A descriptor document cannot be read: not JSON, not the v1.2 format, unknown version.

    ``issues`` lists every problem found (all of them, not just the first); the message names
    the file once and then each path with its problem, on one line.
    """

    def __init__(self, issues: Sequence[DescriptorIssue]) -> None:
        if not issues:
            raise ValueError("DescriptorError needs at least one issue")
        self.issues: list[DescriptorIssue] = list(issues)
        super().__init__(self._message())

    @classmethod
    def single(cls, file: str, path: str, problem: str) -> DescriptorError:
        """An error with one issue."""
        return cls([DescriptorIssue(file, path, problem)])

    @property
    def file(self) -> str:
        """The file (or ``<document>`` for an in-memory document) the problems are in."""
        return self.issues[0].file

    @property
    def path(self) -> str:
        """JSON path of the first problem."""
        return self.issues[0].path

    @property
    def problem(self) -> str:
        """Text of the first problem."""
        return self.issues[0].problem

    def _message(self) -> str:
        if len(self.issues) == 1:
            return str(self.issues[0])
        listed = "; ".join(f"{i.path}: {i.problem}" for i in self.issues[:_MAX_LISTED])
        more = len(self.issues) - _MAX_LISTED
        tail = f"; and {more} more" if more > 0 else ""
        return f"{self.file}: {len(self.issues)} problems: {listed}{tail}"


class DescriptorWarning(UserWarning):
    """A descriptor was read, but something in it was changed or ignored (see the message)."""
