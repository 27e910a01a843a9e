"""The benchmark report: self-contained HTML with charts, Markdown summary, SVG helper."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlrails.bench.cell import CellSpec, run_cell
from mlrails.bench.compare import compare_pairs
from mlrails.bench.gate import GateResult, GateTest
from mlrails.bench.record import CellRecord, Machine, PairRecord, RunRecord
from mlrails.bench.report import PRECISION, render_html, render_markdown, write_report
from mlrails.bench.svg import MARGIN, Series, line_chart, nice_ticks

NASTY = "ValueError: column <b>x</b> & 'y' \"z\" | <script>alert(1)</script>"


@pytest.fixture(scope="module")
def record(cancer: Any, cancer_rails: Any) -> RunRecord:
    """Two pairs: the forest's real cells, and a "twin" whose accuracy is the forest's × 0.9
    (so the two pairs' numbers differ); one real failed cell and one with markup in its error."""
    specs = [CellSpec("none", 1, 0, pair="forest")]
    specs += [
        CellSpec("gaussian_noise", s, seed, pair="forest") for s in (1, 3, 5) for seed in (0, 1)
    ]
    specs += [CellSpec("scaling", s, 0, pair="forest") for s in (1, 5)]
    specs.append(CellSpec("category_swap", 2, 0, pair="forest"))  # fails: no categorical column
    X, y, ref = cancer.X_test, cancer.y_test, cancer.X_train
    cells = [run_cell(cancer_rails, X, y, s, ref, n_resamples=100) for s in specs]
    twins = []
    for c in cells:
        t = c.model_copy(deep=True, update={"pair": "twin"})
        if "accuracy" in t.metrics and t.metrics["accuracy"] is not None:
            t.metrics["accuracy"] *= 0.9
            lo, hi = t.intervals["accuracy"]
            t.intervals["accuracy"] = (lo * 0.9, hi * 0.9)
        twins.append(t)
    bad = CellRecord(
        pair="twin", kind="perturbation", name="missing_values", severity=3, seed=0, error=NASTY
    )
    pairs = [
        PairRecord(
            name=n,
            artifact=f"{n}.rails",
            artifact_hash="a" * 64,
            model_hash="b" * 64,
            model_class="RandomForestClassifier",
            task="classification",
        )
        for n in ("forest", "twin")
    ]
    return RunRecord(
        run_id="run-20240601-0001",
        config={"grid": "test"},
        config_hash="c0ffee" * 10 + "abcd",
        data_hashes={"test": "d" * 64},
        pairs=pairs,
        seeds=[0, 1],
        packages={"numpy": np.__version__, "scikit-learn": "1.x"},
        git_commit="0123456789abcdef0123456789abcdef01234567",
        mlrails_version="0.0.test",
        machine=Machine(
            hostname="ci-box",
            platform="Linux",
            python="3.11",
            cpu="x86_64",
            cpu_count=4,
            memory_gb=16.0,
        ),
        started_at="2024-06-01T10:00:00+00:00",
        finished_at="2024-06-01T10:00:42+00:00",
        wall_s=42.0,
        cells=[*cells, *twins, bad],
    )


@pytest.fixture(scope="module")
def html(record: RunRecord) -> str:
    return render_html(record)


@pytest.fixture(scope="module")
def doc(html: str) -> Doc:
    d = Doc()
    d.feed(html)
    d.close()
    return d


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Doc(HTMLParser):
    """Collects elements (tag, attrs, ancestors' tags and attrs) and checks tags nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.elements: list[tuple[str, dict[str, str | None], list[dict[str, str | None]]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a, [x for _, x in self.stack]))
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), [x for _, x in self.stack]))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else None}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a
            for t, a, _ in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def inside(self, tag: str, **outer: str) -> list[tuple[dict[str, str | None], list[Any]]]:
        """Elements ``tag`` with an ancestor having all ``outer`` attributes."""
        want = {k.replace("_", "-"): v for k, v in outer.items()}
        return [
            (a, anc)
            for t, a, anc in self.elements
            if t == tag and any(all(x.get(k) == v for k, v in want.items()) for x in anc)
        ]


def _mean(cells: list[CellRecord], metric: str) -> tuple[float, float, float]:
    vals = [c.metrics[metric] for c in cells]
    lows = [c.intervals[metric][0] for c in cells]
    highs = [c.intervals[metric][1] for c in cells]
    return float(np.mean(vals)), float(np.mean(lows)), float(np.mean(highs))  # type: ignore[arg-type]


def _ok(record: RunRecord, pair: str, name: str, severity: int | None = None) -> list[CellRecord]:
    return [
        c
        for c in record.cells
        if c.pair == pair
        and c.name == name
        and c.error is None
        and (severity is None or c.severity == severity)
    ]


# ------------------------------------------------------------------------------------- HTML


def test_html_is_well_formed_and_self_contained(html: str, doc: Doc) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert doc.errors == [] and [t for t, _ in doc.stack] == []
    assert not doc.find("script") and not doc.find("link") and not doc.find("img")
    assert "http://" not in html and "https://" not in html and "url(" not in html
    ids = {a["id"] for _, a, _ in doc.elements if a.get("id")}
    for _, a, _ in doc.elements:
        for attr in ("src", "href", "xlink:href", "action"):
            target = a.get(attr)
            if target is not None:
                assert target.startswith("#") and target[1:] in ids, target


def test_provenance_is_in_the_header(record: RunRecord, doc: Doc) -> None:
    text = " ".join(doc.text)
    for s in (
        record.run_id,
        record.config_hash,
        record.git_commit,
        "ci-box",
        "0.0.test",
        record.started_at,
        record.finished_at,
        "42.0 s",
        "scikit-learn 1.x",
    ):
        assert s is not None and s in text, s


def test_one_accuracy_chart_per_perturbation_with_one_series_per_pair(
    record: RunRecord, doc: Doc
) -> None:
    for chart in ("accuracy", "silent_failure_rate"):
        figs = doc.find("figure", data_chart=chart)
        # category_swap and missing_values only failed: no chart for them
        assert sorted(f["data-condition"] or "" for f in figs) == ["gaussian_noise", "scaling"]
        for name in ("gaussian_noise", "scaling"):
            groups = doc.inside("g", data_chart=chart, data_condition=name)
            series = [a["data-series"] for a, _ in groups if a.get("class") == "series"]
            assert series == ["forest", "twin"]


def test_accuracy_curve_points_are_the_mean_over_seeds(record: RunRecord, doc: Doc) -> None:
    circles = [
        (a, anc)
        for a, anc in doc.inside("circle", data_chart="accuracy", data_condition="gaussian_noise")
    ]
    for pair in ("forest", "twin"):
        mine = [a for a, anc in circles if any(x.get("data-series") == pair for x in anc)]
        got = {float(a["data-x"] or "nan"): float(a["data-y"] or "nan") for a in mine}
        want = {0.0: _mean(_ok(record, pair, "none"), "accuracy")[0]}
        want |= {
            float(s): _mean(_ok(record, pair, "gaussian_noise", s), "accuracy")[0]
            for s in (1, 3, 5)
        }
        assert got == pytest.approx(want)
    # the band of the 5th severity spans the mean interval
    assert doc.inside("polygon", data_series="forest")


def test_reliability_and_roc_charts_per_pair(record: RunRecord, doc: Doc) -> None:
    rel = doc.find("figure", data_chart="reliability")
    assert sorted(f["data-pair"] or "" for f in rel) == ["forest", "forest", "twin", "twin"]
    roc = doc.find("figure", data_chart="roc")
    # clean + two perturbations, per pair
    assert len(roc) == 6
    safeguards = set(_ok(record, "forest", "gaussian_noise", 5)[0].roc)
    labels = {a["data-series"] for a, _ in doc.inside("g", data_chart="roc")} - {None}
    assert {lab.split(" (")[0] for lab in labels if lab} == safeguards  # type: ignore[union-attr]


def test_confusion_shift_is_worst_minus_clean(record: RunRecord, html: str) -> None:
    def rates(cells: list[CellRecord]) -> Any:
        m = sum(np.asarray(c.confusion, dtype=float) for c in cells)
        return m / np.asarray(m).sum(axis=1, keepdims=True)

    shift = rates(_ok(record, "forest", "gaussian_noise", 5)) - rates(_ok(record, "forest", "none"))
    sec = html.split('id="c-perturbation-gaussian_noise"')[1].split("<h2")[0]
    block = sec.split('data-confusion="forest"')[1].split("</table>")[0]
    shown = [float(x) for x in re.findall(r'<td class="n[^"]*">([+-][0-9.]+)</td>', block)]
    assert shown == pytest.approx(shift.ravel().tolist(), abs=10**-PRECISION)
    assert shift[0, 0] < 0 or shift[1, 1] < 0  # noise costs right answers somewhere


def test_failed_cells_are_listed_with_escaped_errors(
    record: RunRecord, html: str, doc: Doc
) -> None:
    failed = [c for c in record.cells if c.error]
    assert len(failed) == 3
    assert "no categorical column" in html
    section = html.split('id="failed"')[1].split("<h2")[0]
    for c in failed:
        assert c.key in section
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(NASTY in t for t in doc.text)  # round-trips as text, not markup


def test_gate_banner(record: RunRecord) -> None:
    reg = GateTest(
        key="forest:gaussian_noise/s5/seed0",
        metric="accuracy",
        baseline=0.93,
        current=0.71,
        difference=0.71 - 0.93,
        test="mcnemar-exact",
        p=0.0001,
        p_holm=0.0004,
        regressed=True,
    )
    bad = render_html(record, gate=GateResult(tests=[reg]))
    d = Doc()
    d.feed(bad)
    assert d.find("div", data_gate="fail") and not d.find("div", data_gate="pass")
    assert "1 regression" in bad and reg.key in bad and "0.710" in bad and "&lt;0.001" in bad
    good = render_html(record, gate=GateResult(tests=[]))
    assert 'data-gate="pass"' in good and 'data-gate="fail"' not in good
    assert "data-gate" not in render_html(record)
    md = render_markdown(record, gate=GateResult(tests=[reg]))
    assert "**Regression gate: FAILED**" in md and reg.key in md
    assert "**Regression gate: PASSED**" in render_markdown(record, gate=GateResult(tests=[]))
    # a gate can fail on a cell that is missing or newly failed, without any regression
    lost = GateResult(tests=[], missing=["forest:blur/s1/seed0"], failed=[])
    assert "0 regressions" in render_html(record, gate=lost)
    assert "1 cells missing from this run: <code>forest:blur/s1/seed0</code>" in render_html(
        record, gate=lost
    )
    assert "`forest:blur/s1/seed0`" in render_markdown(record, gate=lost)


def test_comparisons_table(record: RunRecord) -> None:
    comps, _ = compare_pairs(record, n_resamples=50)
    assert comps
    out = render_html(record, comparisons=comps)
    table = out.split('<table class="comparisons">')[1].split("</table>")[0]
    assert table.count("<tr") == len(comps) + 1  # + header
    n_sig = sum(c.significant for c in comps)
    assert table.count('<tr class="sig">') == n_sig
    assert f"{len(comps)} comparisons, {n_sig} significant" in render_markdown(
        record, comparisons=comps
    )


def test_power_notes(record: RunRecord) -> None:
    _, notes = compare_pairs(record, n_resamples=50)
    resolved = [n for n in notes if n.replicates_needed is not None]
    assert resolved  # two seeds per condition: a spread, hence a sample size
    md = render_markdown(record, power=notes)
    rows = _md_rows(md, "Power")
    assert len(rows) == len(notes)
    by_condition = {(r[0], r[1]): r for r in rows}
    for n in resolved:
        row = by_condition[(f"{n.name}/s{n.severity}", f"{n.pair_b} − {n.pair_a}")]
        assert row[2] == str(n.replicates) and row[-1] == str(n.replicates_needed)
    html = render_html(record, power=notes)
    assert '<h2 id="power">' in html and 'href="#power"' in html
    assert '<h2 id="power">' not in render_html(record)


# ------------------------------------------------------------------------------------- Markdown


def _md_rows(md: str, heading: str) -> list[list[str]]:
    sec = md.split(f"## {heading}\n")[1].split("\n## ")[0]
    lines = [ln for ln in sec.splitlines() if ln.startswith("| ") and not ln.startswith("|---")]
    return [[x.strip() for x in ln.strip("|").split(" | ")] for ln in lines[1:]]


def _fmt3(v: tuple[float, float, float]) -> str:
    p = PRECISION
    return f"{v[0]:.{p}f} [{v[1]:.{p}f}, {v[2]:.{p}f}]"


def test_markdown_numbers_equal_the_record(record: RunRecord) -> None:
    md = render_markdown(record)
    rows = _md_rows(md, "perturbation: gaussian_noise")
    assert len(rows) == 2 * 4  # two pairs × (clean + 3 severities)
    for pair, sev, acc, silent in rows:
        cells = (
            _ok(record, pair, "none")
            if sev == "clean"
            else _ok(record, pair, "gaussian_noise", int(sev))
        )
        assert acc == _fmt3(_mean(cells, "accuracy"))
        assert silent == _fmt3(_mean(cells, "silent_failure_rate"))
    clean = {r[0]: r for r in _md_rows(md, "Clean")}
    assert set(clean) == {"forest", "twin"}
    assert clean["twin"][1] == _fmt3(_mean(_ok(record, "twin", "none"), "accuracy"))
    assert clean["forest"][3] == _fmt3(_mean(_ok(record, "forest", "none"), "ece_model"))
    assert clean["forest"][4] == _fmt3(_mean(_ok(record, "forest", "none"), "ece_rails"))
    head = md.split("## Clean\n")[1].splitlines()[1]
    assert "ECE (model, raw)" in head and "ECE (rails, calibrated)" in head
    assert record.run_id in md and record.config_hash in md and str(record.git_commit) in md


def test_markdown_lists_failed_cells_safely(record: RunRecord) -> None:
    md = render_markdown(record)
    assert "All 1 cell(s) failed" in md  # category_swap's section
    fails = md.split("## Failed cells\n")[1].split("\n## ")[0]
    assert fails.count("\n- `") == 3 and "no categorical column" in fails
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_write_report(record: RunRecord, tmp_path: Path) -> None:
    h, m = write_report(record, tmp_path / "out", gate=GateResult(tests=[]))
    assert h.name == "report.html" and m.name == "summary.md"
    assert 'data-gate="pass"' in h.read_text(encoding="utf-8")
    assert m.read_text(encoding="utf-8").startswith("# Robustness benchmark")


def test_a_regression_record_renders() -> None:
    def cell(sev: int, rmse: float, kind: str = "perturbation", name: str = "noise") -> CellRecord:
        return CellRecord(
            pair="ridge",
            kind=kind,
            name=name,
            severity=sev,
            seed=0,
            n=50,  # type: ignore[arg-type]
            metrics={"rmse": rmse, "mae": rmse / 2, "r2": 1 - rmse, "silent_failure_rate": None},
            intervals={"rmse": (rmse - 0.1, rmse + 0.1)},
        )

    rec = RunRecord(
        run_id="r",
        config={},
        config_hash="h",
        data_hashes={},
        seeds=[0],
        packages={},
        pairs=[
            PairRecord(
                name="ridge",
                artifact="a",
                artifact_hash="x",
                model_hash="y",
                model_class="Ridge",
                task="regression",
            )
        ],
        mlrails_version="0",
        machine=Machine(hostname="h", platform="p", python="3", cpu="c", cpu_count=1),
        started_at="s",
        finished_at="f",
        wall_s=1.0,
        cells=[cell(1, 0.2, "clean", "none"), cell(1, 0.3), cell(2, 0.5)],
    )
    d = Doc()
    d.feed(render_html(rec))
    assert d.errors == [] and len(d.find("figure", data_chart="rmse")) == 1
    assert not d.find("figure", data_chart="accuracy")
    rows = _md_rows(render_markdown(rec), "perturbation: noise")
    assert [r[:3] for r in rows] == [
        ["ridge", "clean", "0.200 [0.100, 0.300]"],
        ["ridge", "1", "0.300 [0.200, 0.400]"],
        ["ridge", "2", "0.500 [0.400, 0.600]"],
    ]


# ------------------------------------------------------------------------------------- SVG


def test_svg_maps_values_to_pixels() -> None:
    s = Series("a", [0, 5, 10], [0.0, 0.25, None], low=[0.0, 0.1, None], high=[0.1, 0.5, None])
    svg = line_chart([s], width=400, height=300, x_range=(0, 10), y_range=(0, 1))
    left, top, right, bottom = MARGIN
    px = left + 0.5 * (400 - left - right)
    py = top + 0.75 * (300 - top - bottom)
    assert f'cx="{px:.2f}" cy="{py:.2f}"' in svg
    assert f'cx="{left:.2f}" cy="{300 - bottom:.2f}"' in svg  # the origin, bottom-left
    # the band at x=5 goes from y=0.5 (top) to y=0.1 (bottom)
    band = re.search(r'<polygon class="band" points="([^"]+)"', svg)
    assert band is not None
    pts = [tuple(map(float, p.split(","))) for p in band.group(1).split()]
    inner = 300 - top - bottom
    assert (round(px, 2), round(top + 0.5 * inner, 2)) in pts
    assert (round(px, 2), round(top + 0.9 * inner, 2)) in pts
    assert svg.count("<circle") == 2  # None is not drawn


def test_svg_breaks_lines_at_gaps_and_escapes_text() -> None:
    s = Series("<b>&amp", [1, 2, 3, 4, 5], [0.1, 0.2, None, 0.4, 0.5])
    svg = line_chart([s], title='a<"b">', x_label="x&y", y_label="<y>", unit=True, diagonal=True)
    assert svg.count('<polyline class="line"') == 2
    assert svg.count('class="diagonal"') == 1
    assert "<b>" not in svg and "&lt;b&gt;&amp;amp" in svg and "a&lt;&quot;b&quot;&gt;" in svg
    assert "x&amp;y" in svg and "&lt;y&gt;" in svg and "http" not in svg
    d = Doc()
    d.feed(svg)
    assert d.errors == [] and not d.stack


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.62, 0.97) == pytest.approx([0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
    assert nice_ticks(-0.3, 5.3) == [0, 1, 2, 3, 4, 5]
    assert nice_ticks(2, 2) == [2]


def test_terminal_table_shows_full_cell_names_at_80_columns(record: RunRecord) -> None:
    """`mlrails bench`'s table at a normal terminal width: every cell's full name on one line
    (the longest the example config makes, e.g. ``model:covariate_shift/s5/seed2``), nothing
    cut off with an ellipsis, both ECEs labelled."""
    from rich.console import Console

    from mlrails.cli.bench_cmd import bench_cells_table

    ok = [c for c in record.cells if c.error is None]
    longer = [
        c.model_copy(update={"pair": "model", "name": n, "seed": 2})
        for c, n in zip(
            ok[1:4], ("covariate_shift", "missing_values", "gaussian_noise"), strict=True
        )
    ]
    rec = record.model_copy(update={"cells": [*record.cells, *longer]})
    console = Console(width=80, record=True, color_system=None)
    console.print(bench_cells_table(rec))
    text = console.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    lines = text.splitlines()
    for c in rec.cells:
        assert any(line.startswith(c.key + " ") for line in lines), c.key
    header = "\n".join(lines[:6])
    assert "ECE" in header and "model" in header and "rails" in header
    first = next(c for c in rec.cells if c.error is None)
    row = next(i for i, line in enumerate(lines) if line.startswith(first.key + " "))
    assert f"{first.metrics['ece_model']:.3f}" in lines[row]
    assert f"{first.metrics['ece_rails']:.3f}" in lines[row + 1]


def test_html_labels_both_eces_with_the_record_numbers(record: RunRecord, html: str) -> None:
    """The summary and the per-cell table show the model's and the rails' ECE, labelled."""
    from html import escape

    assert escape("ECE (model, raw)") in html and escape("ECE (rails, calibrated)") in html
    summary = html.split('id="summary"')[1].split("<h2")[0]
    for name in ("ece_model", "ece_rails"):
        cells = _ok(record, "forest", "none")
        assert f"{_mean(cells, name)[0]:.{PRECISION}f}" in summary, name
