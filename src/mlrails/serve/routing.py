"""The app's routes as one flat list, those of included routers too.

FastAPI >= 0.137 keeps an included router as one entry of ``app.routes``; its public
:func:`fastapi.routing.iter_route_contexts` yields each route it serves (with the include
prefix applied). Older FastAPI copies the included routes into ``app.routes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def flat_routes(routes: Iterable[Any]) -> list[Any]:
    """Every route of ``routes``, included routers expanded (each has ``path``, ``methods``
    and ``matches`` as a Starlette route has)."""
    routes = list(routes)
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are already in app.routes
        return routes
    return list(iter_route_contexts(routes))
