"""Adversarial attacks: budgets kept, FGSM/PGD right (closed form, ART), seeded, clear errors."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("art")

from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent  # noqa: E402
from art.estimators.classification import PyTorchClassifier  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from torch import nn  # noqa: E402

from mlrails.bench.attacks import (  # noqa: E402
    Attack,
    AttackError,
    available_attacks,
    make_attack,
)
from mlrails.bench.perturbations import PerturbationError  # noqa: E402
from mlrails.models import SklearnAdapter, TorchAdapter  # noqa: E402

WHITE = ["fgsm", "pgd"]
BLACK = ["boundary", "hopskipjump", "zoo"]
SEVERITIES = (1, 2, 3, 4, 5)
N_BLACK = 40  # rows attacked by the (slow, per-row) black-box attacks


class Standardize(nn.Module):  # type: ignore[misc]
    """First layer of the test MLP, so the model takes raw features."""

    def __init__(self, mean: np.ndarray[Any, Any], std: np.ndarray[Any, Any]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x: Any) -> Any:
        return (x - self.mean) / self.std


class BinaryProba(nn.Module):  # type: ignore[misc]
    """``(n, 2)`` probabilities from a single-logit linear layer."""

    def __init__(self, linear: Any) -> None:
        super().__init__()
        self.linear = linear

    def forward(self, x: Any) -> Any:
        p = torch.sigmoid(self.linear(x))
        return torch.cat([1.0 - p, p], dim=1)


def _train(module: Any, X: np.ndarray[Any, Any], y: np.ndarray[Any, Any], epochs: int) -> None:
    xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(module.parameters(), lr=0.02)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(module(xt), yt).backward()
        opt.step()
    module.eval()


@pytest.fixture(scope="module")
def mlp(cancer: Any) -> TorchAdapter:
    """A small MLP on standardised breast-cancer features (standardisation inside)."""
    X = cancer.X_train.to_numpy()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = nn.Sequential(
            Standardize(X.mean(0), X.std(0)), nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2)
        )
        _train(net, X, cancer.y_train, 150)
    return TorchAdapter(net, classes=[0, 1])


def _accuracy(adapter: Any, X: Any, y: np.ndarray[Any, Any]) -> float:
    return float(np.mean(adapter.predict(X) == y))


def _budget_ratio(attack: Attack, X: Any, X_adv: Any) -> float:
    """max |x_adv - x| / std over every value: must not exceed the severity's epsilon."""
    a = np.asarray(X, dtype=np.float64)
    b = np.asarray(X_adv, dtype=np.float64)
    return float(np.max(np.abs(b - a) / attack.scale_))


# -- registry, parameters, errors ----------------------------------------------------------
def test_registry_and_access() -> None:
    assert set(WHITE + BLACK) <= set(available_attacks())
    assert available_attacks("white-box") == WHITE
    assert set(BLACK) <= set(available_attacks("black-box"))
    for name in WHITE + BLACK:
        attack = make_attack(name)
        assert attack.access == ("white-box" if name in WHITE else "black-box")
        assert attack.epsilons == attack.default_epsilons
        assert list(attack.epsilons) == sorted(attack.epsilons)
    with pytest.raises(AttackError, match="unknown attack 'carlini'.*fgsm.*hopskipjump"):
        make_attack("carlini")
    assert issubclass(AttackError, PerturbationError)


@pytest.mark.parametrize(
    "epsilons",
    [
        [0.1, 0.2, 0.3, 0.4],
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        [0.0, 0.1, 0.2, 0.3, 0.4],
        [0.1, 0.2, 0.3, 0.4, -0.5],
        [0.5, 0.4, 0.3, 0.2, 0.1],
        [0.1, 0.1, 0.2, 0.3, 0.4],
        [0.1, 0.2, float("nan"), 0.4, 0.5],
        [0.1, 0.2, float("inf"), 0.4, 0.5],
        [0.1, 0.2, "0.3", 0.4, 0.5],
        [True, 2, 3, 4, 5],
        "0.1",
        0.3,
    ],
)
def test_bad_epsilons_refused(epsilons: Any) -> None:
    with pytest.raises(AttackError, match="epsilons"):
        make_attack("fgsm", epsilons=epsilons)


def test_custom_epsilons_and_params_are_kept() -> None:
    attack = make_attack("pgd", epsilons=[1, 2, 3, 4, 5], steps=3)
    assert attack.epsilons == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert attack.epsilon(3) == 3.0
    assert attack.params == {"steps": 3}


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("pgd", {"steps": 0}, "steps"),
        ("pgd", {"steps": 2.5}, "steps"),
        ("pgd", {"step_size": -0.1}, "step_size"),
        ("pgd", {"random_start": "yes"}, "random_start"),
        ("fgsm", {"steps": 3}, "unknown parameter"),
        ("hopskipjump", {"max_iter": 0}, "max_iter"),
        ("hopskipjump", {"init_eval": 500, "max_eval": 100}, "init_eval"),
        ("boundary", {"step_adapt": 1.5}, "step_adapt"),
        ("zoo", {"learning_rate": 0}, "learning_rate"),
        ("zoo", {"confidence": -1}, "confidence"),
    ],
)
def test_bad_params_refused(name: str, params: dict[str, Any], match: str) -> None:
    with pytest.raises(AttackError, match=match):
        make_attack(name, **params)


def test_white_box_refuses_a_tree_model_before_any_work(cancer: Any, cancer_forest: Any) -> None:
    class Untouchable(SklearnAdapter):
        def predict_proba(self, X: Any) -> Any:
            raise AssertionError("the model must not be called")

    adapter = Untouchable(cancer_forest)
    for name in WHITE:
        attack = make_attack(name)
        with pytest.raises(AttackError, match="differentiable PyTorch") as err:
            attack.check_model(adapter)
        assert "RandomForestClassifier" in str(err.value)
        assert "hopskipjump" in str(err.value)
        with pytest.raises(AttackError, match="differentiable"):
            attack.fit(adapter, cancer.X_train, cancer.y_train)


def test_regression_models_refused(cancer: Any) -> None:
    reg = RandomForestRegressor(n_estimators=3, random_state=0).fit(
        cancer.X_train, cancer.y_train.astype(float)
    )
    torch_reg = TorchAdapter(nn.Linear(30, 1), task="regression")
    for name in WHITE + BLACK:
        with pytest.raises(AttackError, match="classification"):
            make_attack(name).fit(SklearnAdapter(reg), cancer.X_train)
    with pytest.raises(AttackError, match="classification"):
        make_attack("fgsm").check_model(torch_reg)


def test_data_errors(cancer: Any, cancer_forest: Any, mlp: TorchAdapter) -> None:
    attack = make_attack("fgsm")
    with pytest.raises(AttackError, match="fit"):
        attack(cancer.X_test, cancer.y_test, 1, 0)
    X_bad = cancer.X_train.assign(kind="a")
    with pytest.raises(AttackError, match="non-numeric columns: kind"):
        make_attack("hopskipjump").fit(cancer_forest, X_bad)
    attack.fit(mlp, cancer.X_train)
    for severity in (0, 6, 2.0):
        with pytest.raises(AttackError, match="severity"):
            attack(cancer.X_test, cancer.y_test, severity, 0)  # type: ignore[arg-type]
    with pytest.raises(AttackError, match="seed"):
        attack(cancer.X_test, cancer.y_test, 1, -1)
    with pytest.raises(AttackError, match="not among the model's classes"):
        attack(cancer.X_test, cancer.y_test + 5, 1, 0)
    with pytest.raises(AttackError, match="columns differ"):
        attack(cancer.X_test.iloc[:, :10], cancer.y_test, 1, 0)
    with pytest.raises(AttackError, match="rows"):
        attack(cancer.X_test, cancer.y_test[:5], 1, 0)


# -- white-box: FGSM and PGD ---------------------------------------------------------------
def _linear(cancer: Any, kind: str) -> TorchAdapter:
    """A logistic regression whose input gradient has a known sign: sign(w) * (p - y)."""
    X = cancer.X_train.to_numpy()
    rng = np.random.default_rng(1)
    w = rng.choice([-1.0, 1.0], 30) * rng.uniform(0.5, 1.5, 30) / (X.std(0) * 30)
    b = -float(w @ X.mean(0))  # logits of order 1: no saturated sigmoid
    lin = nn.Linear(30, 1 if kind != "logits2" else 2)
    with torch.no_grad():
        if kind == "logits2":  # class-1 logit minus class-0 logit is w.x + b
            lin.weight.copy_(torch.tensor(np.stack([np.zeros(30), w])))
            lin.bias.copy_(torch.tensor([0.0, b]))
        else:
            lin.weight.copy_(torch.tensor(w[None, :]))
            lin.bias.copy_(torch.tensor([b]))
    if kind == "proba":
        return TorchAdapter(BinaryProba(lin), classes=[0, 1], output="probabilities")
    return TorchAdapter(lin, classes=[0, 1])


@pytest.mark.parametrize("kind", ["logits1", "logits2", "proba"])
def test_fgsm_matches_closed_form_on_logistic_regression(cancer: Any, kind: str) -> None:
    adapter = _linear(cancer, kind)
    w = adapter.module.linear.weight if kind == "proba" else adapter.module.weight
    w = w.detach().numpy().astype(np.float64)
    w = w[1] - w[0] if kind == "logits2" else w[0]
    attack = make_attack("fgsm").fit(adapter, cancer.X_train)
    X = cancer.X_test.to_numpy()
    y = cancer.y_test
    std = cancer.X_train.to_numpy().std(axis=0)
    for severity in (1, 5):
        eps = attack.epsilon(severity)
        X_adv, y_out = attack(X, y, severity, seed=0)
        # d loss / dx = (sigmoid(w.x + b) - y) * w, whose sign is sign(w) * (1 - 2y)
        expected = X + eps * std * np.sign(w)[None, :] * (1 - 2 * y)[:, None]
        np.testing.assert_allclose(X_adv, expected, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(y_out, y)


@pytest.mark.parametrize("name", WHITE)
def test_white_box_budget_and_strength(cancer: Any, mlp: TorchAdapter, name: str) -> None:
    attack = make_attack(name).fit(mlp, cancer.X_train)
    clean = _accuracy(mlp, cancer.X_test, cancer.y_test)
    assert clean > 0.9
    accs = []
    for severity in SEVERITIES:
        X_adv, _ = attack(cancer.X_test, cancer.y_test, severity, seed=0)
        assert _budget_ratio(attack, cancer.X_test, X_adv) <= attack.epsilon(severity) + 1e-6
        accs.append(_accuracy(mlp, X_adv, cancer.y_test))
    assert accs[0] <= clean
    assert all(b <= a for a, b in itertools.pairwise(accs)), accs
    assert accs[-1] < clean - 0.5, accs


def test_fgsm_and_pgd_agree_with_art(cancer: Any, mlp: TorchAdapter) -> None:
    X = cancer.X_test.to_numpy().astype(np.float32)
    y = cancer.y_test
    clf = PyTorchClassifier(mlp.module, loss=nn.CrossEntropyLoss(), input_shape=(30,), nb_classes=2)
    # ART averages the loss over the batch: on rows whose softmax is saturated in float32 its
    # gradient underflows to zero where ours (a sum) keeps a subnormal sign; compare the rest
    live = np.any(clf.loss_gradient(X, np.eye(2, dtype=np.float32)[y]) != 0, axis=1)
    assert live.mean() > 0.9
    fgsm = make_attack("fgsm").fit(mlp, cancer.X_train)
    pgd = make_attack("pgd", steps=7, random_start=False).fit(mlp, cancer.X_train)
    for severity in (1, 3, 5):
        eps = fgsm.epsilon(severity)
        budget = (eps * fgsm.scale_).astype(np.float32)
        art_fgsm = FastGradientMethod(clf, eps=budget, eps_step=budget, batch_size=512)
        ours, _ = fgsm(X, y, severity, seed=0)
        diff = np.abs(ours - art_fgsm.generate(X, y=y)) / fgsm.scale_
        assert diff[live].max() < 1e-5
        step = (2.5 * eps / 7 * pgd.scale_).astype(np.float32)
        art_pgd = ProjectedGradientDescent(
            clf,
            eps=budget,
            eps_step=step,
            max_iter=7,
            num_random_init=0,
            batch_size=512,
            verbose=False,
        )
        ours, _ = pgd(X, y, severity, seed=0)
        diff = np.abs(ours - art_pgd.generate(X, y=y)) / pgd.scale_
        assert np.median(diff[live]) < 1e-6
        assert np.mean(diff[live] > 1e-4) < 0.01


def test_pgd_seeded_and_leaves_global_rng_alone(cancer: Any, mlp: TorchAdapter) -> None:
    attack = make_attack("pgd").fit(mlp, cancer.X_train)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a, _ = attack(cancer.X_test, cancer.y_test, 3, seed=7)
    b, _ = attack(cancer.X_test, cancer.y_test, 3, seed=7)
    c, _ = attack(cancer.X_test, cancer.y_test, 3, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a.to_numpy(), c.to_numpy())
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    fgsm = make_attack("fgsm").fit(mlp, cancer.X_train)
    np.testing.assert_array_equal(
        fgsm(cancer.X_test, cancer.y_test, 2, 0)[0], fgsm(cancer.X_test, cancer.y_test, 2, 1)[0]
    )


def test_frame_in_frame_out(cancer: Any, mlp: TorchAdapter) -> None:
    attack = make_attack("fgsm").fit(mlp, cancer.X_train)
    X = cancer.X_test.copy()
    X.index = X.index + 1000
    X["mean radius"] = X["mean radius"].round().astype(int)  # an integer column
    before = X.copy()
    X_adv, y_adv = attack(X, cancer.y_test, 4, 0)
    assert isinstance(X_adv, pd.DataFrame)
    assert list(X_adv.columns) == list(X.columns)
    assert X_adv.index.equals(X.index)
    assert (X_adv.dtypes == np.float64).all()
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert y_adv is not cancer.y_test
    np.testing.assert_array_equal(y_adv, cancer.y_test)
    # columns in another order: same rows back, in the caller's order
    shuffled = list(reversed(X.columns))
    X_rev, _ = attack(X[shuffled], cancer.y_test, 4, 0)
    pd.testing.assert_frame_equal(X_rev, X_adv[shuffled])
    # an array in, an array out
    arr, _ = attack(X.to_numpy(), cancer.y_test, 4, 0)
    assert isinstance(arr, np.ndarray) and arr.shape == X.shape
    np.testing.assert_allclose(arr, X_adv.to_numpy())


def test_constant_feature_gets_unit_scale(cancer: Any, mlp: TorchAdapter) -> None:
    X_ref = cancer.X_train.copy()
    X_ref["mean radius"] = 3.0
    attack = make_attack("fgsm").fit(mlp, X_ref)
    assert attack.scale_[0] == 1.0
    np.testing.assert_allclose(attack.scale_[1:], cancer.X_train.to_numpy().std(axis=0)[1:])


# -- images ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits() -> tuple[TorchAdapter, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8) / 16.0
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
        _train(net, X[:1000], y[:1000], 60)
    return TorchAdapter(net, classes=list(range(10))), X, y


@pytest.mark.parametrize("name", ["fgsm", "pgd", "hopskipjump"])
def test_images_keep_shape_range_and_budget(digits: Any, name: str) -> None:
    adapter, X, y = digits
    attack = make_attack(name).fit(adapter, X[:1000])
    X_test, y_test = X[1000:1030], y[1000:1030]
    assert np.unique(attack.scale_).size == 1  # one pooled scale per image batch
    X_adv, _ = attack(X_test, y_test, 5, seed=0)
    assert X_adv.shape == X_test.shape
    assert X_adv.min() >= 0.0 and X_adv.max() <= 1.0
    assert _budget_ratio(attack, X_test, X_adv) <= attack.epsilon(5) + 1e-6
    assert _accuracy(adapter, X_adv, y_test) < _accuracy(adapter, X_test, y_test)


# -- black-box (ART) -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def black_box_runs(cancer: Any, cancer_forest: Any) -> dict[str, Any]:
    """Every black-box attack on the forest, all severities, on the first test rows."""
    X, y = cancer.X_test.iloc[:N_BLACK], cancer.y_test[:N_BLACK]
    runs: dict[str, Any] = {}
    for name in BLACK:
        attack = make_attack(name).fit(SklearnAdapter(cancer_forest), cancer.X_train)
        t0 = time.perf_counter()
        out = {s: attack(X, y, s, seed=0)[0] for s in SEVERITIES}
        runs[name] = (attack, X, y, out, time.perf_counter() - t0)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("name", BLACK)
def test_black_box_budget_and_accuracy(
    black_box_runs: dict[str, Any], cancer_forest: Any, name: str
) -> None:
    attack, X, y, out, _ = black_box_runs[name]
    adapter = SklearnAdapter(cancer_forest)
    clean = _accuracy(adapter, X, y)
    wrong = adapter.predict(X) != y
    for severity, X_adv in out.items():
        assert isinstance(X_adv, pd.DataFrame) and list(X_adv.columns) == list(X.columns)
        assert _budget_ratio(attack, X, X_adv) <= attack.epsilon(severity) + 1e-6
        assert _accuracy(adapter, X_adv, y) <= clean
        # rows the model already gets wrong are left alone
        pd.testing.assert_frame_equal(X_adv[wrong], X[wrong].astype(np.float64))


@pytest.mark.slow
def test_hopskipjump_fools_the_forest_in_modest_time(
    black_box_runs: dict[str, Any], cancer_forest: Any
) -> None:
    _, X, y, out, seconds = black_box_runs["hopskipjump"]
    adapter = SklearnAdapter(cancer_forest)
    accs = [_accuracy(adapter, out[s], y) for s in SEVERITIES]
    assert accs[-1] < _accuracy(adapter, X, y) - 0.2, accs
    assert accs[-1] <= accs[0]
    assert seconds < 60, seconds  # ~0.2-0.4 s a row, once for the five severities


@pytest.mark.slow
def test_hopskipjump_seeded_and_leaves_global_rng_alone(cancer: Any, cancer_forest: Any) -> None:
    X, y = cancer.X_test.iloc[:8], cancer.y_test[:8]
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    runs = [
        make_attack("hopskipjump", max_iter=3).fit(cancer_forest, cancer.X_train)(X, y, 5, seed=4)[
            0
        ]
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert not runs[0].equals(X.astype(np.float64))
