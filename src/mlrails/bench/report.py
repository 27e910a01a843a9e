"""Human-readable reports of a benchmark run: one self-contained HTML file and a Markdown
summary for CI logs.

The HTML has inline CSS and inline SVG charts (:mod:`mlrails.bench.svg`), no script and no
external URL, so it can be archived or mailed as is. Its sections: provenance, the gate
verdict (if given), a summary per pair, the clean condition's detection ROC curves, then per
perturbation or attack the accuracy and silent-failure curves over severity, reliability
diagrams and ROC curves at the worst severity, the status-code mix, the per-class confusion
shift; then comparisons between pairs (if given), failed cells and a table of every cell.

**Aggregation across seeds and repeats.** Where one (pair, condition, severity) ran several
seeds or repeats, a curve point and a table entry show the *mean* of the metric over the
cells that measured it, and its interval is the mean of their bootstrap bounds — the
uncertainty of one typical cell, not an envelope of the seeds (each seed is in the per-cell
table). The "worst severity" is the highest severity a pair has a successful cell at; its
reliability diagram and confusion matrix pool the counts of all its seeds, its ROC curve is
that of the cell with the lowest seed and repeat. The clean cells are drawn at severity 0.

Numbers are shown with :data:`PRECISION` decimals (shares of the status mix in percent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.bench.compare import PowerNote
from mlrails.bench.record import CellRecord, Reliability, RunRecord
from mlrails.bench.svg import Series, line_chart

#: decimals of every number in the reports
PRECISION = 3

#: model-quality metrics in display order (those a run measured are shown)
QUALITY = ("accuracy", "f1_macro", "ece_model", "ece_rails", "brier", "nll", "rmse", "mae", "r2")
#: metrics drawn against severity (those a run measured), then the rails' silent failures
CURVES = ("accuracy", "rmse")
#: how the rails are graded
RAILS = ("silent_failure_rate", "false_alarm_rate", "refusal_rate")
#: metrics where lower is better (for the "worst under stress" column)
LOWER_IS_BETTER = frozenset(
    {"ece_model", "ece_rails", "brier", "nll", "rmse", "mae", "silent_failure_rate"}
)

LABELS = {
    "accuracy": "accuracy",
    "f1_macro": "F1 (macro)",
    "ece_model": "ECE (model, raw)",
    "ece_rails": "ECE (rails, calibrated)",
    "brier": "Brier",
    "nll": "NLL",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "silent_failure_rate": "silent failure",
    "false_alarm_rate": "false alarm",
    "refusal_rate": "refusal",
}


# ---------------------------------------------------------------------------------------------
# the record, organised


@dataclass(frozen=True)
class Agg:
    """A metric over several cells: mean value, mean interval bounds, cells averaged."""

    value: float | None
    low: float | None = None
    high: float | None = None
    k: int = 0


def aggregate(cells: Iterable[CellRecord], metric: str) -> Agg:
    """The mean of ``metric`` over ``cells`` that measured it and the mean of their interval
    bounds (see the module docstring)."""
    vals, lows, highs = [], [], []
    for c in cells:
        v = c.metrics.get(metric)
        if c.error is not None or v is None:
            continue
        vals.append(v)
        if metric in c.intervals:
            lows.append(c.intervals[metric][0])
            highs.append(c.intervals[metric][1])
    if not vals:
        return Agg(None)
    both = len(lows) == len(vals)
    return Agg(
        float(np.mean(vals)),
        float(np.mean(lows)) if both else None,
        float(np.mean(highs)) if both else None,
        len(vals),
    )


@dataclass
class _Condition:
    kind: str
    name: str
    cells: dict[tuple[str, int], list[CellRecord]] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        return "c-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.kind}-{self.name}")

    @property
    def severities(self) -> list[int]:
        return sorted({s for _, s in self.cells})

    def ok(self, pair: str, severity: int) -> list[CellRecord]:
        return [c for c in self.cells.get((pair, severity), []) if c.error is None]

    @property
    def any_ok(self) -> bool:
        return any(c.error is None for cells in self.cells.values() for c in cells)

    def worst(self, pair: str) -> int | None:
        """The highest severity with a successful cell of ``pair``."""
        done = [s for s in self.severities if self.ok(pair, s)]
        return max(done) if done else None


@dataclass
class _View:
    record: RunRecord
    pairs: list[str]
    clean: dict[str, list[CellRecord]]
    conditions: list[_Condition]
    failed: list[CellRecord]
    quality: list[str]
    curves: list[str]


def _view(record: RunRecord) -> _View:
    pairs = list(dict.fromkeys([p.name for p in record.pairs] + [c.pair for c in record.cells]))
    clean: dict[str, list[CellRecord]] = {p: [] for p in pairs}
    conds: dict[tuple[str, str], _Condition] = {}
    for c in record.cells:
        if c.kind == "clean":
            if c.error is None:
                clean[c.pair].append(c)
            continue
        cond = conds.setdefault((c.kind, c.name), _Condition(c.kind, c.name))
        cond.cells.setdefault((c.pair, c.severity), []).append(c)
    ok = [c for c in record.cells if c.error is None]
    return _View(
        record=record,
        pairs=pairs,
        clean=clean,
        conditions=list(conds.values()),
        failed=[c for c in record.cells if c.error is not None],
        quality=[m for m in QUALITY if any(c.metrics.get(m) is not None for c in ok)],
        curves=[m for m in CURVES if any(c.metrics.get(m) is not None for c in ok)],
    )


def _pool_reliability(cells: Sequence[CellRecord]) -> Reliability | None:
    """One reliability diagram from several cells' (same bins): counts summed, means weighted."""
    rel = [c.reliability for c in cells if c.reliability is not None]
    if not rel:
        return None
    nb = len(rel[0].count)
    count = [sum(r.count[b] for r in rel) for b in range(nb)]
    conf: list[float | None] = []
    acc: list[float | None] = []
    for b in range(nb):
        parts = [(r.count[b], r.confidence[b], r.accuracy[b]) for r in rel if r.count[b]]
        if not count[b]:
            conf.append(None)
            acc.append(None)
            continue
        conf.append(sum(k * (cf or 0.0) for k, cf, _ in parts) / count[b])
        acc.append(sum(k * (a or 0.0) for k, _, a in parts) / count[b])
    return Reliability(edges=rel[0].edges, count=count, confidence=conf, accuracy=acc)


def _confusion_rates(
    cells: Sequence[CellRecord],
) -> tuple[list[Any], NDArray[np.float64]] | None:
    """Pooled confusion matrix normalised per true class (rows), with its classes."""
    mats = [c for c in cells if c.confusion is not None and c.classes is not None]
    if not mats:
        return None
    classes = mats[0].classes or []
    total = sum(np.asarray(c.confusion, dtype=np.float64) for c in mats if c.classes == classes)
    rows = np.asarray(total).sum(axis=1, keepdims=True)
    return classes, np.divide(total, rows, out=np.zeros_like(total), where=rows > 0)


def _first(cells: Sequence[CellRecord]) -> CellRecord | None:
    return min(cells, key=lambda c: (c.seed, c.repeat)) if cells else None


def _get(obj: Any, *names: str) -> Any:
    """The first of ``names`` that ``obj`` has (attribute or mapping key), else ``None``."""
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return None


# ---------------------------------------------------------------------------------------------
# formatting


def fmt(v: Any) -> str:
    """A number with :data:`PRECISION` decimals; ``—`` for a missing one."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return str(int(v))
    x = float(v)
    return f"{x:.{PRECISION}f}" if np.isfinite(x) else str(x)


def fmt_p(p: Any) -> str:
    """A p-value: :data:`PRECISION` decimals, ``<0.001`` (at that precision) below."""
    if p is None:
        return "—"
    floor = 10.0**-PRECISION
    return f"<{floor:.{PRECISION}f}" if float(p) < floor else fmt(p)


def fmt_agg(a: Agg) -> str:
    """``value [low, high]`` (just the value without an interval)."""
    if a.value is None:
        return "—"
    if a.low is None or a.high is None:
        return fmt(a.value)
    return f"{fmt(a.value)} [{fmt(a.low)}, {fmt(a.high)}]"


def _short(h: str | None, n: int = 12) -> str:
    return "—" if not h else h[:n]


def _label(metric: str) -> str:
    if metric.startswith("auroc."):
        return f"AUROC {metric[6:]}"
    return LABELS.get(metric, metric)


def _sev(s: int) -> str:
    return "clean" if s == 0 else str(s)


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;
 max-width:1320px;margin:0 auto;padding:16px 24px 48px;background:#fafafa}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;
 border-bottom:2px solid #ddd;padding-bottom:3px}h3{font-size:15px;margin:16px 0 6px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff;font-size:12.5px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap}tbody tr:nth-child(even){background:#f8f8f8}
.iv{color:#777;font-size:11px}.scroll{overflow-x:auto;max-width:100%}
.charts{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
figure{margin:0;background:#fff;border:1px solid #e2e2e2;padding:4px}
figcaption{font-size:11px;color:#666;max-width:380px;padding:2px 4px}
.banner{padding:10px 14px;border-radius:4px;margin:12px 0;font-weight:600}
.pass{background:#e3f5e6;border:1px solid #3a9a4a;color:#1d5e28}
.fail{background:#fde6e6;border:1px solid #c93333;color:#8a1616}
.prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}
.prov dt{color:#666}.prov dd{margin:0}.err{color:#a01818}
.bad{background:#f9d4d4}.good{background:#d4efd9}tr.sig td{background:#fff4d6}
nav a{margin-right:10px}h4{font-size:13px;margin:4px 0}.cells .iv{display:block}
.cells td.err-cell{min-width:260px}
.side{max-width:420px}.side .note{max-width:300px}.note{color:#666;font-size:12px}
"""


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    cls: str = "",
    row_cls: Sequence[str] | None = None,
) -> str:
    """A table from pre-escaped cell HTML; a cell starting with ``<td`` is used as is."""
    h = "".join(f"<th>{c}</th>" for c in head)
    body = []
    for i, r in enumerate(rows):
        cells = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r)
        rc = f' class="{row_cls[i]}"' if row_cls and row_cls[i] else ""
        body.append(f"<tr{rc}>{cells}</tr>")
    c = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{c}><thead><tr>{h}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _num_td(text: str, extra: str = "") -> str:
    return f'<td class="n{extra}">{text}</td>'


def _agg_td(a: Agg) -> str:
    if a.value is None:
        return _num_td("—")
    iv = f' <span class="iv">[{fmt(a.low)}, {fmt(a.high)}]</span>' if a.low is not None else ""
    return _num_td(f"{fmt(a.value)}{iv}")


def _figure(svg: str, chart: str, caption: str = "", **data: str) -> str:
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure data-chart="{chart}"{attrs}>{svg}{cap}</figure>'


def _provenance(v: _View) -> str:
    r = v.record
    m = r.machine
    mem = f", {m.memory_gb:g} GB" if m.memory_gb is not None else ""
    items = [
        ("run id", f"<code>{escape(r.run_id)}</code>"),
        ("config hash", f"<code>{escape(r.config_hash)}</code>"),
        ("git commit", f"<code>{escape(r.git_commit or '—')}</code>"),
        ("mlrails", escape(r.mlrails_version)),
        ("executor", escape(r.executor)),
        (
            "machine",
            escape(f"{m.hostname} — {m.platform}, Python {m.python}, {m.cpu} ×{m.cpu_count}{mem}"),
        ),
        ("started", escape(r.started_at)),
        ("finished", escape(r.finished_at)),
        ("wall time", f"{r.wall_s:.1f} s"),
        (
            "seeds, repeats",
            escape(f"seeds [{', '.join(map(str, r.seeds))}] × {r.repeats} repeat(s) each"),
        ),
        ("cells", f"{len(r.cells)} ({len(v.failed)} failed)"),
        (
            "data",
            ", ".join(
                f"{escape(k)} <code>{escape(_short(h))}</code>" for k, h in r.data_hashes.items()
            )
            or "—",
        ),
        (
            "packages",
            ", ".join(f"{escape(k)} {escape(ver)}" for k, ver in sorted(r.packages.items())) or "—",
        ),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in items)
    pairs = _table(
        ["pair", "task", "model class", "model", "model hash", "artifact", "artifact hash"],
        (
            [
                f"<b>{escape(p.name)}</b>",
                escape(p.task),
                f"<code>{escape(p.model_class)}</code>",
                escape(p.model or "—"),
                f"<code>{escape(_short(p.model_hash))}</code>",
                escape(p.artifact),
                f"<code>{escape(_short(p.artifact_hash))}</code>",
            ]
            for p in r.pairs
        ),
    )
    return f'<dl class="prov">{dl}</dl><h3>Pairs</h3>{pairs}'


_GATE_LISTS = (("missing", "cells missing from this run"), ("failed", "cells that newly failed"))


def _gate_html(gate: Any) -> str:
    regs = list(_get(gate, "regressions") or [])
    if _get(gate, "ok"):
        return '<div class="banner pass" data-gate="pass">Regression gate: passed</div>'
    rows = [
        [
            f"<code>{escape(str(_get(g, 'key', 'cell_key', 'cell', 'condition') or '—'))}</code>",
            escape(_label(str(_get(g, "metric") or "—"))),
            _num_td(fmt(_get(g, "baseline"))),
            _num_td(fmt(_get(g, "current"))),
            _num_td(escape(fmt_p(_get(g, "p_holm")))),
        ]
        for g in regs
    ]
    table = _table(["cell", "metric", "baseline", "current", "p (Holm)"], rows) if rows else ""
    for attr, what in _GATE_LISTS:
        keys = [str(k) for k in _get(gate, attr) or []]
        if keys:
            table += f'<p class="err">{len(keys)} {what}: '
            table += ", ".join(f"<code>{escape(k)}</code>" for k in keys) + "</p>"
    n = len(regs)
    return (
        f'<div class="banner fail" data-gate="fail">Regression gate: FAILED — '
        f"{n} regression{'s' if n != 1 else ''}</div>{table}"
    )


def _summary(v: _View) -> str:
    worst_metric = v.curves[0] if v.curves else None
    head = ["pair", "n"] + [_label(m) for m in v.quality + list(RAILS)]
    if worst_metric:
        head.append(f"worst {_label(worst_metric)} under stress")
    rows = []
    for p in v.pairs:
        cells = v.clean.get(p, [])
        row = [f"<b>{escape(p)}</b>", _num_td(str(cells[0].n) if cells else "—")]
        row += [_agg_td(aggregate(cells, m)) for m in v.quality + list(RAILS)]
        if worst_metric:
            row.append(_worst(v, p, worst_metric))
        rows.append(row)
    return _table(head, rows)


def _worst(v: _View, pair: str, metric: str) -> str:
    found: list[tuple[float, str]] = []
    for cond in v.conditions:
        for s in cond.severities:
            a = aggregate(cond.ok(pair, s), metric)
            if a.value is not None:
                found.append((a.value, f"{cond.name} s{s}"))
    if not found:
        return _num_td("—")
    pick = max if metric in LOWER_IS_BETTER else min
    val, where = pick(found, key=lambda t: t[0])
    return _num_td(f'{fmt(val)} <span class="iv">({escape(where)})</span>')


def _roc_chart(cell: CellRecord, title: str) -> str:
    series = [
        Series(f"{name} ({curve.auroc:.2f})", curve.fpr, curve.tpr, markers=False)
        for name, curve in cell.roc.items()
    ]
    svg = line_chart(
        series,
        title=title,
        x_label="false-positive rate",
        y_label="true-positive rate",
        unit=True,
        diagonal=True,
    )
    return _figure(svg, "roc", f"cell {cell.key}; legend: safeguard (AUROC)", pair=cell.pair)


def _clean_section(v: _View) -> str:
    figs = []
    for p in v.pairs:
        cell = _first(v.clean.get(p, []))
        if cell is not None and cell.roc:
            figs.append(_roc_chart(cell, f"{p}: detection ROC, clean"))
    if not figs:
        return ""
    return (
        '<h2 id="clean">Clean: detection of wrong predictions</h2>'
        f'<div class="charts">{"".join(figs)}</div>'
    )


def _severity_chart(v: _View, cond: _Condition, metric: str) -> str:
    sevs = cond.severities
    series = []
    for p in v.pairs:
        points: list[tuple[int, Agg]] = []
        clean = aggregate(v.clean.get(p, []), metric)
        if clean.value is not None:
            points.append((0, clean))
        points += [(s, aggregate(cond.ok(p, s), metric)) for s in sevs]
        if not any(a.value is not None for _, a in points):
            continue
        series.append(
            Series(
                p,
                [s for s, _ in points],
                [a.value for _, a in points],
                [a.low for _, a in points],
                [a.high for _, a in points],
            )
        )
    ticks = [(0.0, "clean")] + [(float(s), str(s)) for s in sevs]
    yr = (0.0, 1.0) if metric.endswith("_rate") else None
    svg = line_chart(
        series,
        title=f"{cond.name}: {_label(metric)}",
        x_label="severity",
        y_label=_label(metric),
        x_ticks=ticks,
        x_range=(-0.3, max(sevs, default=1) + 0.3),
        y_range=yr,
    )
    cap = "mean over seeds/repeats; band: mean of the cells' 95% bootstrap intervals"
    return _figure(svg, metric, cap, condition=cond.name)


def _reliability_chart(v: _View, cond: _Condition, pair: str, worst: int) -> str:
    series = []
    for label, cells, dashed in (
        ("clean", v.clean.get(pair, []), True),
        (f"severity {worst}", cond.ok(pair, worst), False),
    ):
        rel = _pool_reliability(cells)
        if rel is None:
            continue
        idx = [i for i, k in enumerate(rel.count) if k and rel.confidence[i] is not None]
        series.append(
            Series(
                label,
                [float(rel.confidence[i] or 0.0) for i in idx],
                [rel.accuracy[i] for i in idx],
                dashed=dashed,
            )
        )
    svg = line_chart(
        series,
        title=f"{pair}: reliability (model, raw), {cond.name}",
        x_label="confidence",
        y_label="accuracy",
        unit=True,
        diagonal=True,
    )
    cap = "the bare model's top-1 confidence per bin (before calibration); diagonal: calibrated"
    return _figure(svg, "reliability", cap, pair=pair)


def _status_table(v: _View, cond: _Condition) -> str:
    def mix(cells: Sequence[CellRecord]) -> dict[str, float]:
        codes = {k for c in cells for k in c.status_mix}
        return {k: float(np.mean([c.status_mix.get(k, 0.0) for c in cells])) for k in codes}

    rows: list[tuple[str, int, dict[str, float]]] = []
    for p in v.pairs:
        if v.clean.get(p):
            rows.append((p, 0, mix(v.clean[p])))
        rows += [(p, s, mix(cond.ok(p, s))) for s in cond.severities if cond.ok(p, s)]
    codes = sorted({k for _, _, m in rows for k in m})
    if not rows:
        return ""
    body = [
        [escape(p), _sev(s)] + [_num_td(f"{100 * m.get(k, 0.0):.1f}%") for k in codes]
        for p, s, m in rows
    ]
    return "<h4>Status-code mix (share of rows)</h4>" + _table(["pair", "severity", *codes], body)


def _confusion_shift(v: _View, cond: _Condition, pair: str, worst: int) -> str:
    clean = _confusion_rates(v.clean.get(pair, []))
    stressed = _confusion_rates(cond.ok(pair, worst))
    if clean is None or stressed is None or clean[0] != stressed[0]:
        return ""
    classes, shift = clean[0], stressed[1] - clean[1]
    rows = []
    for i, c in enumerate(classes):
        row = [f"<b>{escape(str(c))}</b>"]
        for j in range(len(classes)):
            d = float(shift[i, j])
            harm = -d if i == j else d  # fewer right answers or more of a wrong one: bad
            cls = " bad" if harm > 0.005 else " good" if harm < -0.005 else ""
            row.append(_num_td(f"{d:+.{PRECISION}f}", cls))
        rows.append(row)
    head = ["true \\ predicted"] + [escape(str(c)) for c in classes]
    return (
        f'<div data-confusion="{escape(pair)}"><h4>Confusion shift: severity {worst} − clean'
        "</h4>"
        + _table(head, rows)
        + '<p class="note">Rows normalised per true class; red: fewer right answers or more '
        "of a wrong one than on the clean rows.</p></div>"
    )


def _condition_section(v: _View, cond: _Condition) -> str:
    parts = [f'<h2 id="{cond.anchor}">{escape(cond.kind)}: {escape(cond.name)}</h2>']
    if not cond.any_ok:
        n = sum(len(c) for c in cond.cells.values())
        return parts[0] + (
            f'<p class="err">All {n} cell(s) failed — see <a href="#failed">failed cells</a>.</p>'
        )
    curves = [_severity_chart(v, cond, m) for m in v.curves]
    curves.append(_severity_chart(v, cond, "silent_failure_rate"))
    curves.append(f'<div class="side">{_status_table(v, cond)}</div>')
    parts.append(f'<div class="charts">{"".join(curves)}</div>')
    for p in v.pairs:
        worst = cond.worst(p)
        if worst is None:
            continue
        row = []
        if any(c.reliability is not None for c in cond.ok(p, worst)):
            row.append(_reliability_chart(v, cond, p, worst))
        cell = _first(cond.ok(p, worst))
        if cell is not None and cell.roc:
            row.append(_roc_chart(cell, f"{p}: detection ROC, {cond.name} s{worst}"))
        shift = _confusion_shift(v, cond, p, worst)
        if shift:
            row.append(f'<div class="side">{shift}</div>')
        if row:
            parts.append(f"<h3>{escape(p)} at severity {worst}</h3>")
            parts.append(f'<div class="charts">{"".join(row)}</div>')
    failed = [c for cells in cond.cells.values() for c in cells if c.error is not None]
    if failed:
        parts.append(
            f'<p class="err">{len(failed)} cell(s) failed — see '
            '<a href="#failed">failed cells</a>.</p>'
        )
    return "".join(parts)


def _comparisons_html(comparisons: Sequence[Any]) -> str:
    head = [
        "condition",
        "metric",
        "pair a",
        "pair b",
        "a",
        "b",
        "b − a",
        "effect size",
        "p",
        "p (Holm)",
        "significant",
    ]
    rows = []
    for c in comparisons:
        ci = _get(c, "ci")
        diff = fmt(_get(c, "difference"))
        if ci:
            diff += f' <span class="iv">[{fmt(ci[0])}, {fmt(ci[1])}]</span>'
        sig = bool(_get(c, "significant"))
        cells = [
            f"<code>{escape(str(_get(c, 'condition')))}</code>",
            escape(_label(str(_get(c, "metric")))),
            escape(str(_get(c, "pair_a"))),
            escape(str(_get(c, "pair_b"))),
            _num_td(fmt(_get(c, "value_a"))),
            _num_td(fmt(_get(c, "value_b"))),
            _num_td(diff),
            _num_td(fmt(_get(c, "effect_size"))),
            _num_td(escape(fmt_p(_get(c, "p")))),
            _num_td(escape(fmt_p(_get(c, "p_holm")))),
            "<b>yes</b>" if sig else "no",
        ]
        rows.append(cells)
    marks = ["sig" if _get(c, "significant") else "" for c in comparisons]
    html = _table(head, rows, "comparisons", marks)
    n_sig = sum(bool(m) for m in marks)
    return (
        '<h2 id="comparisons">Comparisons between pairs</h2>'
        f'<p class="note">{len(comparisons)} comparisons, {n_sig} significant after Holm '
        "adjustment; difference = b − a.</p>" + html
    )


def _power_rows(notes: Sequence[PowerNote]) -> list[list[str]]:
    rows = []
    for n in notes:
        rows.append(
            [
                f"{n.name}/s{n.severity}",
                f"{n.pair_b} − {n.pair_a}",
                str(n.replicates),
                fmt(n.mean_difference),
                "–" if n.sd is None else fmt(n.sd),
                f"±{fmt(n.target)}",
                "–" if n.power_now is None else f"{n.power_now:.0%}",
                "needs ≥ 2 replicates"
                if n.sd is None
                else ("–" if n.replicates_needed is None else str(n.replicates_needed)),
            ]
        )
    return rows


_POWER_HEAD = [
    "condition",
    "pairs",
    "replicates",
    "mean b − a",
    "sd",
    "to resolve",
    "power now",
    "replicates needed",
]


def _power_html(notes: Sequence[PowerNote]) -> str:
    rows = [
        [f"<code>{escape(r[0])}</code>", *(escape(x) for x in r[1:])] for r in _power_rows(notes)
    ]
    return (
        '<h2 id="power">Power</h2>'
        '<p class="note">Accuracy difference between pairs per condition across seeds × '
        "repeats: the power of a two-sided paired t-test (α = 0.05) to resolve the target "
        "difference now, and the replicates it needs for 80 % power.</p>"
        + _table(_POWER_HEAD, rows, "power")
    )


def _failed_html(v: _View) -> str:
    rows = [
        [f"<code>{escape(c.key)}</code>", f'<span class="err">{escape(c.error or "")}</span>']
        for c in v.failed
    ]
    return '<h2 id="failed">Failed cells</h2>' + _table(["cell", "error"], rows, "failed")


def _cells_html(v: _View) -> str:
    names = list(dict.fromkeys(m for c in v.record.cells for m in c.metrics))
    ordered = [m for m in v.quality + list(RAILS) if m in names]
    ordered += sorted(m for m in names if m not in ordered)
    head = ["cell", "kind", "n", "wrong"] + [escape(_label(m)) for m in ordered]
    head += ["wall s", "peak MB", "error"]
    rows = []
    for c in v.record.cells:
        row = [
            f"<code>{escape(c.key)}</code>",
            escape(c.kind),
            _num_td(str(c.n)),
            _num_td(str(c.n_wrong)),
        ]
        for m in ordered:
            val = c.metrics.get(m)
            iv = c.intervals.get(m)
            row.append(_agg_td(Agg(val, *(iv or (None, None)))))
        row += [
            _num_td(f"{c.wall_s:.2f}"),
            _num_td(f"{c.peak_mb:.1f}"),
            f'<td class="err err-cell">{escape(c.error)}</td>' if c.error else "",
        ]
        rows.append(row)
    return (
        f'<h2 id="cells">Every cell ({len(v.record.cells)})</h2>'
        '<p class="note">Each metric with its 95% bootstrap interval.</p>'
        + _table(head, rows, "cells")
    )


def render_html(
    record: RunRecord,
    *,
    comparisons: Sequence[Any] | None = None,
    gate: Any | None = None,
    power: Sequence[PowerNote] | None = None,
) -> str:
    """The whole report as one self-contained HTML page (inline CSS and SVG, no script, no
    external URL). ``comparisons``: paired comparisons between pairs (objects or mappings
    with ``condition, metric, pair_a, pair_b, value_a, value_b, difference, effect_size, p,
    p_holm, significant``); ``gate``: a regression-gate result (``ok``, ``regressions``);
    ``power``: the power notes of :func:`~mlrails.bench.compare.compare_pairs`."""
    v = _view(record)
    nav = ['<a href="#summary">summary</a>']
    nav += [f'<a href="#{c.anchor}">{escape(c.name)}</a>' for c in v.conditions]
    if comparisons:
        nav.append('<a href="#comparisons">comparisons</a>')
    if power:
        nav.append('<a href="#power">power</a>')
    if v.failed:
        nav.append('<a href="#failed">failed cells</a>')
    nav.append('<a href="#cells">every cell</a>')
    body = [
        f"<h1>Robustness benchmark — run <code>{escape(record.run_id)}</code></h1>",
        f"<nav>{''.join(nav)}</nav>",
        _gate_html(gate) if gate is not None else "",
        "<h2>Provenance</h2>",
        _provenance(v),
        '<h2 id="summary">Summary (clean rows)</h2>',
        '<p class="note">Mean over clean seeds/repeats with 95% bootstrap interval; the last '
        "column: the lowest mean over every perturbation, attack and severity.</p>",
        _summary(v),
        _clean_section(v),
        *(_condition_section(v, c) for c in v.conditions),
        _comparisons_html(comparisons) if comparisons else "",
        _power_html(power) if power else "",
        _failed_html(v) if v.failed else "",
        _cells_html(v),
    ]
    title = escape(f"mlrails benchmark {record.run_id}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body></html>\n"
    )


# ---------------------------------------------------------------------------------------------
# Markdown


def _md(text: object) -> str:
    """Text safe in a Markdown table cell (no pipe, no raw HTML, one line)."""
    s = " ".join(str(text).split())
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _md_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def render_markdown(
    record: RunRecord,
    *,
    comparisons: Sequence[Any] | None = None,
    gate: Any | None = None,
    power: Sequence[PowerNote] | None = None,
) -> str:
    """A compact Markdown summary for CI logs: provenance, clean metrics per pair, per
    perturbation or attack the curve metrics by severity, failed cells, the gate verdict,
    the significant comparisons and the power notes. Numbers as in the HTML
    (``value [low, high]``)."""
    v = _view(record)
    r, m = record, record.machine
    out = [
        f"# Robustness benchmark — run `{_md(r.run_id)}`",
        "",
        f"- config hash `{_md(r.config_hash)}` · git commit `{_md(r.git_commit or '—')}` · "
        f"mlrails {_md(r.mlrails_version)} · executor {_md(r.executor)}",
        f"- machine {_md(m.hostname)} — {_md(m.platform)}, Python {_md(m.python)}, "
        f"{_md(m.cpu)} ×{m.cpu_count}",
        f"- started {_md(r.started_at)} · finished {_md(r.finished_at)} · wall {r.wall_s:.1f} s"
        f" · cells {len(r.cells)} ({len(v.failed)} failed)",
        "- packages "
        + (", ".join(f"{_md(k)} {_md(x)}" for k, x in sorted(r.packages.items())) or "—"),
        "",
    ]
    if gate is not None:
        out += _md_gate(gate)
    out += ["## Clean", ""]
    cols = [m for m in v.quality if m not in ("brier", "nll", "r2")] + list(RAILS[:2])
    out += _md_table(
        ["pair"] + [_label(c) for c in cols],
        ([_md(p)] + [fmt_agg(aggregate(v.clean.get(p, []), c)) for c in cols] for p in v.pairs),
    )
    metrics = [*v.curves, "silent_failure_rate"]
    for cond in v.conditions:
        out += [f"## {_md(cond.kind)}: {_md(cond.name)}", ""]
        if not cond.any_ok:
            n = sum(len(c) for c in cond.cells.values())
            out += [f"All {n} cell(s) failed (see below).", ""]
            continue
        rows = []
        for p in v.pairs:
            if v.clean.get(p):
                rows.append(
                    [_md(p), "clean"] + [fmt_agg(aggregate(v.clean[p], x)) for x in metrics]
                )
            for s in cond.severities:
                cells = cond.ok(p, s)
                if cells:
                    rows.append([_md(p), str(s)] + [fmt_agg(aggregate(cells, x)) for x in metrics])
        out += _md_table(["pair", "severity"] + [_label(x) for x in metrics], rows)
    if v.failed:
        out += ["## Failed cells", ""]
        out += [f"- `{c.key}`: {_md(c.error)}" for c in v.failed] + [""]
    if comparisons:
        sig = [c for c in comparisons if _get(c, "significant")]
        out += [
            "## Comparisons",
            "",
            f"{len(comparisons)} comparisons, {len(sig)} significant "
            "after Holm adjustment (difference = b − a).",
            "",
        ]
        if sig:
            out += _md_table(
                ["condition", "metric", "a", "b", "b − a", "p (Holm)"],
                (
                    [
                        _md(_get(c, "condition")),
                        _md(_label(str(_get(c, "metric")))),
                        _md(_get(c, "pair_a")),
                        _md(_get(c, "pair_b")),
                        fmt(_get(c, "difference")),
                        fmt_p(_get(c, "p_holm")),
                    ]
                    for c in sig
                ),
            )
    if power:
        out += ["## Power", ""]
        out += _md_table(_POWER_HEAD, ([_md(x) for x in r] for r in _power_rows(power)))
    return "\n".join(out).rstrip() + "\n"


def _md_gate(gate: Any) -> list[str]:
    if _get(gate, "ok"):
        return ["**Regression gate: PASSED**", ""]
    regs = list(_get(gate, "regressions") or [])
    out = [f"**Regression gate: FAILED** — {len(regs)} regression(s)", ""]
    if regs:
        out += _md_table(
            ["cell", "metric", "baseline", "current", "p (Holm)"],
            (
                [
                    _md(_get(g, "key", "cell_key", "cell", "condition")),
                    _md(_label(str(_get(g, "metric")))),
                    fmt(_get(g, "baseline")),
                    fmt(_get(g, "current")),
                    fmt_p(_get(g, "p_holm")),
                ]
                for g in regs
            ),
        )
    for attr, what in _GATE_LISTS:
        keys = [str(k) for k in _get(gate, attr) or []]
        if keys:
            out += [f"{len(keys)} {what}: " + ", ".join(f"`{_md(k)}`" for k in keys), ""]
    return out


def write_report(record: RunRecord, out_dir: str | Path, **kw: Any) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.md`` into ``out_dir`` (created if needed); ``kw``
    goes to both renderers (``comparisons``, ``gate``, ``power``). Returns both paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    html_path, md_path = d / "report.html", d / "summary.md"
    html_path.write_text(render_html(record, **kw), encoding="utf-8")
    md_path.write_text(render_markdown(record, **kw), encoding="utf-8")
    return html_path, md_path
