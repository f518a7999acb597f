// Devices by building and floor: quiet when all is well, offline and alarming ones stand out.

import { $, h } from "../dom.js";
import { label } from "../i18n.js";
import { buildingName, floorName } from "../names.js";
import { at, level, state, statuses, t } from "../state.js";

const typeName = (type) => label(state.meta && state.meta.device_types, type, state.lang);

function raisedByDevice() {
  // device -> the most urgent level among its raised alerts. An alert id the device list names but the page
  // never loaded (older than the 300 fetched) still counts, with an unknown level.
  const out = new Map();
  const worst = (id, lvl) => out.set(id, Math.min(out.get(id) ?? 9, lvl));
  const active = statuses().activeAlert;
  for (const a of state.alerts.values()) if (active.has(a.state)) worst(a.device, a.urgency);
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

function deviceChip(d, lvl) {
  const offline = d.online === false, silent = d.online === null || d.online === undefined;
  const cls = ["dev"];
  if (lvl !== undefined) cls.push("alarm", `u${lvl}`);
  if (offline) cls.push("offline"); else if (silent) cls.push("silent");
  const title = [`${d.id} — ${typeName(d.type)}`, d.location.zone ? t("devices.zone", { zone: d.location.zone }) : "",
    offline ? t("devices.offline") : silent ? t("devices.never_heard") : t("devices.online"),
    d.last_seen ? t("devices.last_seen", { time: at(d.last_seen) }) : "",
    lvl !== undefined ? `${t("devices.raised_alarm")}${lvl < 4 ? ` ${level(lvl)}` : ""}` : "",
    d.needs_inspection ? t("devices.faults", { n: d.faults_30d }) : ""].filter(Boolean).join(" · ");
  return h("li", { class: cls.join(" "), title },
    h("span", { class: "dev-id" }, d.id), h("span", { class: "dev-type" }, typeName(d.type)),
    lvl !== undefined ? h("span", { class: "dev-flag alarm-flag" }, lvl < 4 ? t("devices.level_alarm", { level: lvl }) : t("devices.alarm")) : null,
    offline ? h("span", { class: "dev-flag off-flag" }, t("devices.offline")) : silent ? h("span", { class: "dev-flag" }, t("devices.no_data")) : null,
    d.needs_inspection ? h("span", { class: "dev-flag inspect-flag" }, t("devices.inspect")) : null);
}

export function renderDevices() {
  const raised = raisedByDevice();
  const key = state.lang + state.devicesLoaded + "|" + state.devices.map((d) => `${d.id}:${d.online}:${raised.get(d.id) ?? ""}:${!!d.needs_inspection}`).join();
  if (key === state.deviceKey) return;  // rebuilt only when something changed: no flicker, no lost clicks
  state.deviceKey = key;
  const el = $("devices");
  if (!state.devicesLoaded) { el.replaceChildren(h("div", { class: "empty" }, t("devices.loading"))); return; }
  if (!state.devices.length) { el.replaceChildren(h("div", { class: "empty" }, t("devices.none"))); return; }
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
      h("span", {}, t("devices.count", { n: all.length })),
      h("span", { class: offline ? "n-off" : "zero" }, t("devices.offline_n", { n: offline })),
      h("span", { class: alarming ? `n-alarm u${worst}` : "zero" }, t("devices.alarming_n", { n: alarming })));
    return h("details", { class: `building${alarming ? " has-alarm" : ""}${offline ? " has-offline" : ""}`, "data-building": building,
      open: !collapsed.has(building), ontoggle: (ev) => rememberCollapsed(building, ev.target.open) },
      h("summary", {}, h("span", { class: "bname" }, t("place.building", { name: buildingName(state.meta, building) })), counts),
      h("div", { class: "floors" }, ...[...floors].map(([floor, devices]) => h("div", { class: "floor" },
        h("span", { class: "fname" }, floorName(floor, t)),
        h("ul", { class: "chips" }, ...devices.map((d) => deviceChip(d, raised.get(d.id))))))));
  }));
  const offline = state.devices.filter((d) => d.online === false).length;
  $("device-count").textContent = `${state.devices.length}` + (offline ? ` · ${t("devices.offline_n", { n: offline })}` : "")
    + (raised.size ? ` · ${t("devices.alarming_n", { n: raised.size })}` : "");
}
