// The technician app's service worker: the page and its files are kept, so the app opens on the home
// screen even with no signal; the network is asked first, so an update arrives with the next visit.
// The API is never cached here: tickets, steps and photos always go to the server (or the page's queue).

const CACHE = "caretaker-tech-v1";
const SHELL = [
  "/tech", "/tech/manifest.webmanifest", "/tech/static/tech.css", "/tech/static/app.js", "/tech/static/api.js",
  "/tech/static/alerts.js", "/tech/static/i18n.js", "/tech/static/queue.js", "/tech/static/view.js",
  "/tech/static/i18n/zh-CN.json", "/tech/static/i18n/en.json", "/tech/static/icon-192.png",
  "/tech/static/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const ours = url.origin === self.location.origin && (url.pathname === "/tech" || url.pathname.startsWith("/tech/"));
  if (event.request.method !== "GET" || !ours || url.pathname === "/tech/sw.js") return;
  const key = url.pathname; // /tech?lang=en is the same page
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(key, copy));
    }
    return response;
  }).catch(() => caches.match(key).then((hit) => hit || Response.error())));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" })
    .then((windows) => (windows.length ? windows[0].focus() : self.clients.openWindow("/tech"))));
});
