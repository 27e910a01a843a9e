"""MM-LABEL-SHIFT: training vs production label distributions (percentages or fractions)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mismatch_system import categorical_stats, consistent, production_data, training_data, with_
from scipy import stats

from mlrails.descriptors import read_descriptor_dir, write_descriptor_dir
from mlrails.descriptors.common import LabelShare
from mlrails.descriptors.production_data import ProductionData
from mlrails.descriptors.statistics import FieldStatistics
from mlrails.descriptors.training_data import TrainingData, TrainingLabelShare
from mlrails.mismatch.check import check_descriptors
from mlrails.mismatch.findings import Finding
from mlrails.mismatch.labels import (
    LABEL_SHIFT_ALPHA,
    LABEL_SHIFT_H,
    ShareError,
    compare_label_shares,
    parse_label_shares,
)


def _train(shares: dict[str, float], n: int | None = 1000) -> TrainingData:
    td = training_data()
    return td.model_copy(
        update={
            "distribution": [
                TrainingLabelShare(label=k, percentage=v, mapping_production_data="")
                for k, v in shares.items()
            ],
            "statistics": [_rows_stat(n)],
        }
    )


def _prod(shares: dict[str, float], n: int | None = 1000) -> ProductionData:
    return production_data().model_copy(
        update={
            "distribution": [LabelShare(label=k, percentage=v) for k, v in shares.items()],
            "statistics": [_rows_stat(n)],
        }
    )


def _rows_stat(n: int | None) -> FieldStatistics:
    """A statistics row giving the descriptor's row count, or none (a count-less field)."""
    if n is None:
        return FieldStatistics(field="color", other={"entropy": "1.2"})
    return categorical_stats("color", {"red": n})


def _shift(td: TrainingData, pdd: ProductionData) -> list[Finding]:
    report = check_descriptors(with_(training_data=td, production_data=pdd))
    assert "MM-LABEL-SHIFT" in report.checked_rules
    return report.by_rule("MM-LABEL-SHIFT")


def _h(p: float, q: float) -> float:
    return float(2 * np.arcsin(np.sqrt(q)) - 2 * np.arcsin(np.sqrt(p)))


def test_positive_class_10_to_35_percent_is_reported_with_scipy_numbers() -> None:
    (f,) = _shift(_train({"1": 10, "0": 90}), _prod({"1": 35, "0": 65}))
    assert f.severity == "warning" and "label distribution shifted" in f.message
    n = f.numbers
    assert n["label"] == "1" and n["training_share"] == pytest.approx(0.10)
    assert n["production_share"] == pytest.approx(0.35)
    assert n["cohens_h"] == pytest.approx(_h(0.10, 0.35)) and abs(_h(0.10, 0.35)) > 0.6
    assert n["tvd"] == pytest.approx(0.25)
    chi = stats.chi2_contingency([[100, 900], [350, 650]])
    assert n["test"] == "chi2" and n["statistic"] == pytest.approx(chi.statistic)
    assert n["p_value"] == pytest.approx(chi.pvalue) and n["dof"] == 1
    assert n["n_training"] == 1000 and n["n_production"] == 1000
    assert set(f.fields) == {"training_data:$.distribution", "production_data:$.distribution"}
    assert "10% → 35%" in f.message


def test_without_sample_sizes_the_finding_is_effect_size_only() -> None:
    (f,) = _shift(_train({"1": 10, "0": 90}, n=None), _prod({"1": 35, "0": 65}, n=None))
    assert f.numbers["test"] == "none" and "p_value" not in f.numbers
    assert f.numbers["n_training"] is None and f.numbers["n_production"] is None
    assert f.numbers["cohens_h"] == pytest.approx(_h(0.10, 0.35))
    assert "effect size only" in f.message


def test_identical_distributions_are_not_reported() -> None:
    assert _shift(_train({"1": 10, "0": 90}), _prod({"1": 10, "0": 90})) == []
    assert _shift(_train({"1": 10, "0": 90}, None), _prod({"1": 10, "0": 90}, None)) == []


def test_fractions_and_percentages_mix() -> None:
    assert _shift(_train({"1": 0.1, "0": 0.9}), _prod({"1": 10, "0": 90})) == []
    (f,) = _shift(_train({"1": 0.1, "0": 0.9}), _prod({"1": 35, "0": 65}))
    assert f.numbers["training_share"] == pytest.approx(0.1)
    assert parse_label_shares([("a", 33.3), ("b", 33.3), ("c", 33.3)]).scale == "percent"
    assert parse_label_shares([("a", 0.5), ("b", 0.5)]).scale == "fraction"


def test_training_labels_are_mapped_and_compared_case_insensitively() -> None:
    td = _train({"default": 20, "ok": 80})
    mapped = [
        s.model_copy(update={"mapping_production_data": m})
        for s, m in zip(td.distribution, ("Bad", "good"), strict=True)
    ]
    td = td.model_copy(update={"distribution": mapped})
    assert _shift(td, _prod({"bad": 20, "GOOD": 80})) == []


def test_a_label_on_one_side_only_is_a_finding() -> None:
    found = _shift(_train({"1": 10, "0": 90}), _prod({"1": 10, "0": 85, "unknown": 5}))
    one_sided = [f for f in found if f.numbers.get("side") == "production"]
    assert len(one_sided) == 1 and "'unknown'" in one_sided[0].message
    assert one_sided[0].numbers["share"] == pytest.approx(0.05)
    gone = _shift(_train({"1": 10, "0": 80, "2": 10}), _prod({"1": 10, "0": 90}))
    assert any(f.numbers.get("side") == "training" and f.numbers["label"] == "2" for f in gone)


@pytest.mark.parametrize(
    ("shares", "why"),
    [
        ({"1": 10.0, "0": 40.0}, "sum to 50"),
        ({"1": float("nan"), "0": 90.0}, "not a number"),
        ({"1": "10%", "0": 90.0}, "not a number"),
        ({"1": -5.0, "0": 105.0}, "not a number ≥ 0"),
        ({" ": 10.0, "0": 90.0}, "blank"),
    ],
)
def test_unreadable_shares_are_a_finding_not_a_crash(shares: dict[str, object], why: str) -> None:
    bad = production_data().model_copy(
        update={
            "distribution": [
                LabelShare.model_construct(label=k, percentage=v)  # type: ignore[arg-type]
                for k, v in shares.items()
            ]
        }
    )
    (f,) = _shift(_train({"1": 10, "0": 90}), bad)
    assert f.numbers["side"] == "production" and "cannot be compared" in f.message
    assert why in f.message


def test_a_label_listed_twice_is_unreadable() -> None:
    with pytest.raises(ShareError, match="listed twice"):
        parse_label_shares([("Yes", 50), ("yes", 50)])
    with pytest.raises(ShareError, match="no label"):
        parse_label_shares([])


def test_a_percentage_written_as_text_in_a_file_is_a_descriptor_problem(tmp_path: Path) -> None:
    write_descriptor_dir(consistent().values(), tmp_path)
    doc = json.loads((tmp_path / "production_data.json").read_text())
    doc["distribution"][0]["percentage"] = "21%"
    (tmp_path / "production_data.json").write_text(json.dumps(doc))
    report = check_descriptors(read_descriptor_dir(tmp_path))
    (problem,) = report.descriptor_problems
    assert problem.path == "$.distribution[0].percentage"
    assert any(s.rule_id == "MM-LABEL-SHIFT" for s in report.skipped_rules)


def _scipy_p(p: list[float], q: list[float], n1: int, n2: int) -> float:
    # counts round(share × n); keep clear of x.5, where float noise could round either way
    assume(all(abs((a * n1) % 1 - 0.5) > 1e-6 for a in p))
    assume(all(abs((b * n2) % 1 - 0.5) > 1e-6 for b in q))
    r = [round(a * n1) for a in p]
    c = [round(b * n2) for b in q]
    table = np.array([r, c])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] <= 1 or table[0].sum() == 0 or table[1].sum() == 0:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 100), min_size=k, max_size=k).filter(lambda w: sum(w) > 0),
            st.lists(st.integers(0, 100), min_size=k, max_size=k).filter(lambda w: sum(w) > 0),
        )
    ),
    st.one_of(st.none(), st.integers(20, 5000)),
    st.one_of(st.none(), st.integers(20, 5000)),
    st.booleans(),
)
def test_reported_iff_effect_exceeds_threshold_and_significant_when_n_known(
    weights: tuple[list[int], list[int]], n1: int | None, n2: int | None, fractions: bool
) -> None:
    a, b = weights
    p = [w / sum(a) for w in a]
    q = [w / sum(b) for w in b]
    h = max(abs(_h(x, y)) for x, y in zip(p, q, strict=True))
    assume(abs(h - LABEL_SHIFT_H) > 1e-9)
    known = n1 is not None and n2 is not None
    pvalue = _scipy_p(p, q, n1, n2) if n1 is not None and n2 is not None else None
    assume(pvalue is None or abs(pvalue - LABEL_SHIFT_ALPHA) > 1e-9)
    expected = h >= LABEL_SHIFT_H and (pvalue is None or pvalue < LABEL_SHIFT_ALPHA)
    scale = 1.0 if fractions else 100.0
    labels = [f"c{i}" for i in range(len(p))]
    td = _train({k: v * scale for k, v in zip(labels, p, strict=True)}, n1)
    pdd = _prod({k: v * scale for k, v in zip(labels, q, strict=True)}, n2)
    shifted = [f for f in _shift(td, pdd) if "shifted" in f.message]
    assert bool(shifted) == expected
    if shifted:
        (f,) = shifted
        assert abs(float(f.numbers["cohens_h"])) == pytest.approx(h)  # type: ignore[arg-type]
        assert f.numbers["tvd"] == pytest.approx(
            0.5 * sum(abs(x - y) for x, y in zip(p, q, strict=True))
        )
        if known:
            assert f.numbers["p_value"] == pytest.approx(pvalue)
    # the library function agrees without the descriptors
    c = compare_label_shares(dict(zip(labels, p, strict=True)), dict(zip(labels, q, strict=True)))
    assert c.shifted == (h >= LABEL_SHIFT_H) and math.isclose(abs(c.cohens_h), h, abs_tol=1e-12)


def test_one_unknown_sample_size_is_named() -> None:
    (f,) = _shift(_train({"1": 10, "0": 90}), _prod({"1": 35, "0": 65}, n=None))
    assert f.numbers["n_training"] == 1000 and f.numbers["n_production"] is None
    assert (
        "production sample size unknown" in f.message and "training" not in f.message.split(";")[-1]
    )
