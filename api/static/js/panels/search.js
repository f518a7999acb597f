// Every ticket, closed and cancelled ones too: filters (status, building, trade, level, technician, words, a
// date range in the estate's days), a page at a time, each row opening the ticket with its full history.

import { $, h, showError } from "../dom.js";
import { api, headers } from "../api.js";
import { formValues } from "../forms.js";
import { technicianName, where } from "../names.js";
import { at, categoryLabel, level, now, siteZone, state, statusLabel, statuses, t } from "../state.js";
import { statusList } from "../statuses.js";
import { showDetail } from "./tickets.js";

export const PAGE = 25;
const search = { offset: 0, total: 0, built: false };

/** The instant a day starts in a time zone: "2026-12-01" in Asia/Shanghai -> 2026-11-30T16:00:00Z. Pure. */
export function dayStart(day, zone) {
  const [y, m, d] = day.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  // the zone's offset at that moment, read back from Intl: local wall time minus UTC
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
    .formatToParts(new Date(guess)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return new Date(guess - (wall - guess)).toISOString();
}

/** The status filter's choices: work still open, fixed and awaiting the call-back, then each final status on
 *  its own (closed, cancelled); each as [value, the statuses it asks the API for]. Pure, from the meta's vocabulary. */
export function statusGroups(vocab) {
  return [["open", statusList(vocab, vocab.open)], ["fixed", statusList(vocab, vocab.awaitingCallback)],
    ...vocab.ticketStatuses.filter((s) => vocab.final.has(s)).map((s) => [s, s])];
}

/** The query string of the filters as the API takes them; the "to" day is included whole. Pure. */
export function searchQuery(v, zone, offset, limit = PAGE, vocab = null) {
  const q = new URLSearchParams();
  const groups = Object.fromEntries(vocab ? statusGroups(vocab) : []);
  if (v.status) q.set("status", groups[v.status] || v.status);
  for (const key of ["building", "category", "urgency", "assignee", "q"]) if (v[key]) q.set(key, String(v[key]).trim());
  if (v.from) q.set("from", dayStart(v.from, zone));
  if (v.to) q.set("to", new Date(Date.parse(dayStart(v.to, zone)) + 86400000).toISOString());
  q.set("limit", String(limit)); q.set("offset", String(offset)); q.set("personal", "false");
  return q.toString();
}

function buildForm() {
  const m = state.meta;
  const any = [["", t("search.any")]];
  const select = (name, label, options) => h("label", { class: "field" }, h("span", {}, label),
    h("select", { name, "aria-label": label }, ...[...any, ...options].map(([v, text]) => h("option", { value: String(v) }, text))));
  const input = (name, label, type, extra = {}) => h("label", { class: "field" }, h("span", {}, label),
    h("input", { name, type, "aria-label": label, ...extra }));
  $("search-form").replaceChildren(
    select("status", t("search.status"), statusGroups(statuses()).map(([value]) => [value,
      value === "open" ? t("search.group_open") : value === "fixed" ? t("search.group_fixed") : statusLabel(value)])),
    select("building", t("search.building"), m.buildings.map((b) => [b.id, b.name])),
    select("category", t("search.trade"), m.categories.map((c) => [c.id, categoryLabel(c.id)])),
    select("urgency", t("search.level"), [1, 2, 3, 4].map((n) => [n, level(n)])),
    select("assignee", t("search.technician"), m.technicians.map((x) => [x.id, x.name])),
    input("from", t("search.from"), "date"), input("to", t("search.to"), "date"),
    input("q", t("search.words"), "search", { placeholder: t("search.words_hint"), maxlength: 100 }),
    h("div", { class: "field" }, h("span", {}, "\u00a0"), h("button", { type: "submit", "data-action": "search" }, t("search.go"))));
  $("search-form").onsubmit = (ev) => { ev.preventDefault(); search.offset = 0; runSearch(); };
  $("search-prev").onclick = () => { search.offset = Math.max(0, search.offset - PAGE); runSearch(); };
  $("search-next").onclick = () => { search.offset += PAGE; runSearch(); };
  search.built = state.lang;
}

function row(tk) {
  return h("tr", { "data-id": tk.id, class: `u${tk.urgency}`, onclick: () => showDetail(tk.id) },
    h("td", {}, h("span", { class: "level" }, level(tk.urgency))),
    h("td", { class: "mono" }, tk.id), h("td", {}, at(tk.created_at)), h("td", { class: "title-cell" }, tk.title),
    h("td", {}, where(tk.location, state.meta, t)), h("td", {}, categoryLabel(tk.category)),
    h("td", {}, h("span", { class: "status", "data-status": tk.status }, statusLabel(tk.status))),
    h("td", {}, tk.assignee ? technicianName(state.meta, tk.assignee) : "—"),
    h("td", {}, tk.closed_at ? at(tk.closed_at) : tk.resolved_at ? at(tk.resolved_at) : "—"),
    h("td", {}, tk.satisfaction ? `${tk.satisfaction} / 5` : "—"));
}

export async function runSearch() {
  if (search.built !== state.lang) buildForm();
  const v = formValues($("search-form"));
  try {
    const response = await fetch(`/api/v1/tickets?${searchQuery(v, siteZone(), search.offset, PAGE, statuses())}`,
      { headers: headers() });
    if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
    const list = await response.json();
    search.total = Number(response.headers.get("X-Total-Count") || list.length);
    const head = ["search.col_level", "search.col_id", "search.col_created", "search.col_title", "search.col_where",
      "search.col_trade", "search.col_status", "search.col_technician", "search.col_done", "search.col_rating"];
    $("search-results").replaceChildren(h("thead", {}, h("tr", {}, ...head.map((k) => h("th", {}, t(k))))),
      h("tbody", {}, ...(list.length ? list.map(row) : [h("tr", {}, h("td", { colspan: head.length, class: "empty" }, t("search.none")))])));
    const last = Math.min(search.offset + list.length, search.total);
    $("search-summary").textContent = t("search.found", { n: search.total });
    $("search-page").textContent = search.total ? t("search.page", { from: search.offset + 1, to: last, n: search.total }) : "";
    $("search-prev").disabled = search.offset === 0;
    $("search-next").disabled = last >= search.total;
    $("view-tickets").dataset.loaded = String(now());
  } catch (e) { showError(e.message); }
}
