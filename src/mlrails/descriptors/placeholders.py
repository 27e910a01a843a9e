"""What counts as filled in: the one rule every reader of descriptors applies.

A field is *not* filled when it is missing (``None``), blank text, a placeholder people type
(``TBD``, ``TODO``, ``unknown``, ``n/a``, ``?``, ``-``) or what ``mlrails describe`` writes where
it cannot measure (:data:`TO_FILL`, possibly followed by a hint). Anything else — any number,
any other text — is the team's answer. The mismatch rules and the readiness score both use
:func:`filled`, so a field never counts as answered for one and missing for the other.
"""

from __future__ import annotations

TO_FILL = "TO FILL"
"""Written where a required field cannot be measured; the team replaces it."""

#: placeholder texts (compared stripped, in lower case)
PLACEHOLDERS = frozenset({"", "tbd", "todo", "to fill", "n/a", "na", "unknown", "?", "-"})


def filled(value: object) -> bool:
    """Whether ``value`` is the team's answer (see the module docstring)."""
    if value is None:
        return False
    if not isinstance(value, str):
        return True
    text = value.strip()
    return text.lower() not in PLACEHOLDERS and not text.upper().startswith(TO_FILL)
