// The projector (/e/<slug>/screen) and door screen (/e/<slug>/screen/<room>): clock, now/next per room,
// the rest of the day (paged every 15 s), an announcement ticker. Unattended for hours: no interaction,
// keeps the display awake, resyncs by itself and reloads after a long outage to pick up new code.
import {
  activeAnnouncements, byExpectedStart, eventPhase, isCancelled, isMoved, overrunLabel, roomView, timeLeft,
} from "./agenda-model.js";
import { $, esc, keepAwake, placeChildren, setHTML, setText } from "./dom.js";
import { followEvent } from "./live.js";
import { cachedStateTime, installOffline, livePage } from "./page.js";
import { delayLabel, makeFormat, ms } from "./time.js";

const page = livePage();
const { app, slug, lang, t, embedded, clock, badge } = page;
const roomFilter = app.dataset.room || null;

let state = embedded;
let fmt = page.fmt;
const ROTATE_MS = 15000;
const RELOAD_AFTER_MS = 60000;

{
  const cachedAt = cachedStateTime(slug, embedded);
  if (cachedAt) badge.fromSavedCopy(cachedAt);
}

// ---- items ---------------------------------------------------------------------------------------

function marks(s, roomName) {
  const out = [];
  if (isCancelled(s)) out.push(`<span class="mark cancelled">${esc(t("cancelled"))}</span>`);
  if (isMoved(s)) {
    const text = roomName && s.room !== roomName ? t("moved_to", { room: s.room }) : t("moved_from", { room: s.planned_room });
    out.push(`<span class="mark moved">${esc(text)}</span>`);
  }
  return out.join(" ");
}

function item(s, now, { roomName = null, showRoom = false, counting = true, label = "", speakers = true } = {}) {
  const away = isMoved(s) && roomName && s.room !== roomName;
  const cls = ["item", isCancelled(s) ? "is-cancelled" : "", away ? "is-away" : "", s.delay_minutes ? "is-delayed" : "",
    s.overrun_minutes ? "is-overrun" : ""].filter(Boolean).join(" ");
  let html = `<div class="${cls}" data-session-id="${s.id}">`;
  html += '<p class="when">';
  if (label) html += `<span class="label">${esc(label)}</span>`;
  html += `<span class="time">${fmt.range(s.start, s.end)}</span>`;
  if (s.delay_minutes) html += ` <span class="delay">${esc(delayLabel(s.delay_minutes))}</span>`;
  const off = isCancelled(s) || away; // one short line: what is not happening here
  const overrun = off ? "" : overrunLabel(t, s, now); // a longer (or shorter) run: the end moved, not the start
  if (overrun) html += ` <span class="overrun">${esc(overrun)}</span>`;
  const left = counting && !off ? timeLeft(t, fmt, s, now) : "";
  if (left) html += ` <span class="count">${esc(left)}</span>`;
  if (showRoom && s.room) html += ` <span class="where">${esc(s.room)}</span>`;
  if (off) html += ` ${marks(s, roomName)}`;
  html += "</p>";
  html += `<p class="title">${esc(s.title)}</p>`;
  if (!off && speakers && s.speakers && s.speakers.length) html += `<p class="speakers">${esc(s.speakers.join(", "))}</p>`;
  if (!off && isMoved(s)) html += `<p class="marks">${marks(s, roomName)}</p>`;
  return html + "</div>";
}

// ---- room panels ---------------------------------------------------------------------------------

const panels = new Map();

function panel(room) {
  let el = panels.get(room.slug);
  if (!el) {
    el = document.createElement("section");
    el.className = "room-panel";
    el.dataset.room = room.slug;
    el.innerHTML = '<h2 class="room-name"></h2><div class="now"></div><div class="next"></div>';
    panels.set(room.slug, el);
  }
  setText(el.firstChild, room.name);
  return el;
}

function renderPanel(room, now, programme) {
  const el = panel(room);
  const rv = roomView(state.sessions, room.name, now);
  const opts = { roomName: room.name, speakers: !!roomFilter };
  const free = (label, text) => `<p class="free">${label ? `<span class="label">${esc(label)}</span>` : ""}${esc(text)}</p>`;
  if (programme) {
    const [first, ...rest] = rv.all;
    const nextItems = rest.slice(0, roomFilter ? 3 : 1);
    setHTML(el.children[1], first ? item(first, now, { ...opts, speakers: true, counting: false, label: t("first") }) : free(t("first"), t("nothing_more")));
    setHTML(el.children[2], nextItems.map((s, i) => item(s, now, { ...opts, counting: false, label: i ? "" : t("next") })).join(""));
    el.classList.remove("is-free");
    return { el, later: rest.slice(nextItems.length) };
  }
  // The real next one first; what is cancelled or moved away before it follows in short.
  const off = (s) => isCancelled(s) || (isMoved(s) && s.room !== room.name);
  const nextItems = [...rv.next.filter((s) => !off(s)), ...rv.next.filter(off)].slice(0, roomFilter ? 4 : 3);
  const nowItems = rv.running.length ? rv.running : rv.instead ? [rv.instead] : [];
  setHTML(el.children[1], nowItems.length
    ? nowItems.map((s, i) => item(s, now, { ...opts, speakers: nowItems.length === 1, label: i ? "" : t("now") })).join("")
    : free(t("now"), t("free")));
  let nextHTML = nextItems.map((s, i) => item(s, now, { ...opts, label: i ? "" : t("next") })).join("");
  if (!nextItems.some((s) => !off(s))) nextHTML += free(nextItems.length ? "" : t("next"), t("nothing_more"));
  setHTML(el.children[2], nextHTML);
  el.classList.toggle("is-free", !rv.current);
  return { el, later: rv.later };
}

// ---- the whole screen ----------------------------------------------------------------------------

let panelPage = 0;
let laterPage = 0;
let laterPages = 1;
let laterItems = [];

function roomsOnScreen() {
  const rooms = state.rooms || [];
  if (roomFilter) {
    const room = rooms.find((r) => r.slug === roomFilter || r.name === roomFilter);
    return { all: room ? [room] : [], shown: room ? [room] : [], pages: 1 };
  }
  const perPage = 6;
  const pages = Math.max(1, Math.ceil(rooms.length / perPage));
  if (panelPage >= pages) panelPage = 0;
  return { all: rooms, shown: rooms.slice(panelPage * perPage, panelPage * perPage + perPage), pages };
}

function render() {
  if (!state) return;
  if (fmt.timeZone !== state.event.timezone) fmt = makeFormat(state.event.timezone, lang);
  const now = clock.now();
  const phase = eventPhase(state, now, fmt);
  const programme = phase !== "during";

  const mode = $("mode");
  mode.hidden = !programme && !clock.virtual;
  setText(mode, programme ? t(phase === "after" ? "after" : "programme", { date: fmt.longDate(state.event.start) }) : t("virtual"));
  mode.classList.toggle("virtual", !programme && clock.virtual);

  const { all, shown, pages } = roomsOnScreen();
  const container = $("rooms");
  container.dataset.count = String(shown.length);
  const later = [];
  const nodes = [];
  for (const room of all) {
    const { el, later: rest } = renderPanel(room, now, programme);
    later.push(...rest);
    if (shown.includes(room)) nodes.push(el);
  }
  if (pages > 1) container.dataset.page = `${panelPage + 1}/${pages}`;
  placeChildren(container, nodes);
  for (const el of nodes) fit(el.querySelector(".next"));

  // The rest of the day: everything after what the panels show; sessions without a room too.
  if (!roomFilter) {
    const named = new Set(all.map((r) => r.name));
    for (const s of state.sessions) {
      if ((!s.room || !named.has(s.room)) && (programme || ms(s.start) > now.getTime())) later.push(s);
    }
  }
  const seen = new Set();
  laterItems = later.filter((s) => !seen.has(s.id) && seen.add(s.id)).sort(byExpectedStart);
  setText($("side-h"), t(programme ? "more" : "later"));
  renderArrivals(); // before the list: the panel takes some of the side column's height
  renderLater(now);
  renderAnnouncements();
  renderClock();
  badge.render();
}

/** Items that do not fit lose their speakers and marks (the title keeps its two lines), then are hidden:
 * never a half-cut line on the wall. */
function fit(box) {
  if (!box) return;
  const items = [...box.querySelectorAll(".item")];
  for (const it of items) it.classList.remove("tight", "overflow");
  const bottom = box.getBoundingClientRect().bottom + 1;
  let hide = false;
  items.forEach((it, i) => {
    if (!hide && it.getBoundingClientRect().bottom > bottom) {
      it.classList.add("tight");
      if (i > 0 && it.getBoundingClientRect().bottom > bottom) hide = true; // the first one always shows
    }
    if (hide) it.classList.add("overflow");
  });
}


function renderLater(now) {
  const list = $("later");
  const html = laterItems.length
    ? laterItems.map((s) => `<li>${item(s, now, { showRoom: !roomFilter, counting: false })}</li>`).join("")
    : `<li class="none">${esc(t("later_none"))}</li>`;
  setHTML(list, html);
  // Cut the list into pages that fit (whole items only); the rotation shows one page after the other.
  const items = [...list.children];
  for (const li of items) li.classList.remove("off");
  const room = list.clientHeight;
  const pages = [];
  let first = 0;
  let used = 0;
  items.forEach((li, i) => {
    const h = li.offsetHeight;
    if (i > first && used + h > room) {
      pages.push([first, i]);
      first = i;
      used = 0;
    }
    used += h;
  });
  pages.push([first, items.length]);
  laterPages = pages.length;
  if (laterPage >= laterPages) laterPage = 0;
  const [a, b] = pages[laterPage];
  items.forEach((li, i) => li.classList.toggle("off", i < a || i >= b));
  setText($("later-page"), laterPages > 1 ? t("page", { n: laterPage + 1, total: laterPages }) : "");
}

// ---- arrivals: checked in / registered and per municipality, counts only (never names) ----------------

let arrivals = null;
let arrivalsPage = 0;
let arrivalsPages = 1;
const CITIES_PER_PAGE = 5;

function renderArrivals() {
  const panel = $("arrivals");
  if (!panel) return; // door screens have none
  const show = !!arrivals && arrivals.registered > 0;
  panel.hidden = !show;
  if (!show) return;
  setText($("arrivals-count"), `${arrivals.checked_in} / ${arrivals.registered}`);
  const pct = (n, of) => (of > 0 ? Math.min(100, (100 * n) / of) : 0).toFixed(1);
  $("arrivals-bar").lastElementChild.setAttribute("width", pct(arrivals.checked_in, arrivals.registered));
  const registered = arrivals.registered_by_city || {};
  const arrived = arrivals.by_city || {};
  const cities = Object.keys(registered).sort((a, b) => registered[b] - registered[a] || a.localeCompare(b, lang));
  arrivalsPages = Math.max(1, Math.ceil(cities.length / CITIES_PER_PAGE));
  if (arrivalsPage >= arrivalsPages) arrivalsPage = 0;
  const shown = cities.slice(arrivalsPage * CITIES_PER_PAGE, (arrivalsPage + 1) * CITIES_PER_PAGE);
  setHTML($("arrivals-cities"), shown.map((city) => {
    const n = arrived[city] || 0;
    return `<li><span class="city">${esc(city === "–" ? t("other_towns") : city)}</span><span class="n">${n} / ${registered[city]}</span>`
      + `<svg class="city-bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">`
      + `<rect class="all" width="100" height="4"></rect><rect class="in" width="${pct(n, registered[city])}" height="4"></rect></svg></li>`;
  }).join(""));
  setText($("arrivals-page"), arrivalsPages > 1 ? t("page", { n: arrivalsPage + 1, total: arrivalsPages }) : "");
}

function rotate() {
  // Page through the rest of the day (and through the rooms when there are more than fit).
  if (laterPages > 1) laterPage = (laterPage + 1) % laterPages;
  if (arrivalsPages > 1) arrivalsPage = (arrivalsPage + 1) % arrivalsPages;
  const { pages } = roomsOnScreen();
  if (pages > 1) panelPage = (panelPage + 1) % pages;
  render();
}

// ---- clock ---------------------------------------------------------------------------------------

let lastMinute = "";
function renderClock() {
  const now = clock.now();
  const text = fmt.time(now);
  setText($("clock"), text);
  return text;
}
function tick() {
  const minute = renderClock();
  if (minute !== lastMinute) {
    lastMinute = minute;
    render();
  }
}

// ---- announcements: urgent ones on a bar of their own, all of them in the ticker ------------------

let tickerKey = null;
function renderAnnouncements() {
  const list = activeAnnouncements(state.announcements, clock.serverNow());
  const urgent = list.filter((a) => a.severity === "urgent");
  const bar = $("urgent");
  bar.hidden = urgent.length === 0;
  setHTML(bar, urgent.map((a) => `<p data-announcement-id="${a.id}">${esc(a.text)}</p>`).join(""));

  const ticker = $("ticker");
  const track = ticker.firstElementChild;
  let html = list.map((a) => `<span class="tick sev-${a.severity}" data-announcement-id="${a.id}"><span class="sev">${esc(t(`sev_${a.severity}`))}</span> ${esc(a.text)}</span>`).join("");
  if (!list.length) {
    const url = app.dataset.phoneUrl || "";
    const local = /^https?:\/\/(localhost|127\.|\[::1\])/.test(url);
    html = local ? "" : `<span class="tick hint">${esc(t("phone", { url: url.replace(/^https?:\/\//, "") }))}</span>`;
  }
  const key = html;
  if (key === tickerKey) return;
  tickerKey = key;
  ticker.classList.remove("scrolling");
  track.style.animationDuration = "";
  track.innerHTML = html;
  ticker.classList.toggle("empty", !html);
  // Too long for one line: let it run, with a copy behind so the loop has no gap.
  if (html && track.scrollWidth > ticker.clientWidth) {
    track.innerHTML = `<span class="run">${html}</span><span class="run" aria-hidden="true">${html}</span>`;
    const distance = track.firstElementChild.getBoundingClientRect().width;
    track.style.animationDuration = `${Math.max(10, distance / 90)}s`;
    ticker.classList.add("scrolling");
  }
}

// ---- staying up: wake lock, reload after a long outage, new code after a deployment ---------------

// Not allowed (no HTTPS, battery saver): the screen's own settings apply.
const awake = { wakeLock: null };
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    keepAwake(awake);
    render();
  }
});

let downSince = null;
let reloading = false;
const RELOADS_KEY = "treffpunkt:screen-reloads";

/** Reloads of the last 30 minutes: each one doubles the wait, so a broken proxy cannot cause a reload loop. */
function recentReloads() {
  try {
    const list = JSON.parse(sessionStorage.getItem(RELOADS_KEY) || "[]");
    return list.filter((at) => Date.now() - at < 30 * 60000);
  } catch {
    return [];
  }
}
const reloadAfter = () => Math.min(15 * 60000, RELOAD_AFTER_MS * 2 ** recentReloads().length);

async function reloadFresh() {
  if (reloading) return;
  reloading = true;
  try {
    sessionStorage.setItem(RELOADS_KEY, JSON.stringify([...recentReloads(), Date.now()]));
  } catch {
    /* no session storage: no backoff either */
  }
  try {
    // Code may have changed while we were away: drop the cached files so the reload fetches them.
    if ("caches" in window) {
      for (const key of await caches.keys()) if (key.startsWith("treffpunkt-static")) await caches.delete(key);
    }
  } catch {
    /* no cache access: reload anyway */
  }
  location.reload();
}

function watchConnection(status) {
  if (status.mode === "live") {
    if (downSince && Date.now() - downSince > reloadAfter()) reloadFresh();
    downSince = null;
  } else if (!downSince) {
    downSince = Date.now();
  }
}

// Offline for more than a minute: as soon as the server answers again, start afresh (a new deployment's
// code, a clean socket), without waiting for the socket's own back-off.
setInterval(async () => {
  if (!downSince || Date.now() - downSince <= reloadAfter() || reloading) return;
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    if (res.ok) reloadFresh();
  } catch {
    /* still down */
  }
}, 5000);

// ---- start ---------------------------------------------------------------------------------------

const live = followEvent(slug, embedded, {
  onState(next) {
    state = next;
    render();
  },
  onStatus(status) {
    badge.set(status);
    watchConnection(status);
  },
  onStats(stats) {
    arrivals = stats;
    render();
  },
});
clock.useServer(live.serverNow);
render();
setInterval(tick, 1000);
setInterval(rotate, ROTATE_MS);
setInterval(() => badge.render(), 30000);
window.addEventListener("resize", () => {
  tickerKey = null;
  render();
});
keepAwake(awake);
let updatePending = false;
installOffline((msg) => {
  // A deployment changed our files: the worker has the new ones now, take them (once the burst is over).
  if (msg.type === "static-updated" && !updatePending && recentReloads().length < 3) {
    updatePending = true;
    setTimeout(reloadFresh, 5000);
  }
});
