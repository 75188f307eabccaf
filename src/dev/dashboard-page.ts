// twelve dev's dashboard page: one HTML document with its style and script inline, no build
// step and no framework (a few KB). It reads /_twelve/events (server-sent events) and calls
// the same control API as twelve run and twelve dlq, with this start's token.

/** The page, with `token` for the buttons that change state and `initial`, what it shows first. */
export function dashboardPage(token: string, initial: unknown): string {
  // In a script element: "</script>" or "<!--" in a log line must not end it.
  const data = JSON.stringify(initial).replace(/</g, "\\u003c");
  return PAGE.replace("__TOKEN__", token).replace("__INITIAL__", () => data);
}

const STYLE = String.raw`
:root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #5f6368; --card: #fff; --line: #d9d9de; --accent: #0b57d0;
  --ok: #1e7d32; --bad: #b3261e; --warn: #8a5a00; --meter: #0b57d0; --chart2: #8a3ffc;
  --c31: #b3261e; --c32: #1e7d32; --c33: #8a5a00; --c34: #0b57d0; --c35: #8a3ffc; --c36: #00708a; --c37: #3c4043;
  --c92: #2e7d32; --c93: #795548; --c94: #1a4fa0; --c95: #a0337d; --c96: #00606a; }
@media (prefers-color-scheme: dark) { :root { --bg: #121316; --fg: #e8e8ea; --muted: #a8abb2; --card: #1c1d21; --line: #33353b; --accent: #8ab4f8;
  --ok: #7bd88f; --bad: #ff8a80; --warn: #ffd27a; --meter: #8ab4f8; --chart2: #c3a6ff;
  --c31: #ff8a80; --c32: #7bd88f; --c33: #ffd27a; --c34: #8ab4f8; --c35: #d7aefb; --c36: #78d9ec; --c37: #c4c7c5;
  --c92: #a5e8ad; --c93: #ffe28a; --c94: #aecbfa; --c95: #f5b4e0; --c96: #9ff0f5; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.1rem; margin: 0; }
main { padding: 1rem 1.25rem; display: grid; gap: 1.25rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; }
.card h3 { font-size: .95rem; margin: 0 0 .25rem; display: flex; justify-content: space-between; gap: .5rem; }
.badge { font-size: .75rem; border: 1px solid var(--line); border-radius: 4px; padding: 0 .35rem; color: var(--muted); font-weight: normal; }
.state-up { color: var(--ok); } .state-crashed, .state-unusable { color: var(--bad); } .state-starting { color: var(--warn); }
meter { width: 100%; height: .7rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
svg.chart { width: 160px; height: 32px; display: block; }
svg.chart polyline { fill: none; stroke-width: 1.5; }
button, select, textarea, input { font: inherit; color: inherit; }
button { background: var(--card); border: 1px solid var(--accent); color: var(--accent); border-radius: 5px; padding: .2rem .7rem; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
button.danger { border-color: var(--bad); color: var(--bad); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
select, textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 5px; padding: .25rem .4rem; }
textarea { width: 100%; min-height: 5rem; font-family: ui-monospace, monospace; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; font: 12px/1.4 ui-monospace, monospace; }
.letter { border-top: 1px solid var(--line); padding: .4rem 0; }
.error { color: var(--bad); }
#log { max-height: 24rem; overflow: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 5px; padding: .4rem; list-style: none; margin: .5rem 0 0; }
#log li { font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
#log .who { display: inline-block; min-width: 7ch; font-weight: 600; }
.notice { min-height: 1.4em; }
.row { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
` + [31, 32, 33, 34, 35, 36, 37, 92, 93, 94, 95, 96].map((c) => `.c${c} { color: var(--c${c}); }`).join("\n");

// Plain JavaScript for the browser (it is not compiled): kept to what every current browser runs.
const SCRIPT = String.raw`
const token = document.querySelector('meta[name="twelve-token"]').content;
const $ = (id) => document.getElementById(id);
const state = { status: null, series: {}, lines: [], sampleMs: 1000, dead: {} };
const MAX_LINES = 2000;
const SHOWN_LINES = 500;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
/** The child of container for key, made once (so a focused button survives the next update). */
function keyed(container, key, make) {
  let node = container.querySelector(':scope > [data-key="' + CSS.escape(key) + '"]');
  if (!node) { node = make(); node.dataset.key = key; container.append(node); }
  return node;
}
function prune(container, keys) {
  for (const node of [...container.children]) if (node.dataset.key !== undefined && !keys.includes(node.dataset.key)) node.remove();
}
const text = (node, value) => { const s = String(value); if (node.textContent !== s) node.textContent = s; };
const ago = (iso) => { if (!iso) return ""; const s = Math.round((Date.now() - Date.parse(iso)) / 1000); return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago"; };
const duration = (ms) => ms == null ? "" : ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
const ANSI = /\x1b\[[0-9;]*m/g;

async function call(method, route, body) {
  const response = await fetch(route, { method, headers: { "x-twelve-token": token, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(result.error || response.status + " " + response.statusText);
  return result;
}
function notice(id, message, bad) { const node = $(id); node.className = "notice" + (bad ? " error" : ""); text(node, message); }

function stateText(p) {
  if (p.state === "crashed" && p.restartAt) return "crashed, restarting in " + Math.max(0, Math.ceil((Date.parse(p.restartAt) - Date.now()) / 1000)) + " s";
  if (p.state === "starting" && p.restarts) return "restarting";
  return p.state;
}
function useText(p) {
  const what = p.type === "web" ? "requests" : p.type === "worker" ? "batches" : "run";
  if (p.inUse === null) return what + " in flight: not known";
  if (p.type === "web" && state.status.target === "cloudflare") return p.inUse + " request" + (p.inUse === 1 ? "" : "s") + " in flight (no cap on Cloudflare)";
  return p.inUse + " of " + p.cap + " " + what + " in use";
}

function renderFormation() {
  const cards = $("cards");
  const names = state.status.processes.map((p) => p.name);
  for (const p of state.status.processes) {
    const card = keyed(cards, p.name, () => el("article", { class: "card", "aria-label": p.name },
      el("h3", {}, el("span", { class: "name" }), el("span", { class: "badge" })),
      el("div", { class: "state" }), el("meter", { min: "0" }), el("div", { class: "use muted" }), el("div", { class: "restarts muted" })));
    text(card.querySelector(".name"), p.name);
    text(card.querySelector(".badge"), p.type + (p.type === "web" && state.status.target === "cloudflare" ? " · no cap" : " · cap " + p.cap));
    const st = card.querySelector(".state"); text(st, stateText(p)); st.className = "state state-" + p.state;
    const meter = card.querySelector("meter"); meter.max = p.cap; meter.value = p.inUse || 0;
    // Cloudflare holds no web cap: there is no share of one to show.
    meter.hidden = p.inUse === null || (p.type === "web" && state.status.target === "cloudflare");
    meter.setAttribute("aria-label", p.name + " in use");
    text(card.querySelector(".use"), useText(p));
    text(card.querySelector(".restarts"), p.restarts ? p.restarts + " restart" + (p.restarts === 1 ? "" : "s") : "no restarts");
    card.dataset.inUse = p.inUse === null ? "" : String(p.inUse);
  }
  prune(cards, names);
}

function chart(points, key, colour, label) {
  const values = points.map((p) => p[key]);
  const max = Math.max(1, ...values);
  const width = 160, height = 32;
  const coords = values.map((v, i) => (values.length < 2 ? 0 : (i / (values.length - 1)) * width).toFixed(1) + "," + (height - 1 - (v / max) * (height - 2)).toFixed(1)).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "chart"); svg.setAttribute("viewBox", "0 0 " + width + " " + height); svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label + ": now " + (values.at(-1) ?? 0) + ", at most " + Math.max(0, ...values) + " in the last " + Math.round(points.length * state.sampleMs / 60000) + " min");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", coords); line.setAttribute("stroke", colour); svg.append(line);
  return svg;
}

function renderQueues() {
  const body = $("queues");
  const workers = state.status.processes.filter((p) => p.type === "worker");
  $("queues-none").hidden = workers.length > 0;
  for (const p of workers) {
    const q = p.queue;
    const row = keyed(body, p.name, () => el("tr", {}, el("th", { scope: "row" }), el("td", { class: "n ready" }), el("td", { class: "n delayed" }), el("td", { class: "n inflight" }), el("td", { class: "n dead" }), el("td", { class: "depth" }), el("td", { class: "rate" })));
    text(row.querySelector("th"), p.name);
    text(row.querySelector(".ready"), q.ready); text(row.querySelector(".delayed"), q.delayed);
    text(row.querySelector(".inflight"), q.inFlight); text(row.querySelector(".dead"), q.deadLetters);
    const points = state.series[p.name] || [];
    const perSecond = points.map((s) => ({ rate: Math.round(s.done * 1000 / state.sampleMs) }));
    row.querySelector(".depth").replaceChildren(chart(points, "depth", "var(--meter)", p.name + " depth"));
    row.querySelector(".rate").replaceChildren(chart(perSecond, "rate", "var(--chart2)", p.name + " messages delivered a second"));
  }
  prune(body, workers.map((p) => p.name));
}

function renderClocks() {
  const body = $("clocks");
  const clocks = state.status.processes.filter((p) => p.type === "clock");
  $("clocks-none").hidden = clocks.length > 0;
  for (const p of clocks) {
    const c = p.clock;
    const row = keyed(body, p.name, () => el("tr", {}, el("th", { scope: "row" }), el("td", { class: "schedule" }), el("td", { class: "zone" }), el("td", { class: "next" }), el("td", { class: "last" }),
      el("td", {}, el("button", { type: "button", class: "run", onclick: () => runNow(p.name) }, "Run now"))));
    text(row.querySelector("th"), p.name);
    row.querySelector(".schedule").replaceChildren(el("div", {}, c.words), el("code", { class: "muted" }, c.schedule));
    text(row.querySelector(".zone"), c.timezone);
    row.querySelector(".next").replaceChildren(c.nextRun ? el("div", {}, c.nextRun.local) : "never", c.nextRun && c.timezone !== "UTC" ? el("div", { class: "muted" }, c.nextRun.utc.slice(0, 16).replace("T", " ") + " UTC") : "");
    const last = c.lastRun;
    const going = c.going ? "running since " + ago(c.going.startedAt) : "";
    const lastText = last ? last.outcome + (last.durationMs != null ? " in " + duration(last.durationMs) : "") + ", " + ago(last.startedAt || last.scheduledTime) + (last.detail ? " (" + last.detail + ")" : "") : "not run yet";
    const lastCell = row.querySelector(".last");
    lastCell.replaceChildren(el("div", { class: last && last.outcome === "failed" ? "error" : "" }, lastText), going ? el("div", { class: "muted" }, going) : "");
    lastCell.dataset.outcome = last ? last.outcome : "";
    row.querySelector(".run").setAttribute("aria-label", "Run " + p.name + " now");
  }
  prune(body, clocks.map((p) => p.name));
}

async function runNow(name) {
  notice("clock-notice", "running " + name + "...");
  try {
    const result = await call("POST", "/_twelve/run/" + encodeURIComponent(name));
    notice("clock-notice", name + " ran in " + duration(result.durationMs));
  } catch (error) { notice("clock-notice", error.message, true); }
}

async function refreshDead(name, count) {
  const known = state.dead[name];
  if (known && known.count === count && !known.stale) return;
  state.dead[name] = { count, letters: known ? known.letters : [] };
  if (count === 0) { state.dead[name].letters = []; renderDead(); return; }
  try {
    const page = await call("GET", "/_twelve/dlq/" + encodeURIComponent(name) + "?limit=50");
    state.dead[name].letters = page.items;
  } catch (error) { state.dead[name].error = error.message; }
  renderDead();
}

function renderDead() {
  const box = $("dead");
  const shown = Object.entries(state.dead).filter(([, d]) => d.count > 0);
  $("dead-none").hidden = shown.length > 0;
  for (const [name, d] of shown) {
    const group = keyed(box, name, () => el("div", { class: "dead-group", "aria-label": "dead letters of " + name },
      el("div", { class: "row" }, el("h3", {}), el("button", { type: "button", class: "redrive", onclick: () => deadAction(name, "redrive") }, "Redrive"),
        el("button", { type: "button", class: "purge danger", onclick: () => deadAction(name, "purge") }, "Purge")), el("div", { class: "letters" })));
    text(group.querySelector("h3"), name + ": " + d.count + " dead letter" + (d.count === 1 ? "" : "s") + (d.count > d.letters.length ? " (first " + d.letters.length + " shown)" : ""));
    const isClock = state.status.processes.some((p) => p.name === name && p.type === "clock");
    group.querySelector(".redrive").hidden = isClock;
    group.querySelector(".redrive").setAttribute("aria-label", "Redrive all dead letters of " + name);
    group.querySelector(".purge").setAttribute("aria-label", "Purge all dead letters of " + name);
    group.querySelector(".letters").replaceChildren(...d.letters.map((l) => el("div", { class: "letter" },
      el("div", { class: "muted" }, l.id + " · " + (l.attempts ?? "?") + " attempt" + (l.attempts === 1 ? "" : "s") + (l.sentAt ? " · first sent " + ago(new Date(l.sentAt).toISOString()) : "")),
      el("pre", {}, JSON.stringify(l.body, null, 2).slice(0, 2000)),
      l.error ? el("div", { class: "error" }, l.error) : "")));
  }
  prune(box, shown.map(([name]) => name));
}

async function deadAction(name, action) {
  if (action === "purge" && !confirm("Delete every dead letter of " + name + "? This cannot be undone.")) return;
  notice("dead-notice", (action === "redrive" ? "sending back" : "deleting") + " the dead letters of " + name + "...");
  try {
    const result = await call("POST", "/_twelve/dlq/" + encodeURIComponent(name) + "/" + action, {});
    const count = action === "redrive" ? result.redriven : result.purged;
    notice("dead-notice", name + ": " + count + " " + (action === "redrive" ? "sent back to the queue" : "deleted"));
    if (state.dead[name]) state.dead[name].stale = true;
  } catch (error) { notice("dead-notice", error.message, true); }
}

function renderSend() {
  const select = $("send-worker");
  const workers = state.status.processes.filter((p) => p.type === "worker").map((p) => p.name);
  for (const name of workers) keyed(select, name, () => el("option", { value: name }, name));
  prune(select, workers);
  $("send-form").hidden = workers.length === 0;
}

async function send(event) {
  event.preventDefault();
  const worker = $("send-worker").value;
  let body;
  try { body = JSON.parse($("send-body").value); } catch (error) { return notice("send-notice", "the message is not JSON: " + error.message, true); }
  try {
    const result = await call("POST", "/_twelve/run/" + encodeURIComponent(worker), body);
    notice("send-notice", "sent to " + worker + " as message " + result.id);
  } catch (error) { notice("send-notice", error.message, true); }
}

function lineNode(line) {
  const who = line.process === null ? "twelve" : line.process;
  const colour = "c" + String(line.colour).split(";").pop();
  const textPart = line.process === null ? el("span", {}, el("strong", { class: colour }, line.kind), " " + line.text.replace(ANSI, "")) : el("span", {}, line.text.replace(ANSI, ""));
  const node = el("li", { class: line.process === null ? "" : colour }, el("span", { class: "who " + (line.process === null ? "" : colour) }, who), " ", textPart);
  node.dataset.process = who;
  return node;
}
function renderLogs(all) {
  const list = $("log");
  const filter = $("log-filter").value;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const wanted = (l) => filter === "" || (l.process === null ? "twelve" : l.process) === filter;
  if (all) list.replaceChildren(...state.lines.filter(wanted).slice(-SHOWN_LINES).map(lineNode));
  if (atBottom) list.scrollTop = list.scrollHeight;
}
function addLines(lines, dropped) {
  state.lines.push(...lines);
  if (dropped) state.lines.push({ process: null, kind: "log", text: dropped + " lines not shown (too many at once)", colour: "33" });
  if (state.lines.length > MAX_LINES) state.lines.splice(0, state.lines.length - MAX_LINES);
  const list = $("log");
  const filter = $("log-filter").value;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  for (const l of lines) if (filter === "" || (l.process === null ? "twelve" : l.process) === filter) list.append(lineNode(l));
  while (list.children.length > SHOWN_LINES) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}
function renderLogFilter() {
  const select = $("log-filter");
  const names = ["twelve", ...state.status.processes.map((p) => p.name)];
  for (const name of names) keyed(select, name, () => el("option", { value: name }, name));
}

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const s = state.status;
    text($("app"), s.app); text($("target"), "target " + s.target);
    renderFormation(); renderQueues(); renderClocks(); renderSend(); renderLogFilter();
    for (const p of s.processes) if (p.type !== "web") void refreshDead(p.name, p.type === "worker" ? p.queue.deadLetters : p.clock.deadLetters ?? 0);
    document.body.dataset.ready = "true";
  });
}

function hello(data) {
  state.status = data.status; state.series = data.series; state.sampleMs = data.sampleMs; state.lines = data.lines;
  render(); renderLogFilter(); renderLogs(true);
}
hello(JSON.parse($("initial").textContent));
const events = new EventSource("/_twelve/events");
events.addEventListener("hello", (e) => {
  hello(JSON.parse(e.data));
  notice("connection", "live");
});
events.addEventListener("status", (e) => {
  const data = JSON.parse(e.data);
  state.status = data.status;
  for (const [name, sample] of Object.entries(data.samples)) {
    const series = state.series[name] || (state.series[name] = []);
    if (sample && (!series.length || series.at(-1).t !== sample.t)) series.push(sample);
    if (series.length > 300) series.shift();
  }
  render();
});
events.addEventListener("log", (e) => { const data = JSON.parse(e.data); addLines(data.lines, data.dropped); });
events.onerror = () => notice("connection", "not connected: is twelve dev still running? (retrying)", true);
$("send-form").addEventListener("submit", send);
$("log-filter").addEventListener("change", () => renderLogs(true));
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="twelve-token" content="__TOKEN__">
<title>twelve dev</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>twelve dev · <span id="app"></span></h1><span id="target" class="muted"></span><span id="connection" class="notice muted" role="status">connecting...</span></header>
<main>
<section aria-labelledby="h-formation"><h2 id="h-formation">Formation</h2><div id="cards" class="cards"></div></section>
<section aria-labelledby="h-queues"><h2 id="h-queues">Queues</h2>
<p id="queues-none" class="muted" hidden>No workers in this formation.</p>
<table><thead><tr><th scope="col">Worker</th><th scope="col" class="n">Ready</th><th scope="col" class="n">Delayed</th><th scope="col" class="n">In flight</th><th scope="col" class="n">Dead</th><th scope="col">Depth (5 min)</th><th scope="col">Delivered / s (5 min)</th></tr></thead><tbody id="queues"></tbody></table></section>
<section aria-labelledby="h-clocks"><h2 id="h-clocks">Clocks</h2>
<p id="clocks-none" class="muted" hidden>No clocks in this formation.</p>
<table><thead><tr><th scope="col">Clock</th><th scope="col">Schedule</th><th scope="col">Time zone</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody id="clocks"></tbody></table>
<p id="clock-notice" class="notice" role="status" aria-live="polite"></p></section>
<section aria-labelledby="h-dead"><h2 id="h-dead">Dead letters</h2><p id="dead-none" class="muted">None.</p><div id="dead"></div>
<p id="dead-notice" class="notice" role="status" aria-live="polite"></p></section>
<section aria-labelledby="h-send"><h2 id="h-send">Send</h2>
<form id="send-form" hidden><div class="row"><label for="send-worker">Worker</label><select id="send-worker"></select></div>
<p><label for="send-body">Message (JSON)</label><textarea id="send-body" spellcheck="false">{}</textarea></p>
<button type="submit">Send</button> <span id="send-notice" class="notice" role="status" aria-live="polite"></span></form></section>
<section aria-labelledby="h-logs"><h2 id="h-logs">Logs</h2>
<div class="row"><label for="log-filter">Show</label><select id="log-filter"><option value="">every process</option></select></div>
<ol id="log" aria-label="log lines" tabindex="0"></ol></section>
</main>
<script type="application/json" id="initial">__INITIAL__</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
