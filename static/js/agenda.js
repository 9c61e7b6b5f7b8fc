// The phone agenda (/e/<slug>/): now/next, the day as a list or by room, favourites, announcements and
// the live badge. Renders from the live state (live.js) on every change without losing scroll or focus.
import {
  activeAnnouncements, byExpectedStart, describeChange, eventPhase, isCancelled, isMoved, isRunning, nowAndNext,
  overrunLabel, timeLeft,
} from "./agenda-model.js";
import { $, esc, placeChildren, setHTML, setText } from "./dom.js";
import { followEvent } from "./live.js";
import { cachedStateTime, installOffline, livePage } from "./page.js";
import { keepWithTicket } from "./favourites-sync.js";
import { favKey, loadJSON, saveJSON } from "./storage.js";
import { delayLabel, makeFormat, ms } from "./time.js";

const page = livePage();
const { slug, lang, t, embedded, clock, badge } = page;

let state = embedded;
let fmt = page.fmt;

// ---- preferences and favourites (this device only, no account) ----------------------------------

const FAV_KEY = favKey(slug);
const VIEW_KEY = "treffpunkt:view";
const FAVONLY_KEY = "treffpunkt:favonly";
// In private mode or with a full storage, a choice lasts until the page is closed (storage.js).

let favs = new Set(loadJSON(FAV_KEY, []));
let view = loadJSON(VIEW_KEY, "list") === "rooms" ? "rooms" : "list";
let favOnly = loadJSON(FAVONLY_KEY, false) === true;

// ---- the saved-copy age for the badge ------------------------------------------------------------

{
  const cachedAt = cachedStateTime(slug, embedded); // served by the service worker without the network
  if (cachedAt) badge.fromSavedCopy(cachedAt);
}

// ---- session cards -------------------------------------------------------------------------------

const cards = new Map(); // session id -> {el, body, details, fav}

function card(s) {
  let c = cards.get(s.id);
  if (!c) {
    const el = document.createElement("article");
    el.className = "session";
    el.id = `s-${s.id}`;
    el.tabIndex = -1;
    el.dataset.sessionId = String(s.id);
    el.setAttribute("aria-labelledby", `t-${s.id}`);
    const body = document.createElement("div");
    body.className = "s-body";
    const details = document.createElement("details");
    details.className = "abstract";
    details.innerHTML = `<summary>${esc(t("abstract"))}</summary><p></p>`;
    const fav = document.createElement("button");
    fav.type = "button";
    fav.className = "fav";
    fav.dataset.fav = String(s.id);
    fav.innerHTML = '<span aria-hidden="true"></span>';
    el.append(fav, body, details);
    c = { el, body, details, fav };
    cards.set(s.id, c);
  }
  return c;
}

function cardHTML(s, now, level) {
  const delayed = !!s.delay_minutes;
  const running = !isCancelled(s) && isRunning(s, now);
  let html = '<p class="s-time">';
  html += `<span class="planned">${delayed ? `<span class="sr-only">${esc(t("planned"))} </span>` : ""}${fmt.range(s.planned_start, s.planned_end)}</span>`;
  if (delayed) html += ` <span class="delay">${esc(t("delay", { delta: delayLabel(s.delay_minutes), time: fmt.range(s.start, s.end) }))}</span>`;
  const overrun = overrunLabel(t, s, now); // the end moved, the start stayed: "überzieht um 10 min, Ende 16:05"
  if (overrun) html += ` <span class="overrun">${esc(t("ends", { what: overrun, time: fmt.time(s.end) }))}</span>`;
  if (isCancelled(s)) html += ` <span class="mark-cancelled">${esc(t("cancelled"))}</span>`;
  else if (running) html += ` <span class="mark-now">${esc(t("running"))}</span>`;
  html += "</p>";
  html += `<h${level} class="s-title" id="t-${s.id}">${esc(s.title)}</h${level}>`;
  if (s.speakers && s.speakers.length) html += `<p class="speakers">${esc(s.speakers.join(", "))}</p>`;
  html += '<p class="s-meta">';
  if (s.room) {
    html += `<span class="room">${esc(s.room)}`;
    if (isMoved(s)) html += ` <span class="moved">${esc(t("moved_from", { room: s.planned_room }))}</span>`;
    html += "</span>";
  }
  html += `<span class="kind">${esc(t.kind(s.kind))}</span>`;
  for (const topic of s.topics || []) html += `<span class="topic">${esc(topic)}</span>`;
  html += "</p>";
  return html;
}

function updateCard(s, now, level) {
  const c = card(s);
  const el = c.el;
  const status = isCancelled(s) ? "cancelled" : "scheduled";
  if (el.dataset.status !== status) el.dataset.status = status;
  el.classList.toggle("is-now", !isCancelled(s) && isRunning(s, now));
  el.classList.toggle("is-past", ms(s.end) <= now.getTime());
  el.classList.toggle("is-delayed", !!s.delay_minutes);
  el.classList.toggle("is-overrun", !!s.overrun_minutes);
  el.classList.toggle("is-moved", isMoved(s));
  el.classList.toggle("is-fav", favs.has(s.id));
  el.hidden = favOnly && !favs.has(s.id);
  setHTML(c.body, cardHTML(s, now, level));
  const pressed = favs.has(s.id) ? "true" : "false";
  if (c.fav.getAttribute("aria-pressed") !== pressed) c.fav.setAttribute("aria-pressed", pressed);
  const label = t("fav_label", { title: s.title });
  if (c.fav.getAttribute("aria-label") !== label) c.fav.setAttribute("aria-label", label);
  setText(c.fav.firstChild, favs.has(s.id) ? "★" : "☆");
  c.details.hidden = !s.abstract;
  setText(c.details.lastChild, s.abstract || "");
  return el;
}

// ---- the list / by-room program ------------------------------------------------------------------

const groups = new Map(); // room name -> section element

function group(name, label) {
  let g = groups.get(name);
  if (!g) {
    g = document.createElement("section");
    g.className = "room-group";
    g.innerHTML = `<h3></h3><div class="group-list"></div>`;
    groups.set(name, g);
  }
  setText(g.firstChild, label);
  return g;
}

function renderProgram(now) {
  const container = $("sessions");
  if (container.dataset.view !== view) container.dataset.view = view;
  const sessions = [...state.sessions].sort(byExpectedStart);
  const alive = new Set(sessions.map((s) => s.id));
  for (const id of [...cards.keys()]) if (!alive.has(id)) cards.delete(id);

  if (view === "list") {
    let list = container.querySelector(":scope > .list");
    if (!list) {
      list = document.createElement("div");
      list.className = "list";
    }
    placeChildren(list, sessions.map((s) => updateCard(s, now, 3)));
    placeChildren(container, [list]);
  } else {
    const names = state.rooms.map((r) => r.name);
    const sections = [];
    const byRoom = new Map(names.map((n) => [n, []]));
    const other = [];
    for (const s of sessions) (byRoom.get(s.room) || other).push(s);
    for (const [name, list] of byRoom) if (list.length) sections.push([name, name, list]);
    if (other.length) sections.push(["", t("no_room"), other]);
    const nodes = sections.map(([key, label, list]) => {
      const g = group(key, label);
      placeChildren(g.lastChild, list.map((s) => updateCard(s, now, 4)));
      g.hidden = favOnly && !list.some((s) => favs.has(s.id));
      return g;
    });
    placeChildren(container, nodes);
  }
  $("fav-empty").hidden = !(favOnly && !state.sessions.some((s) => favs.has(s.id)));
}

// ---- now / next ----------------------------------------------------------------------------------

function nnItem(s, now) {
  let html = `<li class="nn-item${isCancelled(s) ? " is-cancelled" : ""}" data-ref="${s.id}">`;
  html += `<a href="#s-${s.id}" data-focus-key="nn-${s.id}"><span class="nn-time">${fmt.range(s.start, s.end)}</span> `;
  html += `<span class="nn-title">${esc(s.title)}</span></a>`;
  const meta = [];
  if (s.room) meta.push(esc(s.room) + (isMoved(s) ? ` <span class="moved">${esc(t("moved_from", { room: s.planned_room }))}</span>` : ""));
  if (s.delay_minutes) meta.push(`<span class="nn-delay">${esc(delayLabel(s.delay_minutes))}</span>`);
  const overrun = overrunLabel(t, s, now);
  if (overrun) meta.push(`<span class="nn-overrun">${esc(overrun)}</span>`);
  const left = timeLeft(t, fmt, s, now);
  if (left) meta.push(`<span class="nn-count">${esc(left)}</span>`);
  html += `<span class="nn-meta">${meta.join(" · ")}</span></li>`;
  return html;
}

function renderNowNext(now, phase) {
  const ev = state.event;
  let html = "";
  if (phase === "during") {
    const { current, next } = nowAndNext(state.sessions, now);
    html += `<h3>${esc(t("now"))}</h3>`;
    html += current.length ? `<ul class="nn-list">${current.map((s) => nnItem(s, now)).join("")}</ul>` : `<p class="nn-empty">${esc(t("nothing_now"))}</p>`;
    html += `<h3>${esc(t("next"))}</h3>`;
    html += next.length ? `<ul class="nn-list">${next.map((s) => nnItem(s, now)).join("")}</ul>` : `<p class="nn-empty">${esc(t("nothing_next"))}</p>`;
  } else {
    const msg = phase === "before"
      ? `${t("before")} ${t("starts", { date: fmt.date(ev.start), time: fmt.time(ev.start) })}`
      : t("after");
    html += `<p class="nn-phase">${esc(msg)}</p>`;
    if (ev.is_demo && !clock.virtual) {
      const first = [...state.sessions].filter((s) => !isCancelled(s)).sort(byExpectedStart)[0];
      const at = new Date(ms(first ? first.start : ev.start) + 130 * 60000);
      const href = `?at=${encodeURIComponent(`${fmt.dayKey(at)}T${fmt.time(at)}`)}`;
      html += `<p class="nn-demo"><a href="${esc(href)}" data-focus-key="demo-at">${esc(t("demo_at", { time: fmt.time(at) }))}</a></p>`;
    }
  }
  setHTML($("nownext"), html);

  const note = $("clock-note");
  note.hidden = !clock.virtual;
  if (clock.virtual) setText($("clock-now"), t("virtual", { date: fmt.date(now), time: fmt.time(now) }));
}

// ---- announcements -------------------------------------------------------------------------------

const annItems = new Map();

function renderAnnouncements() {
  const list = activeAnnouncements(state.announcements, clock.serverNow());
  const section = $("announcements");
  const nodes = list.map((a) => {
    let li = annItems.get(a.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.announcementId = String(a.id);
      annItems.set(a.id, li);
    }
    li.className = `ann sev-${a.severity}`;
    setHTML(li, `<span class="ann-sev">${esc(t(`sev_${a.severity}`))}</span> <span class="ann-text">${esc(a.text)}</span> <span class="ann-time">${esc(fmt.time(a.created_at))}</span>`);
    return li;
  });
  let ul = section.querySelector("ul");
  if (!ul) {
    ul = document.createElement("ul");
    section.append(ul);
  }
  placeChildren(ul, nodes);
  section.classList.toggle("has-items", nodes.length > 0);
}

// ---- favourites banner ---------------------------------------------------------------------------

let previous = new Map(embedded.sessions.map((s) => [s.id, s]));
const bannerItems = new Map();

function noteFavouriteChanges(info) {
  if (info.kind !== "change" && info.kind !== "snapshot") return;
  const touched = info.kind === "change" ? (info.change && info.change.sessions) || [] : state.sessions;
  for (const after of touched) {
    if (!favs.has(after.id)) continue;
    const text = describeChange(t, fmt, previous.get(after.id), after);
    if (text) bannerItems.set(after.id, text);
  }
  renderBanner();
}

function renderBanner() {
  const banner = $("fav-banner");
  const html = [...bannerItems].map(([id, text]) =>
    `<li>${esc(text)} <a href="#s-${id}" data-focus-key="fb-${id}">${esc(t("show"))}<span class="sr-only">: ${esc(text)}</span></a></li>`).join("");
  setHTML($("fav-changes"), html);
  banner.hidden = bannerItems.size === 0;
}

// ---- the whole page ------------------------------------------------------------------------------

function renderHeader() {
  const ev = state.event;
  setText($("event-when"), [fmt.date(ev.start), fmt.range(ev.start, ev.end), ev.venue].filter(Boolean).join(" · "));
  const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const tzNote = $("tz-note");
  tzNote.hidden = !deviceZone || deviceZone === fmt.timeZone;
  setText(tzNote, t("tz_note", { tz: fmt.timeZone }));
}

function syncControls() {
  for (const b of document.querySelectorAll("button[data-view]")) b.setAttribute("aria-pressed", b.dataset.view === view ? "true" : "false");
  $("fav-only").setAttribute("aria-pressed", favOnly ? "true" : "false");
}

function render() {
  if (!state) return;
  if (fmt.timeZone !== state.event.timezone) fmt = makeFormat(state.event.timezone, lang);
  const now = clock.now();
  const phase = eventPhase(state, now, fmt);
  // Keep what the reader looks at where it is, even when cards above it grow or shrink.
  const anchor = window.scrollY > 0 ? [...document.querySelectorAll("article.session:not([hidden])")].find((a) => a.getBoundingClientRect().bottom > 60) : null;
  const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
  const active = document.activeElement;

  renderHeader();
  renderAnnouncements();
  renderNowNext(now, phase);
  renderProgram(now);
  syncControls();

  if (active && active !== document.body && active !== document.activeElement && document.contains(active)) {
    active.focus({ preventScroll: true });
  }
  if (anchor && document.contains(anchor)) {
    const delta = anchor.getBoundingClientRect().top - anchorTop;
    if (Math.abs(delta) > 1) window.scrollBy(0, delta);
  }
  badge.render();
}

function jumpToNow() {
  const now = clock.now().getTime();
  const visible = [...document.querySelectorAll("article.session")].filter((a) => !a.hidden && !(a.parentElement.closest("[hidden]")));
  const sessionOf = (a) => state.sessions.find((s) => String(s.id) === a.dataset.sessionId);
  const target = visible.find((a) => {
    const s = sessionOf(a);
    return s && !isCancelled(s) && ms(s.end) > now;
  }) || visible[visible.length - 1];
  if (!target) return;
  target.scrollIntoView({ block: "start", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  target.focus({ preventScroll: true });
}

// ---- events --------------------------------------------------------------------------------------

document.addEventListener("click", (e) => {
  const fav = e.target.closest("button.fav");
  if (fav) {
    const id = Number(fav.dataset.fav);
    if (favs.has(id)) favs.delete(id);
    else favs.add(id);
    saveJSON(FAV_KEY, [...favs]);
    keepWithTicket(slug, [...favs]);
    render();
    return;
  }
  const viewButton = e.target.closest("button[data-view]");
  if (viewButton) {
    view = viewButton.dataset.view === "rooms" ? "rooms" : "list";
    saveJSON(VIEW_KEY, view);
    render();
    return;
  }
  if (e.target.closest("#fav-only")) {
    favOnly = !favOnly;
    saveJSON(FAVONLY_KEY, favOnly);
    render();
    return;
  }
  if (e.target.closest("#jump-now")) {
    jumpToNow();
    return;
  }
  if (e.target.closest("#fav-dismiss")) {
    bannerItems.clear();
    renderBanner();
    $("jump-now").focus({ preventScroll: true });
    return;
  }
  // A link to a card the favourites filter hides: show everything first, then go there.
  const link = e.target.closest('a[href^="#s-"]');
  if (link) {
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (target && (target.hidden || target.closest("[hidden]")) && favOnly) {
      favOnly = false;
      saveJSON(FAVONLY_KEY, favOnly);
      render();
    }
    if (target) {
      e.preventDefault();
      target.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
      history.replaceState(null, "", link.getAttribute("href"));
    }
  }
});

window.addEventListener("storage", (e) => {
  if (e.key === FAV_KEY) {
    favs = new Set(loadJSON(FAV_KEY, []));
    render();
  }
});

const live = followEvent(slug, embedded, {
  onState(next, info) {
    state = next;
    if (info) noteFavouriteChanges(info);
    render();
    previous = new Map(state.sessions.map((s) => [s.id, s]));
  },
  onStatus(status) {
    badge.set(status);
  },
});
clock.useServer(live.serverNow);
render();
setInterval(render, 15000);
installOffline();
