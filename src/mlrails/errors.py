"""Typed errors raised by mlrails.

Every error a user can trigger derives from :class:`MlrailsError`, so callers (and the CLI)
can catch one class and print a one-line message instead of a traceback.
"""

from __future__ import annotations


class MlrailsError(Exception):
    """Base class of every error mlrails raises on purpose."""


class ArtifactError(MlrailsError):
    """A rails artifact is missing, corrupt, tampered with or from an incompatible version."""


class PolicyError(MlrailsError):
    """A policy file or object is invalid."""


class ModelLoadError(MlrailsError):
    """A model file cannot be loaded, or loading it would be unsafe without ``trust``."""


class DataError(MlrailsError):
    """Training or calibration data cannot be used (empty, wrong shape, unreadable file)."""


class NotFittedError(MlrailsError):
    """A component was used before ``fit``."""


class ModelUnavailable(MlrailsError):
    """The model could not be reached or answered garbage (a remote model behind
    ``--upstream``): no fault of the rows, so the guard does not retry row by row and the
    service answers 502 (``timeout=False``) or 504 (``timeout=True``) for the whole call."""

    def __init__(self, detail: str, *, timeout: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.timeout = timeout


#: the most characters of a user-supplied value an error message repeats
ECHO_LIMIT = 80


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` bounded to ``limit`` characters for an error message, saying how long
    the value was, so that a 100 KB option value is not printed back whole."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[:limit]}… ({size} characters)"
