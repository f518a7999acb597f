// The technicians (on site, on shift, their work) and the header's summary figures.

import { $, h } from "../dom.js";
import { isLate } from "../deadlines.js";
import { where } from "../names.js";
import { at, level, now, sourceLabel, state, statusLabel, statuses, t } from "../state.js";
import { FLOOD, recentAlerts } from "./alarms.js";

export function renderTechnicians() {
  $("technicians").replaceChildren(...state.technicians.map((x) => h("li", { "data-id": x.id },
    h("span", { class: "what" }, x.name, h("span", { class: `tag ${x.on_site ? "on" : "off"}` }, x.on_site ? t("techs.on_site") : t("techs.away")),
      h("span", { class: `tag ${x.on_shift ? "on" : "off"}` }, x.on_shift ? t("techs.on_shift") : t("techs.off_shift"))),
    h("span", { class: "when" }, x.seen_at ? at(x.seen_at) : ""),
    h("span", { class: "meta" }, where(x.location, state.meta, t), x.source ? ` (${sourceLabel(x.source)})` : "",
      x.current.length ? " · " + x.current.map((c) => `${level(c.urgency)} ${c.id} ${statusLabel(c.status)}`).join(", ")
        : ` · ${t("techs.free")}`))));
}

export function renderSummary() {
  const when = now();
  const tickets = [...state.tickets.values()];
  const vocab = statuses();
  const late = tickets.filter((tk) => isLate(tk, when, vocab)).length;
  const unassigned = tickets.filter((tk) => vocab.unassigned.has(tk.status)).length;
  const offline = state.devices.filter((d) => d.online === false).length;
  const onSite = state.technicians.filter((x) => x.on_site && x.on_shift).length;
  const recent = recentAlerts().length;
  const figures = [[tickets.length, "summary.open"], [late, "summary.breached", late > 0],
    [unassigned, "summary.unassigned", unassigned > 0],
    [recent, "summary.alarms", recent >= FLOOD], [offline, "summary.offline", offline > 0], [onSite, "summary.on_site"]];
  $("summary").replaceChildren(...figures.map(([n, key, bad]) => h("div", { class: `figure${bad ? " bad" : ""}` },
    h("b", {}, String(n)), h("span", {}, t(key)))));
}
