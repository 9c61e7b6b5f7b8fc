// Shared helpers of the agenda (phone) and screen (projector) pages: translated strings, times in the
// event's time zone, the virtual clock (?at=), now/next, labels ("+10 min", "in 12 min"), escaping and
// the live badge. Pure functions where possible; no page-specific markup.

export function readJSON(id) {
  const el = document.getElementById(id);
  try {
    return el ? JSON.parse(el.textContent) : null;
  } catch {
    return null;
  }
}

// ---- text ----------------------------------------------------------------------------------------

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** t("key", {name: value}) from the dict the template built with _(); "{name}" placeholders. */
export function makeT(dict) {
  const strings = dict || {};
  const t = (key, vars) => {
    let text = strings[key] ?? key;
    if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return text;
  };
  t.kind = (kind) => (strings.kinds && strings.kinds[kind]) || kind || "";
  return t;
}

// ---- time ----------------------------------------------------------------------------------------

export const ms = (iso) => new Date(iso).getTime();
const MINUTE = 60000;

/** Formatters for one time zone and language: time "14:05", date "Fr., 26.10.2018", dayKey "2018-10-26". */
export function makeFormat(timeZone, lang) {
  const locale = lang === "en" ? "en-GB" : "de-DE";
  const zone = safeZone(timeZone);
  const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  const date = new Intl.DateTimeFormat(locale, { weekday: "short", day: "2-digit", month: "2-digit", year: "numeric", timeZone: zone });
  const longDate = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: zone });
  const day = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone });
  const asDate = (d) => (d instanceof Date ? d : new Date(d));
  return {
    timeZone: zone,
    time: (d) => time.format(asDate(d)),
    range: (a, b) => `${time.format(asDate(a))}–${time.format(asDate(b))}`,
    date: (d) => date.format(asDate(d)),
    longDate: (d) => longDate.format(asDate(d)),
    dayKey: (d) => day.format(asDate(d)),
  };
}

function safeZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return "Europe/Berlin";
  }
}

/** Offset of a time zone at an instant, in ms (Europe/Berlin in summer: +7200000). */
function zoneOffset(utcMs, timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const v = Object.fromEntries(parts.map((p) => [p.type, Number(p.value)]));
  const asUTC = Date.UTC(v.year, v.month - 1, v.day, v.hour % 24, v.minute, v.second);
  return asUTC - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The instant a ?at= value names. Accepts a full ISO time with offset ("2018-10-26T15:40:00+02:00"; a "+"
 * that the query string turned into a space is repaired), a wall-clock time in the event's zone
 * ("2018-10-26T15:40") or just "15:40" (on the event's first day). Returns a Date or null.
 */
export function parseAt(value, timeZone, eventStartIso) {
  if (!value) return null;
  let s = value.trim().replace(/ (\d\d:?\d\d)$/, "+$1");
  if (/^\d{1,2}:\d\d(:\d\d)?$/.test(s) && eventStartIso) {
    const day = makeFormat(timeZone, "de").dayKey(eventStartIso);
    s = `${day}T${s.padStart(5, "0")}`;
  }
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(s)) {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?$/);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
  const zone = safeZone(timeZone);
  let guess = wall - zoneOffset(wall, zone);
  guess = wall - zoneOffset(guess, zone); // once more, for instants next to a DST switch
  return new Date(guess);
}

/**
 * The page's clock. Normally the server's time (live.serverNow(), set with useServer); with ?at=<time> in
 * the page URL it starts at that instant and runs on — for rehearsals, demos and tests.
 */
export function makeClock(event) {
  const params = new URLSearchParams(location.search);
  const at = parseAt(params.get("at"), event.timezone, event.start);
  let server = () => new Date();
  const clock = {
    virtual: !!at,
    now: () => server(),
    useServer(fn) {
      if (!at && fn) server = fn;
    },
  };
  if (at) {
    const t0 = Date.now();
    clock.now = () => new Date(at.getTime() + (Date.now() - t0));
  }
  return clock;
}

/** "+10 min", "-5 min", or "" for no delay. */
export function delayLabel(minutes) {
  if (!minutes) return "";
  return `${minutes > 0 ? "+" : "-"}${Math.abs(minutes)} min`;
}

/** "8 min", "1 Std. 20 min" (rounded up to whole minutes). */
export function durationLabel(t, millis) {
  const total = Math.max(0, Math.ceil(millis / MINUTE));
  if (total < 60) return t("min", { n: total });
  const h = Math.floor(total / 60);
  const m = total % 60;
  return m ? t("hmin", { h, m }) : t("h", { h });
}

/** "in 12 min" before the start, "noch 8 min" while running, "" after. */
export function countdown(t, session, now) {
  const n = now.getTime();
  const start = ms(session.start);
  const end = ms(session.end);
  if (n < start) return t("in", { d: durationLabel(t, start - n) });
  if (n < end) return t("left", { d: durationLabel(t, end - n) });
  return "";
}

/** "vor 5 min" / "gerade eben" for an age in ms. */
export function agoLabel(t, millis) {
  if (millis < MINUTE) return t("just_now");
  return t("ago", { d: durationLabel(t, millis - (millis % MINUTE)) });
}

// ---- the agenda ----------------------------------------------------------------------------------

export const isCancelled = (s) => s.status === "cancelled";
export const isMoved = (s) => !!(s.planned_room && s.room && s.planned_room !== s.room);
export const isRunning = (s, now) => ms(s.start) <= now.getTime() && now.getTime() < ms(s.end);
export const byStart = (a, b) => ms(a.start) - ms(b.start) || ms(a.planned_start) - ms(b.planned_start) || a.id - b.id;

/** before | during | after: is `now` on the event's day(s) and before the last session ends? */
export function eventPhase(state, now, fmt) {
  const ev = state.event;
  const today = fmt.dayKey(now);
  if (today < fmt.dayKey(ev.start)) return "before";
  const ends = state.sessions.filter((s) => !isCancelled(s)).map((s) => ms(s.end));
  const lastEnd = Math.max(ms(ev.end), ...ends);
  if (today > fmt.dayKey(ev.end) || now.getTime() >= lastEnd) return "after";
  return "during";
}

/** The sessions running now and the ones starting next (all that share the earliest coming start). */
export function nowAndNext(sessions, now) {
  const live = sessions.filter((s) => !isCancelled(s));
  const current = live.filter((s) => isRunning(s, now)).sort(byStart);
  const upcoming = live.filter((s) => ms(s.start) > now.getTime()).sort(byStart);
  const next = upcoming.length ? upcoming.filter((s) => ms(s.start) === ms(upcoming[0].start)) : [];
  return { current, next, upcoming };
}

/**
 * One room's view at `now`: the session running there, what comes next (a cancelled session or one moved
 * away is listed with its mark until the next real one), and the rest of the day.
 */
export function roomView(sessions, roomName, now) {
  const n = now.getTime();
  const here = sessions.filter((s) => s.room === roomName || (isMoved(s) && s.planned_room === roomName)).sort(byStart);
  const takesPlace = (s) => !isCancelled(s) && s.room === roomName;
  // Usually one session runs in a room; a double booking shows all of them rather than hide one.
  const running = here.filter((s) => takesPlace(s) && isRunning(s, now));
  const current = running[0] || null;
  // Nothing takes place here now, but something was planned: say it is cancelled or moved away.
  const instead = current ? null : here.find((s) => !takesPlace(s) && isRunning(s, now)) || null;
  const coming = here.filter((s) => ms(s.start) > n && s !== current);
  const next = [];
  let i = 0;
  for (; i < coming.length && next.length < 3; i++) {
    next.push(coming[i]);
    if (takesPlace(coming[i])) {
      i++;
      break;
    }
  }
  return { current, running, instead, next, later: coming.slice(i), all: here };
}

/** A change of one session as the favourites banner tells it, or null if nothing a visitor cares about. */
export function describeChange(t, fmt, before, after) {
  if (!before) return null;
  const title = after.title;
  if (before.status !== after.status) return isCancelled(after) ? t("ch_cancelled", { title }) : t("ch_restored", { title });
  if (before.room !== after.room) return t("ch_moved", { title, room: after.room || "–", from: before.room || "–" });
  if (before.start !== after.start || before.end !== after.end) {
    const time = fmt.range(after.start, after.end);
    return after.delay_minutes ? t("ch_delay", { title, delta: delayLabel(after.delay_minutes), time }) : t("ch_ontime", { title, time });
  }
  if (before.title !== after.title || before.kind !== after.kind || String(before.speakers) !== String(after.speakers)) {
    return t("ch_edited", { title });
  }
  return null;
}

/** Announcements still active at the server's `now`, urgent first, then newest first. */
export function activeAnnouncements(list, now) {
  const rank = { urgent: 0, warning: 1, info: 2 };
  return (list || [])
    .filter((a) => !a.withdrawn && (!a.expires_at || ms(a.expires_at) > now.getTime()))
    .sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || ms(b.created_at) - ms(a.created_at));
}

// ---- the live badge ------------------------------------------------------------------------------

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

/** Make `container`'s children exactly `nodes`, in order, moving only what is out of place (keeps scroll
 * position and focus inside nodes that stay). */
export function placeChildren(container, nodes) {
  let ref = container.firstChild;
  for (const node of nodes) {
    if (node === ref) {
      ref = ref.nextSibling;
      continue;
    }
    container.insertBefore(node, ref);
  }
  while (ref) {
    const next = ref.nextSibling;
    container.removeChild(ref);
    ref = next;
  }
}

/** The saved copy of the state that live.js keeps: {state, savedAt} or null. */
export function storedCopy(slug) {
  try {
    return JSON.parse(localStorage.getItem(`treffpunkt:state:${slug}`) || "null");
  } catch {
    return null;
  }
}

// What every live page starts from: its #app element and event slug, the language and texts, the state the
// server embedded in the page, the (possibly virtual) clock and the live badge.
export function livePage() {
  const app = document.getElementById("app");
  const lang = document.documentElement.lang || "de";
  const t = makeT(readJSON("i18n"));
  const embedded = readJSON("live-state");
  const fmt = makeFormat(embedded.event.timezone, lang);
  return {
    app, slug: app.dataset.slug, lang, t, embedded, fmt, clock: makeClock(embedded.event),
    badge: liveBadge(document.getElementById("live-status"), t, fmt),
  };
}
