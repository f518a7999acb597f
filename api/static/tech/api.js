// The REST API with the technician's token. A request that never reached the server (no signal) throws a
// NetworkError; one the server answered with an error throws an ApiError with its status and reason.

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// FastAPI's errors: a sentence, or a list of {loc, msg} naming the fields
function reason(body, fallback) {
  if (!body || body.detail === undefined) return fallback;
  if (typeof body.detail === "string") return body.detail;
  return body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
}

export class Api {
  constructor(token) {
    this.token = token;
    this.skewMs = 0; // the server's clock minus ours: deadlines are the server's
  }

  now() {
    return Date.now() + this.skewMs;
  }

  async request(path, { method = "GET", json, form } = {}) {
    const headers = { Authorization: `Bearer ${this.token}` };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // the browser writes the multipart boundary
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, cache: "no-store" });
    } catch (err) {
      throw new NetworkError(err.message);
    }
    const date = response.headers.get("Date");
    if (date) this.skewMs = Date.parse(date) + 500 - Date.now(); // whole seconds: take the middle
    let parsed = null;
    try { parsed = await response.json(); } catch (_) { /* not JSON */ }
    if (!response.ok) throw new ApiError(response.status, reason(parsed, response.statusText));
    return parsed;
  }

  post(path, json) {
    return this.request(path, { method: "POST", json });
  }

  upload(ticket, blob, name) {
    const form = new FormData();
    form.append("file", blob, name || "photo.jpg");
    return this.request(`/api/v1/tickets/${encodeURIComponent(ticket)}/photos`, { method: "POST", form });
  }
}

// a failure worth trying again later: no signal, the server busy or away
export function transient(err) {
  return err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429));
}
