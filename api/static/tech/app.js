// The technician's app (docs/technicians.md): my open jobs, live; accept, decline, arrive, done, resolve
// with photos; every step goes through a queue that survives no signal and is sent in order.

import { Api, ApiError, NetworkError, transient } from "./api.js";
import * as alerts from "./alerts.js";
import { loadCatalogue, pickLocale, translatePage, translator } from "./i18n.js";
import * as queue from "./queue.js";
import { actionsFor, clock, distanceText, isMasked, myPart, ordered, placeText, valueText } from "./view.js";

const TOKEN_KEY = "caretaker.tech.token";
const CACHE_KEY = "caretaker.tech.tickets"; // the last list, to open in a basement; no resident data kept
const OPEN = "assigned,accepted,on_site";
const RELOAD_MS = 30000;  // a full reload even while live, in case an event was missed
const RETRY_MS = 5000;    // how often waiting steps are tried again while the signal is away
const $ = (id) => document.getElementById(id);

const state = {
  t: (key) => key, locale: "zh-CN", api: null, me: null, whoami: null, timezone: undefined,
  tickets: new Map(),   // id -> ticket JSON, as REST shows it to me
  alerted: new Set(),   // my part's keys already announced
  primed: false,        // the first load announces nothing
  pending: [],          // queued steps, as stored
  sending: null,        // the seq being sent
  refused: [],          // {what, reason} the server refused, until dismissed
  live: false,
};

// --- small helpers ---------------------------------------------------------------------------------

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

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

function showNotice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

const timeText = (iso) => new Date(iso).toLocaleTimeString(state.locale, { hour: "2-digit", minute: "2-digit", hour12: false,
                                                                             timeZone: state.timezone });

// --- the token ---------------------------------------------------------------------------------------

function readToken() {
  // the link is /tech#token=...: the fragment never reaches the server or its logs
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY);
}

function askToken(message) {
  if (message) showError(message);
  const dialog = $("token-dialog");
  $("token-form").onsubmit = () => {
    localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    location.reload();
  };
  if (!dialog.open) dialog.showModal();
}

// --- tickets --------------------------------------------------------------------------------------

function remember() {
  const kept = [...state.tickets.values()].map((t) => ({ ...t, reporter: null, reporters: [] }));
  localStorage.setItem(CACHE_KEY, JSON.stringify({ me: state.whoami, tickets: kept }));
}

function take(ticket) {
  const part = myPart(ticket, state.me);
  if (!part) {
    state.tickets.delete(ticket.id);
    return;
  }
  const before = state.tickets.get(ticket.id);
  state.tickets.set(ticket.id, before && before.route && !ticket.route ? { ...before, ...ticket,
    route: before.route, device_values: before.device_values, reporter: before.reporter } : ticket);
  if (part.status === "assigned" && !state.alerted.has(part.key)) {
    state.alerted.add(part.key);
    if (state.primed) announce(ticket, part);
  }
}

async function announce(ticket, part) {
  const minutes = Math.max(0, Math.round((Date.parse(part.acceptBy) - state.api.now()) / 60000));
  const done = await alerts.newJob(state.t("new.title", { title: ticket.title }),
                                   state.t("new.body", { place: placeText(state.t, ticket), minutes }), ticket.id);
  document.body.dataset.announced = String(Number(document.body.dataset.announced || 0) + 1);
  document.body.dataset.lastAlert = JSON.stringify(done);
  const card = document.querySelector(`[data-ticket="${CSS.escape(ticket.id)}"]`);
  if (card) card.classList.add("fresh");
}

async function loadAll() {
  const tickets = await state.api.request(`/api/v1/tickets?status=${OPEN}`);
  const seen = new Set(tickets.map((t) => t.id));
  for (const id of [...state.tickets.keys()]) if (!seen.has(id)) state.tickets.delete(id);
  for (const ticket of tickets) take(ticket);
  remember();
  render();
}

async function loadOne(id) {
  try {
    take(await state.api.request(`/api/v1/tickets/${encodeURIComponent(id)}`));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) state.tickets.delete(id);
    else throw err;
  }
  remember();
  render();
}

// --- the live stream ------------------------------------------------------------------------------

function setLink(kind) {
  const el = $("link");
  el.dataset.state = kind;
  el.textContent = state.t(`link.${kind}`);
}

function connect() {
  const source = new EventSource(`/api/v1/stream?token=${encodeURIComponent(state.api.token)}`);
  source.addEventListener("hello", () => {
    state.live = true;
    setLink("live");
    loadAll().catch(() => {}); // anything missed while away
  });
  source.addEventListener("ticket", (event) => {
    const ticket = JSON.parse(event.data);
    take(ticket); // at once, so a new job rings without waiting for the read below
    render();
    loadOne(ticket.id).catch(() => {}); // the full ticket: the resident's number, the route, the readings
  });
  source.addEventListener("withdrawn", (event) => {
    const { ticket } = JSON.parse(event.data);
    if (state.tickets.delete(ticket)) showNotice(state.t("withdrawn", { ticket }));
    remember();
    render();
  });
  source.addEventListener("unauthorized", () => {
    source.close();
    askToken(state.t("error.token"));
  });
  source.onerror = () => {
    state.live = false;
    setLink(navigator.onLine ? "connecting" : "offline"); // EventSource tries again by itself
  };
}

// --- steps, through the queue -----------------------------------------------------------------------

function stepText(step) {
  return state.t(`step.${step.action}`, { ticket: step.ticket, photos: (step.photos || []).length });
}

async function takeStep(step) {
  await queue.add({ ...step, waiting: !navigator.onLine, at: new Date().toISOString() });
  await refreshQueue();
  flush();
}

async function send(step) {
  const base = `/api/v1/tickets/${encodeURIComponent(step.ticket)}`;
  if (step.action === "decline") return state.api.post(`${base}/decline`, { note: step.note });
  if (step.action === "done") {
    return state.api.post(step.assignment ? `/api/v1/assignments/${encodeURIComponent(step.assignment)}/done`
                                          : `${base}/done`);
  }
  if (step.action !== "resolve") return state.api.post(`${base}/${step.action}`);
  step.urls = step.urls || [];
  for (let i = step.urls.length; i < step.photos.length; i += 1) {
    const photo = step.photos[i];
    let answer;
    try {
      answer = await state.api.upload(step.ticket, photo.blob, photo.name);
    } catch (err) {
      if (err instanceof ApiError && !transient(err)) err.message = state.t("queue.failed_photo", { reason: err.message });
      throw err;
    }
    step.urls.push(answer.url);
    await queue.put(step); // a photo sent is not sent again when the resolve itself must wait
  }
  return state.api.post(`${base}/resolve`, { note: step.note, photos: step.urls });
}

let flushing = false;

// one sender at a time, across the app's tabs too: a step is never sent twice
function flush() {
  if (flushing) return Promise.resolve();
  return navigator.locks ? navigator.locks.request("caretaker.tech.queue", sendQueued) : sendQueued();
}

async function sendQueued() {
  if (flushing) return;
  flushing = true;
  try {
    for (const step of await queue.all()) {
      state.sending = step.seq;
      renderQueue();
      try {
        const ticket = await send(step);
        await queue.remove(step.seq);
        if (ticket && ticket.id) take(ticket);
        if (step.action === "decline") state.tickets.delete(step.ticket);
        remember();
      } catch (err) {
        if (transient(err)) { // kept, in order: nothing after it goes before it
          step.waiting = true;
          await queue.put(step);
          break;
        }
        await queue.remove(step.seq);
        if (err instanceof ApiError && err.status === 401) {
          askToken(state.t("error.token"));
          break;
        }
        state.refused.push({ what: stepText(step), reason: refusal(err) });
        loadOne(step.ticket).catch(() => {}); // show the ticket as it really stands
      }
    }
  } finally {
    state.sending = null;
    flushing = false;
    await refreshQueue();
    render();
  }
}

// the server's reason, after what it means in the page's language
function refusal(err) {
  const key = `refused.${err.status}`;
  const meaning = state.t(key);
  return meaning === key ? err.message : state.t("refused.with", { meaning, detail: err.message });
}

async function refreshQueue() {
  state.pending = await queue.all();
  renderQueue();
}

// --- rendering ----------------------------------------------------------------------------------

function renderQueue() {
  const el = $("queue");
  const rows = state.pending.map((step) => h("p", { class: step.seq === state.sending && !step.waiting ? "sending" : "waiting",
                                                     "data-queued": step.action, "data-ticket": step.ticket },
    state.t(step.seq === state.sending && !step.waiting ? "queue.sending" : "queue.waiting", { what: stepText(step) })));
  const refused = state.refused.map((r, i) => h("p", { class: "refused", role: "alert" },
    h("span", {}, state.t("queue.refused", r)),
    h("button", { type: "button", class: "quiet", onclick: () => { state.refused.splice(i, 1); renderQueue(); } },
      state.t("action.dismiss"))));
  el.replaceChildren(...rows, ...refused);
  el.hidden = !rows.length && !refused.length;
}

function deadline(kind, iso) {
  return iso ? h("span", { class: "deadline", "data-deadline": iso, "data-kind": kind }) : null;
}

function deviceBlock(ticket) {
  const device = ticket.device_values;
  if (!device) return null;
  const entries = Object.entries(device.values || {});
  const rows = entries.map(([name, value]) => h("div", { class: "reading" },
    h("dt", {}, state.t(`metric.${name}`)), h("dd", {}, valueText(state.t, value))));
  const foot = [device.online === false ? state.t("device.offline") : null,
                device.last_seen ? state.t("device.seen", { time: timeText(device.last_seen) }) : null].filter(Boolean);
  return h("div", { class: "device" }, h("h3", {}, `${state.t("device")} · ${ticket.device}`),
    rows.length ? h("dl", {}, rows) : h("p", {}, state.t("device.none")),
    foot.length ? h("p", { class: "seen" }, foot.join(" · ")) : null);
}

function residentBlock(ticket) {
  const phone = ticket.reporter && ticket.reporter.phone;
  if (!phone) return null;
  return h("p", { class: "resident" }, h("span", {}, state.t("resident")),
    isMasked(phone) ? h("span", { class: "phone" }, phone)
                    : h("a", { class: "phone", href: `tel:${phone.replace(/[^\d+]/g, "")}` }, phone));
}

function card(ticket, part) {
  const waiting = state.pending.some((s) => s.ticket === ticket.id);
  const actions = actionsFor(part).map((action, i) => h("button", {
    type: "button", "data-action": action, class: i === 0 ? "primary" : "", // the step expected next
    disabled: waiting, onclick: () => act(action, ticket, part) }, state.t(`action.${action}`)));
  const clocks = [part.status === "assigned" ? deadline("accept", part.acceptBy) : null,
                  part.status !== "on_site" ? deadline("arrive", part.arriveBy) : null].filter(Boolean);
  return h("li", { class: `card u${ticket.urgency}`, "data-ticket": ticket.id, "data-status": part.status },
    h("div", { class: "top" },
      h("span", { class: `urgency u${ticket.urgency}` }, state.t(`urgency.${ticket.urgency}`)),
      h("span", { class: `status s-${part.status}` }, state.t(`status.${part.status}`)),
      part.role === "support" ? h("span", { class: "role" }, state.t("role.support")) : null,
      h("span", { class: "id" }, ticket.id)),
    h("h2", { class: "title" }, ticket.title),
    h("p", { class: "place" }, placeText(state.t, ticket)),
    ticket.route ? h("p", { class: "route" }, distanceText(state.t, ticket.route)) : null,
    clocks.length ? h("div", { class: "clocks" }, clocks) : null,
    residentBlock(ticket),
    deviceBlock(ticket),
    h("div", { class: "actions" }, actions));
}

function render() {
  const items = [];
  for (const ticket of state.tickets.values()) {
    const part = myPart(ticket, state.me);
    if (part) items.push({ ticket, part });
  }
  const fresh = new Set([...document.querySelectorAll(".card.fresh")].map((c) => c.dataset.ticket));
  const cards = ordered(items).map(({ ticket, part }) => card(ticket, part));
  for (const c of cards) if (fresh.has(c.dataset.ticket) && c.dataset.status === "assigned") c.classList.add("fresh");
  $("list").replaceChildren(...cards);
  $("empty").hidden = items.length > 0;
  tick();
}

function tick() {
  const now = state.api ? state.api.now() : Date.now();
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const left = Date.parse(el.dataset.deadline) - now;
    el.classList.toggle("late", left < 0);
    el.classList.toggle("soon", left >= 0 && left < 60000);
    el.textContent = `${state.t(left < 0 ? "left.late" : `left.${el.dataset.kind}`)} ${clock(left)}`;
  }
}

// --- the step dialogs --------------------------------------------------------------------------------

function act(action, ticket, part) {
  alerts.unlock();
  const step = { action, ticket: ticket.id, assignment: part.assignment };
  if (action === "decline") return askDecline(step);
  if (action === "resolve") return askResolve(step);
  return takeStep(step);
}

function closeOn(dialog) {
  for (const b of dialog.querySelectorAll("[data-close]")) b.onclick = () => dialog.close();
}

function askDecline(step) {
  const dialog = $("decline-dialog");
  $("decline-reason").value = "";
  closeOn(dialog);
  $("decline-form").onsubmit = (event) => {
    const note = $("decline-reason").value.trim();
    if (!note) { event.preventDefault(); return; }
    takeStep({ ...step, note });
  };
  dialog.showModal();
}

function askResolve(step) {
  const dialog = $("resolve-dialog");
  const photos = [];
  const previews = $("resolve-previews");
  const problem = (text) => { $("resolve-problem").textContent = text || ""; $("resolve-problem").hidden = !text; };
  $("resolve-note").value = "";
  $("resolve-photo").value = "";
  previews.replaceChildren();
  problem(null);
  closeOn(dialog);
  dialog.onclose = () => { for (const img of previews.querySelectorAll("img")) URL.revokeObjectURL(img.src); };
  const count = () => { $("resolve-count").textContent = photos.length ? state.t("resolve.count", { n: photos.length }) : ""; };
  count();
  $("resolve-photo").onchange = () => {
    for (const file of $("resolve-photo").files) {
      photos.push({ blob: file, name: file.name });
      previews.append(h("img", { src: URL.createObjectURL(file), alt: file.name, class: "preview" }));
    }
    $("resolve-photo").value = "";
    count();
    problem(null);
  };
  $("resolve-form").onsubmit = (event) => {
    const note = $("resolve-note").value.trim();
    if (!note || !photos.length) {
      event.preventDefault();
      problem(state.t(note ? "resolve.need_photo" : "resolve.need_note"));
      return;
    }
    takeStep({ ...step, note, photos });
  };
  dialog.showModal();
}

// --- start -------------------------------------------------------------------------------------------

function enableButton() {
  const button = $("enable-alerts");
  const update = () => { button.hidden = alerts.ready(); };
  update();
  button.onclick = async () => {
    await alerts.enable();
    update();
  };
  document.addEventListener("pointerdown", () => alerts.unlock().then(update), { once: true });
}

async function start() {
  state.locale = pickLocale();
  document.documentElement.lang = state.locale;
  state.t = translator(await loadCatalogue(state.locale));
  translatePage(document, state.t);
  document.title = state.t("app.title");
  setLink("connecting");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/tech/sw.js", { scope: "/tech" }).catch(() => {});
  enableButton();

  const token = readToken();
  if (!token) return askToken();
  state.api = new Api(token);
  await refreshQueue();
  const introduce = (me) => {
    state.whoami = me;
    state.me = me.subject;
    state.timezone = me.site.timezone; // times in the estate's zone, whatever the phone's
    $("who").textContent = state.t("app.subtitle", { name: me.name || me.subject, site: me.site.name });
  };
  try {
    introduce(await state.api.request("/api/v1/me"));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return askToken(state.t("error.token"));
    if (!(err instanceof NetworkError)) return showError(err.message);
    const cached = JSON.parse(localStorage.getItem(CACHE_KEY) || "null"); // opened with no signal
    if (!cached || !cached.me) return showError(state.t("error.network"));
    introduce(cached.me);
    for (const ticket of cached.tickets) take(ticket);
    setLink("offline");
  }
  render();
  try {
    await loadAll(); // what is already mine is no news: nothing rings for it
  } catch (err) {
    if (!(err instanceof NetworkError)) showError(err.message);
  }
  state.primed = true;
  connect();
  setInterval(tick, 1000);
  setInterval(() => { if (state.live) loadAll().catch(() => {}); }, RELOAD_MS);
  setInterval(() => { if (state.pending.length) flush(); }, RETRY_MS);
  window.addEventListener("online", () => { showError(null); setLink("connecting"); flush(); });
  window.addEventListener("offline", () => setLink("offline"));
  document.addEventListener("visibilitychange", () => { // a phone wakes the page: catch up at once
    if (document.visibilityState !== "visible") return;
    loadAll().catch(() => {});
    flush();
  });
  flush();
}

start().catch((err) => showError(err.message));
