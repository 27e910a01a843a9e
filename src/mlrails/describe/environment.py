"""Development- and production-environment descriptors measured from the machine and the
serve configuration (languages, library versions, CPUs, GPUs, memory, storage, limits)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mlrails.descriptors.common import ComputingResources, InferenceTime
from mlrails.descriptors.development_environment import DevelopmentEnvironment
from mlrails.descriptors.production_environment import (
    LogImplementation,
    MetricImplementation,
    ProductionEnvironment,
)
from mlrails.measure import machine, package_versions

if TYPE_CHECKING:
    from mlrails.serve.settings import ServeSettings

_NOT_FRAMEWORKS = ("mlrails", "numpy", "pandas", "scipy", "skops", "ray", "shap")


def gpu_count() -> int:
    """GPUs visible to PyTorch (``torch.cuda.device_count()``); 0 without torch or CUDA."""
    if importlib.util.find_spec("torch") is None:
        return 0
    try:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # a broken CUDA install: no usable GPU
        return 0


def computing_resources(path: str | Path = ".") -> ComputingResources:
    """CPUs, GPUs, memory (GiB) of this machine and free storage (GiB) where ``path`` is."""
    host = machine()
    try:
        free = shutil.disk_usage(path).free / 2**30
    except OSError:
        free = 0.0
    return ComputingResources(
        gpu=gpu_count(),
        cpu=host.cpu_count,
        memory=float(host.memory_gb or 0.0),
        storage=round(free, 1),
    )


def describe_development_environment(path: str | Path = ".") -> DevelopmentEnvironment:
    """The Development Environment descriptor of this machine: Python version, the installed
    ML libraries (with versions) and the computing resources available.

    Upstream/downstream components and milestones are the team's to add.
    """
    host = machine()
    versions = package_versions()
    frameworks = [f"{k} {v}" for k, v in versions.items() if k not in _NOT_FRAMEWORKS]
    return DevelopmentEnvironment(
        programming_languages=[f"Python {host.python}"],
        ml_frameworks=frameworks or [f"{k} {v}" for k, v in versions.items()],
        upstream_components=[],
        downstream_components=[],
        milestones=[],
        computing_resources=computing_resources(path),
        documentation=[],
    )


def describe_production_environment(
    settings: ServeSettings | None = None,
    *,
    store: str | None = None,
    path: str | Path = ".",
) -> ProductionEnvironment:
    """The Production Environment descriptor of ``mlrails serve`` with ``settings`` (default
    settings when ``None``) on this machine.

    The required inference time is the guard call's time limit (``model_timeout_s``: 504
    beyond); the metrics and logs are those ``mlrails serve`` exports (``/metrics``) and
    writes (the decision log ``store``).
    """
    from mlrails.serve.settings import ServeSettings

    s = settings if settings is not None else ServeSettings()
    host = machine()
    log = store if store is not None else "the --store database"
    return ProductionEnvironment(
        required_inference_time=InferenceTime(
            time=round(s.model_timeout_s * 1000), unit="Milliseconds"
        ),
        computing_resources=computing_resources(path),
        deployment_platform=f"local server ({host.platform}, {host.cpu})",
        deployment_mechanism=(
            f"HTTP API on {s.host}:{s.port}: POST /v1/predict and Open Inference Protocol "
            f"/v2/models/{s.model_name}/infer (auth {'on' if s.auth else 'off'}, "
            f"{s.max_batch_rows} rows per request at most)"
        ),
        algorithm_metrics=[
            MetricImplementation(
                metric="verdicts per status and outcome",
                implementation="Prometheus counter mlrails_verdicts at /metrics",
            ),
            MetricImplementation(
                metric="prediction confidence",
                implementation="Prometheus histogram mlrails_confidence at /metrics",
            ),
            MetricImplementation(
                metric="safeguard triggers and scores",
                implementation="Prometheus mlrails_safeguard_triggers and "
                "mlrails_safeguard_score_ratio at /metrics",
            ),
        ],
        business_metrics=[],
        other_metrics=[
            MetricImplementation(
                metric="request latency",
                implementation="Prometheus histogram mlrails_http_request_duration_seconds",
            ),
            MetricImplementation(
                metric="requests per route and status",
                implementation="Prometheus counter mlrails_http_requests",
            ),
            MetricImplementation(
                metric="decision-log commits and losses",
                implementation="Prometheus mlrails_log_commit_seconds, "
                "mlrails_log_records_lost, mlrails_store_failures",
            ),
        ],
        user_system_feedback=[],
        model_logs=[
            LogImplementation(
                log="every input row, its verdict and each safeguard's score",
                implementation=f"decision log in {log} ({s.log_mode} commits); mlrails log export",
            )
        ],
        other_logs=[
            LogImplementation(log="access log", implementation=f"uvicorn, level {s.log_level}")
        ],
        documentation=[],
    )
