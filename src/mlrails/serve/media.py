"""Which request bodies the JSON endpoints read: JSON, unencoded.

A body with another ``Content-Type`` (a form, text/plain, XML) or a ``Content-Encoding``
other than ``identity`` (the service decodes none) is answered 415 rather than guessed at.
``application/json`` with any parameters (``; charset=utf-8``) and ``application/*+json``
are JSON; a request with no ``Content-Type`` is read as JSON too (``curl -d`` convenience).
"""

from __future__ import annotations

from collections.abc import Mapping

from mlrails.errors import echo
from mlrails.protocol import problem as problems
from mlrails.serve.problems import ServeError

#: the media type the JSON endpoints accept
JSON_MEDIA_TYPE = "application/json"


def is_json(content_type: str) -> bool:
    """``content_type`` names JSON: application/json or application/*+json, any parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or (
        media.startswith("application/") and media.endswith("+json")
    )


def unsupported_body(headers: Mapping[str, str]) -> ServeError | None:
    """The 415 for a body the JSON endpoints cannot read, or None when it is JSON."""
    encoding = headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        return ServeError(
            problems.UNSUPPORTED_MEDIA_TYPE,
            415,
            f"Content-Encoding {echo(encoding)} is not decoded here: send the body unencoded",
            headers={"Accept-Encoding": "identity"},
        )
    content_type = headers.get("content-type")
    if content_type is not None and not is_json(content_type):
        return ServeError(
            problems.UNSUPPORTED_MEDIA_TYPE,
            415,
            f"Content-Type {echo(content_type)} is not accepted: send {JSON_MEDIA_TYPE}",
            headers={"Accept": JSON_MEDIA_TYPE},
        )
    return None
