"""Run the cells of a benchmark grid on Ray: a quiet local instance or an existing cluster.

The job (pairs, test set, tolerances) goes into the object store once; each of ``workers``
actors holds a :class:`~mlrails.bench.executors.Worker`, so it loads each pair's rails once.
At most ``in_flight`` cells wait on an actor at a time, and the records come back in grid
order as soon as every earlier cell is done, so a progress bar advances while the grid runs.
Every cell is seeded by its own spec: the numbers are those of the local executors.

An actor that dies (killed, out of memory, a crash in native code) costs only the cells it
held: they are recorded as failed (``error="worker lost: …"``), a fresh actor takes its place
and the grid goes on. An exception raised by the worker itself (a pair whose rails cannot be
loaded) stops the grid with that exception, as it does on the local executors.

A local instance started here is kept quiet and self-contained: no dashboard, no worker logs
on the console, usage statistics off, a modest object store, workers at normal priority (as
the local executors' processes), temporary files in a fresh temporary directory removed
afterwards, and token authentication on with a random token held in memory (the ports of a
local Ray instance are reachable from the network, so it is not turned off; nothing is
written to ``~/.ray``). An instance this process already started is
used as it is; ``address`` connects to a running cluster, where ``mlrails`` must be installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from mlrails.bench.cell import CellSpec
from mlrails.bench.executors import GridJob, Worker
from mlrails.bench.record import CellRecord
from mlrails.errors import MlrailsError
from mlrails.guard.rails import Rails

#: object store of a local instance (bytes): the job is one test set, the records are small
OBJECT_STORE_BYTES = 200 * 2**20

_NEEDS_RAY = "the Ray executor needs the [ray] extra: pip install 'mlrails[ray]'"

# one token per process: Ray's token loader caches the first token it reads
_TOKEN = secrets.token_hex(32)
# what a local instance sets (Ray itself sets RAY_AUTH_MODE); put back after it stops
_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED")
# says, once per local instance, that token authentication is on
_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MlrailsError(_NEEDS_RAY) from None
    return ray


class _CellActor:
    """A Ray actor around one :class:`Worker`: loads each pair's rails once, runs cells."""

    def __init__(self, job: GridJob) -> None:
        self.worker = Worker(job)

    def run(self, spec: CellSpec) -> CellRecord:
        return self.worker(spec)


class RayExecutor:
    """Cells on ``workers`` Ray actors (one CPU each), records in grid order.

    ``address``: a running cluster (``"auto"``, ``"ray://host:10001"``, …); default: the
    instance this process already uses, else a local instance of ``workers`` CPUs started for
    the run and shut down after it. ``ray_init_options`` go to ``ray.init`` (they override
    the quiet defaults). Use it as a context manager to keep one instance over several runs.
    """

    name = "ray"

    def __init__(
        self,
        workers: int = 1,
        address: str | None = None,
        *,
        in_flight: int = 2,
        **ray_init_options: Any,
    ) -> None:
        if workers < 1:
            raise MlrailsError(f"workers must be at least 1, got {workers}")
        if in_flight < 1:
            raise MlrailsError(f"in_flight must be at least 1, got {in_flight}")
        self.workers = workers
        self.address = address
        self.in_flight = in_flight
        self.ray_init_options = ray_init_options
        self._started = False
        self._temp_dir: str | None = None
        self._saved_env: dict[str, str | None] = {}

    # -- the Ray instance -------------------------------------------------------------------

    def start(self) -> bool:
        """Connect to Ray, starting a local instance if none is running; ``True`` if this
        call started or connected one (then :meth:`stop` ends it)."""
        ray = _import_ray()
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {
            "address": self.address,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if self.address is None and not os.environ.get("RAY_ADDRESS"):  # a new local instance
            if "_temp_dir" not in self.ray_init_options:
                self._temp_dir = tempfile.mkdtemp(prefix="mlrails-ray-")
            options.update(
                include_dashboard=False,
                num_cpus=self.workers,
                object_store_memory=OBJECT_STORE_BYTES,
                _temp_dir=self._temp_dir,
                # Ray lowers its workers' priority (nice 15): here they are the work itself,
                # at the priority of the local executors' processes
                _system_config={"worker_niceness": 0},
            )
            self._saved_env = {k: os.environ.get(k) for k in _ENV}
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if not {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"} & set(os.environ):
                # Ray turns token authentication on for a new local instance (and says so);
                # a token in the environment keeps it off disk and reaches Ray's processes
                os.environ["RAY_AUTH_TOKEN"] = _TOKEN
        options.update(self.ray_init_options)
        auth_log = logging.getLogger(_AUTH_LOGGER)
        level = auth_log.level
        auth_log.setLevel(logging.ERROR)
        try:
            ray.init(**options)
        except BaseException:
            self._cleanup()
            raise
        finally:
            auth_log.setLevel(level)
        self._started = True
        return True

    def stop(self) -> None:
        """Shut down the instance :meth:`start` started or connected (else do nothing)."""
        if not self._started:
            return
        self._started = False
        try:
            _import_ray().shutdown()
        finally:
            self._cleanup()

    def __enter__(self) -> RayExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _cleanup(self) -> None:
        """Put back the environment as it was before :meth:`start`; remove the temp dir."""
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    # -- the grid ---------------------------------------------------------------------------

    def run(
        self,
        job: GridJob,
        cells: Sequence[CellSpec],
        rails: dict[str, Rails] | None = None,
    ) -> Iterator[CellRecord]:
        """Run ``cells`` and yield their records in the order given. ``rails`` (pairs loaded
        in this process) is not used: the actors load their own."""
        if not cells:
            return
        started = self.start()
        try:
            yield from self._run(job, cells)
        finally:
            if started:
                self.stop()

    def _run(self, job: GridJob, cells: Sequence[CellSpec]) -> Iterator[CellRecord]:
        ray = _import_ray()
        from ray.exceptions import RayError, RayTaskError

        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = max(1, min(self.workers, len(cells), cpus))
        actor_cls = ray.remote(num_cpus=1)(_CellActor)
        job_ref = ray.put(job)
        actors: list[Any] = [actor_cls.remote(job_ref) for _ in range(n)]
        load = [0] * n
        pending: dict[Any, tuple[int, int, Any]] = {}  # ref -> (cell index, slot, actor)
        done: dict[int, CellRecord] = {}
        todo = iter(range(len(cells)))
        following = 0
        exhausted = False
        try:
            while following < len(cells):
                while not exhausted:
                    slot = min(range(n), key=load.__getitem__)
                    if load[slot] >= self.in_flight:
                        break
                    i = next(todo, None)
                    if i is None:
                        exhausted = True
                        break
                    ref = actors[slot].run.remote(cells[i])
                    pending[ref] = (i, slot, actors[slot])
                    load[slot] += 1
                if pending:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    ref = ready[0]
                    i, slot, actor = pending.pop(ref)
                    load[slot] -= 1
                    try:
                        done[i] = ray.get(ref)
                    except RayTaskError as exc:  # the worker raised: as on a local executor
                        cause = exc.cause
                        if isinstance(cause, Exception) and not isinstance(cause, RayError):
                            raise cause from None
                        raise
                    except RayError as exc:  # the actor died: its cells fail, a new one runs
                        done[i] = _lost(cells[i], exc)
                        if actors[slot] is actor:
                            ray.kill(actor, no_restart=True)
                            actors[slot] = actor_cls.remote(job_ref)
                while following in done:
                    yield done.pop(following)
                    following += 1
        finally:
            for actor in actors:
                with contextlib.suppress(Exception):  # never hide the error that got us here
                    ray.kill(actor, no_restart=True)


def _lost(spec: CellSpec, exc: BaseException) -> CellRecord:
    """The record of a cell whose worker died before it answered."""
    text = str(exc).strip()
    msg = (text.splitlines() or [type(exc).__name__])[0]
    where = re.search(r"\bpid: (\d+).*?\bip: (\S+)", text, re.S)
    detail = re.search(r"Worker exit detail: (.*?\.)(?:\s|$)", text, re.S)
    if where or detail:
        on = f"pid {where[1]} on {where[2]}" if where else ""
        msg += f" ({on}{': ' if on and detail else ''}{detail[1] if detail else ''})"
    return CellRecord(
        pair=spec.pair,
        kind=spec.kind,
        name=spec.name,
        severity=spec.severity,
        seed=spec.seed,
        repeat=spec.repeat,
        params=dict(spec.params),
        error=f"worker lost: {msg}"[:300],
    )
