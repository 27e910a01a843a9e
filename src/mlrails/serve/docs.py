"""``--docs``: the OpenAPI document as a plain HTML reference at ``/docs``, with no script.

FastAPI's Swagger UI loads its script and style from a CDN, unpinned and without
Subresource Integrity, so the page runs whatever that CDN serves that day. This page is
rendered on the server from the same document as ``/openapi.json`` (autoescaped Jinja2),
loads only ``/docs/docs.css`` from the service itself, and is sent under a
Content-Security-Policy that allows nothing else (no script at all). It shows what the
public document shows: operations, which need the API key, their answers and problem types,
and the input row's field names and types. Off by default (``/docs`` is then 404).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from jinja2 import Environment, StrictUndefined, select_autoescape
from starlette.responses import Response

#: no script, no frame, nothing from elsewhere: only the page's own style sheet
DOCS_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_CSS = """body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem}
code{font:13px ui-monospace,monospace}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.method{font-weight:bold;text-transform:uppercase}.key{color:#8a4b00}.note{color:#555}
section.op{border-top:2px solid #333;margin-top:1.5rem}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} {{ version }} · API reference</title>
<link rel="stylesheet" href="{{ root }}/docs/docs.css">
</head>
<body>
<h1>{{ title }} <small>{{ version }}</small></h1>
<p>{{ description }}</p>
<p class="note">The same document as JSON: <a href="{{ root }}/openapi.json">/openapi.json</a>.
{% if scheme %}Operations marked <span class="key">key</span> need an API key sent as
<code>Authorization: Bearer TOKEN</code> (scheme <code>{{ scheme }}</code>).{% endif %}</p>
<table id="operations">
<thead><tr><th>method</th><th>path</th><th>what</th><th></th></tr></thead>
<tbody>
{% for op in operations %}
<tr data-path="{{ op.path }}" data-method="{{ op.method }}"><td class="method">{{ op.method }}</td>
<td><a href="#{{ op.anchor }}"><code>{{ op.path }}</code></a></td><td>{{ op.summary }}</td>
<td>{% if op.key %}<span class="key">key</span>{% endif %}</td></tr>
{% endfor %}
</tbody>
</table>
{% if fields %}
<section id="input-row">
<h2>Input row</h2>
<p class="note">{{ row_note }}</p>
<table>
<thead><tr><th>field</th><th>type</th></tr></thead>
<tbody>
{% for name, type in fields %}<tr data-field="{{ name }}"><td><code>{{ name }}</code></td>
<td>{{ type }}</td></tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}
{% for op in operations %}
<section class="op" id="{{ op.anchor }}">
<h2><span class="method">{{ op.method }}</span> <code>{{ op.path }}</code></h2>
<p>{{ op.summary }}{% if op.key %} · <span class="key">needs an API key</span>{% endif %}</p>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<p>Parameters: {% for p in op.parameters %}<code>{{ p }}</code>
{%- if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
{% if op.body %}<p>Body: <code>{{ op.body }}</code></p>{% endif %}
<table>
<thead><tr><th>code</th><th>meaning</th><th>body</th><th>problem types</th></tr></thead>
<tbody>
{% for a in op.answers %}
<tr><td>{{ a.code }}</td><td>{{ a.description }}</td><td>{{ a.media }}</td>
<td>{% for t in a.problems %}<code>{{ t }}</code>{% if not loop.last %}<br>{% endif %}
{% endfor %}</td></tr>
{% endfor %}
</tbody>
</table>
</section>
{% endfor %}
</body>
</html>
"""

_ENV = Environment(
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def install_docs(app: FastAPI) -> None:
    """Add ``GET /docs`` (the reference) and ``GET /docs/docs.css`` to ``app``."""
    cached: dict[str, str] = {}

    async def page(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        if root not in cached:
            cached[root] = render_docs(app.openapi(), root)
        return Response(
            cached[root], media_type="text/html; charset=utf-8", headers=dict(DOCS_HEADERS)
        )

    async def css() -> Response:
        return Response(_CSS, media_type="text/css; charset=utf-8", headers=dict(DOCS_HEADERS))

    app.add_api_route("/docs", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/docs.css", css, methods=["GET"], include_in_schema=False)


def render_docs(doc: Mapping[str, Any], root: str = "") -> str:
    """The HTML reference of an OpenAPI document."""
    info = doc.get("info", {})
    schemes = doc.get("components", {}).get("securitySchemes", {})
    row = doc.get("components", {}).get("schemas", {}).get("InputRow", {})
    return _ENV.from_string(_PAGE).render(
        root=root,
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        scheme=next(iter(schemes), None),
        operations=_operations(doc),
        fields=[(name, _type_text(s)) for name, s in row.get("properties", {}).items()],
        row_note=str(row.get("description", "")),
    )


def _operations(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            body = op.get("requestBody", {}).get("content", {})
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": f"{method}-{path}".replace("/", "-").strip("-"),
                    "summary": str(op.get("summary", "")),
                    "description": str(op.get("description", "")),
                    "key": bool(op.get("security")),
                    "parameters": [
                        f"{p.get('name')} ({p.get('in')})" for p in op.get("parameters", [])
                    ],
                    "body": ", ".join(
                        f"{media}: {_ref_name(m.get('schema', {}))}" for media, m in body.items()
                    ),
                    "answers": [
                        {
                            "code": code,
                            "description": str(a.get("description", "")),
                            "media": ", ".join(
                                f"{media} {_ref_name(m.get('schema', {}))}".strip()
                                for media, m in a.get("content", {}).items()
                            ),
                            "problems": [
                                t
                                for m in a.get("content", {}).values()
                                for t in m.get("x-problem-types", [])
                            ],
                        }
                        for code, a in op.get("responses", {}).items()
                    ],
                }
            )
    return out


def _ref_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else ""


def _type_text(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type", "any")
    return " or ".join(str(k) for k in kind) if isinstance(kind, list) else str(kind)
