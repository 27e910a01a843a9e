"""The UI's stylesheet and script (served from ``/ui/assets/``; no build step, no CDN).

The script only polls ``/ui/live`` for the server-rendered (escaped) live panels and swaps
them in, keeping open ``<details>`` open; on 401 it reloads, which leads to the sign-in form.
"""

from __future__ import annotations

CSS = """
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6673; --line: #d5dbe1;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --bg-soft: #f4f6f8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9aa5b1; --line: #30363d; --bg-soft: #161b22; } }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto;
  max-width: 1200px; padding: 0 1rem 2rem; }
header.top { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; align-items: baseline;
  border-bottom: 1px solid var(--line); padding: .6rem 0; }
header.top h1 { margin: 0; font-size: 1.3rem; }
header.top p { margin: 0; }
header.top form { margin-left: auto; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
h2 small { font-weight: normal; color: var(--muted); font-size: .85rem; }
h3 { font-size: 1rem; margin: 0 0 .4rem; display: flex; gap: .6rem; align-items: baseline; }
h3 time { margin-left: auto; color: var(--muted); font-weight: normal; font-size: .85rem; }
table { border-collapse: collapse; margin: .3rem 0 .6rem; }
caption { text-align: left; color: var(--muted); font-size: .85rem; }
th, td { border-bottom: 1px solid var(--line); padding: .2rem .6rem; text-align: left;
  vertical-align: top; }
th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
pre { background: var(--bg-soft); padding: .4rem .6rem; margin: 0 0 .4rem;
  white-space: pre-wrap; word-break: break-all; max-height: 20rem; overflow: auto; }
.code { font-weight: 700; font-variant-numeric: tabular-nums; }
.s2xx { color: var(--ok); } .s4xx { color: var(--warn); } .s5xx { color: var(--bad); }
tr.fired td { color: var(--bad); }
meter { width: 12rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0 0 .4rem; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
article.decision { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
  margin: 0 0 .8rem; }
.label { color: var(--muted); margin: .2rem 0; font-size: .85rem; }
.warn { color: var(--warn); } .error { color: var(--bad); } .empty, .note { color: var(--muted); }
nav.windows a { margin: 0 .3rem; } nav.windows a[aria-current] { font-weight: 700; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; }
#refresh-state.err { color: var(--bad); }
body.login main { max-width: 28rem; margin: 4rem auto; }
body.login input { width: 100%; padding: .4rem; margin: .3rem 0 .8rem; }
nav.pages { display: flex; gap: .9rem; }
nav.pages a[aria-current] { font-weight: 700; text-decoration: none; }
h2 small code { font-size: .8rem; }
.crumbs { margin: .8rem 0 0; color: var(--muted); }
.saved { color: var(--ok); font-weight: 600; }
table tr.unreadable .state { color: var(--bad); font-weight: 600; }
table tr.missing .state { color: var(--warn); }
table tr.present .state { color: var(--ok); }
ul.issues, ul.warnings, ul.field-errors { margin: .2rem 0; padding-left: 1.1rem; }
ul.issues li, ul.field-errors li { color: var(--bad); }
ul.warnings li { color: var(--warn); }
ul.issues code, ul.field-errors code, ul.warnings code { color: var(--fg); }
section.problems { border: 1px solid var(--bad); border-radius: 6px; padding: .4rem .8rem;
  margin: .6rem 0; }
section.problems h3 { color: var(--bad); }
form.descriptor .field { border-top: 1px solid var(--line); padding: .6rem 0; }
form.descriptor .field.invalid { border-left: 3px solid var(--bad); padding-left: .6rem; }
form.descriptor .head { display: flex; gap: .6rem; align-items: baseline; }
form.descriptor .type { color: var(--muted); font-size: .85rem; }
form.descriptor .req { color: var(--warn); font-size: .8rem; }
form.descriptor p.description { margin: .15rem 0 .35rem; color: var(--muted); max-width: 60rem; }
form.descriptor input[type=text], form.descriptor textarea { width: 100%; padding: .3rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
form.descriptor select { padding: .2rem; }
form.descriptor .actions { position: sticky; bottom: 0; background: Canvas; padding: .6rem 0;
  border-top: 1px solid var(--line); display: flex; gap: 1rem; align-items: baseline; }
details.structure summary { cursor: pointer; color: var(--muted); font-size: .85rem; }
ul.tree { margin: .2rem 0; padding-left: 1.2rem; font-size: .85rem; }
ul.tree .description { color: var(--muted); }
.sev-error { color: var(--bad); font-weight: 600; } .sev-warning { color: var(--warn); }
.sev-info { color: var(--muted); }
div.scroll { overflow-x: auto; }
#findings table { width: 100%; }
#findings td.fields { min-width: 13rem; overflow-wrap: anywhere; }
#findings code.rule { white-space: nowrap; }
#findings td.descriptors { overflow-wrap: anywhere; }
body.wide { max-width: 1600px; }
section#unreadable { margin-bottom: 1rem; }
section.notice pre.command { display: inline-block; padding: .4rem .8rem; }
p.state { font-size: 1.2rem; font-weight: 600; }
p.state-alarm, p.state-error { color: var(--bad); } p.state-ok { color: var(--good, inherit); }
#drift-fields td.num { text-align: right; font-variant-numeric: tabular-nums; }
#drift-fields tr.alarm td { background: color-mix(in srgb, var(--bad) 8%, transparent); }
svg.bar rect.bar-fill { fill: var(--muted); } tr.alarm svg.bar rect.bar-fill { fill: var(--bad); }
svg.bar line.bar-mark { stroke: currentColor; stroke-width: 2; }
"""

JS = """(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-live-url");
  var every = parseInt(body.getAttribute("data-refresh-ms"), 10) || 3000;
  var live = document.getElementById("live");
  var state = document.getElementById("refresh-state");
  if (!url || !live) { return; }
  var busy = false;
  var count = 0;
  function openKeys() {
    var keys = {};
    live.querySelectorAll("details[open]").forEach(function (d) {
      keys[d.getAttribute("data-key")] = true;
    });
    return keys;
  }
  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", cache: "no-store",
                 headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var keep = openKeys();
        live.innerHTML = html;
        live.querySelectorAll("details").forEach(function (d) {
          if (keep[d.getAttribute("data-key")]) { d.open = true; }
        });
        count += 1;
        body.setAttribute("data-refreshes", String(count));
        state.textContent = "updated " + new Date().toLocaleTimeString() +
          "; refreshes every " + Math.round(every / 1000) + " s";
        state.className = "";
      })
      .catch(function (e) {
        state.textContent = "refresh failed (" + e.message + "); retrying";
        state.className = "err";
      })
      .then(function () { busy = false; });
  }
  window.setInterval(tick, every);
})();
"""
