"""The Ray executor: the local executors' numbers, in grid order, and a lost worker costs only
its cells. One local Ray instance (2 CPUs) serves the whole module."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray")

from mlrails.bench.cell import CellSpec
from mlrails.bench.executors import GridJob, LocalExecutor, PairSource, get_executor
from mlrails.bench.grid import GridConfig, run_grid
from mlrails.bench.ray_executor import RayExecutor
from mlrails.errors import MlrailsError

TIMES = {"wall_s", "peak_mb"}


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    """A local instance started once for the module (the executor's own quiet settings)."""
    import ray

    ex = RayExecutor(2)
    mine = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED")
    before = {k: os.environ.get(k) for k in mine}
    ex.start()
    assert ray.is_initialized()
    try:
        yield ex
    finally:
        ex.stop()
    assert not ray.is_initialized()
    assert {k: os.environ.get(k) for k in mine} == before  # the auth token etc. are put back


@pytest.fixture(scope="module")
def artifact(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ray") / "rails"
    cancer_rails.save(path)
    return path


@pytest.mark.slow
def test_ray_gives_the_local_records_in_grid_order(
    ray_executor: RayExecutor, artifact: Path, cancer: Any
) -> None:
    cfg = GridConfig(
        artifact=artifact,
        data={"bundled": "breast_cancer"},
        perturbations=[
            {"name": "gaussian_noise", "severities": [1, 5]},
            {"name": "category_swap", "severities": [1]},  # fails: no categorical column
        ],
        seeds=[0, 1],
        n_resamples=200,
    )
    args = (cfg, cancer.X_test, cancer.y_test, cancer.X_train)
    local = run_grid(*args, executor=LocalExecutor(1))
    seen: list[str] = []
    remote = run_grid(*args, progress=lambda r: seen.append(r.key), executor=ray_executor)
    assert [r.key for r in remote] == seen == [c.key for c in cfg.cells()]
    assert len(remote) == 7
    for a, b in zip(local, remote, strict=True):
        assert a.model_dump(exclude=TIMES) == b.model_dump(exclude=TIMES)
    failed = [r for r in remote if r.error]
    assert [r.name for r in failed] == ["category_swap", "category_swap"]
    assert failed[0].error is not None and failed[0].error.startswith("PerturbationError")
    assert all(r.error is None and r.n == len(cancer.y_test) for r in remote[:5])


@dataclass(frozen=True)
class _Crash(PairSource):
    """A pair whose loading kills the worker process, as a segfault or the OOM killer would."""

    def load(self) -> Any:
        os._exit(1)


@pytest.mark.slow
@pytest.mark.usefixtures("ray_executor")
def test_a_lost_worker_costs_only_its_cells(artifact: Path, cancer: Any) -> None:
    import ray

    # the actors cannot import this test module: send _Crash by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # type: ignore[no-untyped-call]
    job = GridJob(
        {"model": PairSource(str(artifact)), "crash": _Crash(str(artifact))},
        cancer.X_test,
        cancer.y_test,
        cancer.X_train,
        n_resamples=200,
    )
    cells = [
        CellSpec("none", 1, 0, pair="model"),
        CellSpec("none", 1, 0, pair="crash"),
        CellSpec("gaussian_noise", 1, 0, pair="model"),
        CellSpec("gaussian_noise", 5, 1, pair="model"),
    ]
    # one cell in flight per actor: the crash takes no healthy cell with it
    got = list(RayExecutor(2, in_flight=1).run(job, cells))
    assert [r.key for r in got] == [c.key for c in cells]
    lost = got[1]
    assert lost.error is not None and lost.error.startswith("worker lost: ")
    assert (lost.n, lost.metrics, lost.correct) == (0, {}, None)
    healthy = [got[0], *got[2:]]
    local = list(LocalExecutor(1).run(job, [cells[0], *cells[2:]]))
    for a, b in zip(local, healthy, strict=True):
        assert b.error is None
        assert a.model_dump(exclude=TIMES) == b.model_dump(exclude=TIMES)


@pytest.mark.slow
def test_a_worker_error_stops_the_grid_as_locally(
    ray_executor: RayExecutor, tmp_path: Path, cancer: Any
) -> None:
    from mlrails.errors import ArtifactError

    job = GridJob({"model": PairSource(str(tmp_path / "missing"))}, cancer.X_test, cancer.y_test)
    cells = [CellSpec("none", 1, 0, pair="model")]
    with pytest.raises(ArtifactError) as local:
        list(LocalExecutor(1).run(job, cells))
    with pytest.raises(ArtifactError) as remote:
        list(ray_executor.run(job, cells))
    assert str(remote.value) == str(local.value)


def test_get_executor_and_a_missing_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = get_executor("ray", 3, address="auto")
    assert isinstance(ex, RayExecutor) and (ex.name, ex.workers, ex.address) == ("ray", 3, "auto")
    with pytest.raises(MlrailsError, match="at least 1"):
        RayExecutor(0)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(
        MlrailsError, match=r"needs the \[ray\] extra: pip install 'mlrails\[ray\]'"
    ):
        RayExecutor(2).start()
