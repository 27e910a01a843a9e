"""XGBoost and LightGBM models travel in their own formats: no trust needed, verdicts identical.

The artifact stores an XGBoost wrapper as UBJSON and a LightGBM wrapper as model text, next to
a JSON descriptor (classes, feature names, objective, parameters, part hashes); loading uses the
library's own loader. Each supported wrapper, binary and multiclass classifiers (integer and
string labels), regressors and a Pipeline ending in one round-trip through ``mlrails.load``
without ``trust`` with bit-identical predictions and identical verdicts, through the CLI and
the serve loader too; a tampered part is refused.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails.errors import ArtifactError, ModelLoadError
from mlrails.models import SklearnAdapter, load_model
from mlrails.models.native import DESCRIPTOR_NAME, dump_native
from runcli import run_cli

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

N_TREES = 8
#: column names deliberately not in alphabetical order
COLUMNS = ["zeta", "alpha", "mid", "beta"]


def _data(n_classes: int | None, seed: int = 0, n: int = 240) -> tuple[pd.DataFrame, Any]:
    """A numeric table and a target: ``n_classes`` classes, or a regression target (None)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(COLUMNS))), columns=COLUMNS)
    signal = X["zeta"] + 0.5 * X["mid"] - 0.3 * X["beta"]
    if n_classes is None:
        return X, 3.0 * signal.to_numpy() + rng.normal(scale=0.3, size=n)
    cuts = np.quantile(signal, np.linspace(0, 1, n_classes + 1)[1:-1])
    return X, np.digitize(signal, cuts)


def _model(name: str) -> Any:
    return {
        "XGBClassifier": lambda: xgb.XGBClassifier(n_estimators=N_TREES, max_depth=3, n_jobs=1),
        "XGBRegressor": lambda: xgb.XGBRegressor(n_estimators=N_TREES, max_depth=3, n_jobs=1),
        "LGBMClassifier": lambda: lgb.LGBMClassifier(
            n_estimators=N_TREES, num_leaves=7, n_jobs=1, verbose=-1
        ),
        "LGBMRegressor": lambda: lgb.LGBMRegressor(
            n_estimators=N_TREES, num_leaves=7, n_jobs=1, verbose=-1
        ),
    }[name]()


def _outputs(model: Any, X: Any) -> np.ndarray[Any, Any]:
    out = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    return np.asarray(out)


def _verdicts(rails: Any, X: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for v in rails.check(X):
        d = v.to_dict()
        for s in d.get("safeguards", []):
            s.pop("latency_ms", None)
        d.pop("latency_ms", None)
        out.append(d)
    return out


CASES = [
    ("XGBClassifier", 2, False),
    ("XGBClassifier", 3, False),
    ("LGBMClassifier", 2, False),
    ("LGBMClassifier", 3, True),  # string labels: LightGBM keeps them, the descriptor too
    ("XGBRegressor", None, False),
    ("LGBMRegressor", None, False),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1] or 'reg'}")
def fitted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    name, n_classes, string_labels = request.param
    X, y = _data(n_classes)
    if string_labels:
        y = np.array(["low", "mid", "high"])[y]
    model = _model(name).fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3})
    out = tmp_path_factory.mktemp("native") / "rails"
    rails.save(out)
    return model, rails, out, X


def test_round_trip_without_trust_is_identical(fitted: Any) -> None:
    model, rails, out, X = fitted
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_file"] == DESCRIPTOR_NAME
    assert not (out / "model.skops").exists()
    loaded = mlrails.load(out)  # no trust
    native = loaded.adapter.native
    assert type(native) is type(model)
    np.testing.assert_array_equal(_outputs(native, X), _outputs(model, X))
    np.testing.assert_array_equal(native.predict(X), model.predict(X))
    assert _verdicts(loaded, X) == _verdicts(rails, X)
    assert loaded.adapter.info() == rails.adapter.info()
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(native.classes_, model.classes_)
    assert list(native.feature_names_in_) == COLUMNS
    assert native.get_params()["n_estimators"] == N_TREES  # hyper-parameters kept


def test_explainer_and_descriptor_see_the_same_model(fitted: Any) -> None:
    """The loaded wrapper is the library's own class: SHAP's tree explainer still applies, and
    the Trained Model descriptor names the same class and parameters."""
    from mlrails.describe.model import describe_trained_model
    from mlrails.explain import Explainer

    model, rails, out, X = fitted
    loaded = mlrails.load(out)
    before = Explainer(rails.adapter, X.head(20))
    after = Explainer(loaded.adapter, X.head(20))
    assert before.method == after.method == "tree"
    described = describe_trained_model(out, timing_rows=8, repeats=1)
    assert described.model_name == type(model).__name__
    params = {
        p.parameter_name: p.parameter_value for p in described.model_components[0].hyper_parameters
    }
    assert params["n_estimators"] == repr(N_TREES)
    # the model's size counts the booster, not only the small descriptor naming it
    from mlrails.describe.model import model_file_bytes

    manifest = json.loads((out / "manifest.json").read_text())
    parts = [f for f in out.iterdir() if f.name.startswith("model.")]
    assert len(parts) >= 2  # the descriptor and the booster
    assert model_file_bytes(out, manifest) == sum(f.stat().st_size for f in parts)
    assert model_file_bytes(out, manifest) > (out / DESCRIPTOR_NAME).stat().st_size


def test_a_loaded_artifact_saves_again_natively(fitted: Any, tmp_path: Path) -> None:
    """A wrapper rebuilt from its native files is itself stored natively (re-saved rails)."""
    model, rails, out, X = fitted
    mlrails.load(out).save(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "manifest.json").read_text())["model_file"] == (
        DESCRIPTOR_NAME
    )
    again = mlrails.load(tmp_path / "again")
    np.testing.assert_array_equal(_outputs(again.adapter.native, X), _outputs(model, X))
    assert again.artifact_hash == rails.artifact_hash


def test_a_custom_objective_falls_back_to_skops_with_trust(tmp_path: Path) -> None:
    """A custom objective function has no native form: the model is bundled as skops, which
    still needs trust, and the refusal says what loads without it."""

    def squared(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        return y_pred - y_true, np.ones_like(y_pred)

    X, y = _data(None)
    model = lgb.LGBMRegressor(n_estimators=N_TREES, objective=squared, verbose=-1).fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3})
    rails.save(tmp_path / "rails")
    assert json.loads((tmp_path / "rails" / "manifest.json").read_text())["model_file"] == (
        "model.skops"
    )
    with pytest.raises(ModelLoadError, match="LightGBM .txt"):
        mlrails.load(tmp_path / "rails")


def test_tampered_booster_or_descriptor_is_refused(fitted: Any, tmp_path: Path) -> None:
    _, _, out, _ = fitted
    manifest = json.loads((out / "manifest.json").read_text())
    parts = [n for n in manifest["files"] if n.startswith("model.")]
    assert DESCRIPTOR_NAME in parts and len(parts) == 2
    for part in parts:
        copy = tmp_path / part
        copy.mkdir()
        for f in out.iterdir():
            (copy / f.name).write_bytes(f.read_bytes())
        data = bytearray((copy / part).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / part).write_bytes(bytes(data))
        with pytest.raises(ArtifactError, match="tampered"):
            mlrails.load(copy)


def test_descriptor_refuses_a_tampered_part_on_its_own(fitted: Any, tmp_path: Path) -> None:
    """``load_model`` on the descriptor alone (outside an artifact) checks the part's hash."""
    model, _, _, X = fitted
    name, files = dump_native(model)
    for n, b in files.items():
        (tmp_path / n).write_bytes(b)
    np.testing.assert_array_equal(
        _outputs(load_model(tmp_path / name).native, X), _outputs(model, X)
    )
    booster = next(n for n in files if n != name)
    (tmp_path / booster).write_bytes(files[booster] + b" ")
    with pytest.raises(ModelLoadError, match="SHA-256"):
        load_model(tmp_path / name)


# -- the class of inputs: labels, class counts, column names, missing values ---------------
_names = st.lists(
    st.text(string.ascii_letters + "_", min_size=1, max_size=8),
    min_size=2,
    max_size=5,
    unique_by=str.lower,
)


@settings(
    max_examples=16,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    library=st.sampled_from(["XGB", "LGBM"]),
    n_classes=st.sampled_from([None, 2, 3, 4]),
    names=_names,
    labels=st.sampled_from(["int", "str", "shifted"]),
    missing=st.booleans(),
    as_array=st.booleans(),
    categorical=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_native_round_trip_is_bit_identical(
    tmp_path_factory: pytest.TempPathFactory,
    library: str,
    n_classes: int | None,
    names: list[str],
    labels: str,
    missing: bool,
    as_array: bool,
    categorical: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    n = 120
    X = pd.DataFrame(rng.normal(size=(n, len(names))), columns=names)
    if missing:
        X = X.mask(rng.random(X.shape) < 0.1)
    if n_classes is None:
        y: Any = X.fillna(0).sum(axis=1).to_numpy() + rng.normal(size=n)
        model = _model(f"{library}Regressor")
    else:
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        if library == "LGBM" and labels == "str":
            y = np.array([f"class {c}" for c in range(n_classes)])[y]
        elif library == "LGBM" and labels == "shifted":
            y = y * 10 - 7
        model = _model(f"{library}Classifier")
    if as_array:  # a model fitted without feature names
        X = X.to_numpy()
    elif categorical:  # a pandas category column, split on natively by both libraries
        X[names[0]] = pd.Categorical(rng.choice(["red", "green", "blue"], size=n))
        if library == "XGB":
            model.set_params(enable_categorical=True)
    model.fit(X, y)
    folder = tmp_path_factory.mktemp("prop")
    name, files = dump_native(model)
    for f, b in files.items():
        (folder / f).write_bytes(b)
    adapter = load_model(folder / name)
    assert isinstance(adapter, SklearnAdapter)
    assert type(adapter.native) is type(model)
    np.testing.assert_array_equal(_outputs(adapter.native, X), _outputs(model, X))
    np.testing.assert_array_equal(adapter.native.predict(X), model.predict(X))
    if n_classes is not None:
        np.testing.assert_array_equal(adapter.classes_, model.classes_)


# -- pipelines ending in a booster -----------------------------------------------------------
@pytest.mark.parametrize("library", ["XGB", "LGBM"])
def test_pipeline_ending_in_a_booster_loads_without_trust(library: str, tmp_path: Path) -> None:
    X, y = _data(3, seed=1)
    X["tier"] = np.where(X["alpha"] > 0, "gold", "basic")
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["tier"]), remainder=StandardScaler()
    )
    model = make_pipeline(pre, _model(f"{library}Classifier")).fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3})
    rails.save(tmp_path / "rails")
    assert (tmp_path / "rails" / "model.pipeline.skops").is_file()
    loaded = mlrails.load(tmp_path / "rails")
    native = loaded.adapter.native
    assert isinstance(native, Pipeline)
    assert type(native.steps[-1][1]) is type(model.steps[-1][1])
    np.testing.assert_array_equal(native.predict_proba(X), model.predict_proba(X))
    assert _verdicts(loaded, X) == _verdicts(rails, X)


# -- files written by the libraries themselves -----------------------------------------------
@pytest.mark.parametrize("suffix", [".ubj", ".json"])
@pytest.mark.parametrize("name", ["XGBClassifier", "XGBRegressor"])
def test_xgboost_save_model_file_loads_without_trust(
    name: str, suffix: str, tmp_path: Path
) -> None:
    X, y = _data(3 if name == "XGBClassifier" else None)
    model = _model(name).fit(X, y)
    model.save_model(tmp_path / f"model{suffix}")
    adapter = load_model(tmp_path / f"model{suffix}")
    assert type(adapter.native) is type(model)
    np.testing.assert_array_equal(_outputs(adapter.native, X), _outputs(model, X))


@pytest.mark.parametrize("name", ["LGBMClassifier", "LGBMRegressor"])
def test_lightgbm_model_text_file_loads_without_trust(name: str, tmp_path: Path) -> None:
    X, y = _data(3 if name == "LGBMClassifier" else None)
    model = _model(name).fit(X, y)
    model.booster_.save_model(tmp_path / "model.txt")
    adapter = load_model(tmp_path / "model.txt")
    assert type(adapter.native) is type(model)
    np.testing.assert_array_equal(_outputs(adapter.native, X), _outputs(model, X))


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("model.json", b"{not json", "not valid JSON"),
        ("model.json", b'{"a": 1}', "XGBoost model"),
        ("model.json", b'{"format": "mlrails-native-model"}', "descriptor"),
        ("model.txt", b"hello\n", "LightGBM model text"),
        ("model.ubj", b"\x00\x01garbage", "XGBoost cannot read"),
    ],
)
def test_bad_native_files_are_one_line_model_load_errors(
    file: str, content: bytes, message: str, tmp_path: Path
) -> None:
    (tmp_path / file).write_bytes(content)
    with pytest.raises(ModelLoadError, match=message) as err:
        load_model(tmp_path / file)
    assert "\n" not in str(err.value) and str(tmp_path / file) in str(err.value)


def test_skops_file_with_a_booster_says_what_loads_without_trust(tmp_path: Path) -> None:
    import skops.io as sio

    X, y = _data(2)
    sio.dump(_model("XGBClassifier").fit(X, y), tmp_path / "model.skops")
    with pytest.raises(ModelLoadError, match=r"\.ubj"):
        load_model(tmp_path / "model.skops")


# -- the paths a user takes: serve loader and CLI --------------------------------------------
def test_serve_loader_and_cli_check_need_no_trust(tmp_path: Path) -> None:
    from mlrails.serve.launch import ServeSpec, load_rails

    X, y = _data(2, seed=3)
    model = _model("LGBMClassifier").fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3})
    rails.save(tmp_path / "rails")
    rows = X.head(30).copy()
    rows.loc[0, "zeta"] = 1e6  # one row the rails refuse
    served = load_rails(ServeSpec(artifact=tmp_path / "rails", store="sqlite:///unused.db"))
    assert _verdicts(served, rows) == _verdicts(rails, rows)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    res = run_cli("check", tmp_path / "rails", tmp_path / "rows.csv", "--json")
    assert res.returncode == 0, res.stderr
    got = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    want = [v.to_dict() for v in rails.check(rows)]
    assert [v["status"] for v in got] == [v["status"] for v in want]
    assert [v.get("prediction") for v in got] == [v.get("prediction") for v in want]
