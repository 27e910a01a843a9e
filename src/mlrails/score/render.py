"""A readiness report for people: a terminal view (Rich), JSON, and one self-contained HTML page.

The HTML page has no script and loads nothing: its style sheet is inline, its bars and trend
are inline SVG, and every text from the report (answers' notes, evidence, file names) is
escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from mlrails._json import jsonable
from mlrails.score.history import ScoreHistoryEntry, trend_text
from mlrails.score.report import ItemScore, RubricScore, ScoreReport
from mlrails.score.rubrics import MLTEST, ROBUSTNESS

RUBRIC_TITLES = {
    "robustness": "ML System Robustness Score",
    "mltest": "ML Test Score",
}
_SOURCE_STYLE = {"evidence": "green", "answer": "cyan", "none": "red"}


def _n(x: float) -> str:
    return f"{x:g}"


def final_line(rubric: RubricScore) -> str:
    """The rubric's result in words: the robustness total and band, or the ML Test Score
    final (minimum of the section sums) and its weakest section."""
    if rubric.rubric == "robustness":
        return f"robustness total {_n(rubric.score)}/{_n(rubric.max_score)}: {rubric.band}"
    return f"ML Test Score {_n(rubric.score)} ({rubric.band})"


# -- terminal -------------------------------------------------------------------------------
def print_report(
    report: ScoreReport,
    console: Console,
    *,
    items: bool = True,
    history: Sequence[ScoreHistoryEntry] = (),
) -> None:
    """Print both rubrics (sections, final line), the items and the gaps."""
    for rubric in (report.robustness, report.mltest):
        table = Table(title=RUBRIC_TITLES[rubric.rubric], title_justify="left")
        table.add_column("section")
        table.add_column("score", justify="right")
        table.add_column("max", justify="right")
        for s in rubric.sections:
            table.add_row(Text(s.section.title), _n(s.score), _n(s.max_score))
        console.print(table)
        console.print(Text(final_line(rubric), style="bold"))
        console.print()
    if items:
        print_items(report.items, console)
    if report.gaps:
        console.print(Text(f"{len(report.gaps)} gap(s): not used as evidence", style="yellow"))
        for g in report.gaps:
            console.print(Text(f"  {g.source}: {g.problem}"), soft_wrap=True)
    if history:
        console.print(Text(trend_text(history)))


_SECTION_TITLES = {(sec.rubric, sec.id): sec.title for sec in (*ROBUSTNESS, *MLTEST)}


def print_items(items: Sequence[ItemScore], console: Console) -> None:
    """Every item as a short block (readable in 80 columns): score, id and title, where the
    score came from, the rule, and the next step."""
    console.print(Text("Items", style="bold"))
    section = None
    for s in items:
        if (s.item.rubric, s.item.section) != section:
            section = (s.item.rubric, s.item.section)
            console.print()
            title = _SECTION_TITLES[section]
            console.print(Text(f"{RUBRIC_TITLES[s.item.rubric]} · {title}", "bold"))
        head = Text(f"{_n(s.score):>3}/{_n(s.item.max_score)}  ", style="bold")
        head.append(s.item.id)
        head.append(f"  {s.item.title}  ")
        head.append(f"[{s.source}]", style=_SOURCE_STYLE[s.source])
        console.print(head)
        console.print(Padding(Text(s.rule, style="dim"), (0, 0, 0, 7)))
        if s.next_step:
            console.print(Padding(Text("next: " + s.next_step), (0, 0, 0, 7)))
        if s.note:
            console.print(Padding(Text("note: " + s.note, style="yellow"), (0, 0, 0, 7)))


def print_history(history: Sequence[ScoreHistoryEntry], console: Console) -> None:
    """The stored scores, oldest first, and the trend line."""
    table = Table(title="Stored readiness scores", title_justify="left")
    for col in ("#", "time (UTC)", "robustness /88", "band", "ML Test Score"):
        table.add_column(col, justify="right" if col != "band" else "left")
    for e in history:
        table.add_row(
            str(e.id),
            f"{e.time:%Y-%m-%d %H:%M:%S}",
            _n(e.robustness),
            Text(e.band),
            _n(e.mltest),
        )
    console.print(table)
    console.print(Text(trend_text(history)))


# -- JSON -----------------------------------------------------------------------------------
def to_json(report: ScoreReport) -> str:
    """The report as indented, strict JSON (``report.to_dict()``)."""
    return json.dumps(jsonable(report.to_dict()), indent=2, ensure_ascii=False, allow_nan=False)


# -- HTML -----------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1d232a;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
.muted{color:#57606a}.final{font-size:1.15rem;font-weight:600}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #eaeef2}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
code{font-size:.9em}ul{margin:0;padding-left:1.1rem}
rect.track{fill:#eaeef2}rect.fill{fill:#2da44e}rect.low{fill:#cf222e}rect.mid{fill:#d4a72c}
.src-evidence{color:#1a7f37;font-weight:600}.src-answer{color:#0969da;font-weight:600}
.src-none{color:#cf222e;font-weight:600}
polyline.robustness{fill:none;stroke:#0969da;stroke-width:2}
polyline.mltest{fill:none;stroke:#8250df;stroke-width:2}
circle.robustness{fill:#0969da}circle.mltest{fill:#8250df}
line.band{stroke:#d0d7de;stroke-dasharray:4 3}line.axis{stroke:#8c959f}
text{font-size:11px;fill:#57606a}
.gaps li{margin-bottom:.2rem}
"""

_BAR_W = 220
_BAR_H = 14


def _bar(score: float, max_score: float, label: str) -> str:
    frac = 0.0 if max_score <= 0 else max(0.0, min(1.0, score / max_score))
    cls = "low" if frac < 0.34 else "mid" if frac < 0.67 else "fill"
    return (
        f'<svg class="bar" width="{_BAR_W}" height="{_BAR_H}" '
        f'viewBox="0 0 {_BAR_W} {_BAR_H}" role="img" aria-label="{escape(label)}">'
        f'<rect class="track" width="{_BAR_W}" height="{_BAR_H}"/>'
        f'<rect class="fill {cls}" width="{frac * _BAR_W:.1f}" height="{_BAR_H}"/></svg>'
    )


def _rubric_html(rubric: RubricScore, items: Sequence[ItemScore]) -> str:
    title = RUBRIC_TITLES[rubric.rubric]
    out = [
        f'<section id="{escape(rubric.rubric)}"><h2>{escape(title)}</h2>',
        f'<p class="final">{escape(final_line(rubric))}</p>',
        "<table><thead><tr><th>Section</th><th>Score</th><th></th></tr></thead><tbody>",
    ]
    for s in rubric.sections:
        label = f"{s.section.title}: {_n(s.score)} of {_n(s.max_score)}"
        out.append(
            f"<tr><td>{escape(s.section.title)}</td>"
            f'<td class="num">{_n(s.score)} / {_n(s.max_score)}</td>'
            f"<td>{_bar(s.score, s.max_score, label)}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append(
        "<table><thead><tr><th>Item</th><th>Score</th><th>Source</th><th>Rule</th>"
        "<th>Evidence</th><th>Next step</th></tr></thead><tbody>"
    )
    for it in items:
        if it.item.rubric != rubric.rubric:
            continue
        evidence = "".join(f"<li>{escape(e)}</li>" for e in it.evidence)
        note = f'<p class="muted">{escape(it.note)}</p>' if it.note else ""
        out.append(
            f'<tr id="{escape(it.item.id)}"><td><code>{escape(it.item.id)}</code><br>'
            f'{escape(it.item.title)}<br><span class="muted">{escape(it.item.question)}</span>'
            f'</td><td class="num">{_n(it.score)} / {_n(it.item.max_score)}</td>'
            f'<td class="src-{escape(it.source)}">{escape(it.source)}</td>'
            f"<td>{escape(it.rule)}</td>"
            f"<td>{f'<ul>{evidence}</ul>' if evidence else ''}{note}</td>"
            f"<td>{escape(it.next_step)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "".join(out)


def _chart(history: Sequence[ScoreHistoryEntry]) -> str:
    """Both finals over the stored runs, each on its own scale (robustness 0–88 with the
    band limits, ML Test Score 0–7)."""
    w, h, pad_l, pad_r, pad_y = 640, 180, 36, 12, 14
    n = len(history)

    def x(i: int) -> float:
        return pad_l + (0 if n == 1 else i * (w - pad_l - pad_r) / (n - 1))

    def y(v: float, top: float) -> float:
        return h - pad_y - max(0.0, min(1.0, v / top)) * (h - 2 * pad_y)

    parts = [f'<svg class="trend" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
             'aria-label="robustness total and ML Test Score over the stored runs">']  # fmt: skip
    for limit in (25, 40, 60):
        yy = y(limit, 88)
        parts.append(
            f'<line class="band" x1="{pad_l}" x2="{w - pad_r}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
            f'<text x="4" y="{yy + 4:.1f}">{limit}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{pad_l}" x2="{w - pad_r}" y1="{h - pad_y}" y2="{h - pad_y}"/>'
    )
    series: tuple[tuple[str, float, list[float]], ...] = (
        ("robustness", 88.0, [e.robustness for e in history]),
        ("mltest", 7.0, [e.mltest for e in history]),
    )
    for cls, top, values in series:
        pts = [(x(i), y(v, top)) for i, v in enumerate(values)]
        parts.append(
            f'<polyline class="{cls}" points="'
            + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            + '"/>'
        )
        for (a, b), e, v in zip(pts, history, values, strict=True):
            tip = f"#{e.id} {e.time:%Y-%m-%d %H:%M}: {cls} {_n(v)}"
            parts.append(
                f'<circle class="{cls}" cx="{a:.1f}" cy="{b:.1f}" r="3">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _history_html(history: Sequence[ScoreHistoryEntry]) -> str:
    rows = "".join(
        f'<tr><td class="num">{e.id}</td><td>{escape(f"{e.time:%Y-%m-%d %H:%M:%S}")}</td>'
        f'<td class="num">{_n(e.robustness)} / 88</td><td>{escape(e.band)}</td>'
        f'<td class="num">{_n(e.mltest)}</td></tr>'
        for e in history
    )
    return (
        '<section id="trend"><h2>Trend</h2>'
        f"<p>{escape(trend_text(history))}</p>"
        '<p class="muted">Blue: robustness total (0–88; dashed lines at the band limits 25, '
        "40, 60). Purple: ML Test Score (0–7).</p>"
        f"{_chart(history)}"
        "<table><thead><tr><th>#</th><th>Time (UTC)</th><th>Robustness</th><th>Band</th>"
        f"<th>ML Test Score</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def to_html(report: ScoreReport, history: Sequence[ScoreHistoryEntry] = ()) -> str:
    """One self-contained HTML page: both rubrics with per-section bars, every item with its
    evidence, rule and next step, the gaps, and the trend when ``history`` is given."""
    counts = {src: sum(1 for s in report.items if s.source == src) for src in _SOURCE_STYLE}
    summary = (
        f"{counts['evidence']} items scored from evidence, {counts['answer']} from the answers "
        f"file, {counts['none']} with neither (scored 0)."
    )
    sources = "".join(
        f"<li>{escape(str(k))}: {escape(json.dumps(jsonable(v), ensure_ascii=False))}</li>"
        for k, v in report.sources.items()
        if v not in (None, [], ())
    )
    gaps = (
        '<ul class="gaps">'
        + "".join(
            f"<li><code>{escape(g.source)}</code>: {escape(g.problem)}</li>" for g in report.gaps
        )
        + "</ul>"
        if report.gaps
        else "<p>None: every source given could be read.</p>"
    )
    body = [
        "<h1>Readiness score</h1>",
        f'<p class="muted">{escape(report.time.strftime("%Y-%m-%d %H:%M:%S %Z").strip())}</p>',
        f"<p>{escape(summary)}</p>",
        f'<p class="final">{escape(final_line(report.robustness))}<br>'
        f"{escape(final_line(report.mltest))}</p>",
        f"<h2>Sources</h2><ul>{sources}</ul>" if sources else "",
        _rubric_html(report.robustness, report.items),
        _rubric_html(report.mltest, report.items),
        f'<section id="gaps"><h2>Gaps</h2>{gaps}</section>',
        _history_html(history) if history else "",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mlrails readiness score</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
