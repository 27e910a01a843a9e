"""The team's answers for the items evidence cannot score: a YAML file, validated item by item.

The file (``mlrails score --init`` writes a commented template)::

    answers:
      robustness.data.privacy:
        score: 3
        note: "DPIA signed off 2025-01 (docs/dpia.md)"
      mltest.model.2: 0.5        # the short form: the score alone

Robustness items take an integer 0–4, ML Test Score items 0, 0.5 (run manually, results
documented and shared) or 1 (run automatically and repeatedly). An empty (null) score is an
unanswered item. Every problem (unreadable file, invalid YAML, unknown item id, score off the
item's scale, wrong type) becomes a :class:`Gap` naming the file, the line where known and
the item; the valid entries are still used.
"""

from __future__ import annotations

import difflib
import math
import textwrap
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from mlrails.score.report import Answer, Gap
from mlrails.score.rubrics import ITEMS, MLTEST, ROBUSTNESS, Item, Section

#: keys an entry's mapping may hold
_ENTRY_KEYS = ("score", "note")
_TOP_KEYS = ("answers",)


def read_answers(path: Path | str | None) -> tuple[dict[str, Answer], list[Gap]]:
    """The valid answers of the YAML file at ``path`` and a :class:`Gap` per problem
    (``None``: no answers file, no answers). Never raises for a bad file."""
    if path is None:
        return {}, []
    p = Path(path)
    source = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, [Gap(source, "answers file not found (mlrails score --init writes one)")]
    except IsADirectoryError:
        return {}, [Gap(source, "is a directory, not an answers file")]
    except UnicodeDecodeError as exc:
        return {}, [Gap(source, f"not UTF-8 text (byte {exc.start}); cannot read the answers")]
    except OSError as exc:
        return {}, [Gap(source, f"cannot read the answers file: {exc.strerror or exc}")]
    return parse_answers(text, source)


def parse_answers(text: str, source: str = "answers") -> tuple[dict[str, Answer], list[Gap]]:
    """The valid answers in YAML ``text`` and a :class:`Gap` per problem (``source`` names the
    file in the messages)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return {}, [Gap(source, _yaml_problem(exc))]
    lines = _Lines(root)
    return validate_answers(data, source, lines)


def validate_answers(
    data: Any, source: str = "answers", lines: _Lines | None = None
) -> tuple[dict[str, Answer], list[Gap]]:
    """Validate parsed YAML (``{"answers": {ITEM_ID: entry}}``): the valid answers, a
    :class:`Gap` per problem."""
    lines = lines or _Lines(None)
    gaps: list[Gap] = []

    def gap(problem: str, line: int | None = None) -> None:
        gaps.append(Gap(source, f"line {line}: {problem}" if line else problem))

    if data is None:
        return {}, []
    if not isinstance(data, dict):
        gap(
            f"expected a mapping with an 'answers:' key at the top, got {_kind(data)}",
            lines.root_line,
        )
        return {}, gaps
    for key in data:
        if key not in _TOP_KEYS:
            hint = (
                "; put item answers under 'answers:'"
                if isinstance(key, str) and key in ITEMS
                else ""
            )
            gap(f"unknown top-level key {key!r} (expected 'answers'){hint}", lines.top(key))
    entries = data.get("answers")
    if entries is None:
        return {}, gaps
    if not isinstance(entries, dict):
        gap(f"'answers' must map item ids to scores, got {_kind(entries)}", lines.top("answers"))
        return {}, gaps
    for dup, dup_line in lines.duplicates:
        gap(f"{dup}: given more than once (the last one counts)", dup_line)
    answers: dict[str, Answer] = {}
    for key, value in entries.items():
        line = lines.entry(key)
        if not isinstance(key, str):
            gap(f"item id {key!r} is not text (ids look like robustness.data.quality)", line)
            continue
        item = ITEMS.get(key)
        if item is None:
            gap(f"{key}: unknown item id{_suggest(key)}", line)
            continue
        answer = _entry(item, value, lambda problem, k=key, ln=line: gap(f"{k}: {problem}", ln))
        if answer is not None:
            answers[key] = answer
    return answers, gaps


def _entry(item: Item, value: Any, gap: Any) -> Answer | None:
    """One entry (short form or mapping) as an Answer, or None (unanswered or invalid)."""
    note: str | None = None
    if isinstance(value, dict):
        for k in value:
            if k not in _ENTRY_KEYS:
                close = difflib.get_close_matches(str(k), _ENTRY_KEYS, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                gap(f"unknown key {k!r} (an entry has 'score' and 'note'){hint}")
        raw_note = value.get("note")
        if raw_note is not None:
            if isinstance(raw_note, (str, int, float)) and not isinstance(raw_note, bool):
                note = str(raw_note)
            else:
                gap(f"note must be text, got {_kind(raw_note)} (the score still counts)")
        score = value.get("score")
        if score is None:
            if note is not None:
                gap("has a note but no score: not counted")
            return None
    else:
        score = value
        if score is None:
            return None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        gap(f"score must be a number ({_scale(item)}), got {_kind(score)}")
        return None
    x = float(score)
    if not math.isfinite(x) or x not in item.allowed:
        gap(f"score {score!r} is not on the item's scale: use {_scale(item)}")
        return None
    return Answer(item.id, x, note)


def _scale(item: Item) -> str:
    return "one of " + ", ".join(f"{v:g}" for v in item.allowed)


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, list(ITEMS), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}?"
    return " (mlrails score --init lists every id)"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"


class _Lines:
    """Line numbers (1-based) of the keys in a composed YAML document, best effort."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root_line: int | None = None if root is None else root.start_mark.line + 1
        self._top: dict[Any, int] = {}
        self._entries: dict[Any, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        if not isinstance(root, yaml.MappingNode):
            return
        loader = yaml.SafeLoader("")
        for k, v in root.value:
            key = _scalar(loader, k)
            self._top.setdefault(key, k.start_mark.line + 1)
            if key == "answers" and isinstance(v, yaml.MappingNode):
                seen: set[Any] = set()
                for ek, _ev in v.value:
                    ekey = _scalar(loader, ek)
                    line = ek.start_mark.line + 1
                    if ekey in seen:
                        self.duplicates.append((str(ekey), line))
                    seen.add(ekey)
                    self._entries[ekey] = line

    def top(self, key: Any) -> int | None:
        return self._top.get(key)

    def entry(self, key: Any) -> int | None:
        return self._entries.get(key)


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A key node's Python value (as safe_load would build it) for looking lines up."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value


# -- the template -------------------------------------------------------------------------
_HEADER = """\
# mlrails score: the team's answers for the readiness items.
#
# mlrails scores every item it can from evidence (artifact, descriptors, bench records, the
# service's settings and store, CI files). An item scored from evidence takes that score; an
# answer here counts for the items evidence cannot decide, and for the others only when
# their evidence is missing.
#
# Scales:
#   robustness.* items: an integer 0, 1, 2, 3 or 4 (the total is out of 88).
#   mltest.* items: 0; 0.5 = run manually, results documented and shared;
#                   1 = run automatically and repeatedly.
#
# Each entry:  ITEM_ID: {score: N, note: "what backs it: a link, a document, who checked"}
# or the short form  ITEM_ID: N.  Leave the score empty for an unanswered item (it scores 0).
#
# Use it:  mlrails score --answers answers.yaml [--artifact rails/ --bench record.json ...]

answers:
"""


def init_template(automatic: Collection[str] = frozenset()) -> str:
    """A commented YAML answers file listing every item by rubric and section, with its
    question and allowed scores; items in ``automatic`` (ids mlrails can score from evidence)
    say so. Every score is empty, so it parses back to no answers and no gaps."""
    out = [_HEADER]
    rubrics: tuple[tuple[str, tuple[Section, ...]], ...] = (
        ("ML System Robustness Score: 22 items, 0-4 each, total out of 88", ROBUSTNESS),
        (
            "ML Test Score (Breck et al., 2017): 28 tests, 0 / 0.5 / 1 each; the final score "
            "is the minimum of the four section sums",
            MLTEST,
        ),
    )
    for title, sections in rubrics:
        out.append(f"\n  # {'=' * 86}\n")
        out.extend(f"  # {ln}\n" for ln in textwrap.wrap(title, 86))
        out.append(f"  # {'=' * 86}\n")
        for section in sections:
            out.append(f"\n  # -- {section.title} {'-' * max(3, 81 - len(section.title))}\n")
            for item in section.items:
                out.append("\n")
                text = f"{item.title}: {item.question}"
                out.extend(f"  # {ln}\n" for ln in textwrap.wrap(text, 94))
                how = "; scored from evidence when available" if item.id in automatic else ""
                out.append(f"  # allowed: {', '.join(f'{v:g}' for v in item.allowed)}{how}\n")
                out.append(f"  {item.id}:\n    score:\n    note:\n")
    return "".join(out)
