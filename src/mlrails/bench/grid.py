"""The grid of a benchmark: (perturbations and attacks) × severities × seeds × repeats over
one or more (model, artifact) pairs and one test set.

:class:`GridConfig` is what ``mlrails bench CONFIG.yaml`` reads (validated with clear messages
before any work starts); :func:`run_grid` checks the pairs, the test set against each
contract and each attack against each model, then runs every cell on an executor (this
process, a local process pool, or Ray) and returns the records in grid order — the same
numbers whatever the executor, because every cell is seeded by its own spec.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlrails.bench.cell import CellSpec
from mlrails.bench.executors import Executor, GridJob, PairSource, get_executor
from mlrails.bench.perturbations import SEVERITIES, PerturbationError, available, make
from mlrails.bench.record import CellRecord, first_error
from mlrails.errors import DataError, MlrailsError
from mlrails.guard.rails import Rails
from mlrails.tabular_io import read_table

#: called with each cell's record as soon as it is done (in grid order): a progress bar
CellCallback = Callable[[CellRecord], None]


def _check_severities(v: list[int]) -> list[int]:
    bad = [s for s in v if s not in SEVERITIES]
    if bad or not v:
        raise ValueError(f"severities must be a non-empty list of 1–5, got {v}")
    return sorted(set(v))


class PerturbationConfig(BaseModel):
    """One perturbation of the grid and the severities to run it at."""

    model_config = ConfigDict(extra="forbid")

    name: str
    severities: list[int] = Field(default_factory=lambda: list(SEVERITIES))
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v != "none" and v not in available():
            raise ValueError(f"unknown perturbation {v!r}; available: {', '.join(available())}")
        return v

    _severities = field_validator("severities")(lambda v: _check_severities(v))


class DataConfig(BaseModel):
    """The test set: a table file with a label column, or scikit-learn's bundled
    ``breast_cancer`` / ``wine`` split as the examples fit it (30 % test, stratified, seeded).
    ``reference`` (the same kind of source) scales the perturbations; default: the test set."""

    model_config = ConfigDict(extra="forbid")

    test: Path | None = None
    reference: Path | None = None
    target: str | None = None
    bundled: Literal["breast_cancer", "wine"] | None = None
    test_fraction: float = Field(0.3, gt=0, lt=1)
    split_seed: int = 0

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.test is None) == (self.bundled is None):
            raise ValueError("data: give either 'test' (a .csv/.parquet file) or 'bundled'")
        if self.test is not None and not self.target:
            raise ValueError("data: 'target' names the label column of the test file")
        return self

    def load(self) -> tuple[pd.DataFrame, NDArray[Any], pd.DataFrame]:
        """``(X_test, y_test, reference)``; :class:`DataError` if a file cannot be used."""
        if self.bundled is not None:
            from sklearn import datasets
            from sklearn.model_selection import train_test_split

            loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
            d = loader[self.bundled](as_frame=True)
            X_tr, X_te, _, y_te = train_test_split(
                d.data,
                d.target.to_numpy(),
                test_size=self.test_fraction,
                random_state=self.split_seed,
                stratify=d.target,
            )
            return X_te.reset_index(drop=True), y_te, X_tr.reset_index(drop=True)
        assert self.test is not None and self.target is not None
        X, y = _split_target(read_table(self.test), self.target, self.test)
        ref = (
            X
            if self.reference is None
            else _split_target(read_table(self.reference), self.target, self.reference)[0]
        )
        return X, y, ref


def _split_target(frame: pd.DataFrame, target: str, path: Path) -> tuple[pd.DataFrame, Any]:
    if target not in frame.columns:
        raise DataError(f"{path}: no column {target!r} (the label column named by 'target')")
    return frame.drop(columns=[target]), frame[target].to_numpy()


class AttackConfig(BaseModel):
    """One attack of the grid and the severities (budgets ε) to run it at."""

    model_config = ConfigDict(extra="forbid")

    name: str
    severities: list[int] = Field(default_factory=lambda: list(SEVERITIES))
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from mlrails.bench.attacks import available_attacks

        if v not in available_attacks():
            raise ValueError(f"unknown attack {v!r}; available: {', '.join(available_attacks())}")
        return v

    _severities = field_validator("severities")(lambda v: _check_severities(v))


class PairConfig(BaseModel):
    """A (model, artifact) pair: the rails in ``artifact`` around its bundled model, or
    around ``model`` (a model file, loaded safely unless ``trust``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    artifact: Path
    model: Path | None = None
    trust: bool = False


class GridConfig(BaseModel):
    """Pairs, perturbations, attacks, seeds and repeats, and the test set they run on."""

    model_config = ConfigDict(extra="forbid")

    artifact: Path | None = None
    models: list[PairConfig] = Field(default_factory=list)
    data: DataConfig
    perturbations: list[PerturbationConfig] = Field(default_factory=list)
    attacks: list[AttackConfig] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    repeats: int = Field(1, ge=1, le=1000)
    workers: int = Field(1, ge=1, le=256)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    n_resamples: int = Field(1000, ge=100, le=100_000)
    regression_tolerance: float | None = Field(None, gt=0)
    #: where record.json, report.html and summary.md go (relative to the config's folder);
    #: ``mlrails bench --out`` wins over it
    out: Path | None = None

    @model_validator(mode="after")
    def _pairs(self) -> GridConfig:
        if (self.artifact is None) == (not self.models):
            raise ValueError("give either 'artifact' (one pair) or 'models' (a list of pairs)")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"models: pair names must be unique, got {names}")
        if not self.perturbations and not self.attacks:
            raise ValueError("give at least one of 'perturbations' or 'attacks'")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        return self

    @property
    def pairs(self) -> list[PairConfig]:
        """The pairs; a lone ``artifact`` is the pair named ``"model"``."""
        if self.artifact is not None:
            return [PairConfig(name="model", artifact=self.artifact)]
        return list(self.models)

    def cells(self) -> list[CellSpec]:
        """The grid in a fixed order, per pair: the clean cell, then perturbation × severity
        × seed × repeat, then attack × severity × seed × repeat."""
        out: list[CellSpec] = []
        for pair in self.pairs:
            out.append(CellSpec("none", 1, 0, pair=pair.name))
            kinds: list[tuple[Literal["perturbation", "attack"], Any]] = [
                ("perturbation", self.perturbations),
                ("attack", self.attacks),
            ]
            for kind, items in kinds:
                for p in items:
                    for s in p.severities:
                        for seed in self.seeds:
                            for r in range(self.repeats):
                                out.append(
                                    CellSpec(p.name, s, seed, dict(p.params), kind, pair.name, r)
                                )
        return out


EXAMPLE_CONFIG = """\
# mlrails bench config — every key is checked before any work starts.
artifact: rails/            # written by `mlrails fit`; or several (model, artifact) pairs:
# models:
#   - {name: forest, artifact: rails/}
#   - {name: boosted, artifact: rails-gb/, model: gb.skops}
data:
  bundled: breast_cancer    # or: test: test.csv + target: label (+ reference: train.csv)
  test_fraction: 0.3
  split_seed: 0
perturbations:              # `python -c "import mlrails.bench as b; print(b.available())"`
  - name: gaussian_noise    # N(0, (s·σ)²) per feature
    severities: [1, 2, 3, 4, 5]
  - name: scaling           # unit change of a share of the features
    params: {fraction: 0.3}
  - name: covariate_shift
  - name: missing_values
attacks:                    # budget ε = severity (L∞, in units of each feature's std)
  - name: hopskipjump       # black-box: any model; fgsm / pgd need a PyTorch model
    severities: [1, 3, 5]
seeds: [0, 1, 2]            # each cell is seeded: same config, same numbers
repeats: 1                  # > 1: independent re-draws per seed (for the power note)
workers: 1                  # > 1: a local process pool (identical numbers)
executor: local             # or ray (pip install 'mlrails[ray]'): same numbers
# out: bench-results/       # output folder (relative to this file); --out wins
# ray_address: ray://head:10001   # an existing Ray cluster (default: a local instance)
"""


def read_config(path: str | Path) -> GridConfig:
    """Read and validate a YAML config; one-line :class:`MlrailsError` if it is unusable."""
    import yaml
    from pydantic import ValidationError

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MlrailsError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise MlrailsError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise MlrailsError(f"{p}: expected a mapping of settings")
    try:
        cfg = GridConfig.model_validate(raw)
    except ValidationError as exc:
        raise MlrailsError(f"{p}: {first_error(exc)}") from None
    base = p.parent
    if cfg.artifact is not None:
        cfg.artifact = _resolve(base, cfg.artifact)
    if cfg.out is not None:
        cfg.out = _resolve(base, cfg.out)
    for m in cfg.models:
        m.artifact = _resolve(base, m.artifact)
        if m.model is not None:
            m.model = _resolve(base, m.model)
    for name in ("test", "reference"):
        value = getattr(cfg.data, name)
        if value is not None:
            setattr(cfg.data, name, _resolve(base, value))
    return cfg


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()


def check_cells(cells: list[CellSpec]) -> None:
    """Build every perturbation and attack once: bad parameters stop the grid before work."""
    for spec in cells:
        try:
            if spec.kind == "perturbation":
                make(spec.name, **spec.params)
            elif spec.kind == "attack":
                from mlrails.bench.attacks import make_attack

                make_attack(spec.name, **spec.params)
        except PerturbationError as exc:
            raise type(exc)(f"{spec.key}: {exc}") from None


def check_test_set(name: str, rails: Rails, X: Any) -> None:
    """The test set must fit the artifact's contract (columns, count, types): a clear
    :class:`DataError` before any work, not a grid of failed cells."""
    from mlrails.contract import validate
    from mlrails.contract.validate import WRONG_TYPE

    try:
        res = validate(rails.contract, X)
    except ValueError as exc:
        raise DataError(f"the test set does not fit pair {name!r}'s contract: {exc}") from None
    problems = [f"{v.field}: {v.code} (expected {v.expected})" for v in res.batch_errors]
    typed = sorted({v.field for row in res.errors for v in row if v.code == WRONG_TYPE})
    problems += [f"{f}: wrong_type" for f in typed]
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DataError(
            f"the test set does not fit pair {name!r}'s contract: " + "; ".join(problems[:5]) + more
        )


def regression_tolerance(rails: Rails, X: Any, y: NDArray[Any]) -> float:
    """What "wrong" means for a regressor by default: an absolute error above the 90th
    percentile of its errors on the clean test rows."""
    pred = np.asarray(rails.adapter.predict_values(X), dtype=np.float64)
    err = np.abs(pred - np.asarray(y, dtype=np.float64))
    return float(np.quantile(err, 0.9)) if len(err) else float("inf")


def run_grid(
    config: GridConfig,
    X: pd.DataFrame | NDArray[Any],
    y: NDArray[Any],
    reference: Any = None,
    progress: CellCallback | None = None,
    *,
    rails: dict[str, Rails] | None = None,
    executor: Executor | None = None,
) -> list[CellRecord]:
    """Every cell of ``config`` on the test set ``X, y`` (perturbations fitted on
    ``reference``, default ``X``); records in :meth:`GridConfig.cells` order. Pairs,
    parameters, attackability and the test set are checked before any cell runs."""
    cells = config.cells()
    check_cells(cells)
    loaded = dict(rails or {})
    sources: dict[str, PairSource] = {}
    tolerance: dict[str, float | None] = {}
    for pair in config.pairs:
        sources[pair.name] = PairSource(
            str(pair.artifact), None if pair.model is None else str(pair.model), pair.trust
        )
        if pair.name not in loaded:
            loaded[pair.name] = sources[pair.name].load()
        r = loaded[pair.name]
        check_test_set(pair.name, r, X)
        if r.adapter.task == "regression":
            tolerance[pair.name] = config.regression_tolerance or regression_tolerance(r, X, y)
        if config.attacks:
            from mlrails.bench.attacks import make_attack

            for a in config.attacks:
                try:
                    make_attack(a.name, **a.params).check_model(r.adapter)
                except PerturbationError as exc:  # an AttackError stays one
                    raise type(exc)(f"pair {pair.name!r}: {exc}") from None
    job = GridJob(sources, X, np.asarray(y), reference, tolerance, config.n_resamples)
    ex = executor or get_executor(
        config.executor,
        config.workers,
        **({"address": config.ray_address} if config.ray_address else {}),
    )
    results: list[CellRecord] = []
    for rec in ex.run(job, cells, loaded):
        results.append(rec)
        if progress is not None:
            progress(rec)
    return results
