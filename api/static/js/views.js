// The page's views (the board, the ticket search, call-backs, figures, admin): one shown at a time, named in
// the address (#tickets) so a reload or a bookmark comes back to it.

const shown = new Map();  // view -> what to do when it is shown (load its data)

export function onView(name, callback) { shown.set(name, callback); }

export function viewFromHash(hash) {
  const name = (hash || "").replace(/^#/, "");
  return /^[a-z]+$/.test(name) ? name : "board";
}

export function showView(name) {
  const views = [...document.querySelectorAll(".view")];
  if (!views.some((v) => v.id === `view-${name}`)) name = "board";
  for (const v of views) v.hidden = v.id !== `view-${name}`;
  for (const b of document.querySelectorAll("#views [data-view]")) b.classList.toggle("current", b.dataset.view === name);
  if (location.hash !== `#${name}` && !(name === "board" && !location.hash)) history.replaceState(null, "", `#${name}`);
  document.body.dataset.view = name;
  const callback = shown.get(name);
  if (callback) callback();
}

export function wireViews() {
  for (const b of document.querySelectorAll("#views [data-view]")) b.onclick = () => showView(b.dataset.view);
  window.addEventListener("hashchange", () => showView(viewFromHash(location.hash)));
}
