"""A tiny, dependency-free SVG line chart for the benchmark report.

The report must be one self-contained HTML file with no plotting library behind it, so this
draws just what it needs: several series with markers, optional shaded interval bands, axis
ticks and labels, a legend, an optional diagonal reference line (reliability diagrams, ROC
curves) and fixed ``[0, 1]`` axes. Every text is escaped. Each series is drawn as one
``<g class="series" data-series="LABEL">`` group holding its band, line(s) and markers (each
marker carries ``data-x``/``data-y``; its ``<title>`` is a native hover tooltip, no script).

The plot area is the chart minus :data:`MARGIN` (left, top, right, bottom), so a value ``x``
in ``[x0, x1]`` lands at ``left + (x − x0)/(x1 − x0)·(width − left − right)`` and ``y`` in
``[y0, y1]`` at ``top + (1 − (y − y0)/(y1 − y0))·(height − top − bottom)``; the legend goes
below the plot area and only adds height.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: left, top, right, bottom margins around the plot area, in pixels
MARGIN = (52, 26, 14, 40)
#: colour-blind-safe palette (Okabe–Ito), cycled over the series
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")
_LEGEND_ROW = 16
_CHAR_W = 6.2  # rough width of one 11px sans-serif character, for the legend layout


@dataclass(frozen=True)
class Series:
    """One line: points ``(x[i], y[i])`` (``None`` breaks the line), optional band
    ``low[i]..high[i]`` around it."""

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    low: Sequence[float | None] | None = None
    high: Sequence[float | None] | None = None
    markers: bool = True
    dashed: bool = False
    color: str | None = None


@dataclass(frozen=True)
class Frame:
    """Maps data coordinates to pixels inside the plot area."""

    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def px(self, x: float) -> float:
        left, _, right, _ = MARGIN
        x0, x1 = self.x_range
        return left + (x - x0) / (x1 - x0) * (self.width - left - right)

    def py(self, y: float) -> float:
        _, top, _, bottom = MARGIN
        y0, y1 = self.y_range
        return top + (1 - (y - y0) / (y1 - y0)) * (self.height - top - bottom)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values within ``[lo, hi]`` — multiples of 1, 2 or 5 × 10ᵏ, the step whose
    tick count is closest to ``target`` (the finer one on a tie)."""
    if not hi > lo:
        return [lo]
    mag = 10 ** math.floor(math.log10((hi - lo) / max(target, 1)))

    def span(step: float) -> tuple[int, int]:
        return math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)

    steps = [m * mag for m in (0.5, 1, 2, 5, 10)]
    step = min(steps, key=lambda st: abs(span(st)[1] - span(st)[0] + 1 - target))
    first, last = span(step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def _tick_label(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def _extent(series: Sequence[Series], axis: str) -> tuple[float, float]:
    vals: list[float] = []
    for s in series:
        cols = [s.x] if axis == "x" else [s.y, s.low or [], s.high or []]
        vals += [float(v) for col in cols for v in col if v is not None and math.isfinite(v)]
    if not vals:
        return (0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    elif axis == "y":
        pad = 0.05 * (hi - lo)
        lo, hi = lo - pad, hi + pad
    return (lo, hi)


def _runs(n: int, ok: Sequence[bool]) -> list[list[int]]:
    """Indices split into runs of consecutive ``ok`` points."""
    runs: list[list[int]] = [[]]
    for i in range(n):
        if ok[i]:
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _series(s: Series, color: str, f: Frame) -> list[str]:
    n = len(s.x)
    out = [f'<g class="series" data-series="{escape(s.label)}">']
    if s.low is not None and s.high is not None:
        lo, hi = s.low, s.high
        for run in _runs(n, [lo[i] is not None and hi[i] is not None for i in range(n)]):
            top = [f"{_fmt(f.px(s.x[i]))},{_fmt(f.py(float(hi[i] or 0)))}" for i in run]
            bot = [f"{_fmt(f.px(s.x[i]))},{_fmt(f.py(float(lo[i] or 0)))}" for i in run[::-1]]
            out.append(
                f'<polygon class="band" points="{" ".join(top + bot)}" fill="{color}" '
                'fill-opacity="0.18" stroke="none"/>'
            )
    dash = ' stroke-dasharray="5 3"' if s.dashed else ""
    for run in _runs(n, [s.y[i] is not None for i in range(n)]):
        pts = " ".join(f"{_fmt(f.px(s.x[i]))},{_fmt(f.py(float(s.y[i] or 0)))}" for i in run)
        out.append(
            f'<polyline class="line" points="{pts}" fill="none" stroke="{color}" '
            f'stroke-width="2"{dash}/>'
        )
    for i in range(n) if s.markers else ():
        y = s.y[i]
        if y is None:
            continue
        x = float(s.x[i])
        tip = f"{s.label}: x={x:g}, y={y:.3f}"
        lo_i = s.low[i] if s.low is not None else None
        hi_i = s.high[i] if s.high is not None else None
        if lo_i is not None and hi_i is not None:
            tip += f" [{lo_i:.3f}, {hi_i:.3f}]"
        out.append(
            f'<circle cx="{_fmt(f.px(x))}" cy="{_fmt(f.py(y))}" r="3" fill="{color}" '
            f'data-x="{x!r}" data-y="{float(y)!r}"><title>{escape(tip)}</title></circle>'
        )
    out.append("</g>")
    return out


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 380,
    height: int = 260,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    unit: bool = False,
    diagonal: bool = False,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    legend: bool = True,
) -> str:
    """An inline ``<svg>`` line chart of ``series``. ``unit``: both axes fixed to ``[0, 1]``;
    otherwise ranges default to the data's extent. ``diagonal``: a dashed ``y = x`` line.
    ``x_ticks``: explicit ``(value, label)`` ticks on the x axis."""
    xr = (0.0, 1.0) if unit else x_range or _extent(series, "x")
    yr = (0.0, 1.0) if unit else y_range or _extent(series, "y")
    f = Frame(width, height, xr, yr)
    left, top, right, bottom = MARGIN
    x_px0, x_px1, y_px0, y_px1 = left, width - right, height - bottom, top
    # legend: items flow left to right, wrapping below the plot area
    items: list[tuple[float, float, Series, str]] = []
    lx, row = float(left), 0
    for i, s in enumerate(series if legend else ()):
        w = 22 + _CHAR_W * len(s.label) + 12
        if lx + w > width - right and lx > left:
            lx, row = float(left), row + 1
        items.append((lx, height + row * _LEGEND_ROW, s, s.color or PALETTE[i % len(PALETTE)]))
        lx += w
    total_h = height + (row + 1) * _LEGEND_ROW + 4 if items else height
    out = [
        f'<svg class="chart" width="{width}" height="{total_h}" viewBox="0 0 {width} {total_h}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{x_px0}" y="{y_px1}" width="{x_px1 - x_px0}" height="{y_px0 - y_px1}" '
        'fill="#fff" stroke="#999"/>',
    ]
    if title:
        out.append(
            f'<text x="{width / 2:.1f}" y="15" text-anchor="middle" font-size="12" '
            f'font-weight="bold">{escape(title)}</text>'
        )
    xt = x_ticks if x_ticks is not None else [(v, _tick_label(v)) for v in nice_ticks(*xr)]
    for v, label in xt:
        p = f.px(v)
        out.append(f'<line x1="{_fmt(p)}" y1="{y_px1}" x2="{_fmt(p)}" y2="{y_px0}" stroke="#eee"/>')
        out.append(
            f'<text x="{_fmt(p)}" y="{y_px0 + 14}" text-anchor="middle">{escape(label)}</text>'
        )
    for v in nice_ticks(*yr):
        p = f.py(v)
        out.append(f'<line x1="{x_px0}" y1="{_fmt(p)}" x2="{x_px1}" y2="{_fmt(p)}" stroke="#eee"/>')
        out.append(
            f'<text x="{x_px0 - 4}" y="{_fmt(p + 4)}" text-anchor="end">{_tick_label(v)}</text>'
        )
    if x_label:
        out.append(
            f'<text x="{(x_px0 + x_px1) / 2:.1f}" y="{y_px0 + 31}" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
    if y_label:
        cy = (y_px0 + y_px1) / 2
        out.append(
            f'<text x="13" y="{cy:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 13 {cy:.1f})">{escape(y_label)}</text>'
        )
    if diagonal:
        lo, hi = max(xr[0], yr[0]), min(xr[1], yr[1])
        out.append(
            f'<line class="diagonal" x1="{_fmt(f.px(lo))}" y1="{_fmt(f.py(lo))}" '
            f'x2="{_fmt(f.px(hi))}" y2="{_fmt(f.py(hi))}" stroke="#888" stroke-dasharray="4 4"/>'
        )
    for i, s in enumerate(series):
        out += _series(s, s.color or PALETTE[i % len(PALETTE)], f)
    for x, y, s, color in items:
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="{y + 8:.1f}" x2="{x + 18:.1f}" y2="{y + 8:.1f}" '
            f'stroke="{color}" stroke-width="2"{dash}/>'
            f'<text x="{x + 22:.1f}" y="{y + 12:.1f}">{escape(s.label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
