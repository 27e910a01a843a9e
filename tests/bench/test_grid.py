"""The benchmark grid: validated config, fixed cell order, identical results across workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlrails.bench.grid import GridConfig, run_grid

DATA = {"bundled": "breast_cancer"}


@pytest.fixture(scope="module")
def artifact(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grid") / "rails"
    cancer_rails.save(path)
    return path


def test_config_is_validated_with_clear_messages(artifact: Path) -> None:
    with pytest.raises(ValidationError, match="unknown perturbation 'gausian_noise'"):
        GridConfig(artifact=artifact, data=DATA, perturbations=[{"name": "gausian_noise"}])
    with pytest.raises(ValidationError, match="severities must be"):
        GridConfig(
            artifact=artifact, data=DATA, perturbations=[{"name": "scaling", "severities": [0, 6]}]
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        GridConfig(artifact=artifact, data=DATA, perturbations=[{"name": "scaling"}], seedz=[1])
    cfg = GridConfig(
        artifact=artifact,
        data=DATA,
        perturbations=[{"name": "scaling", "severities": [3, 1, 3]}],
        seeds=[0, 1],
    )
    assert [c.key for c in cfg.cells()] == [
        "model:none/s1/seed0",
        "model:scaling/s1/seed0",
        "model:scaling/s1/seed1",
        "model:scaling/s3/seed0",
        "model:scaling/s3/seed1",
    ]
    two = GridConfig(
        models=[{"name": "a", "artifact": artifact}, {"name": "b", "artifact": artifact}],
        data=DATA,
        perturbations=[{"name": "scaling", "severities": [2]}],
        repeats=2,
    )
    assert [c.key for c in two.cells()] == [
        "a:none/s1/seed0",
        "a:scaling/s2/seed0",
        "a:scaling/s2/seed0/r1",
        "b:none/s1/seed0",
        "b:scaling/s2/seed0",
        "b:scaling/s2/seed0/r1",
    ]
    with pytest.raises(ValidationError, match="either 'artifact'"):
        GridConfig(data=DATA, perturbations=[{"name": "scaling"}])
    with pytest.raises(ValidationError, match="pair names must be unique"):
        GridConfig(
            models=[{"name": "a", "artifact": artifact}, {"name": "a", "artifact": artifact}],
            data=DATA,
            perturbations=[{"name": "scaling"}],
        )
    with pytest.raises(ValidationError, match="at least one of"):
        GridConfig(artifact=artifact, data=DATA)


def test_bad_parameters_stop_the_grid_before_any_work(artifact: Path, cancer: Any) -> None:
    from mlrails.bench import PerturbationError

    cfg = GridConfig(
        artifact=artifact,
        data=DATA,
        perturbations=[{"name": "scaling", "params": {"fraction": 2}}],
    )
    with pytest.raises(PerturbationError, match="model:scaling/s1/seed0: scaling: fraction"):
        run_grid(cfg, cancer.X_test, cancer.y_test)


def test_a_test_set_that_misses_the_contract_stops_before_work(artifact: Path, cancer: Any) -> None:
    from mlrails.errors import DataError

    cfg = GridConfig(artifact=artifact, data=DATA, perturbations=[{"name": "scaling"}])
    seen: list[Any] = []
    X = cancer.X_test.drop(columns=["mean radius"]).assign(extra=1.0)
    with pytest.raises(DataError, match="does not fit pair 'model'.*mean radius: missing_column"):
        run_grid(cfg, X, cancer.y_test, progress=seen.append)
    X = cancer.X_test.assign(**{"mean area": "big"})
    with pytest.raises(DataError, match="mean area: wrong_type"):
        run_grid(cfg, X, cancer.y_test, progress=seen.append)
    assert seen == []


@pytest.mark.slow
def test_process_pool_gives_the_same_numbers(artifact: Path, cancer: Any) -> None:
    spec = {
        "artifact": artifact,
        "data": DATA,
        "perturbations": [
            {"name": "gaussian_noise", "severities": [1, 5]},
            {"name": "category_swap", "severities": [1]},  # fails: no categorical column
        ],
        "seeds": [0, 1],
    }
    seen: list[str] = []
    local = run_grid(
        GridConfig(**spec), cancer.X_test, cancer.y_test, cancer.X_train,
        progress=lambda r: seen.append(r.key),
    )  # fmt: skip
    pooled = run_grid(GridConfig(**spec, workers=2), cancer.X_test, cancer.y_test, cancer.X_train)
    assert seen == [r.key for r in local] and len(local) == 7
    skip = {"wall_s", "peak_mb"}
    for a, b in zip(local, pooled, strict=True):
        assert a.model_dump(exclude=skip) == b.model_dump(exclude=skip)
    failed = [r for r in local if r.error]
    assert [r.name for r in failed] == ["category_swap", "category_swap"]
    acc = {r.condition: r.metrics["accuracy"] for r in local if not r.error}
    assert (
        acc["gaussian_noise/s5/seed0"]
        < acc["gaussian_noise/s1/seed0"]
        <= acc["none/s1/seed0"] + 0.02
    )


def test_bundled_data_is_the_fixture_split(cancer: Any) -> None:
    from mlrails.bench.grid import DataConfig

    X, y, ref = DataConfig(bundled="breast_cancer").load()
    assert X.equals(cancer.X_test) and (y == cancer.y_test).all() and ref.equals(cancer.X_train)
    with pytest.raises(ValidationError, match="either 'test'"):
        DataConfig()
    with pytest.raises(ValidationError, match="'target' names"):
        DataConfig(test=Path("t.csv"))


def test_config_file_errors_are_one_line(tmp_path: Path) -> None:
    from mlrails.bench.grid import EXAMPLE_CONFIG, read_config
    from mlrails.errors import MlrailsError

    good = tmp_path / "bench.yaml"
    good.write_text(EXAMPLE_CONFIG)
    cfg = read_config(good)
    assert cfg.artifact == (tmp_path / "rails").resolve()
    assert [p.name for p in cfg.perturbations][:2] == ["gaussian_noise", "scaling"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE_CONFIG.replace("seeds: [0, 1, 2]", "seeds: [zero]"))
    with pytest.raises(MlrailsError, match=r"bad.yaml: seeds.0: .*integer"):
        read_config(bad)
    bad.write_text("a: [")
    with pytest.raises(MlrailsError, match="not valid YAML"):
        read_config(bad)


def test_an_attack_the_model_cannot_take_stops_before_work(artifact: Path, cancer: Any) -> None:
    from mlrails.bench import AttackError

    cfg = GridConfig(artifact=artifact, data=DATA, attacks=[{"name": "fgsm"}])
    seen: list[Any] = []
    with pytest.raises(AttackError, match="pair 'model': fgsm needs a differentiable"):
        run_grid(cfg, cancer.X_test, cancer.y_test, progress=seen.append)
    assert seen == []
    with pytest.raises(ValidationError, match="unknown attack 'fgm'"):
        GridConfig(artifact=artifact, data=DATA, attacks=[{"name": "fgm"}])
    bad = GridConfig(
        artifact=artifact, data=DATA, attacks=[{"name": "pgd", "params": {"epsilons": [1, 2]}}]
    )
    with pytest.raises(AttackError, match="epsilons"):
        run_grid(bad, cancer.X_test, cancer.y_test)


@pytest.mark.slow
def test_black_box_attack_cells_in_a_grid(artifact: Path, cancer: Any) -> None:
    cfg = GridConfig(
        artifact=artifact,
        data=DATA,
        attacks=[{"name": "hopskipjump", "severities": [1, 5]}],
        n_resamples=200,
    )
    X, y = cancer.X_test.iloc[:30], cancer.y_test[:30]
    clean, s1, s5 = run_grid(cfg, X, y, cancer.X_train)
    assert [c.kind for c in (clean, s1, s5)] == ["clean", "attack", "attack"]
    assert s1.error is None and s5.error is None
    assert s5.metrics["accuracy"] <= s1.metrics["accuracy"] <= clean.metrics["accuracy"]
    assert s5.metrics["accuracy"] < clean.metrics["accuracy"]
    assert s5.rows_hash != clean.rows_hash


def test_config_accepts_out_relative_to_the_config(tmp_path: Path) -> None:
    from mlrails.bench.grid import read_config
    from mlrails.bench.provenance import config_hash

    text = "artifact: rails\ndata: {bundled: breast_cancer}\nperturbations: [{name: scaling}]\n"
    (tmp_path / "a.yaml").write_text(text + "out: results/here\n")
    (tmp_path / "b.yaml").write_text(text)
    a, b = read_config(tmp_path / "a.yaml"), read_config(tmp_path / "b.yaml")
    assert a.out == (tmp_path / "results" / "here").resolve() and b.out is None
    assert config_hash(a, tmp_path) == config_hash(b, tmp_path)
