"""Check a descriptor document against the public v1.2 JSON schemas (jsonschema, draft 7).

mlrails validates with its own models; this check proves compatibility with the reference
schemas (tests and ``mlrails`` users who have them). It needs the ``jsonschema`` package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlrails.descriptors.common import DescriptorKind
from mlrails.errors import MlrailsError


def schema_file(schemas_dir: str | Path, kind: DescriptorKind) -> Path:
    """Path of a kind's reference schema in a directory of v1.2 schemas."""
    return Path(schemas_dir) / f"{kind}_schema.json"


def validate_against_schema(document: Mapping[str, Any], schema_path: str | Path) -> list[str]:
    """Every violation of the JSON schema at ``schema_path``, as ``"$.path: message"`` lines.

    Formats are checked where jsonschema can (``date`` always; ``uri`` when ``rfc3987`` is
    installed). An empty list means the document is valid.
    """
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is a dev dependency
        raise MlrailsError("checking against a JSON schema needs: pip install jsonschema") from None
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: (e.json_path, e.message))
    return [f"{e.json_path}: {e.message}" for e in errors]
