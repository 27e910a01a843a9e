"""The report of a benchmark run as a compact Markdown summary, for CI logs.

The numbers are those of the HTML page (:mod:`mlrails.bench.report.html`), aggregated the
same way (:mod:`mlrails.bench.report.view`); text from the record is made safe for a table
cell (no pipe, no raw HTML, one line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mlrails.bench.compare import Comparison, PowerNote
from mlrails.bench.gate import GateResult
from mlrails.bench.record import RunRecord
from mlrails.bench.report.view import (
    POWER_HEAD,
    RAILS,
    aggregate,
    build_view,
    fmt,
    fmt_agg,
    fmt_p,
    gate_lists,
    metric_label,
    power_rows,
)


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
    comparisons: Sequence[Comparison] | None = None,
    gate: GateResult | None = None,
    power: Sequence[PowerNote] | None = None,
) -> str:
    """A compact Markdown summary for CI logs: provenance, clean metrics per pair, per
    perturbation or attack the curve metrics by severity, failed cells, the gate verdict,
    the significant comparisons and the power notes. Numbers as in the HTML
    (``value [low, high]``)."""
    v = build_view(record)
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
        ["pair"] + [metric_label(c) for c in cols],
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
        out += _md_table(["pair", "severity"] + [metric_label(x) for x in metrics], rows)
    if v.failed:
        out += ["## Failed cells", ""]
        out += [f"- `{c.key}`: {_md(c.error)}" for c in v.failed] + [""]
    if comparisons:
        sig = [c for c in comparisons if c.significant]
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
                        _md(c.condition),
                        _md(metric_label(c.metric)),
                        _md(c.pair_a),
                        _md(c.pair_b),
                        fmt(c.difference),
                        fmt_p(c.p_holm),
                    ]
                    for c in sig
                ),
            )
    if power:
        out += ["## Power", ""]
        out += _md_table(POWER_HEAD, ([_md(x) for x in r] for r in power_rows(power)))
    return "\n".join(out).rstrip() + "\n"


def _md_gate(gate: GateResult) -> list[str]:
    if gate.ok:
        return ["**Regression gate: PASSED**", ""]
    regs = gate.regressions
    out = [f"**Regression gate: FAILED** — {len(regs)} regression(s)", ""]
    if regs:
        out += _md_table(
            ["cell", "metric", "baseline", "current", "p (Holm)"],
            (
                [
                    _md(g.key),
                    _md(metric_label(g.metric)),
                    fmt(g.baseline),
                    fmt(g.current),
                    fmt_p(g.p_holm),
                ]
                for g in regs
            ),
        )
    for keys, what in gate_lists(gate):
        if keys:
            out += [f"{len(keys)} {what}: " + ", ".join(f"`{_md(k)}`" for k in keys), ""]
    return out
