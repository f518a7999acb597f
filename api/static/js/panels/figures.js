// Figures: the KPIs by trade, building, technician or month over any range, the charts of their trends
// (response on time per week, alarms per day, top faulty devices, satisfaction per trade), and the exports
// of tickets, alarms and the monthly report as CSV or Excel.

import { $, h, showError } from "../dom.js";
import { api, headers } from "../api.js";
import { barChart } from "../charts.js";
import { DASH, against, minutes, one, pct } from "../figures.js";
import { formValues } from "../forms.js";
import { dateInput } from "../time.js";
import { buildingName, technicianName } from "../names.js";
import { categoryLabel, now, siteZone, state, t } from "../state.js";
import { dayStart } from "./search.js";

const built = { lang: null };

/** The API's from/to for two days of the estate, the last one included whole. Pure. */
export function rangeQuery(fromDay, toDay, zone) {
  const q = new URLSearchParams();
  if (fromDay) q.set("from", dayStart(fromDay, zone));
  if (toDay) q.set("to", new Date(Date.parse(dayStart(toDay, zone)) + 86400000).toISOString());
  return q;
}

function groupName(by, key) {
  if (by === "trade") return categoryLabel(key);
  if (by === "building") return buildingName(state.meta, key);
  if (by === "technician") return key ? technicianName(state.meta, key) : t("figures.nobody");
  return key;
}

function buildForm() {
  const zone = siteZone();
  const today = dateInput(now(), zone);
  const first = `${today.slice(0, 8)}01`;
  const field = (label, control) => h("label", { class: "field" }, h("span", {}, label), control);
  $("figures-form").replaceChildren(
    field(t("figures.from"), h("input", { type: "date", name: "from", value: first })),
    field(t("figures.to"), h("input", { type: "date", name: "to", value: today })),
    field(t("figures.by"), h("select", { name: "by" }, ...["trade", "building", "technician", "month"].map((b) =>
      h("option", { value: b }, t(`figures.by_${b}`))))),
    h("div", { class: "field" }, h("span", {}, "\u00a0"), h("button", { type: "submit", "data-action": "show" }, t("figures.show"))));
  $("figures-form").onsubmit = (ev) => { ev.preventDefault(); loadFigures(); };
  const exportButton = (what, fmt) => h("button", { type: "button", class: "quiet", "data-export": `${what}.${fmt}`,
    onclick: () => download(what, fmt) }, t(`figures.export_${what}`, { fmt: fmt === "csv" ? "CSV" : "Excel" }));
  $("figures-exports").replaceChildren(h("span", { class: "label" }, t("figures.export")),
    ...["report", "tickets", "alerts"].flatMap((what) => [exportButton(what, "xlsx"), exportButton(what, "csv")]));
  built.lang = state.lang;
}

async function download(what, fmt) {
  const v = formValues($("figures-form"));
  const q = rangeQuery(v.from, v.to, siteZone());
  q.set("lang", state.lang);
  try {
    const response = await fetch(`/api/v1/exports/${what}.${fmt}?${q}`, { headers: headers() });
    if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
    const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: name ? name[1] : `${what}.${fmt}` });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (e) { showError(e.message); }
}

function table(by, groups) {
  const cols = [["figures.col_tickets", (k) => String(k.tickets)], ["kpi.response", (k) => pct(k.response_compliance_pct), (k) => against(k.response_compliance_pct, 90)],
    ["kpi.ftf", (k) => pct(k.first_time_fix_pct), (k) => against(k.first_time_fix_pct, 90)],
    ["kpi.satisfaction", (k) => (k.satisfaction === null ? DASH : one(k.satisfaction)), (k) => against(k.satisfaction, 85)],
    ["kpi.callbacks", (k) => pct(k.callback_rate_pct)], ["kpi.accept", (k) => minutes(k.mean_accept_s, t)],
    ["kpi.arrive", (k) => minutes(k.mean_arrive_s, t)], ["kpi.resolve", (k) => minutes(k.mean_resolve_s, t)],
    ["kpi.breaches", (k) => String(Object.values(k.breaches_by_level).reduce((a, b) => a + b, 0))],
    ["kpi.repeats", (k) => String(k.repeat_reports)], ["figures.col_alarms", (k) => (by === "building" || by === "month" ? String(k.alarms) : DASH)]];
  return [h("thead", {}, h("tr", {}, h("th", {}, t(`figures.by_${by}`)), ...cols.map(([k]) => h("th", {}, t(k))))),
    h("tbody", {}, ...(groups.length ? groups.map((g) => h("tr", { "data-key": g.key }, h("td", {}, h("b", {}, groupName(by, g.key))),
      ...cols.map(([, value, cls]) => h("td", { class: cls ? `fig ${cls(g.kpis)}` : "fig" }, value(g.kpis)))))
      : [h("tr", {}, h("td", { colspan: cols.length + 1, class: "empty" }, t("figures.none")))]))];
}

function charts(trend) {
  const percent = (v) => `${one(v)}%`;
  const weeks = trend.weeks;
  const days = trend.days;
  const devices = trend.top_faulty_devices;
  const sat = trend.satisfaction_by_trade;
  const card = (titleKey, svg, id) => h("figure", { class: "chart-card", id }, h("figcaption", {}, t(titleKey)), svg);
  $("figures-charts").replaceChildren(
    card("figures.chart_response", barChart({ values: weeks.map((w) => w.response_compliance_pct), labels: weeks.map((w) => w.week.slice(5)),
      max: 100, target: 90, format: percent, title: t("figures.chart_response"),
      colour: (v) => `bar ${against(v, 90)}` }), "chart-response"),
    card("figures.chart_alarms", barChart({ values: days.map((d) => d.alarms), labels: days.map((d) => d.day.slice(8)),
      labelEvery: Math.max(1, Math.ceil(days.length / 16)), title: t("figures.chart_alarms") }), "chart-alarms"),
    card("figures.chart_devices", devices.length ? barChart({ values: devices.map((d) => d.alerts), labels: devices.map((d) => d.device),
      title: t("figures.chart_devices"), colour: () => "bar warn" }) : h("p", { class: "empty" }, t("kpi.none")), "chart-devices"),
    card("figures.chart_satisfaction", barChart({ values: sat.map((s) => s.satisfaction), labels: sat.map((s) => categoryLabel(s.trade)),
      max: 100, target: 85, format: (v) => one(v), title: t("figures.chart_satisfaction"),
      colour: (v) => `bar ${against(v, 85)}` }), "chart-satisfaction"));
}

export async function loadFigures() {
  if (built.lang !== state.lang) buildForm();
  const v = formValues($("figures-form"));
  const q = rangeQuery(v.from, v.to, siteZone());
  try {
    const [groups, trend] = await Promise.all([api(`/api/v1/kpis/breakdown?by=${v.by}&${q}`), api(`/api/v1/kpis/trends?${q}`)]);
    $("figures-table").replaceChildren(...table(v.by, groups));
    charts(trend);
    $("view-figures").dataset.loaded = `${v.by}|${now()}`;
  } catch (e) { showError(e.message); }
}
