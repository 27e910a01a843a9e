"""The web UI at ``/ui``: live status-code mix, recent non-200 decisions with their problem
documents and evidence, the safeguard thresholds; the mismatch descriptors (viewer and editor)
and their mismatch check. Server-rendered (Jinja2, autoescaped), no front-end build step; see
:mod:`mlrails.serve.ui.routes` for the routes and the sign-in, and
:mod:`mlrails.serve.ui.descriptor_routes` for the descriptor pages."""

from mlrails.serve.ui.routes import install_ui

__all__ = ["install_ui"]
