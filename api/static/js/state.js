// What the page knows, shared by its panels: the lists the API gave, the site's names and words, the
// language, and the server's clock.

import { formatTime } from "./time.js";
import { label } from "./i18n.js";
import { vocabulary } from "./statuses.js";

export const state = {
  token: null, tickets: new Map(), alerts: new Map(), technicians: [], devices: [], devicesLoaded: false,
  kpis: null, kpisAt: null, kpisError: null, skewMs: 0, live: false, canOperate: true,
  meta: null, lang: "zh-CN", t: (key) => key,
  sites: [], site: null,  // the estates the token sees (GET /api/v1/sites) and the chosen one (null: only one)
};

export const now = () => Date.now() + state.skewMs;  // the server's time: deadlines are the server's
export const ms = (iso) => (iso ? Date.parse(iso) : null);
export const t = (key, params) => state.t(key, params);
const zone = () => (state.meta && state.meta.site.timezone) || "Asia/Shanghai";
/** An instant as the estate reads it: its time zone, with the date when not today there. */
export const at = (instant, options = {}) => formatTime(typeof instant === "string" ? ms(instant) : instant,
  { zone: zone(), lang: state.lang, now: now(), ...options });
export const siteZone = zone;
export const statusLabel = (id) => label(state.meta && state.meta.ticket_statuses, id, state.lang);
export const categoryLabel = (id) => label(state.meta && state.meta.categories, id, state.lang);
export const assignmentStatusLabel = (id) => label(state.meta && state.meta.assignment_statuses, id, state.lang);
export const sourceLabel = (id) => label(state.meta && state.meta.sources, id, state.lang);
export const level = (n) => t("level.short", { n });
let known = { meta: undefined, vocab: null };
/** The status vocabulary of the estate's meta (statuses.js), worked out once per answer. */
export const statuses = () => {
  if (known.meta !== state.meta) known = { meta: state.meta, vocab: vocabulary(state.meta) };
  return known.vocab;
};
