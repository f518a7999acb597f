// Assigning by hand from dispatch's own ranking (GET /api/v1/tickets/{id}/candidates): trade, shift, on site,
// travel time, current work and dispatch's reason for each; choosing anyone but dispatch's own choice asks
// for a confirmation that says what is worse.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { where } from "../names.js";
import { level, state, statusLabel, t } from "../state.js";
import { act } from "./tickets.js";

/** "2 min 05 s", "45 s", "—". Pure. */
export function travelText(seconds, tr) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return tr("assign.seconds", { s: seconds });
  return tr("assign.minutes", { m: Math.floor(seconds / 60), s: String(seconds % 60).padStart(2, "0") });
}

/** Why the choice needs a confirmation, or null when it is dispatch's own choice. Pure. */
export function worseThanAutomatic(choice, automatic) {
  if (automatic && choice.technician === automatic.technician) return null;
  if (!choice.available) return { code: choice.reason_code, automatic: automatic ? automatic.technician : null };
  return { code: "slower", automatic: automatic ? automatic.technician : null };
}

function reasonText(c) {
  if (c.available) return t("reason.available", { travel: travelText(c.travel_s, t), n: c.open_work });
  return t(`reason.${c.reason_code}`);
}

function candidateRow(c, body, choose) {
  const yes = (v) => h("span", { class: `tag ${v ? "on" : "off"}` }, v ? t("assign.yes") : t("assign.no"));
  return h("tr", { "data-id": c.technician, class: `${c.available ? "available" : "unavailable"}${c.technician === body.automatic ? " automatic" : ""}` },
    h("td", {}, String(c.rank)),
    h("td", {}, h("b", {}, c.name), c.technician === body.automatic ? h("span", { class: "tag on" }, t("assign.automatic")) : null,
      c.is_current ? h("span", { class: "tag warn" }, t("assign.current")) : null),
    h("td", {}, yes(c.has_trade)), h("td", {}, yes(c.on_shift)), h("td", {}, yes(c.on_site)),
    h("td", {}, c.location ? where(c.location, state.meta, t) : "—"),
    h("td", { class: "mono" }, travelText(c.travel_s, t)),
    h("td", {}, c.current.length ? c.current.map((w) => `${level(w.urgency)} ${w.id} ${statusLabel(w.status)}`).join(", ") : t("techs.free")),
    h("td", { class: "reason" }, reasonText(c)),
    h("td", {}, c.is_current ? "" : h("button", { type: "button", "data-action": "choose", onclick: () => choose(c) }, t("assign.choose"))));
}

export async function openAssign(ticket) {
  const dialog = $("form-dialog");
  let body;
  try { body = await api(`/api/v1/tickets/${encodeURIComponent(ticket.id)}/candidates`); }
  catch (e) { showError(e.message); return; }
  const automatic = body.candidates.find((c) => c.technician === body.automatic) || null;
  const confirmBox = h("div", { class: "confirm", id: "assign-confirm", hidden: true });
  const assign = async (c) => {
    const done = await act(ticket.id, "assign", { technician: c.technician });
    if (done) dialog.close();
  };
  const choose = (c) => {
    const worse = worseThanAutomatic(c, automatic);
    if (!worse) { assign(c); return; }
    const auto = automatic ? automatic.name : null;
    confirmBox.replaceChildren(
      h("p", {}, worse.code === "slower"
        ? t("assign.confirm_slower", { name: c.name, travel: travelText(c.travel_s, t), auto, auto_travel: travelText(automatic.travel_s, t) })
        : auto ? t("assign.confirm_unavailable", { name: c.name, why: t(`reason.${worse.code}`), auto })
          : t("assign.confirm_nobody", { name: c.name, why: t(`reason.${worse.code}`) })),
      h("div", { class: "actions left" },
        h("button", { type: "button", class: "danger", "data-action": "confirm", onclick: () => assign(c) }, t("assign.anyway", { name: c.name })),
        h("button", { type: "button", class: "quiet", "data-action": "back", onclick: () => { confirmBox.hidden = true; } }, t("assign.back"))));
    confirmBox.dataset.for = c.technician;
    confirmBox.hidden = false;
  };
  const head = ["assign.col_rank", "assign.col_name", "assign.col_trade", "assign.col_shift", "assign.col_site", "assign.col_where",
    "assign.col_travel", "assign.col_work", "assign.col_reason", ""];
  dialog.replaceChildren(h("div", { class: "assign", "data-ticket": ticket.id },
    h("h2", {}, t("assign.title", { id: ticket.id, title: ticket.title })),
    h("p", { class: "intro" }, automatic ? t("assign.intro", { auto: automatic.name }) : t("assign.intro_nobody")),
    h("table", { class: "results candidates" }, h("thead", {}, h("tr", {}, ...head.map((k) => h("th", {}, k ? t(k) : "")))),
      h("tbody", {}, ...body.candidates.map((c) => candidateRow(c, body, choose)))),
    confirmBox,
    h("div", { class: "actions" }, h("button", { type: "button", class: "quiet", "data-action": "close", onclick: () => dialog.close() }, t("form.close")))));
  dialog.classList.add("wide");
  if (!dialog.open) dialog.showModal();
}
