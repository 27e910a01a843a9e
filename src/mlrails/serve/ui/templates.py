"""The UI's HTML as Jinja2 templates, autoescaped: no value reaches the page unescaped.

Kept in Python (no template files to package). There is no inline script or style: the
page loads ``/ui/assets/ui.js`` and ``ui.css``, and the Content-Security-Policy forbids
anything else, so even a missed escape could not run a script.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{% block title %}mlrails{% endblock %}</title>
<link rel="stylesheet" href="{{ root }}/assets/ui.css">
</head>
{% block body %}{% endblock %}
</html>
"""

_LOGIN = """{% extends "base.html" %}
{% block title %}Sign in · mlrails{% endblock %}
{% block body %}
<body class="login">
<main>
<h1>mlrails</h1>
<p>This service requires an API key. It is checked once and exchanged for a session
cookie (HttpOnly, SameSite=Strict, valid {{ ttl_hours }} h); the key itself is not kept
in the browser.</p>
{% if error %}<p class="error" role="alert" id="login-error">{{ error }}</p>{% endif %}
<form method="post" action="{{ root }}/login" autocomplete="off">
<label for="key">API key</label>
<input id="key" name="key" type="password" required maxlength="512" autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
{% endblock %}
"""

_DASHBOARD = """{% extends "base.html" %}
{% block title %}mlrails · {{ artifact.artifact_hash[:12] }}{% endblock %}
{% block body %}
<body data-live-url="{{ live_url }}" data-refresh-ms="{{ refresh_ms }}" data-refreshes="0">
<header class="top">
<h1>mlrails</h1>
<p>artifact <code id="artifact-hash">{{ artifact.artifact_hash }}</code></p>
{% if auth %}
<p class="who">signed in with key <code>{{ key_id }}</code></p>
<form method="post" action="{{ root }}/logout"><button type="submit">Sign out</button></form>
{% else %}
<p class="warn" id="auth-off">Authentication is off: anyone who can reach this port
sees the decision log.</p>
{% endif %}
</header>
<main>
<nav class="windows" aria-label="window">status mix over the last
{% for seconds, label in windows %}
<a href="{{ root }}?window={{ seconds }}"
{%- if seconds == window %} aria-current="page"{% endif %}>{{ label }}</a>
{% endfor %}
</nav>
<div id="live" aria-live="polite">
{% include "live.html" %}
</div>
<section id="safeguards">
<h2>Safeguards</h2>
<p class="note">Thresholds set at a target false-alarm rate on held-out in-distribution data;
the realised rate is the one measured on that data.</p>
<table>
<thead><tr><th>safeguard</th><th>mode</th><th class="num">threshold</th>
<th class="num">target false-alarm rate</th><th class="num">realised false-alarm rate</th>
<th class="num">calibration rows</th></tr></thead>
<tbody>
{% for g in artifact.safeguards %}
<tr data-safeguard="{{ g.name }}"><td>{{ g.name }}</td><td>{{ g.mode }}</td>
<td class="num">{{ g.threshold }}</td><td class="num">{{ g.target_fpr }}</td>
<td class="num">{{ g.realised_fpr }}</td><td class="num">{{ g.n_calibration }}</td></tr>
{% endfor %}
</tbody>
</table>
{% if artifact.notes %}
<ul class="notes">
{% for n in artifact.notes %}<li>{{ n }}</li>
{% endfor %}
</ul>
{% endif %}
</section>
<section id="model">
<h2>Model</h2>
<dl>
{% for k, v in artifact.model %}<dt>{{ k }}</dt><dd>{{ v }}</dd>
{% endfor %}
</dl>
</section>
</main>
<footer><span id="refresh-state">rendered {{ generated }};
refreshes every {{ refresh_ms // 1000 }} s</span></footer>
<script src="{{ root }}/assets/ui.js"></script>
</body>
{% endblock %}
"""

_LIVE = """<section id="mix" data-total="{{ mix.total }}" data-generated="{{ generated }}">
<h2>Status mix <small>last {{ window_label }}, {{ mix.total }} decisions (rows),
at {{ generated }}</small></h2>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
{% if mix.rows %}
<table>
<thead><tr><th>code</th><th>outcome</th><th class="num">decisions</th>
<th class="num">share</th><th></th></tr></thead>
<tbody>
{% for r in mix.rows %}
<tr data-status="{{ r.code }}"><td class="code {{ r.klass }}">{{ r.code }}</td>
<td>{{ r.label }}</td>
<td class="num count">{{ r.count }}</td><td class="num">{{ r.share }}</td>
<td><meter min="0" max="1" value="{{ r.fraction }}"></meter></td></tr>
{% endfor %}
</tbody>
</table>
{% elif not error %}<p class="empty">No decision logged in this window.</p>{% endif %}
</section>
<section id="recent">
<h2>Recent non-{{ ok }} decisions
<small>newest first, at most {{ limit }}, last {{ window_label }}</small></h2>
{% for d in recent %}
<article class="decision" data-status="{{ d.status }}" data-trace-id="{{ d.trace_id }}"
 data-id="{{ d.id }}">
<h3><span class="code {{ d.klass }}">{{ d.status }}</span> <span class="title">{{ d.title }}</span>
<time>{{ d.time }}</time></h3>
<dl>
<dt>type</dt><dd><code class="problem-type">{{ d.type }}</code></dd>
<dt>detail</dt><dd class="detail">{{ d.detail }}</dd>
<dt>trace</dt><dd><code>{{ d.trace_id }}</code>
{%- if d.row is not none %}, row {{ d.row }}{% endif %}
{%- if d.key_id %}, key <code>{{ d.key_id }}</code>{% endif %}</dd>
</dl>
{% if d.errors %}
<table class="errors"><caption>contract violations</caption>
<thead><tr><th>field</th><th>code</th><th>value</th><th>expected</th></tr></thead>
<tbody>
{% for e in d.errors %}
<tr><td>{{ e.field }}</td><td>{{ e.code }}</td><td class="value">{{ e.value }}</td>
<td>{{ e.expected }}</td></tr>
{% endfor %}
{% if d.more_errors %}
<tr><td colspan="4" class="more">and {{ d.more_errors }} more (see the logged document)</td></tr>
{% endif %}
</tbody>
</table>
{% endif %}
{% if d.safeguards %}
<table class="evidence"><caption>safeguard evidence</caption>
<thead><tr><th>safeguard</th><th>mode</th><th>fired</th><th class="num">score</th>
<th class="num">threshold</th><th>details</th></tr></thead>
<tbody>
{% for s in d.safeguards %}
<tr{% if s.triggered %} class="fired"{% endif %} data-safeguard="{{ s.name }}">
<td>{{ s.name }}</td><td>{{ s.mode }}</td><td>{{ "yes" if s.triggered else "no" }}</td>
<td class="num">{{ s.score }}</td><td class="num">{{ s.threshold }}</td>
<td class="details">{{ s.details }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if d.explanation %}
{% set x = d.explanation %}
<table class="explanation"><caption>explanation ({{ x.method }}, {{ x.output_space }}:
base {{ x.base_value }} → {{ x.output }}, class {{ x.class_label }})</caption>
<thead><tr><th>feature</th><th>value</th><th class="num">contribution</th></tr></thead>
<tbody>
{% for c in x.contributions %}
<tr><td>{{ c.feature }}</td><td>{{ c.value }}</td><td class="num">{{ c.contribution }}</td></tr>
{% endfor %}
<tr><td colspan="2">other features</td><td class="num">{{ x.remainder }}</td></tr>
</tbody>
</table>
{% endif %}
<p class="label">input</p>
<pre class="input">{{ d.input }}</pre>
<details data-key="doc-{{ d.id }}"><summary>logged document</summary>
<pre class="document">{{ d.document }}</pre></details>
</article>
{% else %}
<p class="empty">No non-{{ ok }} decision in this window.</p>
{% endfor %}
</section>
"""

_ENV = Environment(
    loader=DictLoader(
        {"base.html": _BASE, "login.html": _LOGIN, "dashboard.html": _DASHBOARD, "live.html": _LIVE}
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: Any) -> str:
    """Render one of ``base.html``, ``login.html``, ``dashboard.html``, ``live.html``."""
    return _ENV.get_template(name).render(**context)
