"""Human-readable reports of a benchmark run: one self-contained HTML file
(:mod:`~mlrails.bench.report.html`) and a Markdown summary for CI logs
(:mod:`~mlrails.bench.report.markdown`), both drawn from one view of the record
(:mod:`~mlrails.bench.report.view`: what a number aggregates, how it is formatted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlrails.bench.compare import Comparison, PowerNote
from mlrails.bench.gate import GateResult
from mlrails.bench.record import RunRecord
from mlrails.bench.report.html import render_html
from mlrails.bench.report.markdown import render_markdown
from mlrails.bench.report.view import PRECISION, Agg, aggregate, fmt, fmt_agg, fmt_p

__all__ = [
    "PRECISION",
    "Agg",
    "aggregate",
    "fmt",
    "fmt_agg",
    "fmt_p",
    "render_html",
    "render_markdown",
    "write_report",
]


def write_report(
    record: RunRecord,
    out_dir: str | Path,
    *,
    comparisons: Sequence[Comparison] | None = None,
    gate: GateResult | None = None,
    power: Sequence[PowerNote] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.md`` into ``out_dir`` (created if needed); both
    renderers get ``comparisons``, ``gate`` and ``power``. Returns both paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    html_path, md_path = d / "report.html", d / "summary.md"
    html = render_html(record, comparisons=comparisons, gate=gate, power=power)
    md = render_markdown(record, comparisons=comparisons, gate=gate, power=power)
    html_path.write_text(html, encoding="utf-8")
    md_path.write_text(md, encoding="utf-8")
    return html_path, md_path
