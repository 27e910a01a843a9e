"""Settings of the HTTP service: network, authentication and the limits that protect it."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ServeSettings(BaseModel):
    """How ``mlrails serve`` listens and what it accepts.

    Limits exist so that no caller can exhaust the service: bodies over ``max_body_bytes``
    and batches over ``max_batch_rows`` get 413, a key over its rate gets 429, a guard call
    over ``model_timeout_s`` gets 504. ``auth=False`` is for local use only. On the wire, a
    connection has ``header_timeout_s`` in total to send a request's head, an idle kept-alive
    connection is closed after ``keep_alive_s``, and a worker answers 503 to requests beyond
    ``max_connections`` open connections.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535, description="0 picks a free port")
    auth: bool = Field(True, description="require an API key (Authorization: Bearer TOKEN)")
    max_body_bytes: int = Field(1 << 20, ge=1, description="largest request body accepted")
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="total time a connection has to send a request's line and headers "
        "(then it is closed: no slowloris)",
    )
    keep_alive_s: int = Field(
        5, ge=1, le=3600, description="an idle kept-alive connection is closed after this"
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="open connections per worker; requests beyond get 503 (uvicorn's "
        "limit_concurrency)",
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="largest request line plus headers (400 beyond)"
    )
    max_batch_rows: int = Field(
        10_000, ge=1, description="most rows (or feedback labels) in one request"
    )
    rate_limit_rps: float | None = Field(
        100.0, gt=0, description="sustained requests per second per key (None: no limit)"
    )
    rate_limit_burst: int = Field(200, ge=1, description="requests a key may send at once")
    model_timeout_s: float = Field(10.0, gt=0, description="time limit of one guard call")
    max_concurrent_checks: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="guard calls running at once in worker threads",
    )
    batch_max_rows: int = Field(
        64, ge=1, description="most rows of concurrent requests checked in one guard call"
    )
    batch_max_wait_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="how long a batch may wait for more rows while requests are arriving "
        "(a lone request never waits)",
    )
    log_mode: Literal["sync", "async"] = Field(
        "sync",
        description="sync: answer only after the decision is committed; async: answer at "
        "once, commit soon after (a crash loses at most log_max_pending records)",
    )
    log_max_pending: int = Field(
        10_000, ge=1, description="async log: most records waiting for their commit"
    )
    retry_after_s: int = Field(1, ge=1, description="Retry-After sent with 503")
    cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed by CORS (none: CORS off)"
    )
    ui: bool = Field(True, description="serve the web UI at /ui (same auth as the API)")
    docs: bool = Field(
        False,
        description="serve a script-free HTML reference of the OpenAPI document at /docs "
        "(public, like /openapi.json; off: /docs is 404)",
    )
    model_name: str = Field(
        "mlrails",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="the model's name in the Open Inference Protocol paths (/v2/models/NAME)",
    )
    log_level: str = "info"
    descriptors_dir: str | None = Field(
        None,
        description="directory of the system's mismatch descriptors (JSON, v1.2), shown and "
        "edited in the web UI at /ui/descriptors and checked at /ui/mismatch",
    )
    drift_every_s: float | None = Field(
        300.0,
        gt=0,
        description="seconds between two drift checks of the logged traffic against the "
        "artifact's reference profile (None: no periodic check)",
    )
    drift_window_s: float = Field(
        3600.0, gt=0, description="how far back each drift check looks, in seconds"
    )
    drift_alpha: float = Field(
        0.05, gt=0, lt=1, description="Benjamini-Hochberg level of the drift check across fields"
    )
    drift_webhook: str | None = Field(
        None,
        pattern=r"^https?://",
        description="URL that receives a JSON POST with the findings when a drift check alarms",
    )
