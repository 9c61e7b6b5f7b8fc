// Treffpunkt service worker (served as /sw.js, scope "/"): event pages and the public API network-first
// with the last copy as fallback, /static/ from the cache (refreshed in the background). Staff pages,
// Socket.IO, /healthz and every non-GET request are never touched.
const PAGES = "treffpunkt-pages-v1";
const STATIC = "treffpunkt-static-v1";
const API = "treffpunkt-api-v1";
// Only public data is kept for offline use; staff answers (guest lists, search) never enter the cache.
const PUBLIC_API = /^\/api\/v1\/events\/[^/]+\/(agenda|board|stats)$/;
const KEEP = [PAGES, STATIC, API];
// The agenda, the projector, door screens and the manifest of an event.
const EVENT_PAGE = /^\/e\/[^/]+\/(screen(\/[^/]+)?|manifest\.webmanifest)?$/;
// Venue Wi-Fi often "works" without answering: after this long, answer from the saved copy.
const NETWORK_TIMEOUT = 4000;
const SAVED_HEADER = "X-Treffpunkt-Saved";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("treffpunkt-") && !KEEP.includes(key)) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event, request));
  } else if (EVENT_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(event, request, PAGES, pageKey(url)));
  } else if (PUBLIC_API.test(url.pathname) && !request.headers.has("Authorization")) {
    event.respondWith(networkFirst(event, request, API, url.href));
  }
});

// The page sends this after the worker took over: keep the page and the files of its first visit.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep") event.waitUntil(keep(data.page, data.files || []));
});

const pageKey = (url) => url.origin + url.pathname; // ?at=, ?lang= … show the same page

async function keep(page, files) {
  if (page && EVENT_PAGE.test(page)) {
    const cache = await caches.open(PAGES);
    const key = pageKey(new URL(page, self.location.origin));
    if (!(await cache.match(key))) {
      try {
        await save(cache, key, await fetch(key, { credentials: "same-origin" }));
      } catch {
        /* offline: next visit */
      }
    }
  }
  const cache = await caches.open(STATIC);
  for (const file of files) {
    if (typeof file !== "string" || !file.startsWith("/static/")) continue;
    if (await cache.match(file)) continue;
    try {
      const response = await fetch(file);
      if (response.ok) await cache.put(file, response);
    } catch {
      /* offline */
    }
  }
}

function cacheable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function save(cache, key, response) {
  if (!cacheable(response)) return;
  const headers = new Headers(response.headers);
  headers.set(SAVED_HEADER, new Date().toISOString());
  const body = await response.blob();
  await cache.put(key, new Response(body, { status: response.status, statusText: response.statusText, headers }));
}

/** A saved page, marked so that the page can tell its visitors how old it is. */
async function fromSaved(saved) {
  const type = saved.headers.get("Content-Type") || "";
  if (!type.startsWith("text/html")) return saved;
  const at = saved.headers.get(SAVED_HEADER) || "";
  const html = (await saved.text()).replace(
    'data-page-source="network"', `data-page-source="cache" data-cached-at="${at.replace(/[^0-9TZ:.+-]/g, "")}"`);
  const headers = new Headers(saved.headers);
  headers.delete("Content-Length");
  return new Response(html, { status: saved.status, statusText: saved.statusText, headers });
}

async function networkFirst(event, request, cacheName, key) {
  const cache = await caches.open(cacheName);
  const network = fetch(request).then(async (response) => {
    if (cacheable(response)) await save(cache, key, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, NETWORK_TIMEOUT, null);
  });
  try {
    const response = await Promise.race([network, late]);
    if (response) return response;
  } catch {
    /* offline: the saved copy below */
  } finally {
    clearTimeout(timer);
  }
  const saved = await cache.match(key);
  if (saved) return cacheName === PAGES ? fromSaved(saved) : saved;
  try {
    return await network; // slow but nothing saved: keep waiting
  } catch {
    return offlineResponse(request);
  }
}

function offlineResponse(request) {
  if (request.mode === "navigate") {
    const html = '<!doctype html><html lang="de"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
      + "<title>Offline</title><h1>Offline</h1><p>Diese Seite ist auf diesem Gerät noch nicht gespeichert. "
      + "Bitte versuchen Sie es wieder, wenn das Netz zurück ist.</p>"
      + '<p lang="en">This page is not saved on this device yet. Please try again when the network is back.</p></html>';
    return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  return Response.json({ error: { code: "offline", message: "offline and not saved" } }, { status: 503 });
}

/** From the cache at once; refreshed in the background so that the next load has the new version. */
async function cacheFirst(event, request) {
  const cache = await caches.open(STATIC);
  const cached = await cache.match(request);
  const before = cached ? cached.clone() : null; // `cached` itself goes to the page
  const refresh = fetch(request).then(async (response) => {
    if (cacheable(response)) {
      const changed = before && !(await sameBody(before, response.clone()));
      await cache.put(request, response.clone());
      if (changed) await tellClients({ type: "static-updated", url: request.url });
    }
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => {}));
    return cached;
  }
  return refresh;
}

// By content, not ETag: servers of one deployment may stamp the same file differently.
async function sameBody(a, b) {
  const [x, y] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  if (x.byteLength !== y.byteLength) return false;
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  return true;
}

async function tellClients(message) {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
}
