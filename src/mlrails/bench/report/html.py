"""The report of a benchmark run as one self-contained HTML page.

Inline CSS and inline SVG charts (:mod:`mlrails.bench.svg`), no script and no external URL,
so it can be archived or mailed as is. Its sections: provenance, the gate verdict (if given),
a summary per pair, the clean condition's detection ROC curves, then per perturbation or
attack the accuracy and silent-failure curves over severity, reliability diagrams and ROC
curves at the worst severity, the status-code mix, the per-class confusion shift; then
comparisons between pairs (if given), failed cells and a table of every cell. What a number
aggregates: :mod:`mlrails.bench.report.view`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

import numpy as np

from mlrails.bench.compare import Comparison, PowerNote
from mlrails.bench.gate import GateResult
from mlrails.bench.record import CellRecord, RunRecord
from mlrails.bench.report.view import (
    LOWER_IS_BETTER,
    POWER_HEAD,
    PRECISION,
    RAILS,
    Agg,
    Condition,
    View,
    aggregate,
    build_view,
    confusion_rates,
    first_cell,
    fmt,
    fmt_p,
    gate_lists,
    metric_label,
    pool_reliability,
    power_rows,
    severity_label,
    short_hash,
)
from mlrails.bench.svg import Series, line_chart

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


def _provenance(v: View) -> str:
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
                f"{escape(k)} <code>{escape(short_hash(digest))}</code>"
                for k, digest in r.data_hashes.items()
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
                f"<code>{escape(short_hash(p.model_hash))}</code>",
                escape(p.artifact),
                f"<code>{escape(short_hash(p.artifact_hash))}</code>",
            ]
            for p in r.pairs
        ),
    )
    return f'<dl class="prov">{dl}</dl><h3>Pairs</h3>{pairs}'


def _gate_html(gate: GateResult) -> str:
    regs = gate.regressions
    if gate.ok:
        return '<div class="banner pass" data-gate="pass">Regression gate: passed</div>'
    rows = [
        [
            f"<code>{escape(g.key or '—')}</code>",
            escape(metric_label(g.metric or "—")),
            _num_td(fmt(g.baseline)),
            _num_td(fmt(g.current)),
            _num_td(escape(fmt_p(g.p_holm))),
        ]
        for g in regs
    ]
    table = _table(["cell", "metric", "baseline", "current", "p (Holm)"], rows) if rows else ""
    for keys, what in gate_lists(gate):
        if keys:
            table += f'<p class="err">{len(keys)} {what}: '
            table += ", ".join(f"<code>{escape(k)}</code>" for k in keys) + "</p>"
    n = len(regs)
    return (
        f'<div class="banner fail" data-gate="fail">Regression gate: FAILED — '
        f"{n} regression{'s' if n != 1 else ''}</div>{table}"
    )


def _summary(v: View) -> str:
    worst_metric = v.curves[0] if v.curves else None
    head = ["pair", "n"] + [metric_label(m) for m in v.quality + list(RAILS)]
    if worst_metric:
        head.append(f"worst {metric_label(worst_metric)} under stress")
    rows = []
    for p in v.pairs:
        cells = v.clean.get(p, [])
        row = [f"<b>{escape(p)}</b>", _num_td(str(cells[0].n) if cells else "—")]
        row += [_agg_td(aggregate(cells, m)) for m in v.quality + list(RAILS)]
        if worst_metric:
            row.append(_worst(v, p, worst_metric))
        rows.append(row)
    return _table(head, rows)


def _worst(v: View, pair: str, metric: str) -> str:
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


def _clean_section(v: View) -> str:
    figs = []
    for p in v.pairs:
        cell = first_cell(v.clean.get(p, []))
        if cell is not None and cell.roc:
            figs.append(_roc_chart(cell, f"{p}: detection ROC, clean"))
    if not figs:
        return ""
    return (
        '<h2 id="clean">Clean: detection of wrong predictions</h2>'
        f'<div class="charts">{"".join(figs)}</div>'
    )


def _severity_chart(v: View, cond: Condition, metric: str) -> str:
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
        title=f"{cond.name}: {metric_label(metric)}",
        x_label="severity",
        y_label=metric_label(metric),
        x_ticks=ticks,
        x_range=(-0.3, max(sevs, default=1) + 0.3),
        y_range=yr,
    )
    cap = "mean over seeds/repeats; band: mean of the cells' 95% bootstrap intervals"
    return _figure(svg, metric, cap, condition=cond.name)


def _reliability_chart(v: View, cond: Condition, pair: str, worst: int) -> str:
    series = []
    for label, cells, dashed in (
        ("clean", v.clean.get(pair, []), True),
        (f"severity {worst}", cond.ok(pair, worst), False),
    ):
        rel = pool_reliability(cells)
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


def _status_table(v: View, cond: Condition) -> str:
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
        [escape(p), severity_label(s)] + [_num_td(f"{100 * m.get(k, 0.0):.1f}%") for k in codes]
        for p, s, m in rows
    ]
    return "<h4>Status-code mix (share of rows)</h4>" + _table(["pair", "severity", *codes], body)


def _confusion_shift(v: View, cond: Condition, pair: str, worst: int) -> str:
    clean = confusion_rates(v.clean.get(pair, []))
    stressed = confusion_rates(cond.ok(pair, worst))
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


def _condition_section(v: View, cond: Condition) -> str:
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
        cell = first_cell(cond.ok(p, worst))
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


def _comparisons_html(comparisons: Sequence[Comparison]) -> str:
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
        diff = fmt(c.difference)
        if c.ci:
            diff += f' <span class="iv">[{fmt(c.ci[0])}, {fmt(c.ci[1])}]</span>'
        cells = [
            f"<code>{escape(c.condition)}</code>",
            escape(metric_label(c.metric)),
            escape(c.pair_a),
            escape(c.pair_b),
            _num_td(fmt(c.value_a)),
            _num_td(fmt(c.value_b)),
            _num_td(diff),
            _num_td(fmt(c.effect_size)),
            _num_td(escape(fmt_p(c.p))),
            _num_td(escape(fmt_p(c.p_holm))),
            "<b>yes</b>" if c.significant else "no",
        ]
        rows.append(cells)
    marks = ["sig" if c.significant else "" for c in comparisons]
    html = _table(head, rows, "comparisons", marks)
    n_sig = sum(bool(m) for m in marks)
    return (
        '<h2 id="comparisons">Comparisons between pairs</h2>'
        f'<p class="note">{len(comparisons)} comparisons, {n_sig} significant after Holm '
        "adjustment; difference = b − a.</p>" + html
    )


def _power_html(notes: Sequence[PowerNote]) -> str:
    rows = [
        [f"<code>{escape(r[0])}</code>", *(escape(x) for x in r[1:])] for r in power_rows(notes)
    ]
    return (
        '<h2 id="power">Power</h2>'
        '<p class="note">Accuracy difference between pairs per condition across seeds × '
        "repeats: the power of a two-sided paired t-test (α = 0.05) to resolve the target "
        "difference now, and the replicates it needs for 80 % power.</p>"
        + _table(POWER_HEAD, rows, "power")
    )


def _failed_html(v: View) -> str:
    rows = [
        [f"<code>{escape(c.key)}</code>", f'<span class="err">{escape(c.error or "")}</span>']
        for c in v.failed
    ]
    return '<h2 id="failed">Failed cells</h2>' + _table(["cell", "error"], rows, "failed")


def _cells_html(v: View) -> str:
    names = list(dict.fromkeys(m for c in v.record.cells for m in c.metrics))
    ordered = [m for m in v.quality + list(RAILS) if m in names]
    ordered += sorted(m for m in names if m not in ordered)
    head = ["cell", "kind", "n", "wrong"] + [escape(metric_label(m)) for m in ordered]
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
    comparisons: Sequence[Comparison] | None = None,
    gate: GateResult | None = None,
    power: Sequence[PowerNote] | None = None,
) -> str:
    """The whole report as one self-contained HTML page (inline CSS and SVG, no script, no
    external URL). ``comparisons`` and ``power``: the paired comparisons between pairs and
    the power notes of :func:`~mlrails.bench.compare.compare_pairs`; ``gate``: the verdict of
    :func:`~mlrails.bench.gate.compare_to_baseline`."""
    v = build_view(record)
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
