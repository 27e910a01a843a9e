"""Serve the guard over HTTP: FastAPI app, decision logging, API keys, metrics.

Needs the ``serve`` extra (FastAPI, uvicorn, SQLAlchemy, prometheus-client); the rest of
mlrails imports without it. Entry points: :func:`create_app` (an ASGI app around fitted
rails and an open store), :class:`Service` (what that app holds), :class:`ServeSettings`,
:class:`KeyRing`, :class:`ServerThread`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlrails.serve.app import create_app
    from mlrails.serve.keys import IssuedKey, KeyRing
    from mlrails.serve.server import ServerThread, run_server
    from mlrails.serve.service import Service
    from mlrails.serve.settings import ServeSettings

_LAZY = {
    "create_app": "mlrails.serve.app",
    "IssuedKey": "mlrails.serve.keys",
    "KeyRing": "mlrails.serve.keys",
    "ServerThread": "mlrails.serve.server",
    "run_server": "mlrails.serve.server",
    "Service": "mlrails.serve.service",
    "ServeSettings": "mlrails.serve.settings",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlrails.serve' has no attribute {name!r}")


__all__ = [
    "IssuedKey",
    "KeyRing",
    "ServeSettings",
    "ServerThread",
    "Service",
    "create_app",
    "run_server",
]
