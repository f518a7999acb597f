// The resident's progress page (docs/residents.md): reads /r/{token}/status and shows it; every word comes
// from the server's catalogue (dispatch/resident_texts.py), in the resident's language.
const base = location.pathname.replace(/\/+$/, "");
const lang = new URLSearchParams(location.search).get("lang");
const query = lang ? `?lang=${encodeURIComponent(lang)}` : "";
const $ = (id) => document.getElementById(id);
let labels = {};
let chosen = 0;

function when(iso, zone, locale) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, { timeZone: zone, month: "numeric", day: "numeric",
                                            hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

function label(name, values = {}) {
  return (labels[name] || "").replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

function stars(open) {
  const box = $("stars");
  if (box.childElementCount) return;
  for (let score = 1; score <= 5; score += 1) {
    const star = document.createElement("button");
    star.type = "button";
    star.textContent = "★";
    star.dataset.score = String(score);
    star.setAttribute("role", "radio");
    star.setAttribute("aria-checked", "false");
    star.setAttribute("aria-label", label("stars", { score }));
    star.addEventListener("click", () => {
      chosen = score;
      for (const other of box.children) other.setAttribute("aria-checked", String(Number(other.dataset.score) <= score));
      $("send").disabled = !open;
    });
    box.append(star);
  }
}

function show(data) {
  labels = data.labels;
  document.documentElement.lang = data.locale;
  document.title = label("title");
  for (const node of document.querySelectorAll("[data-label]")) node.textContent = label(node.dataset.label);
  $("ticket").textContent = data.ticket;
  $("words").textContent = data.words;
  $("status-card").dataset.status = data.status;
  $("where").textContent = data.where;
  $("reported").textContent = when(data.reported_at, data.timezone, data.locale);
  $("last-seen-row").hidden = !data.last_seen;
  if (data.last_seen) {
    $("last-seen").textContent = `${data.last_seen.place} · ${when(data.last_seen.at, data.timezone, data.locale)}`;
  }
  const fixed = data.resolution_note !== null || data.photos.length > 0;
  $("resolution").hidden = !fixed;
  $("note").textContent = data.resolution_note || "";
  $("photos-title").hidden = data.photos.length === 0;
  const photos = $("photos");
  if (photos.childElementCount !== data.photos.length) {
    photos.replaceChildren(...data.photos.map((url) => {
      const img = document.createElement("img");
      img.src = url;
      img.alt = label("photos");
      img.loading = "lazy";
      return img;
    }));
  }
  $("rating").hidden = !data.rating.open;
  if (data.rating.open) stars(true);
  $("rated").hidden = data.rating.score === null;
  if (data.rating.score !== null) $("rated").textContent = label("rated", { score: data.rating.score });
  $("error").hidden = true;
}

async function load() {
  try {
    const response = await fetch(`${base}/status${query}`, { cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    show(await response.json());
  } catch {
    $("error").hidden = false;
    $("error").textContent = label("error") || "暂时无法获取进度，请稍后再试 / Please try again later";
  }
}

$("send").addEventListener("click", async () => {
  if (!chosen) return;
  $("send").disabled = true;
  const response = await fetch(`${base}/rating`, { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify({ score: chosen }) });
  if (response.status === 409) {
    $("error").hidden = false;
    $("error").textContent = label("rate.refused");
  }
  await load();
});

load();
setInterval(load, 30000);
