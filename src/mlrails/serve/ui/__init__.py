"""The web UI at ``/ui``: live status-code mix, recent non-200 decisions with their problem
documents and evidence, the safeguard thresholds. Server-rendered (Jinja2, autoescaped), no
front-end build step; see :mod:`mlrails.serve.ui.routes` for the routes and the sign-in."""

from mlrails.serve.ui.routes import install_ui

__all__ = ["install_ui"]
