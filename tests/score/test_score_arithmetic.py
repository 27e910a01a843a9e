"""Both rubrics' arithmetic, checked against sums done by hand (see scorekit.py)."""

from __future__ import annotations

import pytest
from scorekit import MLTEST_ANSWERS, ROBUSTNESS_ANSWERS, answers, known_report

from mlrails.score.engine import combine
from mlrails.score.report import RuleResult
from mlrails.score.rubrics import ITEMS, robustness_band


def test_robustness_total_sections_and_band() -> None:
    report = known_report()
    by_section = {s.section.id: s.score for s in report.robustness.sections}
    assert by_section == {
        "data": 9.0,
        "training": 1.0,
        "evaluation": 0.0,
        "deployment": 16.0,
        "operations": 3.0,
        "security": 6.0,
    }
    assert [s.max_score for s in report.robustness.sections] == [12, 12, 16, 16, 16, 16]
    assert report.robustness.score == 35.0
    assert report.robustness.max_score == 88.0
    assert report.robustness.band == "adequate: failure points appear as it scales"


def test_mltest_final_is_the_minimum_of_the_section_sums() -> None:
    report = known_report()
    by_section = {s.section.id: s.score for s in report.mltest.sections}
    assert by_section == {"data": 7.0, "model": 1.5, "infrastructure": 2.5, "monitoring": 3.0}
    assert report.mltest.score == 1.5  # min(7, 1.5, 2.5, 3), not the mean or the sum
    assert report.mltest.max_score == 7.0
    assert "tests for model development is the weakest" in report.mltest.band


def test_evidence_overrides_answers_and_unanswered_items_score_zero() -> None:
    results = {
        # the answer says 4: evidence decides 1 -> data 9 - 4 + 1 = 6, total 32
        "robustness.data.quality": RuleResult(1.0, "contract rule", ("3 of 30 fields",), "x"),
        # no answer: evidence gives 4 -> evaluation 4, total 36
        "robustness.evaluation.interpretability": RuleResult(4.0, "calibration rule"),
        # evidence cannot tell: the answer (0.5) stays -> model 1.5
        "mltest.model.1": RuleResult(None, "no git history", (), "review specs"),
        # evidence lifts monitoring 4 -> 1: monitoring 4
        "mltest.monitoring.4": RuleResult(1.0, "drift job"),
    }
    report = known_report(results=results)
    assert report.robustness.score == 35 - 4 + 1 + 4
    assert report.robustness.band == "adequate: failure points appear as it scales"
    q = report.item("robustness.data.quality")
    assert (q.score, q.source, q.rule) == (1.0, "evidence", "contract rule")
    assert q.note == "answers file says 4; the evidence decides"
    m = report.item("mltest.model.1")
    assert (m.score, m.source, m.next_step) == (0.5, "answer", "review specs")
    assert report.mltest.score == 1.5
    unanswered = report.item("robustness.evaluation.counterfactual")
    assert (unanswered.score, unanswered.source) == (0.0, "none")
    assert "mlrails score --init" in unanswered.next_step
    n_answered = len(ROBUSTNESS_ANSWERS) + len(MLTEST_ANSWERS)
    # interpretability and monitoring.4 were not answered: evidence scored them
    assert sum(1 for s in report.items if s.source == "none") == len(ITEMS) - n_answered - 2


def test_all_top_marks() -> None:
    given = answers({i: it.max_score for i, it in ITEMS.items()})
    report = combine({}, given)
    assert report.robustness.score == 88.0
    assert report.robustness.band == "best in class"
    assert report.mltest.score == 7.0


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "not ready"),
        (24, "not ready"),
        (25, "adequate: failure points appear as it scales"),
        (39, "adequate: failure points appear as it scales"),
        (40, "robust"),
        (60, "robust"),
        (61, "best in class"),
        (88, "best in class"),
    ],
)
def test_band_limits(total: int, band: str) -> None:
    assert robustness_band(total) == band


def test_the_rubric_maxima_are_the_published_ones_and_come_from_the_items() -> None:
    from mlrails.score.rubrics import ITEMS, MLTEST_MAX, ROBUSTNESS_MAX

    assert ROBUSTNESS_MAX == 88.0  # 22 items of 0-4
    assert MLTEST_MAX == 7.0  # 7 tests per section, 1 point each
    assert sum(i.max_score for i in ITEMS.values() if i.id.startswith("robust")) == ROBUSTNESS_MAX
