"""What the web UI shows, as plain dicts built from the rails and the decision log.

Nothing here produces HTML: the templates (autoescaped Jinja2) do, so every string that
came from a request (inputs, violation values, details) reaches the page only as text.
Long strings are clipped, so one huge logged input cannot make the page huge.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from http import HTTPStatus
from typing import Any

from mlrails._json import jsonable
from mlrails.guard.rails import Rails
from mlrails.protocol.status import StatusTable
from mlrails.store import DecisionRecord

#: windows offered for the status mix (seconds → label)
WINDOWS: dict[int, str] = {300: "5 min", 900: "15 min", 3600: "1 h", 86400: "24 h"}
DEFAULT_WINDOW_S = 900
#: how many recent non-200 decisions are shown
RECENT_LIMIT = 20
#: longest text shown for one value, and for one logged input
MAX_TEXT = 500
MAX_INPUT = 2000
#: contract violations listed per decision (the logged document has them all)
MAX_ERRORS = 10

_LABELS = {
    "ok": "passed every safeguard",
    "not_authoritative": "answered, not authoritative",
    "mixed": "mixed batch",
    "invalid_input": "invalid input",
    "unauthorized": "unauthorized",
    "adversarial": "suspected adversarial",
    "out_of_distribution": "out of distribution",
    "rate_limited": "rate limited",
    "model_error": "model error",
    "unavailable": "unavailable",
    "timeout": "timed out",
}


def window_seconds(raw: str | None) -> int:
    """The requested window if it is one of :data:`WINDOWS`, else the default."""
    try:
        value = int(raw) if raw is not None else DEFAULT_WINDOW_S
    except ValueError:
        return DEFAULT_WINDOW_S
    return value if value in WINDOWS else DEFAULT_WINDOW_S


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def _json_text(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, indent=indent, sort_keys=False)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return clip(value)
    return clip(_json_text(value))


def status_label(code: int, table: StatusTable) -> str:
    for name, label in _LABELS.items():
        if getattr(table, name, None) == code:
            return label
    try:
        return HTTPStatus(code).phrase.lower()
    except ValueError:
        return "other"


def status_mix(counts: dict[int, int], table: StatusTable) -> dict[str, Any]:
    total = sum(counts.values())
    rows = []
    for code, n in sorted(counts.items()):
        fraction = n / total if total else 0.0
        rows.append(
            {
                "code": code,
                "klass": f"s{code // 100}xx",
                "label": status_label(code, table),
                "count": n,
                "fraction": f"{fraction:.4f}",
                "share": f"{100 * fraction:.1f} %",
            }
        )
    return {"total": total, "rows": rows}


def time_text(t: datetime) -> str:
    """A logged time as pages show it (the log stores UTC)."""
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def _contributions_view(items: Any) -> list[dict[str, str]]:
    """Logged per-feature contributions (SHAP or OOD) as table rows: feature, value, part."""
    return [
        {
            "feature": _value(c.get("feature")),
            "value": _value(c.get("value")),
            "contribution": _value(c.get("contribution")),
        }
        for c in items or []
        if isinstance(c, dict)
    ]


def _ood_view(attr: Any) -> dict[str, Any] | None:
    """Which features made a 422 row unusual (the logged OOD score split by feature)."""
    if not isinstance(attr, dict):
        return None
    return {
        "detector": _value(attr.get("detector")),
        "score": _value(attr.get("score")),
        "offset": _value(attr.get("offset")),
        "exact": bool(attr.get("exact")),
        "remainder": _value(attr.get("remainder")),
        "contributions": _contributions_view(attr.get("contributions")),
    }


def decision_view(r: DecisionRecord) -> dict[str, Any]:
    """One logged non-200 decision: its problem document, evidence and input."""
    out = r.output if isinstance(r.output, dict) else {}
    problem_type = out.get("problem") or out.get("type") or r.problem or ""
    safeguards = []
    for s in out.get("safeguards") or []:
        if not isinstance(s, dict):
            continue
        safeguards.append(
            {
                "name": _value(s.get("name")),
                "mode": _value(s.get("mode")),
                "triggered": bool(s.get("triggered")),
                "score": _value(s.get("score")),
                "threshold": _value(s.get("threshold")),
                "details": _value(s.get("details")) if s.get("details") else "",
            }
        )
    errors = []
    all_errors = out.get("errors") or []
    for e in all_errors[:MAX_ERRORS]:
        if not isinstance(e, dict):
            continue
        errors.append(
            {
                "field": _value(e.get("field")),
                "code": _value(e.get("code")),
                "value": _value(e.get("value")),
                "expected": _value(e.get("expected")),
            }
        )
    explanation = None
    exp = out.get("explanation")
    if isinstance(exp, dict):
        explanation = {
            "method": _value(exp.get("method")),
            "base_value": _value(exp.get("base_value")),
            "output": _value(exp.get("output")),
            "output_space": _value(exp.get("output_space")),
            "explains": _value(exp.get("explains") or exp.get("output_space")),
            "class_label": _value(exp.get("class_label")),
            "remainder": _value(exp.get("remainder")),
            "contributions": _contributions_view(exp.get("contributions")),
        }
    return {
        "id": r.id,
        "time": time_text(r.time),
        "ood": _ood_view(out.get("ood_contributions")),
        "status": r.status,
        "klass": f"s{r.status // 100}xx",
        "type": clip(str(problem_type)),
        "title": clip(str(out.get("title") or "")),
        "detail": clip(str(out.get("detail") or "")),
        "trace_id": r.trace_id,
        "row": r.row_index,
        "key_id": r.key_id,
        "safeguards": safeguards,
        "errors": errors,
        "more_errors": max(0, len(all_errors) - MAX_ERRORS),
        "explanation": explanation,
        "input": clip(r.input if isinstance(r.input, str) else _json_text(r.input), MAX_INPUT),
        "document": clip(_json_text(out, indent=2), 20_000),
    }


def artifact_view(rails: Rails) -> dict[str, Any]:
    """The served artifact: hash, model, data sizes, safeguard thresholds and alarm rates."""
    s = rails.summary
    manifest = rails.manifest or {}
    raw_model = manifest.get("model")
    model: dict[str, Any] = raw_model if isinstance(raw_model, dict) else {}
    model_rows = [
        ("task", s.task),
        ("framework", _framework(model)),
        ("model class", model.get("model_class")),
        ("classes", manifest.get("classes")),
        ("training rows", s.n_train),
        ("calibration rows", s.n_calibration),
        ("calibration accuracy", s.calibration_accuracy),
        ("conformal coverage", s.conformal_coverage),
        ("created", manifest.get("created_at")),
        ("mlrails version", manifest.get("mlrails_version")),
    ]
    calibration = None if s.calibration is None else asdict(s.calibration)
    if calibration is not None:
        model_rows.append(("calibration", calibration))
    return {
        "artifact_hash": rails.artifact_hash,
        "model": [(k, _value(v)) for k, v in model_rows if v is not None],
        "safeguards": [
            {
                "name": g.name,
                "mode": g.mode,
                "threshold": _value(g.threshold),
                "target_fpr": _rate(g.target_fpr),
                "realised_fpr": _rate(g.realised_fpr),
                "n_calibration": _value(g.n_calibration),
            }
            for g in s.safeguards
        ],
        "notes": [clip(n) for n in s.notes],
    }


def _framework(model: dict[str, Any]) -> str | None:
    name = model.get("framework")
    if not name:
        return None
    version = model.get("framework_version")
    return f"{name} {version}" if version else str(name)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"
