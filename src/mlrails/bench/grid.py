"""The grid of a benchmark: perturbations × severities × seeds over one artifact and test set.

:class:`GridConfig` is what ``mlrails bench CONFIG.yaml`` will read (validated with clear
messages before any work starts); :func:`run_grid` runs every cell, in a local process pool
when ``workers > 1``, and returns the results in grid order — the same numbers whatever the
number of workers, because every cell is seeded by its own spec.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlrails.bench.cell import CellResult, CellSpec, run_cell
from mlrails.bench.perturbations import SEVERITIES, PerturbationError, available, make
from mlrails.errors import DataError, MlrailsError
from mlrails.tabular_io import read_table


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

    @field_validator("severities")
    @classmethod
    def _range(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if s not in SEVERITIES]
        if bad or not v:
            raise ValueError(f"severities must be a non-empty list of 1–5, got {v}")
        return sorted(set(v))


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


class GridConfig(BaseModel):
    """Perturbations, seeds, the artifact they grade and the test set."""

    model_config = ConfigDict(extra="forbid")

    artifact: Path
    data: DataConfig
    perturbations: list[PerturbationConfig] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    workers: int = Field(1, ge=1, le=256)

    def cells(self) -> list[CellSpec]:
        """The grid in a fixed order: the clean cell, then perturbation × severity × seed."""
        out = [CellSpec("none", 1, 0)]
        for p in self.perturbations:
            for s in p.severities:
                for seed in self.seeds:
                    out.append(CellSpec(p.name, s, seed, dict(p.params)))
        return out


EXAMPLE_CONFIG = """\
# mlrails bench config — every key is checked before any work starts.
artifact: rails/            # written by `mlrails fit`
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
seeds: [0, 1, 2]            # each cell is seeded: same config, same numbers
workers: 1                  # > 1: a local process pool (identical numbers)
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
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise MlrailsError(f"{p}: {where}: {first['msg']}") from None
    if not cfg.artifact.is_absolute():
        cfg.artifact = (p.parent / cfg.artifact).resolve()
    for name in ("test", "reference"):
        value = getattr(cfg.data, name)
        if value is not None and not value.is_absolute():
            setattr(cfg.data, name, (p.parent / value).resolve())
    return cfg


#: state of a pool worker: rails and data are loaded once per process
_WORKER: dict[str, Any] = {}


def _init_worker(artifact: str, X: Any, y: NDArray[Any], reference: Any) -> None:
    import mlrails

    _WORKER.update(rails=mlrails.load(artifact), X=X, y=y, reference=reference)


def _run_in_worker(spec: CellSpec) -> CellResult:
    w = _WORKER
    return run_cell(w["rails"], w["X"], w["y"], spec, w["reference"])


def run_grid(
    config: GridConfig,
    X: pd.DataFrame | NDArray[Any],
    y: NDArray[Any],
    reference: Any = None,
    progress: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Every cell of ``config`` on the test set ``X, y`` (perturbations fitted on
    ``reference``, default ``X``); results in :meth:`GridConfig.cells` order."""
    import mlrails

    cells = config.cells()
    for spec in cells:  # parameters checked before any work starts
        if spec.perturbation != "none":
            try:
                make(spec.perturbation, **spec.params)
            except PerturbationError as exc:
                raise PerturbationError(f"{spec.key}: {exc}") from None
    results: list[CellResult] = []
    if config.workers == 1:
        rails = mlrails.load(config.artifact)
        for spec in cells:
            r = run_cell(rails, X, y, spec, reference)
            results.append(r)
            if progress is not None:
                progress(r)
        return results
    n = min(config.workers, len(cells), os.cpu_count() or 1) or 1
    with ProcessPoolExecutor(
        n, initializer=_init_worker, initargs=(str(config.artifact), X, np.asarray(y), reference)
    ) as pool:
        for r in pool.map(_run_in_worker, cells):
            results.append(r)
            if progress is not None:
                progress(r)
    return results
