// The control room: open tickets with live deadlines, recent alarms, technicians, devices by building and
// floor, and the figures the service is judged by. No build step, no CDN.
"use strict";

const OPEN = "open,assigned,accepted,on_site,resolved,verified";
const POLL_MS = 3000;            // fallback when the live stream is down
const REFRESH_MS = 30000;        // full reload even while live, in case an event was missed
const SLOW_REFRESH_MS = 10000;   // technicians are not in the stream
const DEVICE_REFRESH_MS = 15000; // nor are devices' online states (their alarms are: see renderDevices)
const KPI_REFRESH_MS = 60000;    // the figures the service is judged by: a 7-day window, slow to move
const FLOOD = 10;                // DOMAIN.md §6: 10 or more alarms in 10 minutes
const TEN_MIN = 10 * 60 * 1000;
const WARN_FRACTION = 0.8;

const state = { token: null, tickets: new Map(), alerts: new Map(), technicians: [], devices: [],
                devicesLoaded: false, kpis: null, kpisAt: null, skewMs: 0, live: false, canOperate: true };
const $ = (id) => document.getElementById(id);

// --- small helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
const now = () => Date.now() + state.skewMs;  // the server's time: deadlines are the server's
const ms = (iso) => (iso ? Date.parse(iso) : null);
function duration(msLeft) {
  const s = Math.floor(Math.abs(msLeft) / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return (msLeft < 0 ? "−" : "") + (hh ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`);
}
const clockText = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const where = (l) => (l ? `${l.building} · floor ${l.floor}${l.zone ? " · " + l.zone : ""}` : "unknown");

// --- the token ---------------------------------------------------------------------------------

function readToken() {
  // the demo prints a link with #token=...; the fragment never reaches the server or its logs
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem("caretaker.token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem("caretaker.token");
}
function askToken() {
  const dialog = $("token-dialog");
  $("token-form").onsubmit = () => {
    localStorage.setItem("caretaker.token", $("token-input").value.trim());
    location.reload();
  };
  dialog.showModal();
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { Authorization: `Bearer ${state.token}`,
    "Content-Type": "application/json", ...(options.headers || {}) } });
  const date = response.headers.get("Date");
  if (date) state.skewMs = Date.parse(date) + 500 - Date.now();  // Date has whole seconds: take the middle
  if (response.status === 401) { askToken(); throw new Error("token refused"); }
  if (!response.ok) {
    let detail = response.statusText;
    try { const body = await response.json(); detail = typeof body.detail === "string" ? body.detail
      : (body.detail || []).map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; "); } catch (_) { /* not JSON */ }
    const err = new Error(detail); err.status = response.status; throw err;
  }
  return response.json();
}
function showError(text) { const el = $("error"); el.textContent = text || ""; el.hidden = !text; }

// --- loading -------------------------------------------------------------------------------------

async function loadTickets() {
  // personal=false: the wall screen shows no resident's number, so nothing is audited for it
  const list = await api(`/api/v1/tickets?status=${OPEN}&limit=500&personal=false`);
  state.tickets = new Map(list.map((t) => [t.id, t]));
  renderTickets();
}
async function loadAlerts() {
  try {
    const list = await api("/api/v1/alerts?limit=300");
    state.alerts = new Map(list.map((a) => [a.id, a]));
  } catch (e) { if (e.status === 403) state.canOperate = false; else throw e; }
  renderAlerts();
}
async function loadTechnicians() {
  try { state.technicians = await api("/api/v1/technicians"); } catch (e) { if (e.status !== 403) throw e; }
  renderTechnicians(); renderSummary();
}
async function loadDevices() {
  try { state.devices = await api("/api/v1/devices"); state.devicesLoaded = true; }
  catch (e) { if (e.status !== 403) throw e; }
  renderDevices(); renderSummary();
}
async function loadKpis() {
  // no from/to: the service's default window (the last 7 days)
  try { state.kpis = await api("/api/v1/kpis"); state.kpisAt = now(); state.kpisError = null; }
  catch (e) { state.kpisError = e.status === 403 ? "This token may not read the figures." : `Not updated: ${e.message}`; }
  renderKpis();
}
async function loadAll() {
  try { await Promise.all([loadTickets(), loadAlerts(), loadTechnicians(), loadDevices()]); showError(""); }
  catch (e) { showError(`Cannot reach the service: ${e.message}`); setLink("offline"); }
}

// --- the live stream (fetch, so the token travels in a header, not the URL) ---------------------

function setLink(mode) {
  const el = $("link");
  el.className = "link " + mode;
  el.textContent = { live: "● live", polling: "polling every 3 s", offline: "offline" }[mode];
}
async function stream() {
  const response = await fetch("/api/v1/stream", { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended");
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(event, data);
    }
  }
}
function onEvent(event, data) {
  if (event === "hello") { state.live = true; setLink("live"); loadAll(); return; }  // reload what we missed
  if (!data) return;
  const item = JSON.parse(data);
  if (event === "ticket") {
    if (["closed", "cancelled"].includes(item.status)) state.tickets.delete(item.id);
    else state.tickets.set(item.id, item);
    renderTickets();
  } else if (event === "alert") {
    state.alerts.set(item.id, item);
    renderAlerts();  // and, through it, the devices panel's alarm marks
  }
}
async function keepStreaming() {
  for (;;) {
    try { await stream(); } catch (_) { /* fall through to polling */ }
    state.live = false; setLink("polling");
    await new Promise((r) => setTimeout(r, 5000));
  }
}

// --- rendering -----------------------------------------------------------------------------------

function steps(t) {
  const done = { accept: t.accepted_at || !["open", "assigned"].includes(t.status),
                 arrive: t.arrived_at || ["resolved", "verified"].includes(t.status),
                 resolve: t.resolved_at || ["resolved", "verified"].includes(t.status) };
  return [["accept", t.accept_by], ["arrive", t.arrive_by], ["resolve", t.resolve_by]]
    .filter(([, by]) => by).map(([name, by]) => ({ name, by: ms(by), done: !!done[name], from: ms(t.created_at) }));
}
function deadlineClass(step, at) {
  if (step.done) return "done";
  if (at > step.by) return "late";
  return (at - step.from) / (step.by - step.from) >= WARN_FRACTION ? "warn" : "ok";
}
function deadlineText(step, at) {
  if (step.done) return "done";
  return at > step.by ? `${duration(step.by - at)} late` : duration(step.by - at);
}
function nextDeadline(t) {
  const pending = steps(t).filter((s) => !s.done).map((s) => s.by);
  return pending.length ? Math.min(...pending) : Infinity;
}

function ticketCard(t) {
  const at = now();
  const deadlines = steps(t).map((s) => h("span", { class: `deadline ${deadlineClass(s, at)}`, "data-ticket": t.id,
    "data-step": s.name }, h("small", {}, `${s.name} by ${clockText(s.by)}`), deadlineText(s, at)));
  const breached = t.breached || steps(t).some((s) => !s.done && at > s.by);
  return h("article", { class: `ticket u${t.urgency}${breached ? " breached" : ""}` },
    h("div", {},
      h("div", { class: "title" }, h("span", { class: "level" }, `L${t.urgency}`), t.title),
      h("div", { class: "meta" }, h("span", { class: "status" }, t.status.replace("_", " ")), " ",
        h("b", {}, t.assignee || "nobody assigned"), " · ", where(t.location), " · ", t.category,
        t.device ? ` · ${t.device}` : "", " · ", t.id)),
    h("div", { class: "buttons" }, ...operatorButtons(t)),
    h("div", { class: "deadlines" }, ...deadlines));
}

function operatorButtons(t) {
  if (!state.canOperate) return [];
  const out = [h("button", { type: "button", class: "quiet", onclick: () => showDetail(t.id) }, "Details")];
  if (["open", "assigned", "accepted", "on_site"].includes(t.status) && state.technicians.length) {
    const pick = h("select", { "aria-label": "technician" }, h("option", { value: "" }, "assign to…"),
      ...state.technicians.map((x) => h("option", { value: x.id }, `${x.name}${x.on_site ? "" : " (away)"}`)));
    pick.addEventListener("change", () => pick.value && act(t.id, "assign", { technician: pick.value }));
    out.push(pick);
  }
  if (["resolved", "verified"].includes(t.status)) {
    const score = h("select", { "aria-label": "satisfaction" }, h("option", { value: "" }, "call-back: score…"),
      ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, `${n} / 5`)));
    score.addEventListener("change", () => score.value && act(t.id, "verify", { satisfaction: Number(score.value) }));
    out.push(score, h("button", { type: "button", onclick: () => act(t.id, "reopen", { note: "not fixed (call-back)" }) }, "Reopen"));
  }
  out.push(h("button", { type: "button", class: "danger", onclick: () => {
    const note = prompt(`Cancel ${t.id}? Why:`);
    if (note !== null) act(t.id, "cancel", { note });
  } }, "Cancel"));
  return out;
}

async function act(id, step, body) {
  try {
    const t = await api(`/api/v1/tickets/${encodeURIComponent(id)}/${step}`, { method: "POST", body: JSON.stringify(body) });
    onEvent("ticket", JSON.stringify(t)); showError("");
  } catch (e) { showError(`${step} ${id}: ${e.message}`); }
}

async function showDetail(id) {
  try {
    const t = await api(`/api/v1/tickets/${encodeURIComponent(id)}`);  // audited: it carries the reporter
    $("detail-title").textContent = `${t.id} — ${t.title}`;
    const rows = [["Status", t.status], ["Level", `L${t.urgency} ${t.category}`], ["Where", where(t.location)],
      ["Assignee", t.assignee || "—"], ["Source", t.source], ["Description", t.description || "—"],
      ["Reporter", t.reporter ? `${t.reporter.name || ""} ${t.reporter.phone || ""} ${t.reporter.unit || ""}` : "—"],
      ["Alerts", t.alerts.join(", ") || "—"], ["Resolution", t.resolution_note || "—"]];
    $("detail-body").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    $("detail-history").replaceChildren(...t.history.map((e) => h("li", {}, `${clockText(ms(e.at))} `,
      h("b", {}, e.status), ` by ${e.by}${e.note ? " — " + e.note : ""}`)));
    $("detail-dialog").showModal();
  } catch (e) { showError(e.message); }
}

function renderTickets() {
  const list = [...state.tickets.values()].sort((a, b) => a.urgency - b.urgency || nextDeadline(a) - nextDeadline(b));
  $("tickets").replaceChildren(...(list.length ? list.map(ticketCard) : [h("div", { class: "empty" }, "No open tickets.")]));
  $("ticket-count").textContent = list.length;
  renderSummary();
}

function tick() {
  // once a second: move the countdowns without rebuilding the cards (a half-open select keeps its state)
  const at = now();
  $("clock").textContent = clockText(at);
  for (const el of document.querySelectorAll(".deadline[data-ticket]")) {
    const t = state.tickets.get(el.dataset.ticket);
    const s = t && steps(t).find((x) => x.name === el.dataset.step);
    if (!s) continue;
    el.className = `deadline ${deadlineClass(s, at)}`;
    el.lastChild.textContent = deadlineText(s, at);
  }
  renderAlerts();
}

function recentAlerts() {
  const since = now() - TEN_MIN;
  return [...state.alerts.values()].filter((a) => ms(a.raised_at) >= since).sort((a, b) => ms(b.raised_at) - ms(a.raised_at));
}

function alertTags(a) {
  // why an alarm opened no ticket of its own, or needs a technician's eye later
  const tags = [];
  if (a.chattering) tags.push(h("span", { class: "tag warn", title: "the condition keeps flipping: held active, flagged for maintenance" }, "chattering"));
  if (a.suppressed_by) tags.push(h("span", { class: "tag off", title: `explained by ${a.suppressed_by}` }, "explained by outage"));
  if (a.silence) tags.push(h("span", { class: "tag off", title: `silence ${a.silence}` }, "silenced"));
  if (a.shelved_until && ms(a.shelved_until) > now()) tags.push(h("span", { class: "tag off", title: a.shelve_reason || "" }, `shelved until ${clockText(ms(a.shelved_until))}`));
  return tags;
}

function renderAlerts() {
  const recent = recentAlerts();
  const key = recent.map((a) => a.id + a.state + (a.acked_at || "") + (a.shelved_until || "") + a.chattering).join();
  if (key !== state.alertKey) {  // rebuilt only when something changed, so an Ack click is never lost
    state.alertKey = key;
    $("alerts").replaceChildren(...(recent.length ? recent.map((a) => h("li", { class: `u${a.urgency} ${a.state}` },
      h("span", { class: "what" }, `L${a.urgency} ${a.title}`, ...alertTags(a)),
      h("span", { class: "when" }, clockText(ms(a.raised_at))),
      h("span", { class: "meta" }, a.device, a.state === "cleared" ? " · cleared" : "", a.ticket ? ` · ${a.ticket}` : ""),
      a.acked_at ? h("span", { class: "meta" }, `ack ${a.acked_by}`)
        : h("button", { type: "button", onclick: () => ack(a.id) }, "Ack"))) : [h("li", { class: "empty" }, "None.")]));
  }
  $("alert-count").textContent = recent.length;
  // a planned shutdown's silenced alarms are expected, not a flood for the operator
  const counted = recent.filter((a) => !a.silence).length;
  const flood = $("flood");
  flood.hidden = counted < FLOOD;
  flood.textContent = `Alarm flood: ${counted} alarms in the last 10 minutes. Work the level-1 tickets first; look for a common cause (power, water supply).`;
  renderSummary();
  renderDevices();
}

async function ack(id) {
  try { const a = await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: "{}" });
        state.alerts.set(a.id, a); renderAlerts(); }
  catch (e) { showError(e.message); }
}

function renderTechnicians() {
  $("technicians").replaceChildren(...state.technicians.map((x) => h("li", {},
    h("span", { class: "what" }, x.name, h("span", { class: `tag ${x.on_site ? "on" : "off"}` }, x.on_site ? "on site" : "away"),
      h("span", { class: `tag ${x.on_shift ? "on" : "off"}` }, x.on_shift ? "on shift" : "off shift")),
    h("span", { class: "when" }, x.seen_at ? clockText(ms(x.seen_at)) : ""),
    h("span", { class: "meta" }, where(x.location), x.source ? ` (${x.source})` : "",
      x.current.length ? " · " + x.current.map((c) => `L${c.urgency} ${c.id} ${c.status}`).join(", ") : " · free"))));
}

function renderSummary() {
  const at = now();
  const tickets = [...state.tickets.values()];
  const late = tickets.filter((t) => t.breached || steps(t).some((s) => !s.done && at > s.by)).length;
  const offline = state.devices.filter((d) => d.online === false).length;
  const onSite = state.technicians.filter((x) => x.on_site && x.on_shift).length;
  const figures = [[tickets.length, "open tickets"], [late, "breached", late > 0],
    [tickets.filter((t) => t.status === "open").length, "unassigned", tickets.some((t) => t.status === "open")],
    [recentAlerts().length, "alarms / 10 min", recentAlerts().length >= FLOOD],
    [offline, "devices offline", offline > 0], [onSite, "technicians on site"]];
  $("summary").replaceChildren(...figures.map(([n, label, bad]) => h("div", { class: `figure${bad ? " bad" : ""}` },
    h("b", {}, String(n)), h("span", {}, label))));
}

// --- devices by building and floor ----------------------------------------------------------------

const typeName = (t) => t.replace(/_/g, " ");
const floorName = (f) => (f < 0 ? `basement ${-f}` : `floor ${f}`);

function raisedByDevice() {
  // device -> the most urgent level among its raised alerts. The alerts this page holds are kept live by
  // the stream; an alert id the device list names but the page never loaded (older than the 300 fetched)
  // still counts, with an unknown level.
  const out = new Map();
  const worst = (id, level) => out.set(id, Math.min(out.get(id) ?? 9, level));
  for (const a of state.alerts.values()) if (a.state === "raised") worst(a.device, a.urgency);
  for (const d of state.devices) for (const id of d.open_alerts || []) if (!state.alerts.has(id)) worst(d.id, 4);
  return out;
}

function collapsedBuildings() {
  try { return new Set(JSON.parse(localStorage.getItem("caretaker.collapsed") || "[]")); } catch (_) { return new Set(); }
}
function rememberCollapsed(building, open) {
  const set = collapsedBuildings();
  if (open) set.delete(building); else set.add(building);
  localStorage.setItem("caretaker.collapsed", JSON.stringify([...set]));
}

function deviceChip(d, level) {
  const offline = d.online === false, silent = d.online === null || d.online === undefined;
  const cls = ["dev"];
  if (level !== undefined) cls.push("alarm", `u${level}`);
  if (offline) cls.push("offline"); else if (silent) cls.push("silent");
  const title = [`${d.id} — ${typeName(d.type)}`, d.location.zone ? `zone ${d.location.zone}` : "",
    offline ? "offline" : silent ? "never heard from" : "online",
    d.last_seen ? `last seen ${clockText(ms(d.last_seen))}` : "",
    level !== undefined ? `raised alarm${level < 4 ? ` L${level}` : ""}` : "",
    d.needs_inspection ? `${d.faults_30d} faults in 30 days: on the inspection plan` : ""].filter(Boolean).join(" · ");
  return h("li", { class: cls.join(" "), title },
    h("span", { class: "dev-id" }, d.id), h("span", { class: "dev-type" }, typeName(d.type)),
    level !== undefined ? h("span", { class: "dev-flag alarm-flag" }, level < 4 ? `L${level} alarm` : "alarm") : null,
    offline ? h("span", { class: "dev-flag off-flag" }, "offline") : silent ? h("span", { class: "dev-flag" }, "no data") : null,
    d.needs_inspection ? h("span", { class: "dev-flag inspect-flag" }, "inspect") : null);
}

function renderDevices() {
  const raised = raisedByDevice();
  const key = state.devicesLoaded + "|" + state.devices.map((d) => `${d.id}:${d.online}:${raised.get(d.id) ?? ""}:${!!d.needs_inspection}`).join();
  if (key === state.deviceKey) return;  // rebuilt only when something changed: no flicker, no lost clicks
  state.deviceKey = key;
  const el = $("devices");
  if (!state.devicesLoaded) return;
  if (!state.devices.length) { el.replaceChildren(h("div", { class: "empty" }, "No devices.")); return; }
  const buildings = new Map();  // the API's order: building, then floor
  for (const d of state.devices) {
    const floors = buildings.get(d.location.building) || new Map();
    buildings.set(d.location.building, floors);
    (floors.get(d.location.floor) || floors.set(d.location.floor, []).get(d.location.floor)).push(d);
  }
  const collapsed = collapsedBuildings();
  el.replaceChildren(...[...buildings].map(([building, floors]) => {
    const all = [...floors.values()].flat();
    const offline = all.filter((d) => d.online === false).length;
    const alarming = all.filter((d) => raised.has(d.id)).length;
    const worst = Math.min(9, ...all.map((d) => raised.get(d.id) ?? 9));
    const counts = h("span", { class: "counts" },
      h("span", {}, `${all.length} devices`),
      h("span", { class: offline ? "n-off" : "zero" }, `${offline} offline`),
      h("span", { class: alarming ? `n-alarm u${worst}` : "zero" }, `${alarming} alarming`));
    const details = h("details", { class: `building${alarming ? " has-alarm" : ""}${offline ? " has-offline" : ""}`,
      open: !collapsed.has(building), ontoggle: (ev) => rememberCollapsed(building, ev.target.open) },
      h("summary", {}, h("span", { class: "bname" }, `Building ${building}`), counts),
      h("div", { class: "floors" }, ...[...floors].map(([floor, devices]) => h("div", { class: "floor" },
        h("span", { class: "fname" }, floorName(floor)),
        h("ul", { class: "chips" }, ...devices.map((d) => deviceChip(d, raised.get(d.id))))))));
    return details;
  }));
  const offline = state.devices.filter((d) => d.online === false).length;
  $("device-count").textContent = `${state.devices.length}` + (offline ? ` · ${offline} offline` : "")
    + (raised.size ? ` · ${raised.size} alarming` : "");
}

// --- the figures the service is judged by (DOMAIN.md §6) -------------------------------------------

const dash = "—";
const one = (v) => v.toFixed(v === Math.round(v) ? 0 : 1);  // never rounds a miss up to its target: 89.6 stays 89.6
const pct = (v) => (v === null || v === undefined ? dash : `${one(v)} %`);
function minutes(seconds) {
  if (seconds === null || seconds === undefined) return dash;
  const m = seconds / 60;
  return `${m < 10 ? m.toFixed(1) : Math.round(m)} min`;
}
function against(v, target) {
  // met: green; a little short (within 10 points): amber; further: red; no data: neutral
  if (v === null || v === undefined) return "none";
  return v >= target ? "good" : v >= target - 10 ? "warn" : "bad";
}

function kpiTile(label, value, cls, target, detail) {
  // always the same four lines, so the tiles keep their height whatever the numbers
  return h("div", { class: `kpi ${cls}`, title: detail || null }, h("span", { class: "kpi-label" }, label),
    h("b", { class: "kpi-value" }, value), h("span", { class: "kpi-small" }, target || "\u00a0"),
    h("span", { class: "kpi-small" }, detail || "\u00a0"));
}

function renderKpis() {
  const k = state.kpis || {};
  const has = !!state.kpis;
  const br = k.breaches_by_level || {};
  const breachCells = [1, 2, 3, 4].map((level) => {
    const n = has ? (br[String(level)] ?? 0) : null;
    const cls = n === null ? "none" : n === 0 ? "good" : level === 1 ? "bad" : "warn";
    return h("span", { class: `breach ${cls}` }, h("small", {}, `L${level}`), n === null ? dash : String(n));
  });
  const perTen = has ? k.alarms_per_10min : null;
  const peak = has ? k.alarms_peak_10min : null;
  const top = k.top_faulty_devices || [];
  const topItems = top.length ? top.map((d) => h("li", {}, h("span", {}, d.device), h("b", {}, `× ${d.alerts}`)))
    : [h("li", { class: "blank" }, has ? "none" : dash)];
  $("kpis").replaceChildren(
    kpiTile("Response on time", pct(k.response_compliance_pct), against(k.response_compliance_pct, 90),
      "target ≥ 90 %", has ? `${k.steps_on_time} of ${k.steps_due} steps` : ""),
    kpiTile("First-time fix", pct(k.first_time_fix_pct), against(k.first_time_fix_pct, 90),
      "target ≥ 90 %", has ? `${k.closed} closed` : ""),
    kpiTile("Satisfaction", k.satisfaction === null || k.satisfaction === undefined ? dash : `${one(k.satisfaction)} / 100`,
      against(k.satisfaction, 85), "target ≥ 85 / 100", has ? `${k.rated} rated` : ""),
    kpiTile("Mean to accept", minutes(k.mean_accept_s), "plain", "from the report", ""),
    kpiTile("Mean to arrive", minutes(k.mean_arrive_s), "plain", "from the report", ""),
    kpiTile("Mean to resolve", minutes(k.mean_resolve_s), "plain", "from the report", ""),
    h("div", { class: "kpi breach-tile" }, h("span", { class: "kpi-label" }, "Breaches by level"),
      h("div", { class: "breaches" }, ...breachCells)),
    kpiTile("Repeat reports", has ? String(k.repeat_reports) : dash, !has ? "none" : k.repeat_reports ? "warn" : "good",
      "within 7 days", has && k.repeat_tickets.length ? k.repeat_tickets.join(", ") : ""),
    kpiTile("Alarms per 10 min", perTen === null ? dash : String(perTen), perTen === null ? "none"
      : perTen >= FLOOD ? "bad" : perTen > 1 ? "warn" : "good", "calm ≈ 1, flood ≥ 10", has ? `${k.alarms} alarms in all` : ""),
    kpiTile("Busiest 10 min", peak === null ? dash : String(peak), peak === null ? "none" : peak >= FLOOD ? "bad" : "plain",
      "flood ≥ 10", ""),
    h("div", { class: "kpi wide" }, h("span", { class: "kpi-label" }, "Top faulty devices (alarms)"),
      h("ol", { class: "top-devices" }, ...topItems)));
  const days = has ? Math.round((ms(k.to) - ms(k.from)) / 86400000) : null;
  $("kpi-window").textContent = has ? `· last ${days} day${days === 1 ? "" : "s"}` : "";
  const note = $("kpi-note");
  note.textContent = state.kpisError || (state.kpisAt ? `Updated ${clockText(state.kpisAt)}, every minute.` : "Loading…");
  note.className = `kpi-note${state.kpisError ? " stale" : ""}`;
}

// --- start ---------------------------------------------------------------------------------------

function start() {
  state.token = readToken();
  $("signout").onclick = () => { localStorage.removeItem("caretaker.token"); askToken(); };
  if (!state.token) { askToken(); return; }
  setLink("polling");
  renderKpis();  // the panel's frame at once, "—" in each figure, so nothing jumps when the numbers arrive
  loadAll();
  loadKpis();
  keepStreaming();
  setInterval(tick, 1000);
  setInterval(() => { if (!state.live) loadAll(); }, POLL_MS);
  setInterval(() => { if (state.live) loadTickets().catch(() => {}); loadAlerts().catch(() => {}); }, REFRESH_MS);
  setInterval(() => loadTechnicians().catch(() => {}), SLOW_REFRESH_MS);
  setInterval(() => loadDevices().catch(() => {}), DEVICE_REFRESH_MS);
  setInterval(() => loadKpis(), KPI_REFRESH_MS);
}
document.addEventListener("DOMContentLoaded", start);
