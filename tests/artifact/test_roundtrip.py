"""Save + load never changes a verdict: same statuses, predictions, scores and thresholds.

Every ``mlrails fit`` → ``mlrails check`` / ``mlrails serve`` goes through the artifact, so a
round trip that changes a verdict is a wrong answer in production. The property test draws
schemas (column names out of alphabetical order, unicode names, column orders, dtypes with and
without missing values) and model kinds, and compares verdicts *exactly* (their JSON form
with timings dropped: floats print with ``repr``, so equal text means equal floats).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

import mlrails
from mlrails._state import State
from mlrails.artifact.io import _table_from_state, _table_state
from mlrails.artifact.manifest import artifact_hash, canonical_json, manifest_digest
from mlrails.cli.main import app
from mlrails.detectors import detector_from_state, make_detector
from mlrails.models import load_model
from mlrails.tabular_io import read_table

#: small calibration sets: 5% false-alarm targets keep every threshold finite
POLICY: dict[str, Any] = {
    "calibration_fraction": 0.3,
    "ood": {"target_fpr": 0.05},
    "adversarial": {"target_fpr": 0.05},
    "reliability": {"target_fpr": 0.05},
}

KINDS = ("float", "integer", "text", "category", "boolean")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # one of KINDS
    missing: bool


def canonical(verdict: dict[str, Any]) -> str:
    """A verdict's JSON form without timings (exact: floats print as ``repr``)."""
    d = dict(verdict, safeguards=[dict(s) for s in verdict["safeguards"]])
    d.pop("latency_ms")
    for s in d["safeguards"]:
        s.pop("latency_ms")
    return json.dumps(d, sort_keys=True, default=str)


def essence(verdicts: list[Any]) -> list[str]:
    return [canonical(v.to_dict()) for v in verdicts]


def assert_same_verdicts(a: list[Any], b: list[Any]) -> None:
    assert [v.status for v in a] == [v.status for v in b]
    for x, y in zip(essence(a), essence(b), strict=True):
        assert x == y


# -- data and models built from a schema -------------------------------------------------
def make_frame(columns: list[Column], n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for c in columns:
        gone = rng.random(n) < 0.1 if c.missing else np.zeros(n, dtype=bool)
        if c.kind == "float":
            x = rng.normal(3.0, 2.0, n)
            data[c.name] = np.where(gone, np.nan, x)
        elif c.kind == "integer":
            x = rng.integers(0, 40, n)
            data[c.name] = (
                pd.array(np.where(gone, None, x).tolist(), dtype="Int64") if c.missing else x
            )
        elif c.kind in ("text", "category"):
            vocab = np.array(["north", "süd", "east", "west", "zentrum"][: rng.integers(2, 6)])
            x = vocab[rng.integers(0, len(vocab), n)].astype(object)
            x[gone] = np.nan
            data[c.name] = pd.Categorical(x) if c.kind == "category" else x
        else:
            x = rng.random(n) < 0.4
            if c.missing:
                obj = x.astype(object)
                obj[gone] = None
                data[c.name] = obj
            else:
                data[c.name] = x
    return pd.DataFrame(data)


def is_categorical(c: Column) -> bool:
    return c.kind in ("text", "category") or (c.kind == "boolean" and c.missing)


def make_target(X: pd.DataFrame, columns: list[Column], task: str, seed: int) -> Any:
    rng = np.random.default_rng(seed + 1)
    z = rng.normal(0.0, 0.3, len(X))
    for c in columns:
        if is_categorical(c):
            codes = pd.factorize(X[c.name].astype(str))[0]
            z = z + (codes % 2) * rng.normal()
        else:
            x = pd.to_numeric(X[c.name], errors="coerce").astype(float).fillna(0.0).to_numpy()
            z = z + (x - x.mean()) / (x.std() + 1e-9) * rng.normal()
    if task == "regression":
        return 10.0 * z
    return np.where(z > np.median(z), "yes", "no")


def make_model(kind: str, columns: list[Column]) -> Pipeline:
    cats = [c.name for c in columns if is_categorical(c)]
    nums = [c.name for c in columns if not is_categorical(c)]
    if kind == "hgb":
        enc = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
        )
        pre = ColumnTransformer(
            [("cat", enc, cats), ("num", SimpleImputer(strategy="median"), nums)]
        )
        return make_pipeline(pre, HistGradientBoostingClassifier(max_iter=20, random_state=0))
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
        ]
    )
    final = Ridge() if kind == "ridge" else LogisticRegression(max_iter=500)
    return make_pipeline(pre, final)


def perturbed(X: pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    """Rows meant to trip safeguards: far numbers, unseen categories, missing values."""
    rows = X.head(8).copy()
    for c in columns:
        if is_categorical(c):
            if c.kind == "category":
                rows[c.name] = rows[c.name].cat.add_categories(["nowhere"])
            rows.loc[rows.index[::2], c.name] = "nowhere"
        elif c.kind == "float":
            rows[c.name] = rows[c.name] * 25.0
        elif c.kind == "integer":
            rows[c.name] = rows[c.name] * 7
    first = columns[0]
    if first.kind in ("integer", "boolean") and not first.missing:  # dtypes without a gap
        rows = rows.astype({first.name: object})
    rows.loc[rows.index[-1], first.name] = None
    return rows


def fit_check_reload(
    tmp_path: Path, columns: list[Column], kind: str, adversarial: list[str], seed: int
) -> None:
    """Fit the rails, check rows, save, load (bundled and given model), check again."""
    task = "regression" if kind == "ridge" else "classification"
    X = make_frame(columns, 240, seed)
    y = make_target(X, columns, task, seed)
    X_tr, X_te, y_tr = X.iloc[:180], X.iloc[180:].reset_index(drop=True), y[:180]
    model = make_model(kind, columns).fit(X_tr, y_tr)
    policy = {**POLICY, "adversarial": {**POLICY["adversarial"], "detectors": adversarial}}
    rails = mlrails.fit(model, X_tr, y_tr, policy=policy)
    rows = pd.concat([X_te, perturbed(X_te, columns)], ignore_index=True)
    before = rails.check(rows)
    rails.save(tmp_path / "rails")
    for loaded in (mlrails.load(tmp_path / "rails"), mlrails.load(tmp_path / "rails", model)):
        assert loaded.artifact_hash == rails.artifact_hash
        pd.testing.assert_frame_equal(loaded.background, rails.background)
        assert_same_verdicts(before, loaded.check(rows))
        assert [d.name for d in loaded.adversarial] == [d.name for d in rails.adversarial]


# -- the concrete regression: two text columns not in alphabetical order -----------------
def test_text_columns_out_of_alphabetical_order_keep_their_verdicts(tmp_path: Path) -> None:
    columns = [Column("zone", "text", False), Column("tier", "text", False)]
    columns.append(Column("amount", "float", False))
    fit_check_reload(tmp_path, columns, "logreg", ["label_instability"], seed=3)


@st.composite
def schemas(draw: st.DrawFn) -> list[Column]:
    name = st.text(alphabet=st.sampled_from("abcxyzZQé_ü中ß 0"), min_size=1, max_size=6).filter(
        lambda s: s.strip() == s
    )
    names = draw(st.lists(name, min_size=2, max_size=5, unique_by=str.casefold))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=len(names), max_size=len(names)))
    if not any(k in ("text", "category") for k in kinds):  # always one vocabulary, mostly two
        kinds[draw(st.integers(0, len(kinds) - 1))] = "text"
    missing = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    return [Column(n, k, m) for n, k, m in zip(names, kinds, missing, strict=True)]


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    columns=schemas(),
    kind=st.sampled_from(["logreg", "hgb", "ridge"]),
    adversarial=st.permutations(["label_instability", "neighbour_disagreement"]),
    seed=st.integers(0, 2**16),
)
def test_any_schema_round_trips_to_identical_verdicts(
    tmp_path_factory: pytest.TempPathFactory,
    columns: list[Column],
    kind: str,
    adversarial: list[str],
    seed: int,
) -> None:
    with threadpool_limits(limits=1):  # tiny tables: OpenMP threads only add overhead
        fit_check_reload(tmp_path_factory.mktemp("rt"), columns, kind, adversarial, seed)


# -- the command line: mlrails fit → mlrails check ---------------------------------------
@pytest.mark.slow
def test_cli_fit_then_check_gives_the_in_process_verdicts(tmp_path: Path) -> None:
    columns = [Column("zone", "text", True), Column("tier", "text", False)]
    columns.append(Column("amount", "float", True))
    X = make_frame(columns, 220, seed=5)
    y = make_target(X, columns, "classification", seed=5)
    X.assign(target=y).iloc[:160].to_csv(tmp_path / "train.csv", index=False)
    X.iloc[160:].to_csv(tmp_path / "rows.csv", index=False)
    train, rows = read_table(tmp_path / "train.csv"), read_table(tmp_path / "rows.csv")
    X_tr, y_tr = train.drop(columns="target"), train["target"].to_numpy()
    model = make_model("logreg", columns).fit(X_tr, y_tr)
    sio.dump(model, tmp_path / "model.skops")
    policy_yaml = tmp_path / "policy.yaml"
    policy_yaml.write_text(json.dumps(POLICY))  # JSON is YAML

    runner = CliRunner()
    args = ["fit", str(tmp_path / "model.skops"), str(tmp_path / "train.csv")]
    args += ["--target", "target", "--out", str(tmp_path / "rails"), "--policy", str(policy_yaml)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["check", str(tmp_path / "rails"), str(tmp_path / "rows.csv"), "--json"]
    )
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]

    rails = mlrails.fit(load_model(tmp_path / "model.skops"), X_tr, y_tr, policy=POLICY)
    want = rails.check(rows)
    assert [d["status"] for d in lines] == [v.status for v in want]
    assert [canonical(d) for d in lines] == essence(want)


# -- artifacts written before the order was saved -----------------------------------------
def _as_old_format(node: Any) -> Any:
    """A state as written before: vocabularies as one object, no saved detector order."""
    if isinstance(node, list):
        return [_as_old_format(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_old_format(v) for k, v in node.items() if k != "adversarial_order"}
    if "input_kind" in out and isinstance(out.get("categories"), list):
        out["categories"] = {col: cats for col, cats in out["categories"]}
    return out


def test_artifacts_written_before_keep_loading_with_the_fitted_order(tmp_path: Path) -> None:
    columns = [Column("zone", "text", False), Column("tier", "text", True)]
    columns.append(Column("amount", "float", False))
    X = make_frame(columns, 200, seed=11)
    y = make_target(X, columns, "classification", seed=11)
    model = make_model("logreg", columns).fit(X, y)
    detectors = ["neighbour_disagreement", "label_instability"]
    policy = {**POLICY, "adversarial": {**POLICY["adversarial"], "detectors": detectors}}
    rails = mlrails.fit(model, X, y, policy=policy)
    rows = pd.concat([X.head(40), perturbed(X.head(40), columns)], ignore_index=True)
    before = rails.check(rows)
    art = tmp_path / "rails"
    rails.save(art)
    state = json.loads((art / "state.json").read_text())
    assert state["adversarial_order"] == detectors
    (art / "state.json").write_bytes(canonical_json(_as_old_format(state)))
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["files"]["state.json"] = hashlib.sha256((art / "state.json").read_bytes()).hexdigest()
    listed = [n for n in manifest["files"] if n != manifest["model_file"]]
    manifest["artifact_hash"] = artifact_hash({n: manifest["files"][n] for n in listed})
    manifest["manifest_hash"] = manifest_digest(manifest)
    (art / "manifest.json").write_bytes(canonical_json(manifest))

    loaded = mlrails.load(art, model)
    assert [d.name for d in loaded.adversarial] == detectors
    ours, theirs = essence(before), essence(loaded.check(rows))
    hash_free = [
        (a.replace(rails.artifact_hash, ""), b.replace(loaded.artifact_hash, ""))
        for a, b in zip(ours, theirs, strict=True)
    ]
    assert all(a == b for a, b in hash_free)


# -- the background table (explanations, model probe) -------------------------------------
def test_background_table_keeps_values_dtypes_and_order() -> None:
    frame = pd.DataFrame(
        {
            "zone": ["b", None, "a"],
            "tier": pd.Categorical(["lo", "hi", None], categories=["lo", "hi"], ordered=True),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "name": pd.array(["x", None, "z"], dtype="string"),
            "mixed": np.array([True, None, False], dtype=object),
            "small": np.array([0.1, np.nan, 2.5], dtype=np.float32),
            "u": np.array([1, 2, 255], dtype=np.uint8),
            "when": pd.to_datetime(["2026-01-02 00:00:00", None, "2026-03-04 05:06:07"]),
        }
    )
    state = _table_state(frame)
    text = canonical_json(state.meta)  # what the artifact writes (sorted keys)
    back = _table_from_state(State(meta=json.loads(text)))
    pd.testing.assert_frame_equal(back, frame)


# -- every detector's state through the artifact's JSON (fast, no model) ------------------
@settings(max_examples=20, deadline=None)
@given(columns=schemas(), seed=st.integers(0, 2**16))
def test_detector_states_survive_the_artifact_json(columns: list[Column], seed: int) -> None:
    X = make_frame(columns, 120, seed)
    # the ensemble's members (kNN, Mahalanobis, Isolation Forest) share its encoder
    det = make_detector("ensemble").fit(X.iloc[:80]).calibrate(X.iloc[80:], 0.05)
    state = det.get_state()
    meta = json.loads(canonical_json(state.meta))  # sorted keys, as saved
    back = detector_from_state(State(meta=meta, arrays=state.arrays))
    assert np.array_equal(back.encoder_.transform(X), det.encoder_.transform(X))
    assert np.array_equal(back.score_samples(X), det.score_samples(X))
    assert back.threshold_ == det.threshold_
