"""The report for people: terminal tables, JSON equal to ``to_dict()``, and one escaped,
self-contained HTML page."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

from rich.console import Console
from scorekit import T0, known_report

from mlrails.score.history import ScoreHistoryEntry
from mlrails.score.render import print_history, print_report, to_html, to_json
from mlrails.score.report import Gap, RuleResult, ScoreReport
from mlrails.score.rubrics import ITEMS

SCRIPT = "<script>alert('x')</script>"


def _hostile() -> ScoreReport:
    return known_report(
        results={
            "robustness.evaluation.importance": RuleResult(
                2.0,
                "rule [red]with markup[/red] & <b>tags</b>",
                ('evidence "quoted" <img src=x onerror=alert(1)>',),
                "next <step>",
            )
        },
        notes={"robustness.data.privacy": SCRIPT},
        gaps=(Gap("bad<file>.json", "corrupt: <svg onload=alert(1)>"),),
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def _history() -> list[ScoreHistoryEntry]:
    return [
        ScoreHistoryEntry(1, T0 - timedelta(days=2), 20.0, 0.5),
        ScoreHistoryEntry(2, T0 - timedelta(days=1), 30.0, 1.0),
        ScoreHistoryEntry(3, T0, 35.0, 1.5),
    ]


def test_json_equals_to_dict() -> None:
    report = _hostile()
    text = to_json(report)
    assert json.loads(text) == report.to_dict()
    data = json.loads(text)
    assert data["robustness"]["score"] == 35 + 2 and data["mltest"]["score"] == 1.5
    assert [i["id"] for i in data["items"]] == list(ITEMS)


def test_html_has_every_item_with_evidence_rule_and_next_step() -> None:
    report = _hostile()
    page = to_html(report)
    for item_id, item in ITEMS.items():
        assert f'<tr id="{item_id}">' in page
        assert f"<code>{item_id}</code>" in page
        assert item.question.replace("'", "&#x27;") in page
    assert "robustness total 37/88: adequate: failure points appear as it scales" in page
    assert "ML Test Score 1.5 (minimum of the section sums: tests for model development" in page
    imp = page[page.index('<tr id="robustness.evaluation.importance">') :]
    imp = imp[: imp.index("</tr>")]
    assert "evidence" in imp and "2 / 4" in imp
    assert "&lt;b&gt;tags&lt;/b&gt;" in imp and "next &lt;step&gt;" in imp
    assert "27 items scored from evidence" not in page
    assert "1 items scored from evidence, 27 from the answers file, 22 with neither" in page


def test_html_escapes_everything() -> None:
    page = to_html(_hostile())
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "<img" not in page and "onerror" not in page.replace("onerror=alert", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "bad&lt;file&gt;.json" in page and "&lt;svg onload=alert(1)&gt;" in page
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a, _ in parser.attrs if a.startswith("on") or a == "style"]


def test_html_is_self_contained() -> None:
    page = to_html(_hostile(), _history())
    assert not re.search(r"https?://|//[a-z]", page)
    assert "<style>" in page
    parser = _Tags()
    parser.feed(page)
    assert not {"script", "link", "img", "iframe", "object"} & set(parser.tags)
    assert not [a for a, _ in parser.attrs if a in ("src", "href", "style")]


def test_html_section_bars_and_trend() -> None:
    report = _hostile()
    page = to_html(report)
    assert page.count('<svg class="bar"') == 6 + 4
    # deployment 16/16 -> a full bar; evaluation 2/16 -> 1/8 of 220 px
    assert 'aria-label="Model deployment and monitoring: 16 of 16"' in page
    bar = page[page.index('aria-label="Model evaluation and interpretability: 2 of 16"') :]
    assert 'width="27.5"' in bar[: bar.index("</svg>")]
    assert 'id="trend"' not in page and "<polyline" not in page
    with_trend = to_html(report, _history())
    assert 'id="trend"' in with_trend
    assert with_trend.count("<polyline") == 2 and with_trend.count("<circle") == 6
    assert "robustness 20 → 35/88 (+15; not ready → adequate" in with_trend


def test_html_without_gaps() -> None:
    assert "None: every source given could be read." in to_html(known_report())


def _console() -> Console:
    return Console(file=io.StringIO(), width=220, record=True, color_system=None)


def test_terminal_report() -> None:
    console = _console()
    print_report(_hostile(), console)
    out = console.export_text()
    assert "ML System Robustness Score" in out and "ML Test Score" in out
    assert "robustness total 37/88: adequate: failure points appear as it scales" in out
    assert "ML Test Score 1.5 (minimum of the section sums: tests for model development" in out
    assert re.search(r"Model deployment and monitoring\s+│\s+16 │\s+16", out)
    for item_id in ITEMS:
        assert item_id in out
    # markup in rules is shown as written, not interpreted
    assert "rule [red]with markup[/red] & <b>tags</b>" in out
    assert "1 gap(s): not used as evidence" in out
    assert "bad<file>.json: corrupt: <svg onload=alert(1)>" in out


def test_terminal_quiet_and_history() -> None:
    console = _console()
    print_report(known_report(), console, items=False, history=_history())
    out = console.export_text()
    assert "robustness.data.quality" not in out and "gap" not in out
    assert "3 stored scores" in out
    console = _console()
    print_history(_history(), console)
    out = console.export_text()
    assert re.search(r"1 │ 2025-02-27 12:00:00 │\s+20 │ not ready\s+│\s+0.5", out), out
    assert "robustness 20 → 35/88 (+15" in out
