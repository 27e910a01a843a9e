"""What the descriptor and mismatch pages show, as plain dicts built from the descriptor library.

The editor has one form control per top-level field of a descriptor: text, date and number
fields are inputs, enumerations and booleans are selects, anything nested (objects, lists) is a
textarea holding the field's value as JSON. :func:`document_from_form` turns a submitted form
back into a JSON document and validates the *whole* document through the library
(:func:`~mlrails.descriptors.parse_descriptor`), so the rules are exactly those used when the
file is read. Field descriptions come from the pydantic models (the v1.2 schemas' own text).
Nothing here produces HTML: the autoescaped templates do.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlrails.descriptors import (
    DESCRIPTOR_KINDS,
    DESCRIPTOR_TYPES,
    Descriptor,
    DescriptorError,
    DescriptorIssue,
    DescriptorKind,
    DescriptorSet,
    descriptor_filename,
    parse_descriptor,
)
from mlrails.descriptors.statistics import DescriptorWithStatistics, Statistic
from mlrails.mismatch.findings import MismatchReport
from mlrails.mismatch.render import STATISTICS_COLUMNS, format_number

Mode = Literal["text", "number", "boolean", "date", "choice", "json"]
State = Literal["present", "missing", "unreadable"]

#: deepest nesting shown in a field's structure (the descriptors nest four levels at most)
_MAX_DEPTH = 8
#: a text value longer than this (or with a line break) is edited in a textarea
_LONG_TEXT = 90
_TOP_FIELD = re.compile(r"^\$(?:\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\])")


def is_kind(kind: str) -> bool:
    """True for one of the eight descriptor kinds (the only names a file path is built from)."""
    return kind in DESCRIPTOR_KINDS


# -- the structure of a model ----------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A field inside a nested value: name, description, type and its own fields."""

    name: str
    description: str
    type_text: str
    required: bool
    children: tuple[Node, ...] = ()


@dataclass(frozen=True)
class FieldSpec:
    """A top-level field of a descriptor and how the editor shows it."""

    name: str
    description: str
    type_text: str
    required: bool
    mode: Mode
    choices: tuple[str, ...]
    annotation: Any
    children: tuple[Node, ...]


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(annotation, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(get_args(annotation)):
            return args[0], True
    return annotation, False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_text(annotation: Any) -> str:
    """A short human description of a type: ``list of objects``, ``one of: A, B``."""
    inner, optional = _unwrap_optional(annotation)
    text = _plain_type_text(inner)
    return f"{text}, or absent" if optional else text


def _plain_type_text(annotation: Any) -> str:
    origin = get_origin(annotation)
    if annotation is str:
        return "text"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is bool:
        return "true or false"
    if annotation is date:
        return "date (YYYY-MM-DD)"
    if origin is Literal:
        return "one of: " + ", ".join(str(a) if a != "" else '""' for a in get_args(annotation))
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        return "list of " + ("objects" if _is_model(item) else _type_text(item))
    if origin is dict:
        key, value = get_args(annotation) or (Any, Any)
        return f"object ({_type_text(key)} → {_type_text(value)})"
    if _is_model(annotation):
        return "object"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(a) for a in get_args(annotation))
    return "any JSON value"


def _contained_model(annotation: Any) -> type[BaseModel] | None:
    """The model a value of this type holds (itself, or the items of a list/dict), if any."""
    inner, _ = _unwrap_optional(annotation)
    if _is_model(inner):
        model: type[BaseModel] = inner
        return model
    origin = get_origin(inner)
    if origin is list and get_args(inner):
        return _contained_model(get_args(inner)[0])
    if origin is dict and len(get_args(inner)) == 2:
        return _contained_model(get_args(inner)[1])
    return None


def _written_annotation(model: type[BaseModel], name: str, info: FieldInfo) -> Any:
    """The type of a field as the v1.2 document holds it (typed statistics are written as
    the format's ``{property, field, value}`` rows)."""
    if name == "statistics" and issubclass(model, DescriptorWithStatistics):
        return list[Statistic]
    return info.annotation


def _nodes(
    model: type[BaseModel], seen: frozenset[type[BaseModel]], depth: int
) -> tuple[Node, ...]:
    if depth > _MAX_DEPTH or model in seen:
        return ()
    out = []
    for name, info in model.model_fields.items():
        annotation = _written_annotation(model, name, info)
        inner = _contained_model(annotation)
        children = () if inner is None else _nodes(inner, seen | {model}, depth + 1)
        out.append(
            Node(
                name=info.alias or name,
                description=info.description or "",
                type_text=_type_text(annotation),
                required=info.is_required(),
                children=children,
            )
        )
    return tuple(out)


def _mode(annotation: Any) -> tuple[Mode, tuple[str, ...]]:
    inner, _ = _unwrap_optional(annotation)
    if inner is str:
        return "text", ()
    if inner in (int, float):
        return "number", ()
    if inner is bool:
        return "boolean", ("true", "false")
    if inner is date:
        return "date", ()
    if get_origin(inner) is Literal and all(isinstance(a, str) for a in get_args(inner)):
        return "choice", tuple(get_args(inner))
    return "json", ()


@cache
def field_specs(kind: DescriptorKind) -> tuple[FieldSpec, ...]:
    """The editable top-level fields of a kind (``version`` excluded: always 1.2)."""
    model = DESCRIPTOR_TYPES[kind]
    specs = []
    for name, info in model.model_fields.items():
        if name == "version":
            continue
        annotation = _written_annotation(model, name, info)
        mode, choices = _mode(annotation)
        inner = _contained_model(annotation)
        specs.append(
            FieldSpec(
                name=info.alias or name,
                description=info.description or "",
                type_text=_type_text(annotation),
                required=info.is_required(),
                mode=mode,
                choices=choices,
                annotation=annotation,
                children=() if inner is None else _nodes(inner, frozenset({model}), 1),
            )
        )
    return tuple(specs)


def version_description() -> str:
    """The schema description of the ``version`` field."""
    return Descriptor.model_fields["version"].description or ""


# -- a starting document for a descriptor not written yet ------------------------------------
def _min_items(info: FieldInfo) -> int:
    return max((int(m.min_length) for m in info.metadata if isinstance(m, MinLen)), default=0)


def _skeleton_value(annotation: Any, min_items: int = 0, depth: int = 0) -> Any:
    inner, optional = _unwrap_optional(annotation)
    if optional:
        return None
    if inner is str or inner is date:
        return ""
    if inner is int:
        return 0
    if inner is float:
        return 0.0
    if inner is bool:
        return False
    origin = get_origin(inner)
    if origin is Literal:
        return ""  # not a guess: the user picks one (validation lists them)
    if origin is list:
        item = get_args(inner)[0] if get_args(inner) else Any
        return [_skeleton_value(item, 0, depth + 1) for _ in range(min_items)] if depth < 4 else []
    if origin is dict:
        return {}
    if _is_model(inner) and depth < 4:
        return _skeleton_model(inner, depth + 1)
    return ""


def _skeleton_model(model: type[BaseModel], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "version":
            continue
        if info.is_required():
            annotation = _written_annotation(model, name, info)
            out[info.alias or name] = _skeleton_value(annotation, _min_items(info), depth)
        elif info.default is not None and _is_json(info.default):
            out[info.alias or name] = info.default
    return out


def skeleton(kind: DescriptorKind) -> dict[str, Any]:
    """A starting document: every required field with an empty value of its type (nested
    objects spelled out, lists with as many items as they need), defaults where there are."""
    return {"version": "1.2", **_skeleton_model(DESCRIPTOR_TYPES[kind], 0)}


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# -- document <-> form -----------------------------------------------------------------------
def form_values(kind: DescriptorKind, document: Mapping[str, Any]) -> dict[str, str]:
    """The text of each field's form control for a document (absent fields: empty)."""
    out: dict[str, str] = {}
    for spec in field_specs(kind):
        if spec.name not in document or document[spec.name] is None:
            out[spec.name] = ""
            continue
        value = document[spec.name]
        if spec.mode in ("text", "date", "choice") and isinstance(value, str):
            out[spec.name] = value
        elif spec.mode == "boolean" and isinstance(value, bool):
            out[spec.name] = "true" if value else "false"
        elif spec.mode == "json":
            out[spec.name] = json.dumps(value, indent=2, ensure_ascii=False)
        else:
            out[spec.name] = json.dumps(value, ensure_ascii=False)
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _field_value(spec: FieldSpec, raw: str) -> tuple[bool, Any, str | None]:
    """``(present, value, problem)`` of one submitted control."""
    if spec.mode == "text":
        text = raw.replace("\r\n", "\n")
        if text == "" and not spec.required:
            return False, None, None
        return True, text, None
    stripped = raw.strip()
    if stripped == "":
        return False, None, None
    if spec.mode in ("date", "choice"):
        return True, stripped, None
    if spec.mode == "boolean":
        if stripped in ("true", "false"):
            return True, stripped == "true", None
        return True, stripped, None
    if spec.mode == "number":
        try:
            number = json.loads(stripped, parse_constant=_reject_constant)
        except ValueError:
            return True, stripped, None  # the model reports the wrong type, with the text
        if isinstance(number, int | float) and not isinstance(number, bool):
            return True, number, None
        return True, stripped, None
    try:
        return True, json.loads(stripped, parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        return False, None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, RecursionError) as exc:
        return False, None, f"not valid JSON: {exc}"


@dataclass
class FormResult:
    """A submitted form: the validated descriptor, or the problems found."""

    descriptor: Descriptor | None
    issues: list[DescriptorIssue] = field(default_factory=list)
    warnings: list[DescriptorIssue] = field(default_factory=list)


def document_from_form(kind: DescriptorKind, form: Mapping[str, str], source: str) -> FormResult:
    """Validate a submitted form as a whole ``kind`` document through the library.

    A textarea that is not JSON is reported at its field, and the rest is still validated
    (issues about that field's absence left out), so one submission shows every problem.
    """
    document: dict[str, Any] = {"version": "1.2"}
    issues: list[DescriptorIssue] = []
    broken: set[str] = set()
    for spec in field_specs(kind):
        present, value, problem = _field_value(spec, form.get(spec.name, ""))
        if problem is not None:
            issues.append(DescriptorIssue(source, f"$.{spec.name}", problem))
            broken.add(spec.name)
        elif present:
            document[spec.name] = value
    try:
        loaded = parse_descriptor(document, source=source, kind=kind)
    except DescriptorError as exc:
        issues.extend(i for i in exc.issues if top_field(i.path) not in broken)
        return FormResult(None, issues)
    if issues:
        return FormResult(None, issues)
    return FormResult(loaded.descriptor, [], list(loaded.warnings))


def top_field(path: str) -> str | None:
    """The top-level field a JSON path points into (``$.a[0].b`` → ``a``), else None."""
    match = _TOP_FIELD.match(path)
    if match is None:
        return None
    if match.group(1) is not None:
        return match.group(1)
    return re.sub(r"\\(.)", r"\1", match.group(2))


def issue_view(issue: DescriptorIssue) -> dict[str, str]:
    """One problem as the templates show it: file, JSON path, problem."""
    return {
        "file": issue.file,
        "name": Path(issue.file).name,
        "path": issue.path,
        "problem": issue.problem,
    }


def editor_view(
    kind: DescriptorKind,
    values: Mapping[str, str],
    issues: Sequence[DescriptorIssue] = (),
) -> dict[str, Any]:
    """The editor: per field its description, type, control and the problems at that field;
    problems that belong to no field are returned apart (``general``)."""
    model = DESCRIPTOR_TYPES[kind]
    by_field: dict[str, list[dict[str, str]]] = {}
    general: list[dict[str, str]] = []
    names = {s.name for s in field_specs(kind)}
    for issue in issues:
        name = top_field(issue.path)
        if name in names:
            by_field.setdefault(name, []).append(issue_view(issue))
        else:
            general.append(issue_view(issue))
    fields = []
    for spec in field_specs(kind):
        value = values.get(spec.name, "")
        options: list[tuple[str, str]] = []
        if spec.mode in ("choice", "boolean"):
            if not spec.required or value == "":
                options.append(("", "— (absent)" if not spec.required else "— (choose)"))
            options.extend((c, c if c != "" else '"" (empty)') for c in spec.choices)
            if value not in {o for o, _ in options}:
                options.append((value, f"{value} (not allowed)"))
        lines = value.count("\n") + 1
        multiline = spec.mode == "json" or (
            spec.mode == "text" and ("\n" in value or len(value) > _LONG_TEXT)
        )
        fields.append(
            {
                "name": spec.name,
                "description": spec.description,
                "type_text": spec.type_text,
                "required": spec.required,
                "mode": spec.mode,
                "value": value,
                "options": options,
                "multiline": multiline,
                "rows": max(3, min(30, lines + 1)),
                "children": spec.children,
                "errors": by_field.get(spec.name, []),
            }
        )
    return {
        "kind": kind,
        "title": model.title,
        "description": " ".join((model.__doc__ or "").split()),
        "file": descriptor_filename(kind),
        "version_description": version_description(),
        "fields": fields,
        "general": general,
        "count": sum(len(v) for v in by_field.values()) + len(general),
    }


# -- the directory ---------------------------------------------------------------------------
def directory_view(ds: DescriptorSet) -> list[dict[str, Any]]:
    """Each of the eight kinds: present, missing or unreadable (with every problem)."""
    rows = []
    for kind in DESCRIPTOR_KINDS:
        name = descriptor_filename(kind)
        state: State
        if kind in ds.descriptors:
            state = "present"
        elif kind in ds.errors:
            state = "unreadable"
        else:
            state = "missing"
        error = ds.errors.get(kind)
        rows.append(
            {
                "kind": kind,
                "title": DESCRIPTOR_TYPES[kind].title,
                "file": name,
                "state": state,
                "issues": [] if error is None else [issue_view(i) for i in error.issues],
                "warnings": [issue_view(w) for w in ds.warnings if Path(w.file).name == name],
            }
        )
    return rows


# -- the mismatch report ---------------------------------------------------------------------
_STAT_COLUMNS = STATISTICS_COLUMNS


def report_view(report: MismatchReport) -> dict[str, Any]:
    """Findings (most severe first) with their numbers as text, counts per severity,
    unreadable files, skipped rules and the training-vs-production statistics."""
    return {
        "directory": report.directory,
        "counts": report.counts(),
        "present": list(report.present),
        "missing": list(report.missing),
        "findings": [
            {
                "rule_id": f.rule_id,
                "severity": f.severity,
                "message": f.message,
                "descriptors": list(f.descriptors),
                "fields": list(f.fields),
                "numbers": [(k, format_number(v)) for k, v in f.numbers.items()],
                "roles": list(f.roles),
                "fix_hint": f.fix_hint,
            }
            for f in report.sorted_findings()
        ],
        "problems": [
            {"file": p.file, "name": Path(p.file).name, "path": p.path, "problem": p.problem}
            for p in report.descriptor_problems
        ],
        "checked": list(report.checked_rules),
        "skipped": [{"rule_id": s.rule_id, "reason": s.reason} for s in report.skipped_rules],
        "stat_columns": list(_STAT_COLUMNS),
        "statistics": [
            [format_number(row.get(c)) for c in _STAT_COLUMNS] for row in report.statistics
        ],
    }
