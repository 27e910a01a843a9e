"""The wire: TCP_NODELAY on every connection, header and keep-alive timeouts, the
connection limit (issue 12, items 3 and 6), against a real uvicorn on loopback."""

from __future__ import annotations

import http.client
import json
import pickle
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from clikit import cli
from servekit import Fitted, Served, ServerFactory

from mlrails.serve.connection import HardenedH11Protocol
from mlrails.serve.launch import ServeSpec, worker_config
from mlrails.serve.settings import ServeSettings


def _addr(s: Served) -> tuple[str, int]:
    parts = urlsplit(s.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


@contextmanager
def _conn(s: Served) -> Iterator[socket.socket]:
    sock = socket.create_connection(_addr(s), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def _closed_after(sock: socket.socket, limit_s: float = 10.0) -> float:
    """Seconds until the server closes ``sock`` (reads and drops anything it sends)."""
    start = time.monotonic()
    sock.settimeout(limit_s)
    while sock.recv(65536):
        pass
    return time.monotonic() - start


def _get(sock: socket.socket, path: str = "/healthz") -> bytes:
    """Send one keep-alive GET and return the response head (status line and headers)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_every_accepted_connection_has_tcp_nodelay(make_server: ServerFactory) -> None:
    s = make_server(auth=False)
    with _conn(s) as sock:
        assert _get(sock).startswith(b"HTTP/1.1 200")
        connections = list(s.server.server.server_state.connections)
        assert connections, "the server holds no connection"
        for protocol in connections:
            accepted = protocol.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_listening_socket_is_a_tcp_socket() -> None:
    from mlrails.serve.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_worker_processes_get_the_hardened_protocol_and_limits(tmp_path: object) -> None:
    settings = ServeSettings(header_timeout_s=1.5, keep_alive_s=3, max_connections=7)
    spec = ServeSpec(artifact="a", store="s.db", settings=settings, workers=2)  # type: ignore[arg-type]
    config = pickle.loads(pickle.dumps(worker_config(spec)))  # as uvicorn hands it to a worker
    assert config.http is HardenedH11Protocol
    assert config.header_timeout_s == 1.5
    assert config.timeout_keep_alive == 3
    assert config.limit_concurrency == 7


def test_sequential_keep_alive_requests_do_not_stall(make_server: ServerFactory) -> None:
    """No delayed-ACK stall (~40 ms) on a kept-alive connection, small or large answer."""
    s = make_server()
    host, port = _addr(s)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    auth = {"Authorization": f"Bearer {s.token}"}
    try:
        for path in ("/healthz", "/openapi.json"):
            took: list[float] = []
            for _ in range(40):
                start = time.perf_counter()
                conn.request("GET", path, headers=auth)
                response = conn.getresponse()
                body = response.read()
                took.append(time.perf_counter() - start)
                assert response.status == 200, (path, body[:200])
            median_ms = statistics.median(took[5:]) * 1000
            assert median_ms < 25, f"{path}: median {median_ms:.1f} ms"
    finally:
        conn.close()


def test_connections_that_never_finish_their_headers_are_closed(
    make_server: ServerFactory,
) -> None:
    s = make_server(auth=False, header_timeout_s=0.5, keep_alive_s=30)
    with _conn(s) as silent, _conn(s) as partial_line, _conn(s) as partial_headers:
        partial_line.sendall(b"GET /healthz HTT")
        partial_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n")
        for sock in (silent, partial_line, partial_headers):
            assert _closed_after(sock) < 5
        with _conn(s) as fine:
            assert _get(fine).startswith(b"HTTP/1.1 200")


def test_a_slowloris_is_cut_by_the_total_header_deadline(make_server: ServerFactory) -> None:
    s = make_server(auth=False, header_timeout_s=0.5, keep_alive_s=30)
    with _conn(s) as sock:
        assert _get(sock).startswith(b"HTTP/1.1 200")  # the deadline restarts per request
        start = time.monotonic()
        head = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"a" * 200
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)  # far below the deadline between two bytes
        except OSError:
            pass  # the server closed the connection
        sock.settimeout(5)
        with suppress(ConnectionResetError):
            assert sock.recv(65536) == b""
        assert time.monotonic() - start < 5


def test_an_idle_kept_alive_connection_is_closed(make_server: ServerFactory) -> None:
    s = make_server(auth=False, header_timeout_s=30, keep_alive_s=1)
    with _conn(s) as sock:
        assert _get(sock).startswith(b"HTTP/1.1 200")
        assert 0.5 < _closed_after(sock) < 5


def test_beyond_the_connection_limit_requests_get_503(make_server: ServerFactory) -> None:
    s = make_server(auth=False, header_timeout_s=30, max_connections=3)
    idle = [socket.create_connection(_addr(s), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.2)  # let the server accept them
        with _conn(s) as sock:
            assert _get(sock).startswith(b"HTTP/1.1 503")
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while True:
        with _conn(s) as sock:
            if _get(sock).startswith(b"HTTP/1.1 200"):
                break
        assert time.monotonic() < deadline, "still 503 after the idle connections closed"
        time.sleep(0.05)


def test_an_oversized_header_gets_400(make_server: ServerFactory) -> None:
    s = make_server(auth=False, max_header_bytes=2048)
    with _conn(s) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 4096)
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")  # h11 bounds an unfinished head


def test_serve_help_states_the_connection_limits() -> None:
    res = cli("serve", "--help")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    for option in ("--header-timeout", "--keep-alive", "--max-connections", "--max-header-bytes"):
        assert option in text


def test_serve_options_set_the_connection_limits(fitted: Fitted, tmp_path: Path) -> None:
    res = cli(
        "serve", fitted.artifact, "--store", tmp_path / "d.db", "--header-timeout", "2.5",
        "--keep-alive", "7", "--max-connections", "50", "--max-header-bytes", "4096",
        "--print-settings",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert (got["header_timeout_s"], got["keep_alive_s"]) == (2.5, 7)
    assert (got["max_connections"], got["max_header_bytes"]) == (50, 4096)
    bad = cli("serve", fitted.artifact, "--header-timeout", "0", "--print-settings")
    assert bad.returncode == 2 and "header_timeout_s" in bad.stderr
