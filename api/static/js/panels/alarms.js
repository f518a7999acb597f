// Alarms: the active ones and the last 10 minutes', their tags (chattering, explained, silenced, shelved);
// acknowledging, shelving with a reason until a time, and silencing what an alarm or a building raises.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { DURATIONS, after, durationLabel, openForm } from "../forms.js";
import { buildingName, technicianName } from "../names.js";
import { at, level, ms, now, state, statuses, t } from "../state.js";

export const FLOOD = 10;               // docs/operators.md: 10 or more alarms in 10 minutes
export const TEN_MIN = 10 * 60 * 1000;
const hooks = { silenced: () => {} };
export function onSilenced(callback) { hooks.silenced = callback; }

/** Alarms raised in the last 10 minutes: what the flood banner counts. */
export function recentAlerts() {
  const since = now() - TEN_MIN;
  return [...state.alerts.values()].filter((a) => ms(a.raised_at) >= since);
}

/** What the panel lists: every alarm still active (raised), and whatever was raised in the last 10 minutes. */
export function listedAlerts(alerts, when, active) {
  return [...alerts].filter((a) => active.has(a.state) || ms(a.raised_at) >= when - TEN_MIN)
    .sort((a, b) => ms(b.raised_at) - ms(a.raised_at));
}

export const isShelved = (a, when) => !!a.shelved_until && ms(a.shelved_until) > when;

function alertTags(a) {
  // why an alarm opened no ticket of its own, or needs a technician's eye later
  const tags = [];
  if (a.chattering) tags.push(h("span", { class: "tag warn", title: t("alarms.chattering_why") }, t("alarms.chattering")));
  if (a.suppressed_by) tags.push(h("span", { class: "tag off", title: t("alarms.explained_by", { id: a.suppressed_by }) }, t("alarms.explained")));
  if (a.silence) tags.push(h("span", { class: "tag off", title: t("alarms.silence_n", { id: a.silence }) }, t("alarms.silenced")));
  if (isShelved(a, now())) {
    tags.push(h("span", { class: "tag off shelved", title: a.shelve_reason || "" }, t("alarms.shelved_until", { time: at(a.shelved_until) })));
  }
  return tags;
}

function alarmActions(a) {
  const out = [];
  if (a.acked_at) out.push(h("span", { class: "meta" }, t("alarms.acked_by", { who: technicianName(state.meta, a.acked_by) })));
  if (!statuses().activeAlert.has(a.state)) return out;  // cleared: nothing left to acknowledge, shelve or silence
  if (!a.acked_at) out.push(h("button", { type: "button", "data-action": "ack", onclick: () => ack(a.id) }, t("alarms.ack")));
  if (isShelved(a, now())) {
    out.push(h("button", { type: "button", class: "quiet", "data-action": "unshelve", onclick: () => unshelve(a.id) }, t("alarms.unshelve")));
  } else {
    out.push(h("button", { type: "button", class: "quiet", "data-action": "shelve", onclick: () => shelveForm(a) }, t("alarms.shelve")));
  }
  if (a.device && !a.silence && a.category !== "system") {  // the service's own alarms are not silenced here
    out.push(h("button", { type: "button", class: "quiet", "data-action": "silence", onclick: () => silenceForm({ alert: a }) }, t("alarms.silence")));
  }
  return out;
}

export function renderAlerts() {
  const when = now();
  const active = statuses().activeAlert;
  const listed = listedAlerts(state.alerts.values(), when, active);
  const key = state.lang + listed.map((a) => a.id + a.state + (a.acked_at || "") + (a.shelved_until || "") + isShelved(a, when)
    + a.chattering + (a.silence || "")).join();
  if (key !== state.alertKey) {  // rebuilt only when something changed, so a click is never lost
    state.alertKey = key;
    $("alerts").replaceChildren(...(listed.length ? listed.map((a) => h("li", { class: `u${a.urgency} ${a.state}${isShelved(a, when) ? " is-shelved" : ""}`, "data-id": a.id },
      h("span", { class: "what" }, `${level(a.urgency)} ${a.title}`, ...alertTags(a)),
      h("span", { class: "when" }, at(a.raised_at)),
      h("span", { class: "meta" }, a.device || t("alarms.system"), a.building ? ` · ${buildingName(state.meta, a.building)}` : "",
        active.has(a.state) ? "" : ` · ${t("alarms.cleared")}`, a.ticket ? ` · ${a.ticket}` : ""),
      h("span", { class: "alarm-buttons" }, ...alarmActions(a)))) : [h("li", { class: "empty" }, t("alarms.none"))]));
  }
  $("alert-count").textContent = listed.filter((a) => active.has(a.state)).length;
  // a planned shutdown's silenced alarms are expected, not a flood for the operator
  const counted = recentAlerts().filter((a) => !a.silence).length;
  const flood = $("flood");
  flood.hidden = counted < FLOOD;
  flood.textContent = t("flood.text", { n: counted });
}

function keep(a) { state.alerts.set(a.id, a); state.alertKey = null; renderAlerts(); }

async function ack(id) {
  try { keep(await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: "{}" })); }
  catch (e) { showError(e.message); }
}

async function unshelve(id) {
  try { keep(await api(`/api/v1/alerts/${encodeURIComponent(id)}/unshelve`, { method: "POST", body: "{}" })); }
  catch (e) { showError(e.message); }
}

const durationOptions = (list) => list.map((m) => [m, durationLabel(m)]);

function shelveForm(a) {
  openForm({
    title: t("shelve.title", { title: a.title }), intro: t("shelve.intro"), submit: t("shelve.submit"),
    fields: [
      { name: "reason", label: t("shelve.reason"), type: "textarea", required: true, rows: 2, maxlength: 500 },
      { name: "minutes", label: t("shelve.for"), type: "select", options: durationOptions(DURATIONS.slice(0, 6)), value: 60 },
    ],
    onSubmit: async (v) => keep(await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/shelve`,
      { method: "POST", body: JSON.stringify({ reason: v.reason.trim(), until: after(now(), Number(v.minutes)) }) })),
  });
}

/** A silence for one alarm's device (or, from the silences panel, for a building and optionally a kind of device). */
export function silenceForm({ alert = null } = {}) {
  const buildings = (state.meta.buildings || []).map((b) => [b.id, b.name]);
  const types = [["", t("silence.any_type")], ...(state.meta.device_types || []).map((d) => [d.id, d.label[state.lang] || d.id])];
  const fields = alert
    ? [{ name: "scope", label: t("silence.scope"), type: "select", value: "device",
         options: [["device", t("silence.this_device", { device: alert.device })],
                   ["rule", t("silence.this_rule", { device: alert.device })],
                   ...(alert.building ? [["building", t("silence.whole_building", { building: buildingName(state.meta, alert.building) })]] : [])] }]
    : [{ name: "building", label: t("silence.building"), type: "select", options: buildings, required: true },
       { name: "device_type", label: t("silence.device_type"), type: "select", options: types, value: "" }];
  openForm({
    title: alert ? t("silence.title_alarm", { title: alert.title }) : t("silence.title_building"),
    intro: t("silence.intro"), submit: t("silence.create"),
    fields: [...fields,
      { name: "reason", label: t("silence.reason"), type: "textarea", required: true, rows: 2, maxlength: 500 },
      { name: "minutes", label: t("silence.for"), type: "select", options: durationOptions(DURATIONS), value: 240 }],
    onSubmit: async (v) => {
      let matchers;
      if (!alert) matchers = { building: v.building, ...(v.device_type ? { device_type: v.device_type } : {}) };
      else if (v.scope === "building") matchers = { building: alert.building };
      else if (v.scope === "rule") matchers = { device: alert.device, rule: alert.rule };
      else matchers = { device: alert.device };
      await api("/api/v1/silences", { method: "POST",
        body: JSON.stringify({ matchers, reason: v.reason.trim(), ends_at: after(now(), Number(v.minutes)) }) });
      hooks.silenced();
    },
  });
}
