// The figures the service is judged by, over the service's default window (the last 7 days).

import { $, h } from "../dom.js";
import { DASH, against, minutes, one, pct } from "../figures.js";
import { at, level, ms, state, t } from "../state.js";
import { FLOOD } from "./alarms.js";

function kpiTile(label, value, cls, target, detail) {
  // always the same four lines, so the tiles keep their height whatever the numbers
  return h("div", { class: `kpi ${cls}`, title: detail || null }, h("span", { class: "kpi-label" }, label),
    h("b", { class: "kpi-value" }, value), h("span", { class: "kpi-small" }, target || "\u00a0"),
    h("span", { class: "kpi-small" }, detail || "\u00a0"));
}

export function renderKpis() {
  const k = state.kpis || {};
  const has = !!state.kpis;
  const br = k.breaches_by_level || {};
  const breachCells = [1, 2, 3, 4].map((lvl) => {
    const n = has ? (br[String(lvl)] ?? 0) : null;
    const cls = n === null ? "none" : n === 0 ? "good" : lvl === 1 ? "bad" : "warn";
    return h("span", { class: `breach ${cls}` }, h("small", {}, level(lvl)), n === null ? DASH : String(n));
  });
  const perTen = has ? k.alarms_per_10min : null;
  const peak = has ? k.alarms_peak_10min : null;
  const top = k.top_faulty_devices || [];
  const topItems = top.length ? top.map((d) => h("li", {}, h("span", {}, d.device), h("b", {}, `× ${d.alerts}`)))
    : [h("li", { class: "blank" }, has ? t("kpi.none") : DASH)];
  const satisfaction = k.satisfaction === null || k.satisfaction === undefined ? DASH : t("kpi.score", { n: one(k.satisfaction) });
  $("kpis").replaceChildren(
    kpiTile(t("kpi.response"), pct(k.response_compliance_pct), against(k.response_compliance_pct, 90),
      t("kpi.target_pct", { n: 90 }), has ? t("kpi.steps", { on: k.steps_on_time, due: k.steps_due }) : ""),
    kpiTile(t("kpi.ftf"), pct(k.first_time_fix_pct), against(k.first_time_fix_pct, 90),
      t("kpi.target_pct", { n: 90 }), has ? t("kpi.closed", { n: k.closed }) : ""),
    kpiTile(t("kpi.satisfaction"), satisfaction, against(k.satisfaction, 85), t("kpi.target_score", { n: 85 }),
      has ? t("kpi.rated", { n: k.rated }) : ""),
    kpiTile(t("kpi.accept"), minutes(k.mean_accept_s, t), "plain", t("kpi.from_report"), ""),
    kpiTile(t("kpi.arrive"), minutes(k.mean_arrive_s, t), "plain", t("kpi.from_report"), ""),
    kpiTile(t("kpi.resolve"), minutes(k.mean_resolve_s, t), "plain", t("kpi.from_report"), ""),
    h("div", { class: "kpi breach-tile" }, h("span", { class: "kpi-label" }, t("kpi.breaches")),
      h("div", { class: "breaches" }, ...breachCells)),
    kpiTile(t("kpi.repeats"), has ? String(k.repeat_reports) : DASH, !has ? "none" : k.repeat_reports ? "warn" : "good",
      t("kpi.within_7"), has && k.repeat_tickets.length ? k.repeat_tickets.join(", ") : ""),
    kpiTile(t("kpi.alarms10"), perTen === null ? DASH : String(perTen), perTen === null ? "none"
      : perTen >= FLOOD ? "bad" : perTen > 1 ? "warn" : "good", t("kpi.calm"), has ? t("kpi.alarms_all", { n: k.alarms }) : ""),
    kpiTile(t("kpi.callbacks"), pct(k.callback_rate_pct), k.callback_rate_pct === null || k.callback_rate_pct === undefined ? "none" : against(k.callback_rate_pct, 95),
      t("kpi.callback_window"), has ? t("kpi.callbacks_n", { on: k.callbacks_on_time, due: k.callbacks_due }) : ""),
    kpiTile(t("kpi.busiest"), peak === null ? DASH : String(peak), peak === null ? "none" : peak >= FLOOD ? "bad" : "plain",
      t("kpi.flood"), ""),
    h("div", { class: "kpi wide" }, h("span", { class: "kpi-label" }, t("kpi.top")),
      h("ol", { class: "top-devices" }, ...topItems)));
  const days = has ? Math.round((ms(k.to) - ms(k.from)) / 86400000) : null;
  $("kpi-window").textContent = has ? (days === 1 ? t("kpi.window_one") : t("kpi.window", { n: days })) : "";
  const note = $("kpi-note");
  note.textContent = state.kpisError || (state.kpisAt ? t("kpi.updated", { time: at(state.kpisAt) }) : t("kpi.loading"));
  note.className = `kpi-note${state.kpisError ? " stale" : ""}`;
}
