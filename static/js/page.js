// What the live pages (agenda, screens, boards, the delegate page) share around the live state: the live
// badge, the service worker for offline use, where the page came from (network or the worker's cache) and
// the page's starting point (livePage). Nothing runs at import time.
import { pageLang, readJSON } from "./dom.js";
import { makeT } from "./i18n.js";
import { storedCopy } from "./storage.js";
import { agoLabel, makeClock, makeFormat } from "./time.js";

/**
 * Keeps #live-status current: data-mode and "Live" / "Verbinde…" / "Offline – Stand 14:32 (vor 5 min)".
 * knownAt() says since when the shown state is known to be current (a saved copy may be old).
 */
export function liveBadge(el, t, fmt) {
  let status = { mode: "connecting", updatedAt: null, savedAt: null };
  // Since when the embedded state is known current: the page load, unless the page is a saved copy.
  let base = { at: new Date(), saved: false };
  const badge = {
    fromSavedCopy(at) {
      const d = at ? new Date(at) : null;
      if (d && !Number.isNaN(d.getTime())) base = { at: d, saved: true };
    },
    set(next) {
      status = next;
      badge.render();
    },
    get mode() {
      return status.mode;
    },
    knownAt() {
      if (status.updatedAt) return new Date(status.updatedAt);
      if (status.savedAt) return new Date(status.savedAt);
      return base.at;
    },
    render() {
      if (!el) return;
      const mode = status.mode || "connecting";
      const known = badge.knownAt();
      const saved = !status.updatedAt && !!(status.savedAt || base.saved);
      let text = mode === "live" ? t("live") : mode === "offline" ? t("offline") : t("connecting");
      if (mode === "offline" || (mode !== "live" && saved)) {
        text += " – " + t("as_of", { time: fmt.time(known), ago: agoLabel(t, Date.now() - known.getTime()) });
      }
      if (el.dataset.mode !== mode) el.dataset.mode = mode;
      if (el.textContent !== text) el.textContent = text;
    },
  };
  return badge;
}

/** Register the service worker and make sure this page and its files are in its cache for offline use. */
export function installOffline(onMessage) {
  if (!("serviceWorker" in navigator)) return;
  const files = () =>
    performance
      .getEntriesByType("resource")
      .map((e) => new URL(e.name))
      .filter((u) => u.origin === location.origin && u.pathname.startsWith("/static/"))
      .map((u) => u.pathname);
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      // A first visit was not served by the worker: hand it the page and its files to keep.
      if (reg.active) reg.active.postMessage({ type: "keep", page: location.pathname, files: files() });
    })
    .catch(() => {});
  if (onMessage) navigator.serviceWorker.addEventListener("message", (e) => onMessage(e.data || {}));
}

/** Where the page came from: "network", or "cache" (then with the time the service worker saved it). */
export function pageSource() {
  const el = document.querySelector("[data-page-source]");
  return { source: el ? el.dataset.pageSource : "network", cachedAt: el ? el.dataset.cachedAt || null : null };
}

/** For a page the service worker answered from its cache: the time its state is from (the newer of the
 * cached page and live.js's saved copy), else null. */
export function cachedStateTime(slug, embedded) {
  const page = pageSource();
  if (page.source !== "cache") return null;
  const copy = storedCopy(slug);
  let at = page.cachedAt;
  if (copy && copy.savedAt && copy.state && copy.state.revision >= embedded.revision && (!at || copy.savedAt > at)) {
    at = copy.savedAt;
  }
  return at || new Date(0).toISOString();
}

// What every live page starts from: its #app element and event slug, the language and texts, the state the
// server embedded in the page, the (possibly virtual) clock and the live badge.
export function livePage() {
  const app = document.getElementById("app");
  const lang = pageLang();
  const t = makeT(readJSON("i18n"));
  const embedded = readJSON("live-state");
  const fmt = makeFormat(embedded.event.timezone, lang);
  return {
    app, slug: app.dataset.slug, lang, t, embedded, fmt, clock: makeClock(embedded.event),
    badge: liveBadge(document.getElementById("live-status"), t, fmt),
  };
}
