"""The HTTP/1.1 protocol mlrails serves with: uvicorn's h11 protocol, hardened.

uvicorn leaves two things to chance. ``TCP_NODELAY`` is set by asyncio only on accepted
sockets whose protocol number is TCP, so a small write after a large one can wait for the
client's delayed ACK (~40 ms); here it is set on every accepted connection. And a
connection that never finishes its request headers stays open forever (uvicorn arms its
keep-alive timer only after a response); here a connection gets ``header_timeout_s`` in
total, from its first byte (or from the accept), to deliver a complete request head, and is
closed otherwise: a slowloris that trickles a byte a second is cut just the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

#: the default total time to receive a request's line and headers, in seconds
DEFAULT_HEADER_TIMEOUT_S = 10.0


class ServeConfig(uvicorn.Config):
    """uvicorn's config plus the header-read timeout (kept on the config so that it reaches
    worker processes, which receive the config pickled)."""

    def __init__(
        self, app: Any, *, header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S, **kwargs: Any
    ) -> None:
        super().__init__(app, http=HardenedH11Protocol, **kwargs)
        self.header_timeout_s = header_timeout_s


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Disable Nagle's algorithm on the TCP socket under ``transport`` (no-op otherwise)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer may already be gone
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HardenedH11Protocol(H11Protocol):
    """h11 with TCP_NODELAY on every connection and a total header-read deadline."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout_s = float(getattr(config, "header_timeout_s", DEFAULT_HEADER_TIMEOUT_S))
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        set_nodelay(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._waiting_for_head():
            self._arm_header_timer()  # the first byte of a new request on a kept-alive connection
        super().data_received(data)
        if not self._waiting_for_head():
            self._cancel_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._waiting_for_head():
            self.transport.close()
