"""Start ``mlrails serve``: load the rails and the store, bind, run one or several workers.

Everything that can fail is tried before anything is served: the artifact and its model (or
the upstream model in proxy mode), the store, the listening socket. With ``workers > 1`` the
parent binds the socket and checks all that once, then uvicorn's supervisor starts
``workers`` processes that each load the rails and open the store again (they share the
listening socket and the decision log; SQLite serialises their commits, PostgreSQL takes
them in parallel) and restarts a worker that dies. Rate limits are per worker.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlrails.artifact.io import load_artifact
from mlrails.artifact.manifest import read_manifest
from mlrails.errors import MlrailsError
from mlrails.guard.rails import Rails
from mlrails.models import load_model
from mlrails.models.remote import RemoteModel
from mlrails.serve.settings import ServeSettings
from mlrails.store import open_store

#: the environment variable carrying the :class:`ServeSpec` to worker processes
SPEC_ENV = "MLRAILS_SERVE_SPEC"


class ServeSpec(BaseModel):
    """What ``mlrails serve`` serves and how: enough for a worker process to rebuild the app."""

    model_config = ConfigDict(extra="forbid")

    artifact: Path
    store: str
    settings: ServeSettings = Field(default_factory=ServeSettings)  # type: ignore[arg-type]
    model_file: Path | None = None
    trust: bool = False
    #: Ed25519 public key PEM the artifact must be signed with (``--require-signature``)
    require_signature: Path | None = None
    upstream: str | None = None
    upstream_protocol: Literal["oip", "json"] = "oip"
    upstream_model: str | None = None
    upstream_output: str | None = None
    upstream_timeout_s: float = Field(5.0, gt=0)
    workers: int = Field(1, ge=1, le=64)


def load_rails(spec: ServeSpec) -> Rails:
    """The rails around the local model (bundled or ``model_file``) or the upstream one;
    raises :class:`MlrailsError` with a one-line message."""
    if spec.upstream is not None and spec.model_file is not None:
        raise MlrailsError(
            "--upstream and --model are mutually exclusive: the model is either remote or local"
        )
    model: Any = None
    if spec.upstream is not None:
        try:
            model = remote_model_for(
                spec.artifact,
                spec.upstream,
                protocol=spec.upstream_protocol,
                model_name=spec.upstream_model,
                timeout=spec.upstream_timeout_s,
                output=spec.upstream_output,
            )
        except ValueError as exc:  # a bad URL or timeout
            raise MlrailsError(f"--upstream: {exc}") from None
    elif spec.model_file is not None:
        model = load_model(spec.model_file, trust=spec.trust)
    return load_artifact(
        spec.artifact, model=model, trust=spec.trust, public_key=spec.require_signature
    )


def remote_model_for(artifact: str | Path, url: str, **kwargs: Any) -> RemoteModel:
    """A remote model at ``url`` with the task and classes of the rails artifact at
    ``artifact`` (the proxy's hook: the upstream need not say them).

    ``kwargs`` go to :class:`RemoteModel`. Raises :class:`~mlrails.errors.ArtifactError` when
    ``artifact`` is not an artifact.
    """
    _, manifest = read_manifest(Path(artifact))
    task = str(manifest.get("task"))
    return RemoteModel(url, task=task, classes=manifest.get("classes"), **kwargs)


def build_app(spec: ServeSpec) -> Any:
    """The app of one worker: rails and store loaded, the store closed when the app stops."""
    from mlrails.serve.app import create_app

    rails = load_rails(spec)
    store = open_store(spec.store, create=True)
    return create_app(rails, store, spec.settings, owns_store=True)


def app_from_env() -> Any:
    """uvicorn's app factory in a worker process (``--workers N``)."""
    raw = os.environ.get(SPEC_ENV)
    if raw is None:
        raise MlrailsError(f"{SPEC_ENV} is not set: this factory runs in mlrails serve workers")
    return build_app(ServeSpec.model_validate_json(raw))


def worker_config(spec: ServeSpec) -> Any:
    """uvicorn's config for ``spec.workers`` processes (pickled to each of them): the app
    factory, the hardened protocol and the connection limits of ``spec.settings``."""
    from mlrails.serve.connection import ServeConfig
    from mlrails.serve.server import uvicorn_options

    return ServeConfig(
        "mlrails.serve.launch:app_from_env",
        factory=True,
        workers=spec.workers,
        log_level=spec.settings.log_level,
        **uvicorn_options(spec.settings),
    )


def run_workers(spec: ServeSpec, sock: Any) -> None:
    """Serve on the bound ``sock`` with ``spec.workers`` processes until SIGINT/SIGTERM."""
    from uvicorn.supervisors import Multiprocess

    os.environ[SPEC_ENV] = spec.model_dump_json()
    Multiprocess(worker_config(spec), sockets=[sock]).run()
