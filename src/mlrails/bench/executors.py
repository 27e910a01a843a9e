"""Where the cells of a grid run: in this process, a local process pool, or Ray.

Every executor gets the same :class:`GridJob` (pairs, test set, per-pair tolerances) and the
cells in grid order, and returns the records in that order. A worker loads each pair's rails
once; every cell is seeded by its own spec, so the numbers do not depend on the executor or
the number of workers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from mlrails.bench.cell import N_RESAMPLES, CellSpec, run_cell
from mlrails.bench.record import CellRecord
from mlrails.errors import MlrailsError
from mlrails.guard.rails import Rails


@dataclass(frozen=True)
class PairSource:
    """How a worker loads a pair's rails: artifact directory, optional model file."""

    artifact: str
    model: str | None = None
    trust: bool = False

    def load(self) -> Rails:
        from mlrails.artifact.io import load_artifact
        from mlrails.models import load_model

        model = None if self.model is None else load_model(self.model, trust=self.trust)
        return load_artifact(self.artifact, model=model, trust=self.trust)


@dataclass
class GridJob:
    """Everything a worker needs besides the cells."""

    pairs: dict[str, PairSource]
    X: Any
    y: NDArray[Any]
    reference: Any = None
    tolerance: dict[str, float | None] = field(default_factory=dict)
    n_resamples: int = N_RESAMPLES


class Worker:
    """Runs cells of one job; loads each pair's rails on first use.

    Cells run with one BLAS/OpenMP thread: on a cell's small matrices threads only add
    overhead, and a fixed thread count keeps floating-point sums in the same order whatever
    the machine or executor (same numbers from the local pool and Ray).
    """

    def __init__(self, job: GridJob, rails: dict[str, Rails] | None = None) -> None:
        self.job = job
        self.rails: dict[str, Rails] = dict(rails or {})
        #: fitted attacks per (pair, name, params): a black-box attack's raw result is
        #: cached by seed, so its severities (projections of one run) cost one run
        self.attacks: dict[tuple[str, str, str], Any] = {}

    def __call__(self, spec: CellSpec) -> CellRecord:
        job = self.job
        if spec.pair not in self.rails:
            self.rails[spec.pair] = job.pairs[spec.pair].load()
        with threadpool_limits(limits=1):
            return run_cell(
                self.rails[spec.pair],
                job.X,
                job.y,
                spec,
                job.reference,
                self._attack(spec),
                tolerance=job.tolerance.get(spec.pair),
                n_resamples=job.n_resamples,
            )

    def _attack(self, spec: CellSpec) -> Any:
        if spec.kind != "attack":
            return None
        key = (spec.pair, spec.name, json.dumps(spec.params, sort_keys=True, default=str))
        if key not in self.attacks:
            from mlrails.bench.attacks import AttackError, make_attack

            ref = self.job.X if self.job.reference is None else self.job.reference
            try:
                attack = make_attack(spec.name, **spec.params)
                self.attacks[key] = attack.fit(self.rails[spec.pair].adapter, ref, None)
            except AttackError:
                return None  # run_cell builds it again and records the error
        return self.attacks[key]


class Executor(Protocol):
    """Runs cells and yields their records in the order given."""

    name: str

    def run(
        self,
        job: GridJob,
        cells: Sequence[CellSpec],
        rails: dict[str, Rails] | None = None,
    ) -> Iterator[CellRecord]:
        """Records in the order of ``cells``; ``rails``: pairs already loaded in this
        process (an executor that runs cells here may use them instead of loading)."""
        ...


class LocalExecutor:
    """This process (``workers == 1``) or a local process pool."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def run(
        self,
        job: GridJob,
        cells: Sequence[CellSpec],
        rails: dict[str, Rails] | None = None,
    ) -> Iterator[CellRecord]:
        n = min(self.workers, len(cells), os.cpu_count() or 1) or 1
        if n == 1:
            worker = Worker(job, rails)
            for spec in cells:
                yield worker(spec)
            return
        with ProcessPoolExecutor(n, initializer=_init_pool, initargs=(job,)) as pool:
            yield from pool.map(_run_in_pool, cells)


_POOL_WORKER: list[Worker] = []


def _init_pool(job: GridJob) -> None:
    _POOL_WORKER[:] = [Worker(job)]


def _run_in_pool(spec: CellSpec) -> CellRecord:
    return _POOL_WORKER[0](spec)


def get_executor(name: str, workers: int = 1, **options: Any) -> Executor:
    """The executor called ``name`` (``"local"`` or ``"ray"``)."""
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        from mlrails.bench.ray_executor import RayExecutor

        return RayExecutor(workers, **options)
    raise MlrailsError(f"unknown executor {name!r}; use 'local' or 'ray'")
