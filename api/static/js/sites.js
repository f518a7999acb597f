// Which estate the page works on when the token sees several (GET /api/v1/sites; docs/operators.md, "Estates"):
// ?site= in the address, then the operator's last choice, then the first the service lists. Pure.

export const SITE_HEADER = "X-Caretaker-Site";  // api/deps.py: the same as ?site= on every route

/** The chosen site id, or null when there is nothing to choose (one estate or none: the service's default). */
export function pickSite({ sites = [], query = null, stored = null } = {}) {
  if (!Array.isArray(sites) || sites.length < 2) return null;
  const known = (id) => !!id && sites.some((s) => s.id === id);
  if (known(query)) return query;
  if (known(stored)) return stored;
  return sites[0].id;
}

/** The headers of an API call: the token, and the chosen estate when there is one. */
export function apiHeaders(token, site) {
  return { Authorization: `Bearer ${token}`, ...(site ? { [SITE_HEADER]: site } : {}) };
}
