"""A mismatch report as a terminal table (Rich), JSON, or one self-contained HTML page.

The HTML page has no scripts, no external resources, and every text taken from a descriptor is
escaped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from mlrails._json import jsonable
from mlrails.mismatch.findings import Finding, MismatchReport, NumberValue

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

#: the columns of the training-vs-production statistics table (terminal, HTML, web UI)
STATISTICS_COLUMNS = (
    "field",
    "test",
    "exactness",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_name",
    "effect_size",
    "psi",
    "n_ref",
    "n_cur",
    "alarm",
)


def format_number(value: NumberValue) -> str:
    """Compact text of a finding's number (4 significant digits for floats)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def _numbers_text(numbers: Mapping[str, NumberValue]) -> str:
    return ", ".join(f"{k}={format_number(v)}" for k, v in numbers.items())


def to_json(report: MismatchReport) -> str:
    """The report as JSON text (NaN/inf written as null)."""
    return json.dumps(jsonable(report.to_dict()), indent=2, ensure_ascii=False) + "\n"


def print_report(report: MismatchReport, console: Console, *, verbose: bool = False) -> None:
    """Descriptor problems, a findings table and a one-line summary on ``console``."""
    for p in report.descriptor_problems:
        console.print(
            f"[bold red]unreadable[/] {rich_escape(p.file)}: {rich_escape(p.path)}: "
            f"{rich_escape(p.problem)}",
            highlight=False,
            soft_wrap=True,
        )
    findings = report.sorted_findings()
    shown = findings if verbose else [f for f in findings if f.severity != "info"]
    if shown:
        table = Table(title=f"mismatch findings in {rich_escape(report.directory)}")
        for col in ("severity", "rule", "message", "numbers", "roles", "fix"):
            table.add_column(col, overflow="fold")
        for f in shown:
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity}[/]",
                f.rule_id,
                rich_escape(f.message),
                rich_escape(_numbers_text(f.numbers)),
                rich_escape(", ".join(f.roles)),
                rich_escape(f.fix_hint),
            )
        console.print(table)
    counts = report.counts()
    hidden = len(findings) - len(shown)
    console.print(
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info"
        + (f" ({hidden} info not shown; --verbose)" if hidden else "")
        + f"; {len(report.checked_rules)} rule(s) checked, {len(report.skipped_rules)} skipped"
        + (
            f"; {len(report.descriptor_problems)} descriptor problem(s)"
            if report.descriptor_problems
            else ""
        ),
        highlight=False,
    )
    for s in report.skipped_rules:
        console.print(
            f"  skipped {s.rule_id}: {rich_escape(s.reason)}", style="dim", highlight=False
        )


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;
 max-width:1320px;margin:0 auto;padding:16px 24px 48px;background:#fafafa}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;
 border-bottom:2px solid #ddd;padding-bottom:3px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff;font-size:12.5px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap}tbody tr:nth-child(even){background:#f8f8f8}.scroll{overflow-x:auto}
.banner{padding:10px 14px;border-radius:4px;margin:12px 0;font-weight:600}
.pass{background:#e3f5e6;border:1px solid #3a9a4a;color:#1d5e28}
.fail{background:#fde6e6;border:1px solid #c93333;color:#8a1616}
.sev-error{color:#a01818;font-weight:600}.sev-warning{color:#8a6100;font-weight:600}
.sev-info{color:#245b8a}.note{color:#666;font-size:12px}
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table from pre-escaped cell HTML."""
    h = "".join(f"<th>{escape(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="scroll"><table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def _finding_row(f: Finding) -> list[str]:
    return [
        f'<span class="sev-{escape(f.severity)}">{escape(f.severity)}</span>',
        f"<code>{escape(f.rule_id)}</code>",
        escape(f.message),
        "<br>".join(f"<code>{escape(x)}</code>" for x in f.fields),
        "<br>".join(f"{escape(k)} = {escape(format_number(v))}" for k, v in f.numbers.items()),
        escape(", ".join(f.roles)),
        escape(f.fix_hint),
    ]


def to_html(report: MismatchReport) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external URLs)."""
    counts = report.counts()
    failing = counts["error"] > 0 or bool(report.descriptor_problems)
    banner = (
        f'<div class="banner {"fail" if failing else "pass"}">{counts["error"]} error(s), '
        f"{counts['warning']} warning(s), {counts['info']} info — "
        f"{len(report.checked_rules)} rule(s) checked, {len(report.skipped_rules)} skipped</div>"
    )
    parts = [
        f"<h1>Mismatch report: <code>{escape(report.directory)}</code></h1>",
        banner,
        '<p class="note">Descriptors read: '
        + (escape(", ".join(report.present)) or "none")
        + ". Missing: "
        + (escape(", ".join(report.missing)) or "none")
        + ".</p>",
    ]
    if report.descriptor_problems:
        parts.append("<h2>Unreadable descriptor files</h2>")
        parts.append(
            _table(
                ["file", "path", "problem"],
                (
                    [
                        f"<code>{escape(p.file)}</code>",
                        f"<code>{escape(p.path)}</code>",
                        escape(p.problem),
                    ]
                    for p in report.descriptor_problems
                ),
            )
        )
    parts.append("<h2>Findings</h2>")
    if report.findings:
        parts.append(
            _table(
                ["severity", "rule", "message", "fields", "numbers", "roles", "fix"],
                (_finding_row(f) for f in report.sorted_findings()),
            )
        )
    else:
        parts.append("<p>No findings.</p>")
    if report.statistics:
        parts.append("<h2>Training vs production statistics</h2>")
        cols = STATISTICS_COLUMNS
        parts.append(
            _table(
                cols,
                ([escape(format_number(row.get(c))) for c in cols] for row in report.statistics),
            )
        )
    if report.skipped_rules:
        parts.append("<h2>Skipped rules</h2>")
        parts.append(
            _table(
                ["rule", "why"],
                (
                    [f"<code>{escape(s.rule_id)}</code>", escape(s.reason)]
                    for s in report.skipped_rules
                ),
            )
        )
    parts.append(
        '<p class="note">Rules checked: '
        + escape(", ".join(report.checked_rules) or "none")
        + "</p>"
    )
    title = escape(f"mlrails mismatch {report.directory}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
