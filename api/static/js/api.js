// Talking to the service: the token, JSON calls (keeping the server's clock), and the live stream read
// with fetch so the token travels in a header, never in a URL; with several estates, every call names the
// chosen one (X-Caretaker-Site, sites.js).

import { state } from "./state.js";
import { apiHeaders } from "./sites.js";

/** The headers every call to the API carries: the token, when the token sees several the estate, and the page's
 * language, which the service answers in (a ticket's history, errors: docs/api.md, "Language"). */
export const headers = () => ({ ...apiHeaders(state.token, state.site), "Accept-Language": state.lang });

let onRefused = () => {};
export function whenRefused(callback) { onRefused = callback; }

export function readToken() {
  // the demo prints a link with #token=...; the fragment never reaches the server or its logs
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem("caretaker.token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem("caretaker.token");
}

/** The error detail as a person reads it: FastAPI's list of fields becomes "field: message; ...". */
export function describeError(body, fallback) {
  if (!body || body.detail === undefined) return fallback;
  if (typeof body.detail === "string") return body.detail;
  return (body.detail || []).map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
}

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers(),
    "Content-Type": "application/json", ...(options.headers || {}) } });
  const date = response.headers.get("Date");
  if (date) state.skewMs = Date.parse(date) + 500 - Date.now();  // Date has whole seconds: take the middle
  if (response.status === 401) { onRefused(); const err = new Error("401"); err.status = 401; throw err; }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    const err = new Error(describeError(body, response.statusText));
    err.status = response.status; err.body = body; throw err;
  }
  if (response.status === 204) return null;
  return response.json();
}

/** Read the server-sent events of /api/v1/stream until it ends; each event goes to onEvent(name, data). */
export async function stream(onEvent) {
  const response = await fetch("/api/v1/stream", { headers: headers() });
  if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended");
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(event, data);
    }
  }
}
