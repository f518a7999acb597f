// Which language the page speaks, and its sentences from one catalogue per language (../i18n/*.json).
// Pure but for loadCatalogue: the page holds no copies of sentences.

export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";

/** "zh", "zh-TW", "ZH-cn" -> "zh-CN"; "en-GB" -> "en"; anything else -> null. */
export function matchLanguage(tag) {
  if (!tag || typeof tag !== "string") return null;
  const t = tag.trim().toLowerCase();
  if (t === "zh" || t.startsWith("zh-")) return "zh-CN";
  if (t === "en" || t.startsWith("en-")) return "en";
  return null;
}

/** The page's language: ?lang=, then the operator's own choice, then the browser's languages, then the
 *  site file's `locale` (docs/operators.md#language). */
export function pickLanguage({ query = null, stored = null, browser = [], site = null } = {}) {
  for (const candidate of [query, stored, ...browser]) {
    const found = matchLanguage(candidate);
    if (found) return found;
  }
  return matchLanguage(site) || DEFAULT_LANGUAGE;
}

/** Fill `{name}` placeholders from params; a placeholder without a value stays as written. */
export function fill(text, params = {}) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (params[name] === undefined || params[name] === null
    ? whole : String(params[name])));
}

/** A function t(key, params) over one catalogue; a key it lacks is shown as the key itself, never blank. */
export function translator(catalogue) {
  const t = (key, params) => {
    const text = catalogue[key];
    return text === undefined ? key : fill(text, params);
  };
  t.has = (key) => catalogue[key] !== undefined;
  return t;
}

/** The label of a vocabulary entry from GET /api/v1/meta in a language, its id when it has none. */
export function label(entries, id, lang) {
  const entry = (entries || []).find((e) => String(e.id) === String(id));
  return (entry && entry.label && (entry.label[lang] || entry.label.en)) || String(id);
}

export async function loadCatalogue(lang) {
  const response = await fetch(`/static/i18n/${lang}.json`);
  if (!response.ok) throw new Error(`catalogue ${lang}: ${response.status}`);
  return response.json();
}
