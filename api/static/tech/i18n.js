// The page's language (docs/technicians.md): ?lang= (remembered, so the installed app keeps it), then the
// phone's own language when it is one we have, then the site file's `locale` (zh-CN by default). Every
// sentence comes from the catalogue of that language (i18n/<locale>.json).

export const LOCALES = ["zh-CN", "en"];
const STORED = "caretaker.tech.lang";

export function normalize(tag) {
  const t = String(tag || "").toLowerCase();
  if (t.startsWith("zh")) return "zh-CN";
  if (t.startsWith("en")) return "en";
  return null;
}

export function pickLocale() {
  const asked = normalize(new URLSearchParams(location.search).get("lang"));
  if (asked) {
    localStorage.setItem(STORED, asked);
    return asked;
  }
  const phone = (navigator.languages || [navigator.language]).map(normalize).find(Boolean);
  return normalize(localStorage.getItem(STORED)) || phone || normalize(document.documentElement.dataset.siteLocale)
    || "zh-CN";
}

export async function loadCatalogue(locale) {
  const response = await fetch(`/tech/static/i18n/${locale}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${locale}`);
  return response.json();
}

// t("route.from", {minutes: 3}) -> "距你约 3 分钟"; a key missing from the catalogue shows as itself
export function translator(catalogue) {
  return (key, vars = {}) => String(catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function translatePage(root, t) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}
