// The control room: open tickets with live deadlines, recent alarms, technicians. No build step, no CDN.
"use strict";

const OPEN = "open,assigned,accepted,on_site,resolved,verified";
const POLL_MS = 3000;            // fallback when the live stream is down
const REFRESH_MS = 30000;        // full reload even while live, in case an event was missed
const SLOW_REFRESH_MS = 10000;   // technicians and devices are not in the stream
const FLOOD = 10;                // DOMAIN.md §6: 10 or more alarms in 10 minutes
const TEN_MIN = 10 * 60 * 1000;
const WARN_FRACTION = 0.8;

const state = { token: null, tickets: new Map(), alerts: new Map(), technicians: [], devices: [],
                skewMs: 0, live: false, canOperate: true };
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
async function loadSlow() {
  try {
    [state.technicians, state.devices] = await Promise.all([api("/api/v1/technicians"), api("/api/v1/devices")]);
  } catch (e) { if (e.status !== 403) throw e; }
  renderTechnicians(); renderSummary();
}
async function loadAll() {
  try { await Promise.all([loadTickets(), loadAlerts(), loadSlow()]); showError(""); }
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
    renderAlerts();
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

// --- start ---------------------------------------------------------------------------------------

function start() {
  state.token = readToken();
  $("signout").onclick = () => { localStorage.removeItem("caretaker.token"); askToken(); };
  if (!state.token) { askToken(); return; }
  setLink("polling");
  loadAll();
  keepStreaming();
  setInterval(tick, 1000);
  setInterval(() => { if (!state.live) loadAll(); }, POLL_MS);
  setInterval(() => { if (state.live) loadTickets().catch(() => {}); loadAlerts().catch(() => {}); }, REFRESH_MS);
  setInterval(() => loadSlow().catch(() => {}), SLOW_REFRESH_MS);
}
document.addEventListener("DOMContentLoaded", start);
