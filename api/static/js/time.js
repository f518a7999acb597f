// Times as the estate reads them: in the site's time zone (not the browser's), with the date when it is not
// today there; and countdowns. Pure.

const dayFormats = new Map();
function dayFormat(zone) {
  if (!dayFormats.has(zone)) {
    dayFormats.set(zone, new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit",
      day: "2-digit" }));
  }
  return dayFormats.get(zone);
}

/** "2026-12-01": the calendar day of an instant (ms since the epoch) in a time zone. */
export function dayKey(ms, zone) {
  return dayFormat(zone).format(new Date(ms));
}

/** The time of day in `zone`, e.g. "08:05" (or "08:05:09" with seconds), preceded by the date ("11月30日",
 *  "Nov 30") when that day is not today in the zone. */
export function formatTime(ms, { zone, lang, now, seconds = false }) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const time = new Intl.DateTimeFormat(lang, { timeZone: zone, hour: "2-digit", minute: "2-digit",
    second: seconds ? "2-digit" : undefined, hourCycle: "h23" }).format(new Date(ms));
  if (now === undefined || dayKey(ms, zone) === dayKey(now, zone)) return time;
  const sameYear = dayKey(ms, zone).slice(0, 4) === dayKey(now, zone).slice(0, 4);
  const date = new Intl.DateTimeFormat(lang, { timeZone: zone, month: "short", day: "numeric",
    year: sameYear ? undefined : "numeric" }).format(new Date(ms));
  return `${date} ${time}`;
}

/** A countdown: "04:59", "1:02:03"; a minus sign once it is past. */
export function duration(msLeft) {
  const s = Math.floor(Math.abs(msLeft) / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return (msLeft < 0 ? "−" : "") + (hh ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`);
}

/** "2026-12-01" in the zone for an <input type=date> default, `days` before the instant. */
export function dateInput(ms, zone, days = 0) {
  return dayKey(ms - days * 86400000, zone);
}
