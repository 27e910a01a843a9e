"""``mlrails serve``: the guard over HTTP, and ``mlrails keys``: the API keys it accepts.

The server's modules are imported inside the commands: they need the serve extra, and the
other commands start without them.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mlrails.cli.console import console, err_console, fail, open_store, pydantic_message
from mlrails.cli.options import DEFAULT_STORE, StoreOption, parse_window
from mlrails.errors import MlrailsError


class Switch(StrEnum):
    """An on/off command-line choice."""

    on = "on"
    off = "off"


class LogModeOption(StrEnum):
    """When ``mlrails serve`` answers relative to committing the decision."""

    sync = "sync"
    async_ = "async"


class UpstreamProtocol(StrEnum):
    """How ``mlrails serve --upstream`` talks to the model served elsewhere."""

    oip = "oip"
    json = "json"


keys_app = typer.Typer(
    help="Manage the API keys of `mlrails serve` (tokens are shown once, stored hashed).",
    no_args_is_help=True,
)


def serve(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="Model file, when the artifact does not bundle one."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    store: StoreOption = DEFAULT_STORE,
    auth: Annotated[
        Switch, typer.Option(help="Require API keys ('off' only for local use).")
    ] = Switch.on,
    rate_limit: Annotated[
        float, typer.Option(help="Requests per second per key (0: no limit).")
    ] = 100.0,
    model_timeout: Annotated[
        float, typer.Option(help="Time limit of one guard call in seconds (504 beyond).")
    ] = 10.0,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 beyond).")] = (
        1 << 20
    ),
    max_batch_rows: Annotated[
        int, typer.Option(help="Most rows (or feedback labels) per request (413 beyond).")
    ] = 10_000,
    header_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a connection has, in total, to send a request's line and headers; "
            "then it is closed (slow or stalled clients cannot hold connections)."
        ),
    ] = 10.0,
    keep_alive: Annotated[
        int, typer.Option(help="Seconds after which an idle kept-alive connection is closed.")
    ] = 5,
    max_connections: Annotated[
        int,
        typer.Option(
            help="Open connections per worker; requests beyond get 503 with a plain-text body."
        ),
    ] = 1000,
    max_header_bytes: Annotated[
        int, typer.Option(help="Largest request line plus headers (plain-text 400 beyond).")
    ] = 16 * 1024,
    ui: Annotated[
        Switch, typer.Option(help="Web UI at /ui (sign-in with an API key when auth is on).")
    ] = Switch.on,
    docs: Annotated[
        bool,
        typer.Option(
            "--docs",
            help="Serve an HTML reference of the OpenAPI document at /docs (no script, strict "
            "Content-Security-Policy; public like /openapi.json). Off: /docs is 404.",
        ),
    ] = False,
    model_name: Annotated[
        str, typer.Option(help="Model name in the Open Inference Protocol paths /v2/models/NAME.")
    ] = "mlrails",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    trust: Annotated[bool, typer.Option("--trust", help="See `mlrails fit --help`.")] = False,
    require_signature: Annotated[
        Path | None,
        typer.Option(
            "--require-signature",
            help="Ed25519 public key PEM: refuse to start unless the artifact is signed by "
            "its private key.",
        ),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(help="Proxy mode: guard the model served at this http(s) URL (no --model)."),
    ] = None,
    upstream_protocol: Annotated[
        UpstreamProtocol, typer.Option(help="oip (Open Inference Protocol v2) or json.")
    ] = UpstreamProtocol.oip,
    upstream_model: Annotated[
        str | None,
        typer.Option(help="OIP model name (default: the URL's last path segment, or 'model')."),
    ] = None,
    upstream_timeout: Annotated[
        float, typer.Option(help="Time limit of each upstream call phase in seconds (504).")
    ] = 5.0,
    upstream_output: Annotated[
        str | None,
        typer.Option(
            help="OIP output tensor to request and read (default: predict_proba for a "
            "classifier, predict for a regressor, as MLServer names them)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes sharing the port and the decision log (rate limits are "
            "per worker)."
        ),
    ] = 1,
    batch_max_rows: Annotated[
        int,
        typer.Option(help="Micro-batching: most rows of concurrent requests per guard call."),
    ] = 64,
    batch_max_wait_ms: Annotated[
        float,
        typer.Option(
            help="Micro-batching: how long a batch may wait for requests already arriving "
            "(a lone request never waits; 0: never wait)."
        ),
    ] = 2.0,
    log_mode: Annotated[
        LogModeOption,
        typer.Option(
            help="sync: answer only once the decision is committed (nothing answered is ever "
            "lost); async: answer first, commit within milliseconds (a crash loses at most "
            "--log-max-pending records)."
        ),
    ] = LogModeOption.sync,
    log_max_pending: Annotated[
        int, typer.Option(help="async log: most records waiting for their commit.")
    ] = 10_000,
    drift_every: Annotated[
        str,
        typer.Option(
            help="How often the service compares logged traffic with the artifact's reference "
            "profile (gauges on /metrics, page /ui/drift); 'off' for never."
        ),
    ] = "5m",
    drift_window: Annotated[
        str, typer.Option(help="How far back each drift check looks (30m, 1h, 1d).")
    ] = "1h",
    drift_webhook: Annotated[
        str | None,
        typer.Option(help="http(s) URL that gets a JSON POST with the findings on a drift alarm."),
    ] = None,
    descriptors: Annotated[
        Path | None,
        typer.Option(
            help="Directory of mismatch descriptors (v1.2 JSON) to view, edit and check in the "
            "web UI (/ui/descriptors, /ui/mismatch)."
        ),
    ] = None,
    print_settings: Annotated[
        bool,
        typer.Option(
            "--print-settings",
            help="Print the settings these options give as JSON and exit (evidence for "
            "`mlrails score --serve-settings`).",
        ),
    ] = False,
) -> None:
    """Serve the guard over HTTP: POST /v1/predict, GET /v1/contract, /metrics, /ui ...

    Every decision is committed to the decision log (--store: a SQLite file or a
    postgresql:// URL) before it is answered. Concurrent requests are checked together in
    micro-batches, so a guarded server outruns one that calls the model once per request.

    Examples:

      mlrails keys create --name app --store decisions.db
      mlrails serve rails/ --store decisions.db --port 8000
      mlrails serve rails/ --store postgresql://mlrails:pw@db/mlrails --workers 4
      mlrails serve rails/ --upstream http://models:8080 --upstream-model cancer
      mlrails serve rails/ --descriptors desc/ --drift-webhook https://hooks.example/x

    Every --drift-every the service compares the last --drift-window of its log with the
    reference kept in the artifact: GET /v1/drift, gauges mlrails_drift_* on /metrics, page
    /ui/drift, and a webhook POST when an alarm starts, changes or clears.
    """
    try:
        from mlrails.serve.launch import ServeSpec, load_rails, run_workers
        from mlrails.serve.server import bind_socket, run_server
        from mlrails.serve.settings import ServeSettings
    except ModuleNotFoundError as exc:
        fail(f"mlrails serve needs the serve extra: pip install 'mlrails[serve]' ({exc.name})")
    try:
        settings = ServeSettings(
            host=host,
            port=port,
            auth=auth is Switch.on,
            rate_limit_rps=rate_limit if rate_limit > 0 else None,
            model_timeout_s=model_timeout,
            max_body_bytes=max_body_bytes,
            max_batch_rows=max_batch_rows,
            header_timeout_s=header_timeout,
            keep_alive_s=keep_alive,
            max_connections=max_connections,
            max_header_bytes=max_header_bytes,
            ui=ui is Switch.on,
            docs=docs,
            model_name=model_name,
            log_level=log_level,
            batch_max_rows=batch_max_rows,
            batch_max_wait_ms=batch_max_wait_ms,
            log_mode=log_mode.value,
            log_max_pending=log_max_pending,
            drift_every_s=None
            if drift_every == "off"
            else parse_window(drift_every, "--drift-every").total_seconds(),
            drift_window_s=parse_window(drift_window, "--drift-window").total_seconds(),
            drift_webhook=drift_webhook,
            descriptors_dir=None if descriptors is None else str(descriptors),
        )
        spec = ServeSpec(
            artifact=artifact,
            store=store,
            settings=settings,
            model_file=model_file,
            trust=trust,
            require_signature=require_signature,
            upstream=upstream,
            upstream_protocol=upstream_protocol.value,
            upstream_model=upstream_model,
            upstream_timeout_s=upstream_timeout,
            upstream_output=upstream_output,
            workers=workers,
        )
    except ValueError as exc:
        fail(f"invalid option: {pydantic_message(exc)}")
    except MlrailsError as exc:
        fail(str(exc))
    if print_settings:
        typer.echo(settings.model_dump_json(indent=2))
        raise typer.Exit(0)
    if descriptors is not None and not descriptors.is_dir():
        fail(f"--descriptors {descriptors}: not a directory")
    try:
        rails = load_rails(spec)
    except MlrailsError as exc:
        fail(str(exc))
    log_store = open_store(store, create=True)
    from mlrails.store import display_url  # the URL without its password

    shown = display_url(store)
    try:
        sock = bind_socket(host, port)
        if settings.auth and not any(k.active for k in log_store.list_keys()):
            err_console.print(
                "[yellow]warning:[/] no active API key in the store: every request will get "
                f"401; create one with `mlrails keys create --name NAME --store {shown}`",
                highlight=False,
            )
        bound = int(sock.getsockname()[1])
        mode = f"{workers} workers, " if workers > 1 else ""
        err_console.print(
            f"serving artifact {rails.artifact_hash[:16]} on http://{host}:{bound} "
            f"({mode}auth {auth.value}, decision log {shown}, log {log_mode.value})",
            highlight=False,
        )
        if workers > 1:
            log_store.close()  # each worker loads the rails and opens the store itself
            del rails
            run_workers(spec, sock)
        else:
            from mlrails.serve.app import create_app

            app_ = create_app(rails, log_store, settings)
            run_server(app_, host, port, log_level=log_level, sock=sock, settings=settings)
    except MlrailsError as exc:
        fail(str(exc))
    finally:
        log_store.close()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the key is for.")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Create an API key and print its token (shown once; only its hash is stored)."""
    from mlrails.serve.keys import KeyRing

    with open_store(store, create=True) as s:
        try:
            issued = KeyRing(s).create(name)
        except MlrailsError as exc:
            fail(str(exc))
    err_console.print(
        f"API key {issued.record.id} ({issued.record.name}) created; the token below is "
        "shown only now:",
        highlight=False,
    )
    sys.stdout.write(issued.token + "\n")


@keys_app.command("list")
def keys_list(store: StoreOption = DEFAULT_STORE) -> None:
    """List API keys (id, name, created, revoked); never the tokens."""
    from mlrails.serve.keys import KeyRing

    with open_store(store) as s:
        try:
            records = KeyRing(s).list()
        except MlrailsError as exc:
            fail(str(exc))
    table = Table(title=f"{len(records)} API keys")
    for col in ("id", "name", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for r in records:
        revoked = "" if r.revoked_at is None else r.revoked_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(r.id, r.name, r.created_at.strftime("%Y-%m-%d %H:%M:%S"), revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `mlrails keys list`).")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Revoke an API key: requests with it get 401 from then on."""
    from mlrails.serve.keys import KeyRing

    with open_store(store) as s:
        try:
            record = KeyRing(s).revoke(key_id)
        except MlrailsError as exc:
            fail(str(exc))
    console.print(f"API key {record.id} ({record.name}) revoked", highlight=False)
