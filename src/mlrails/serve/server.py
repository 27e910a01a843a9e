"""Run an app on uvicorn: in the foreground (``mlrails serve``) or in a background thread.

The listening socket is bound before uvicorn starts, so a busy port or a bad host fails fast
with a one-line :class:`ServeStartError`, and port 0 (any free port) reports the real port.
uvicorn's own shutdown is graceful: on SIGINT/SIGTERM it stops accepting connections and
lets in-flight requests finish (their records are committed before they are answered).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from mlrails.errors import MlrailsError
from mlrails.serve.connection import ServeConfig
from mlrails.serve.settings import ServeSettings


class ServeStartError(MlrailsError):
    """The server cannot start (address in use, unknown host, no permission)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeStartError(f"{host}: cannot resolve host ({exc.strerror})") from None
    family, _, proto, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServeStartError(f"{host}:{port}: cannot listen ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def uvicorn_options(settings: ServeSettings | None = None) -> dict[str, Any]:
    """uvicorn settings shared by every way of serving: no server header, lifespan on, up
    to 30 s for in-flight requests to finish on shutdown, and the connection limits of
    ``settings`` (header and keep-alive timeouts, open connections, header size)."""
    limits = settings if settings is not None else ServeSettings()
    return {
        "server_header": False,
        "date_header": True,
        "timeout_graceful_shutdown": 30,
        "lifespan": "on",
        "header_timeout_s": limits.header_timeout_s,
        "timeout_keep_alive": limits.keep_alive_s,
        "limit_concurrency": limits.max_connections,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }


def _config(app: Any, log_level: str, settings: ServeSettings | None) -> ServeConfig:
    return ServeConfig(app, log_level=log_level, **uvicorn_options(settings))


def run_server(
    app: Any,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    sock: socket.socket | None = None,
    settings: ServeSettings | None = None,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (blocking), on ``sock`` if already bound, with the
    connection limits of ``settings`` (defaults: :class:`ServeSettings`)."""
    import uvicorn

    sock = sock if sock is not None else bind_socket(host, port)
    try:
        uvicorn.Server(_config(app, log_level, settings)).run(sockets=[sock])
    finally:
        sock.close()


class ServerThread:
    """``app`` served by uvicorn in a daemon thread; ``url`` once :meth:`start` returns.
    The connection limits are those of ``settings`` (defaults: :class:`ServeSettings`)."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        settings: ServeSettings | None = None,
    ) -> None:
        import uvicorn

        self._sock = bind_socket(host, port)
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        self.server = uvicorn.Server(_config(app, log_level, settings))
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise ServeStartError("the server thread stopped during start-up")
            if time.monotonic() > deadline:
                raise ServeStartError(f"the server did not start within {timeout:g} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
