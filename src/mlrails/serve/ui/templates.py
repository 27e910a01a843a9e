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

_NAV = """{% macro nav(root, current) %}
<nav class="pages" aria-label="pages">
{% for href, label, key in [("", "Dashboard", "dashboard"), ("/drift", "Drift", "drift"),
   ("/descriptors", "Descriptors", "descriptors"), ("/mismatch", "Mismatch", "mismatch")] %}
<a href="{{ root }}{{ href }}" data-page="{{ key }}"
{%- if key == current %} aria-current="page"{% endif %}>{{ label }}</a>
{% endfor %}
</nav>
{% endmacro %}
"""

_DASHBOARD = """{% extends "base.html" %}
{% from "nav.html" import nav %}
{% block title %}mlrails · {{ artifact.artifact_hash[:12] }}{% endblock %}
{% block body %}
<body data-live-url="{{ live_url }}" data-refresh-ms="{{ refresh_ms }}" data-refreshes="0">
<header class="top">
<h1>mlrails</h1>
{{ nav(root, "dashboard") }}
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
{% if d.ood %}
{% set o = d.ood %}
<table class="ood"><caption>why out of distribution ({{ o.detector }} score {{ o.score }}
= {{ o.offset }} + features{% if not o.exact %}, split approximate{% endif %})</caption>
<thead><tr><th>feature</th><th>value</th><th class="num">contribution</th></tr></thead>
<tbody>
{% for c in o.contributions %}
<tr data-feature="{{ c.feature }}"><td>{{ c.feature }}</td><td>{{ c.value }}</td>
<td class="num">{{ c.contribution }}</td></tr>
{% endfor %}
<tr><td colspan="2">other features</td><td class="num">{{ o.remainder }}</td></tr>
</tbody>
</table>
{% endif %}
{% if d.explanation %}
{% set x = d.explanation %}
<table class="explanation"><caption>explanation ({{ x.method }}, {{ x.explains }}:
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

_PAGE = """{% extends "base.html" %}
{% from "nav.html" import nav %}
{% block body %}
<body class="{% block body_class %}page{% endblock %}">
<header class="top">
<h1>mlrails</h1>
{{ nav(root, current) }}
{% if auth %}
<p class="who">signed in with key <code>{{ key_id }}</code></p>
<form method="post" action="{{ root }}/logout"><button type="submit">Sign out</button></form>
{% else %}
<p class="warn" id="auth-off">Authentication is off: anyone who can reach this port can
read and edit these pages.</p>
{% endif %}
</header>
<main>
{% block main %}{% endblock %}
</main>
</body>
{% endblock %}
"""

_ISSUES = """{% macro issues(items, klass="issues") %}
<ul class="{{ klass }}">
{% for i in items %}
<li data-path="{{ i.path }}"><code class="file" title="{{ i.file }}">{{ i.name }}</code>
<code class="path">{{ i.path }}</code> <span class="problem">{{ i.problem }}</span></li>
{% endfor %}
</ul>
{% endmacro %}
{% macro tree(nodes) %}
<ul class="tree">
{% for n in nodes %}
<li data-field="{{ n.name }}"><code>{{ n.name }}</code> <span class="type">{{ n.type_text }}
{%- if n.required %}, required{% endif %}</span>
<span class="description">{{ n.description }}</span>
{% if n.children %}{{ tree(n.children) }}{% endif %}
</li>
{% endfor %}
</ul>
{% endmacro %}
"""

_NOTICE = """{% extends "page.html" %}
{% block title %}{{ heading }} · mlrails{% endblock %}
{% block main %}
<section id="notice" class="notice">
<h2>{{ heading }}</h2>
<p class="message">{{ message }}</p>
{% if hint %}<p class="hint">{{ hint }}</p>{% endif %}
{% if command %}<pre class="command">{{ command }}</pre>{% endif %}
{% if back %}<p><a href="{{ back }}">{{ back_label }}</a></p>{% endif %}
</section>
{% endblock %}
"""

_DESCRIPTORS = """{% extends "page.html" %}
{% from "issues.html" import issues %}
{% block title %}Descriptors · mlrails{% endblock %}
{% block main %}
<h2>Descriptors <small>in <code id="directory">{{ directory }}</code></small></h2>
<p class="note">The eight ML-enabled-system descriptors (public v1.2 format), one file each.
Open one to read every field with its schema description and edit it; the
<a href="{{ root }}/mismatch">mismatch check</a> compares them.</p>
{% if directory_note %}<p class="warn" id="directory-note">{{ directory_note }}</p>{% endif %}
<table id="descriptors">
<thead><tr><th>descriptor</th><th>file</th><th>state</th><th>problems</th></tr></thead>
<tbody>
{% for d in rows %}
<tr data-kind="{{ d.kind }}" data-state="{{ d.state }}" class="{{ d.state }}">
<td><a href="{{ root }}/descriptors/{{ d.kind }}">{{ d.title }}</a></td>
<td><code>{{ d.file }}</code></td>
<td class="state">{{ d.state }}</td>
<td>
{% if d.issues %}{{ issues(d.issues) }}{% endif %}
{% if d.warnings %}{{ issues(d.warnings, "warnings") }}{% endif %}
{% if d.state == "missing" %}<a href="{{ root }}/descriptors/{{ d.kind }}">create it</a>{% endif %}
</td></tr>
{% endfor %}
</tbody>
</table>
{% if ignored %}
<p class="note" id="ignored">Other JSON files, not read: {{ ignored | join(", ") }}</p>
{% endif %}
{% endblock %}
"""

_EDITOR = """{% extends "page.html" %}
{% from "issues.html" import issues, tree %}
{% block title %}{{ d.title }} · descriptors · mlrails{% endblock %}
{% block main %}
<p class="crumbs"><a href="{{ root }}/descriptors">Descriptors</a> / {{ d.title }}</p>
<h2 id="descriptor-title" data-kind="{{ d.kind }}">{{ d.title }}
<small><code class="file">{{ d.file }}</code> in <code>{{ directory }}</code></small></h2>
<p class="description" id="descriptor-description">{{ d.description }}</p>
{% if saved %}<p class="saved" role="status" id="saved">Saved <code>{{ d.file }}</code>.</p>
{% endif %}
{% if state == "missing" %}<p class="note" id="missing"><code>{{ d.file }}</code> does not
exist yet: the form starts from an empty document (required fields listed with empty values);
saving creates the file.</p>{% endif %}
{% if state == "unreadable" and not submitted %}<p class="error" id="unreadable">
<code>{{ d.file }}</code> cannot be read as it is; its problems are shown below. Fix them
and save to rewrite it.</p>{% endif %}
{% if notice %}<p class="error" role="alert" id="notice">{{ notice }}</p>{% endif %}
{% if raw is not none %}
<details id="raw-file"><summary>the file as it is now</summary>
<pre class="raw">{{ raw }}</pre></details>
{% endif %}
{% if d.count %}
<section id="problems" class="problems" role="alert">
<h3>{{ d.count }} problem{{ "s" if d.count != 1 else "" }}
{%- if submitted %}; nothing was saved{% endif %}</h3>
{% if d.general %}{{ issues(d.general) }}{% endif %}
<ul class="jump">
{% for f in d.fields if f.errors %}
<li><a href="#field-{{ f.name }}">{{ f.name }}</a>:
{{ f.errors | map(attribute="problem") | join("; ") }}</li>
{% endfor %}
</ul>
</section>
{% endif %}
{% if warnings %}
<section id="warnings" class="warnings-box"><h3>Warnings</h3>{{ issues(warnings, "warnings") }}
</section>
{% endif %}
<form method="post" action="{{ root }}/descriptors/{{ d.kind }}" class="descriptor"
 accept-charset="utf-8" id="editor">
<input type="hidden" name="_base" value="{{ base }}">
<div class="field readonly" data-field="version">
<div class="head"><code>version</code> <span class="type">1.2</span></div>
<p class="description">{{ d.version_description }}</p>
</div>
{% for f in d.fields %}
<div class="field{% if f.errors %} invalid{% endif %}" id="field-{{ f.name }}"
 data-field="{{ f.name }}" data-mode="{{ f.mode }}">
<div class="head"><label for="in-{{ f.name }}"><code>{{ f.name }}</code></label>
<span class="type">{{ f.type_text }}</span>
{% if f.required %}<span class="req">required</span>{% endif %}</div>
<p class="description" id="desc-{{ f.name }}">{{ f.description }}</p>
{% if f.errors %}{{ issues(f.errors, "field-errors") }}{% endif %}
{% if f.options %}
<select id="in-{{ f.name }}" name="{{ f.name }}" aria-describedby="desc-{{ f.name }}">
{% for value, label in f.options %}
<option value="{{ value }}"{% if value == f.value %} selected{% endif %}>{{ label }}</option>
{% endfor %}
</select>
{% elif f.multiline %}
<textarea id="in-{{ f.name }}" name="{{ f.name }}" rows="{{ f.rows }}" class="{{ f.mode }}"
 spellcheck="false" aria-describedby="desc-{{ f.name }}">
{{ f.value }}</textarea>
{% else %}
<input type="text" id="in-{{ f.name }}" name="{{ f.name }}" value="{{ f.value }}"
 class="{{ f.mode }}" spellcheck="false" aria-describedby="desc-{{ f.name }}">
{% endif %}
{% if f.children %}
<details class="structure"><summary>fields inside <code>{{ f.name }}</code></summary>
{{ tree(f.children) }}
</details>
{% endif %}
</div>
{% endfor %}
<p class="actions"><button type="submit" id="save">Save {{ d.file }}</button>
<span class="note">The whole document is validated; nothing is written unless it is valid.</span>
</p>
</form>
{% endblock %}
"""

_MISMATCH = """{% extends "page.html" %}
{% from "issues.html" import issues %}
{% block title %}Mismatch · mlrails{% endblock %}
{% block body_class %}page wide{% endblock %}
{% block main %}
<h2>Mismatch check <small>of <code id="directory">{{ r.directory }}</code>,
at {{ generated }}</small></h2>
<p id="counts" class="counts" data-error="{{ r.counts.error }}"
 data-warning="{{ r.counts.warning }}" data-info="{{ r.counts.info }}">
<span class="sev-error">{{ r.counts.error }} error{{ "s" if r.counts.error != 1 else "" }}</span>,
<span class="sev-warning">{{ r.counts.warning }}
warning{{ "s" if r.counts.warning != 1 else "" }}</span>,
<span class="sev-info">{{ r.counts.info }} info</span>;
{{ r.checked | length }} rule{{ "s" if r.checked | length != 1 else "" }} checked,
{{ r.skipped | length }} skipped.</p>
<p class="note">Descriptors read: {{ r.present | join(", ") or "none" }}.
Missing: {{ r.missing | join(", ") or "none" }}.</p>
{% if r.problems %}
<section id="unreadable">
<h3>Unreadable descriptor files</h3>
<p class="note">Mismatch still reports what it could check: rules that need these files are
skipped (listed below).</p>
{{ issues(r.problems) }}
</section>
{% endif %}
<section id="findings">
<h3>Findings</h3>
{% if r.findings %}
<div class="scroll">
<table>
<thead><tr><th>severity</th><th>rule</th><th>message</th><th>descriptors</th><th>fields</th>
<th>numbers</th><th>roles that must talk</th><th>fix</th></tr></thead>
<tbody>
{% for f in r.findings %}
<tr class="finding" data-rule="{{ f.rule_id }}" data-severity="{{ f.severity }}">
<td class="sev-{{ f.severity }}">{{ f.severity }}</td>
<td><code class="rule">{{ f.rule_id }}</code></td>
<td class="message">{{ f.message }}</td>
<td class="descriptors">{% for d in f.descriptors %}
<a href="{{ root }}/descriptors/{{ d }}">{{ d }}</a>{% if not loop.last %}<br>{% endif %}
{% endfor %}</td>
<td class="fields">{% for x in f.fields %}<code>{{ x }}</code>{% if not loop.last %}<br>{% endif %}
{% endfor %}</td>
<td class="numbers">{% for k, v in f.numbers %}{{ k }} = {{ v }}
{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
<td class="roles">{{ f.roles | join(", ") }}</td>
<td class="fix">{{ f.fix_hint }}</td></tr>
{% endfor %}
</tbody>
</table>
</div>
{% else %}
<p class="empty" id="no-findings">No findings.</p>
{% endif %}
</section>
{% if r.statistics %}
<section id="statistics">
<h3>Training vs production statistics</h3>
<div class="scroll">
<table>
<thead><tr>{% for c in r.stat_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in r.statistics %}
<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
</div>
</section>
{% endif %}
{% if r.skipped %}
<section id="skipped">
<h3>Skipped rules</h3>
<table>
<thead><tr><th>rule</th><th>why</th></tr></thead>
<tbody>
{% for s in r.skipped %}
<tr data-rule="{{ s.rule_id }}"><td><code>{{ s.rule_id }}</code></td><td>{{ s.reason }}</td></tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}
<p class="note" id="checked">Rules checked: {{ r.checked | join(", ") or "none" }}</p>
{% endblock %}
"""

_DRIFT = """{% extends "page.html" %}
{% block title %}Drift · mlrails{% endblock %}
{% block body_class %}page wide{% endblock %}
{% block main %}
<h2>Drift <small>of the logged traffic against the reference kept in the artifact</small></h2>
<p id="drift-state" class="state state-{{ p.state }}" data-state="{{ p.state }}">
{{ p.state_text }}{% if p.alarming %}: <span id="alarming">{{ p.alarming | join(", ") }}</span>
{% endif %}</p>
<p class="note">{{ p.every }}
{%- if p.last_run %}; last check {{ p.last_run }}{% endif %}
{%- if p.n_rows is not none %}: {{ p.n_rows }} logged rows, {{ p.n_answered }} reached the model
{%- endif %}. A field alarms only when its shift is significant after Benjamini–Hochberg
<em>and</em> its effect is at least the threshold (the bar's mark).</p>
{% if p.error %}<p class="error" role="alert" id="drift-error">{{ p.error }}</p>{% endif %}
{% if p.webhook %}<p class="note" id="webhook">Webhook: {{ p.webhook }}</p>{% endif %}
{% if p.state != "off" %}
<form method="post" action="{{ root }}/drift"><button type="submit" id="check-now">Check
now</button></form>
{% endif %}
{% if p.rows %}
<div class="scroll">
<table id="drift-fields">
<thead><tr><th>side</th><th>field</th><th>test</th><th>statistic</th><th>p (BH)</th>
<th>effect</th><th></th><th>PSI</th><th>missing</th><th>n (window vs reference)</th>
<th>alarm</th></tr></thead>
<tbody>
{% for r in p.rows %}
<tr class="drift-row{% if r.alarm %} alarm{% endif %}" data-field="{{ r.field }}"
 data-side="{{ r.side }}" data-alarm="{{ 1 if r.alarm else 0 }}">
<td>{{ r.side }}</td><td><code>{{ r.field }}</code></td><td>{{ r.test }}</td>
<td class="num statistic">{{ r.statistic }}</td><td class="num p">{{ r.p_adjusted }}</td>
<td class="num effect">{{ r.effect }}</td>
<td><svg class="bar" width="{{ bar_px }}" height="10" role="img"
 aria-label="effect {{ r.effect }}, alarm threshold {{ r.effect_threshold }}">
<rect class="bar-fill" x="0" y="1" width="{{ r.bar_px }}" height="8"></rect>
<line class="bar-mark" x1="{{ r.threshold_px }}" x2="{{ r.threshold_px }}" y1="0" y2="10">
</line></svg></td>
<td class="num">{{ r.psi }}</td><td class="num">{{ r.missing }}</td><td class="num">{{ r.n }}</td>
<td class="{{ 'sev-error' if r.alarm else '' }}">{{ "yes" if r.alarm else "no" }}</td></tr>
{% endfor %}
</tbody>
</table>
</div>
{% endif %}
{% if p.notes %}<ul class="notes" id="drift-notes">{% for n in p.notes %}<li>{{ n }}</li>
{% endfor %}</ul>{% endif %}
<p class="note">Page generated {{ generated }}. The same numbers: <code>GET /v1/drift</code>,
gauges <code>mlrails_drift_*</code> on <code>/metrics</code>.</p>
{% endblock %}
"""

_ENV = Environment(
    loader=DictLoader(
        {
            "base.html": _BASE,
            "nav.html": _NAV,
            "login.html": _LOGIN,
            "dashboard.html": _DASHBOARD,
            "live.html": _LIVE,
            "page.html": _PAGE,
            "issues.html": _ISSUES,
            "notice.html": _NOTICE,
            "descriptors.html": _DESCRIPTORS,
            "descriptor.html": _EDITOR,
            "mismatch.html": _MISMATCH,
            "drift.html": _DRIFT,
        }
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: Any) -> str:
    """Render a page: ``login.html``, ``dashboard.html``, ``live.html``, ``notice.html``,
    ``descriptors.html``, ``descriptor.html`` or ``mismatch.html``."""
    return _ENV.get_template(name).render(**context)
