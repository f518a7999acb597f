// The control room: open tickets with live deadlines, recent alarms, technicians, devices by building and
// floor, and the figures the service is judged by; in the estate's language and time zone. No build step,
// no CDN: ES modules served by the service itself.

import { api, readToken, stream, whenRefused } from "./api.js";
import { pickSite } from "./sites.js";
import { $, applyTexts, h, showError } from "./dom.js";
import { LANGUAGES, loadCatalogue, pickLanguage, translator } from "./i18n.js";
import { at, now, state, statuses, t } from "./state.js";
import { statusList } from "./statuses.js";
import { onSilenced, renderAlerts } from "./panels/alarms.js";
import { loadSilences, renderSilences, wireSilences } from "./panels/silences.js";
import { renderDevices } from "./panels/devices.js";
import { renderKpis } from "./panels/kpis.js";
import { renderSummary, renderTechnicians } from "./panels/people.js";
import { onAssign, onTicketsChanged, renderTickets, tickTickets } from "./panels/tickets.js";
import { openAssign } from "./panels/assign.js";
import { runSearch } from "./panels/search.js";
import { onFiled, openIntake } from "./panels/intake.js";
import { loadCallbacks, tickCallbacks } from "./panels/callbacks.js";
import { loadComplaints, onReportChanged, tickComplaints } from "./panels/complaints.js";
import { loadFigures } from "./panels/figures.js";
import { loadTokens } from "./panels/admin.js";
import { onView, showView, viewFromHash, wireViews } from "./views.js";

const POLL_MS = 3000;            // fallback when the live stream is down
const REFRESH_MS = 30000;        // full reload even while live, in case an event was missed
const SLOW_REFRESH_MS = 10000;   // technicians are not in the stream
const DEVICE_REFRESH_MS = 15000; // nor are devices' online states (their alarms are: see renderDevices)
const KPI_REFRESH_MS = 60000;    // a 7-day window, slow to move

// the board's tickets: every status the meta does not call final (statuses.js)
const boardStatuses = () => statusList(statuses(), statuses().board);

// --- language -------------------------------------------------------------------------------------

async function chooseLanguage(siteLocale) {
  const query = new URLSearchParams(location.search).get("lang");
  state.lang = pickLanguage({ query, stored: localStorage.getItem("caretaker.lang"), browser: navigator.languages || [],
    site: siteLocale });
  state.t = translator(await loadCatalogue(state.lang));
  document.documentElement.lang = state.lang;
  document.title = t("page.title");
  applyTexts(document, t);
  const pick = $("lang");
  pick.replaceChildren(...LANGUAGES.map((l) => h("option", { value: l }, l === "zh-CN" ? "中文" : "English")));
  pick.value = state.lang;
}

async function switchLanguage(lang) {
  localStorage.setItem("caretaker.lang", lang);
  const url = new URL(location.href); url.searchParams.delete("lang");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
  await chooseLanguage(state.meta && state.meta.site.locale);
  renderAll();
  showView(viewFromHash(location.hash));  // the open view in the new language
}

// --- the estate -----------------------------------------------------------------------------------

/** Which estate to work on, when the token sees several; remembered in this browser (docs/operators.md#estates). */
async function chooseSite() {
  try { state.sites = await api("/api/v1/sites"); } catch (e) { if (e.status === 401) throw e; state.sites = []; }
  state.site = pickSite({ sites: state.sites, query: new URLSearchParams(location.search).get("site"),
    stored: localStorage.getItem("caretaker.site") });
  if (state.site) localStorage.setItem("caretaker.site", state.site);
}

function renderSites() {
  const pick = $("site");
  pick.hidden = !state.site;  // one estate: nothing to choose, nothing shown
  if (!state.site) return;
  pick.setAttribute("aria-label", t("site.title"));
  pick.replaceChildren(...state.sites.map((s) => h("option", { value: s.id }, s.name)));
  pick.value = state.site;
}

function switchSite(site) {
  // a fresh page on the other estate: its tickets, its stream, its language and time zone
  localStorage.setItem("caretaker.site", site);
  const url = new URL(location.href); url.searchParams.delete("site");
  location.replace(url.pathname + url.search + url.hash);
}

// --- loading --------------------------------------------------------------------------------------

async function loadTickets() {
  // personal=false: the wall screen shows no resident's number, so nothing is audited for it
  const list = await api(`/api/v1/tickets?status=${boardStatuses()}&limit=500&personal=false`);
  state.tickets = new Map(list.map((tk) => [tk.id, tk]));
  renderTickets(); renderSummary();
}
async function loadAlerts() {
  try {
    const list = await api("/api/v1/alerts?limit=300");
    state.alerts = new Map(list.map((a) => [a.id, a]));
  } catch (e) { if (e.status === 403) state.canOperate = false; else throw e; }
  renderAlerts(); renderSummary(); renderDevices();
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
  catch (e) { state.kpisError = e.status === 403 ? t("kpi.forbidden") : t("kpi.stale", { error: e.message }); }
  renderKpis();
}
async function loadAll() {
  try { await Promise.all([loadTickets(), loadAlerts(), loadTechnicians(), loadDevices(), loadSilences()]); showError(""); }
  catch (e) { if (e.status !== 401) { showError(t("error.unreachable", { error: e.message })); setLink("offline"); } }
}

function renderAll() {
  state.alertKey = state.deviceKey = null;
  renderSites();
  renderTickets(); renderAlerts(); renderTechnicians(); renderDevices(); renderKpis(); renderSummary(); renderSilences();
  $("clock").textContent = at(now(), { seconds: true });
  setLink(state.live ? "live" : "polling");
}

// --- the live stream --------------------------------------------------------------------------------

function setLink(mode) {
  const el = $("link");
  el.className = "link " + mode;
  el.dataset.mode = mode;
  el.textContent = t(`link.${mode}`);
}
function onEvent(event, data) {
  if (event === "hello") { state.live = true; setLink("live"); loadAll(); return; }  // reload what we missed
  if (!data) return;
  const item = JSON.parse(data);
  if (event === "ticket") {
    upsertTicket(item);
  } else if (event === "alert") {
    state.alerts.set(item.id, item);
    renderAlerts(); renderSummary(); renderDevices();  // and the devices panel's alarm marks
  }
}
function upsertTicket(item) {
  if (!statuses().board.has(item.status)) state.tickets.delete(item.id);  // final: off the board
  else state.tickets.set(item.id, item);
  renderTickets(); renderSummary();
  onReportChanged(item);
}
async function keepStreaming() {
  for (;;) {
    try { await stream(onEvent); } catch (_) { /* fall through to polling */ }
    state.live = false; setLink("polling");
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function tick() {
  $("clock").textContent = at(now(), { seconds: true });
  tickTickets();
  if (document.body.dataset.view === "callbacks") tickCallbacks();
  if (document.body.dataset.view === "complaints") tickComplaints();
  renderAlerts(); renderSummary(); renderDevices();
}

// --- start ----------------------------------------------------------------------------------------

function askToken() {
  $("token-form").onsubmit = () => {
    localStorage.setItem("caretaker.token", $("token-input").value.trim());
    location.reload();
  };
  if (!$("token-dialog").open) $("token-dialog").showModal();
}

async function start() {
  state.token = readToken();
  whenRefused(askToken);
  $("signout").onclick = () => { localStorage.removeItem("caretaker.token"); askToken(); };
  $("lang").onchange = (ev) => switchLanguage(ev.target.value);
  $("site").onchange = (ev) => switchSite(ev.target.value);
  onTicketsChanged(upsertTicket);
  onAssign(openAssign);
  onSilenced(() => loadSilences().then(() => loadAlerts()).catch((e) => showError(e.message)));
  wireSilences();
  if (!state.token) { await chooseLanguage(null); askToken(); return; }
  try { await chooseSite(); [state.meta, state.me] = await Promise.all([api("/api/v1/meta"), api("/api/v1/me")]); } catch (e) { await chooseLanguage(null); if (e.status !== 401) showError(e.message); return; }
  await chooseLanguage(state.meta.site.locale);  // the chosen estate's language and time zone by default
  setLink("polling");
  $("admin-tab").hidden = state.me.role !== "admin";  // tokens are the admin's (docs/operators.md#admin)
  wireViews();
  $("new-report").onclick = openIntake;
  onFiled(upsertTicket);
  onView("tickets", runSearch);
  onView("callbacks", loadCallbacks);
  onView("complaints", loadComplaints);
  onView("figures", loadFigures);
  onView("admin", loadTokens);
  renderAll();  // the frames at once, "—" in each figure, so nothing jumps when the numbers arrive
  loadAll();
  loadKpis();
  keepStreaming();
  setInterval(tick, 1000);
  setInterval(() => { if (!state.live) loadAll(); }, POLL_MS);
  setInterval(() => { if (state.live) loadTickets().catch(() => {}); loadAlerts().catch(() => {}); }, REFRESH_MS);
  setInterval(() => loadTechnicians().catch(() => {}), SLOW_REFRESH_MS);
  setInterval(() => loadSilences().catch(() => {}), SLOW_REFRESH_MS);
  setInterval(() => loadDevices().catch(() => {}), DEVICE_REFRESH_MS);
  setInterval(() => loadKpis(), KPI_REFRESH_MS);
  showView(viewFromHash(location.hash));
  document.body.dataset.ready = "1";  // for the browser tests: the page has its data and its language
}
document.addEventListener("DOMContentLoaded", start);
