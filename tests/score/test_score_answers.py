"""The answers file: every kind of bad input becomes a Gap with a clear message, the valid
entries still count, and the ``--init`` template parses back to no answers and no gaps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlrails.score.answers import init_template, parse_answers, read_answers
from mlrails.score.report import Answer, Gap
from mlrails.score.rubrics import ITEMS, MLTEST, ROBUSTNESS


def _one_gap(text: str) -> tuple[dict[str, Answer], Gap]:
    answers, gaps = parse_answers(text, "answers.yaml")
    assert len(gaps) == 1, gaps
    assert gaps[0].source == "answers.yaml"
    return answers, gaps[0]


def test_full_and_short_forms() -> None:
    text = """
answers:
  robustness.data.privacy:
    score: 3
    note: "DPIA signed off (docs/dpia.md)"
  robustness.data.bias: 0
  mltest.model.2: 0.5
  mltest.model.3: {score: 1}
  mltest.model.4: {score: 0, note: "never measured"}
"""
    answers, gaps = parse_answers(text)
    assert gaps == []
    assert answers == {
        "robustness.data.privacy": Answer(
            "robustness.data.privacy", 3.0, "DPIA signed off (docs/dpia.md)"
        ),
        "robustness.data.bias": Answer("robustness.data.bias", 0.0),
        "mltest.model.2": Answer("mltest.model.2", 0.5),
        "mltest.model.3": Answer("mltest.model.3", 1.0),
        "mltest.model.4": Answer("mltest.model.4", 0.0, "never measured"),
    }


@pytest.mark.parametrize("text", ["", "# only a comment\n", "answers:\n", "answers: {}\n"])
def test_empty_files_mean_no_answers(text: str) -> None:
    assert parse_answers(text) == ({}, [])


def test_null_scores_are_unanswered() -> None:
    answers, gaps = parse_answers("answers:\n  mltest.data.1:\n  mltest.data.2: {score: null}\n")
    assert (answers, gaps) == ({}, [])


def test_unknown_item_suggests_the_closest_id() -> None:
    answers, gap = _one_gap("answers:\n  robustness.data.qualty: 3\n  mltest.data.1: 1\n")
    assert gap.problem == (
        "line 2: robustness.data.qualty: unknown item id; did you mean robustness.data.quality?"
    )
    assert set(answers) == {"mltest.data.1"}  # the valid entry still counts


def test_unknown_item_without_a_close_id_points_at_init() -> None:
    _, gap = _one_gap("answers:\n  nothing.like.it: 3\n")
    assert "unknown item id" in gap.problem
    assert "mlrails score --init" in gap.problem


@pytest.mark.parametrize(
    ("item", "value", "allowed"),
    [
        ("robustness.data.privacy", "2.5", "0, 1, 2, 3, 4"),
        ("robustness.data.privacy", "5", "0, 1, 2, 3, 4"),
        ("robustness.data.privacy", "-1", "0, 1, 2, 3, 4"),
        ("mltest.data.1", "0.25", "0, 0.5, 1"),
        ("mltest.data.1", "2", "0, 0.5, 1"),
        ("mltest.data.1", ".nan", "0, 0.5, 1"),
        ("mltest.data.1", ".inf", "0, 0.5, 1"),
    ],
)
def test_scores_off_the_scale_name_the_allowed_values(item: str, value: str, allowed: str) -> None:
    answers, gap = _one_gap(f"answers:\n  mltest.model.1: 1\n  {item}: {{score: {value}}}\n")
    assert gap.problem.startswith(f"line 3: {item}: score ")
    assert f"is not on the item's scale: use one of {allowed}" in gap.problem
    assert set(answers) == {"mltest.model.1"}


def test_whole_numbers_as_floats_are_on_the_robustness_scale() -> None:
    answers, gaps = parse_answers("answers:\n  robustness.data.bias: 2.0\n")
    assert gaps == [] and answers["robustness.data.bias"].score == 2.0


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("true", "true (a boolean)"),
        ('"half"', "text 'half'"),
        ('"1"', "text '1'"),
        ("[1, 2]", "a list"),
    ],
)
def test_wrong_types(value: str, kind: str) -> None:
    _, gap = _one_gap(f"answers:\n  mltest.data.3: {value}\n")
    assert (
        gap.problem
        == f"line 2: mltest.data.3: score must be a number (one of 0, 0.5, 1), got {kind}"
    )


def test_wrong_type_inside_an_entry() -> None:
    _, gap = _one_gap("answers:\n  robustness.data.bias: {score: yes}\n")
    assert "score must be a number (one of 0, 1, 2, 3, 4), got true (a boolean)" in gap.problem


def test_a_bad_note_keeps_the_score() -> None:
    answers, gap = _one_gap("answers:\n  mltest.data.3: {score: 1, note: [a, b]}\n")
    assert "note must be text, got a list (the score still counts)" in gap.problem
    assert answers == {"mltest.data.3": Answer("mltest.data.3", 1.0)}


def test_unknown_entry_key_suggests_score() -> None:
    answers, gap = _one_gap("answers:\n  mltest.data.3: {scor: 1}\n")
    assert "unknown key 'scor'" in gap.problem and "did you mean 'score'?" in gap.problem
    assert answers == {}


def test_note_without_score_is_not_counted() -> None:
    answers, gap = _one_gap("answers:\n  mltest.data.3: {note: done}\n")
    assert gap.problem == "line 2: mltest.data.3: has a note but no score: not counted"
    assert answers == {}


def test_non_text_item_id() -> None:
    _, gap = _one_gap("answers:\n  7: 1\n")
    assert gap.problem.startswith("line 2: item id 7 is not text")


def test_duplicate_items_are_reported_and_the_last_counts() -> None:
    answers, gap = _one_gap("answers:\n  mltest.data.3: 0\n  mltest.data.3: 1\n")
    assert gap.problem == "line 3: mltest.data.3: given more than once (the last one counts)"
    assert answers["mltest.data.3"].score == 1.0


def test_structure_problems() -> None:
    _, gap = _one_gap("- 1\n- 2\n")
    assert "expected a mapping with an 'answers:' key at the top, got a list" in gap.problem
    _, gap = _one_gap("answers: 3\n")
    assert gap.problem == "line 1: 'answers' must map item ids to scores, got int 3"
    answers, gaps = parse_answers("answers:\n  mltest.data.1: 1\nmltest.data.2: 1\nextra: x\n")
    assert [g.problem for g in gaps] == [
        "line 3: unknown top-level key 'mltest.data.2' (expected 'answers'); put item answers "
        "under 'answers:'",
        "line 4: unknown top-level key 'extra' (expected 'answers')",
    ]
    assert set(answers) == {"mltest.data.1"}


def test_invalid_yaml_gives_the_line() -> None:
    answers, gap = _one_gap("answers:\n  mltest.data.1: 1\n  mltest.data.2: [1\n")
    assert answers == {}
    assert re.match(r"invalid YAML at line \d+, column \d+: ", gap.problem), gap.problem
    _, gap = _one_gap("answers:\n  x: 1\n y: 2\n")
    assert gap.problem.startswith("invalid YAML at line 3, column 2:")


def test_unsafe_tags_are_refused() -> None:
    _, gap = _one_gap("answers: !!python/object/apply:os.system [echo hi]\n")
    assert gap.problem.startswith("invalid YAML at line 1")
    assert "constructor" in gap.problem


def test_files(tmp_path: Path) -> None:
    assert read_answers(None) == ({}, [])
    missing = tmp_path / "nope.yaml"
    assert read_answers(missing) == (
        {},
        [Gap(str(missing), "answers file not found (mlrails score --init writes one)")],
    )
    assert read_answers(tmp_path)[1] == [Gap(str(tmp_path), "is a directory, not an answers file")]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"answers:\n  mltest.data.1: \xff\xfe\n")
    (gap,) = read_answers(binary)[1]
    assert gap.source == str(binary) and gap.problem.startswith("not UTF-8 text")
    good = tmp_path / "a.yaml"
    good.write_text("answers:\n  mltest.data.1: 1\n  mltest.data.9: 1\n", encoding="utf-8")
    answers, gaps = read_answers(good)
    assert set(answers) == {"mltest.data.1"}
    assert gaps == [
        Gap(str(good), "line 3: mltest.data.9: unknown item id; did you mean mltest.data.7?")
    ]


# -- the template ---------------------------------------------------------------------------
def test_template_parses_back_to_nothing() -> None:
    text = init_template()
    assert parse_answers(text) == ({}, [])
    data = yaml.safe_load(text)
    assert list(data["answers"]) == list(ITEMS)  # every item, in rubric and section order
    assert all(v == {"score": None, "note": None} for v in data["answers"].values())
    assert max(len(line) for line in text.splitlines()) <= 100


def test_template_groups_items_and_shows_questions_and_scales() -> None:
    text = init_template()
    comments = " ".join(
        line.strip().removeprefix("#").strip()
        for line in text.splitlines()
        if line.strip().startswith("#")
    )
    for item in ITEMS.values():
        assert f"{item.title}: {item.question}" in comments, item.id
    assert text.count("# allowed: 0, 1, 2, 3, 4\n") == 22
    assert text.count("# allowed: 0, 0.5, 1\n") == 28
    # sections appear in order, each before its items
    pos = [text.index(f"-- {s.title} ") for s in (*ROBUSTNESS, *MLTEST)]
    assert pos == sorted(pos)
    for s in (*ROBUSTNESS, *MLTEST):
        start = text.index(f"-- {s.title} ")
        assert all(text.index(f"  {i.id}:\n") > start for i in s.items)
    assert "scored from evidence when available" not in text


def test_template_marks_the_automatic_items() -> None:
    auto = {"robustness.data.quality", "mltest.monitoring.5"}
    text = init_template(auto)
    assert text.count("scored from evidence when available") == 2
    for item_id in auto:
        block = text[: text.index(f"  {item_id}:\n")].rsplit("\n\n", 1)[1]
        assert block.endswith("; scored from evidence when available\n"), block
    assert parse_answers(text) == ({}, [])


def test_filled_template_gives_the_answers() -> None:
    text = init_template()
    text = text.replace(
        "  robustness.data.privacy:\n    score:\n    note:\n",
        '  robustness.data.privacy:\n    score: 3\n    note: "see docs/privacy.md"\n',
    ).replace("  mltest.data.7:\n    score:\n", "  mltest.data.7:\n    score: 0.5\n")
    answers, gaps = parse_answers(text)
    assert gaps == []
    assert answers == {
        "robustness.data.privacy": Answer("robustness.data.privacy", 3.0, "see docs/privacy.md"),
        "mltest.data.7": Answer("mltest.data.7", 0.5),
    }
