// The matchmaking board: the phone page (/e/<slug>/board) and the projector (/e/<slug>/board/screen).
// Renders from the live state (live.js, its `board` part) on every change without a reload: topics with the
// municipalities and their stage, the matches with their reasons in words, the planned tables, and the
// picture (board-draw.js). On a phone whose ticket is known, "meine Kommune" narrows everything down.
import { drawBoard, matchSentences, pairKey, scoreBadge, scoreText } from "./board-draw.js";
import { $, esc, keepAwake, setHTML, setText } from "./dom.js";
import { makeNumber } from "./i18n.js";
import { followEvent } from "./live.js";
import { installOffline, livePage } from "./page.js";
import { loadJSON, saveJSON, ticketKey } from "./storage.js";
import { makeFormat, ms } from "./time.js";

const page = livePage();
const { app, slug, lang, t, embedded, clock, badge } = page;
const onScreen = app.dataset.view === "screen";

let state = embedded;
let fmt = page.fmt;
const number = makeNumber(lang);

// ---- words (the sentences come finished with the board, in both languages) ------------------------

const stageLabel = (stage) => t(`stage_${stage}`);
const score = (n) => scoreBadge(t, number, n);
const reasons = (match) => matchSentences(match, lang);

/** The start of a table's session as it is now (a delay moves it), else the start the plan recorded. */
function tableStart(table) {
  const session = (state.sessions || []).find((s) => s.id === table.session_id);
  return session ? session.start : table.start;
}
function sessionEnd(table) {
  const session = (state.sessions || []).find((s) => s.id === table.session_id);
  return session ? ms(session.end) : ms(table.start) + 3600000;
}

function tableLine(table) {
  return t("table_line", { n: table.table, time: fmt.time(tableStart(table)), topic: table.topic, cities: table.cities.join(", ") });
}

// ---- "meine Kommune" (phone) -----------------------------------------------------------------------

const MINE_KEY = `treffpunkt:board-mine:${slug}`;
const TICKET_KEY = ticketKey(slug);
let mine = null; // {city, ticket}
let mineOnly = false;

async function findMine() {
  const ticket = loadJSON(TICKET_KEY);
  if (typeof ticket !== "string" || !/^\/t\/[A-Za-z0-9_-]{20,64}$/.test(ticket)) return;
  const known = loadJSON(MINE_KEY);
  if (known && known.ticket === ticket && known.city) {
    mine = known;
    mineOnly = !!known.only;
    render();
  }
  try {
    // The delegate view names the ticket's municipality (same origin; the token stays on this device).
    const response = await fetch(`/api/v1${ticket}/interests`, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) {
      if (response.status === 404 || response.status === 409) {
        mine = null;
        saveJSON(MINE_KEY, null);
        render();
      }
      return;
    }
    const view = await response.json();
    mine = { city: view.municipality, ticket, only: mineOnly };
    saveJSON(MINE_KEY, mine);
    render();
  } catch {
    /* offline: keep what we knew */
  }
}

function renderMine(board) {
  const bar = $("mine-bar");
  if (!bar) return;
  bar.hidden = !mine;
  if (!mine) return;
  const onBoard = (board.municipalities || []).some((m) => m.name === mine.city);
  const button = $("mine-only");
  setText(button, t("mine_only", { city: mine.city }));
  button.setAttribute("aria-pressed", mineOnly ? "true" : "false");
  $("mine-edit").href = `${mine.ticket}/board`;
  const note = $("mine-note");
  note.hidden = onBoard;
  setText(note, t("mine_missing", { city: mine.city }));
}

const filtering = () => !onScreen && mine && mineOnly;

// ---- phone lists -------------------------------------------------------------------------------------

function renderTopics(board) {
  const el = $("topics");
  if (!el) return;
  let topics = (board.topics || []).filter((tp) => tp.cities.length);
  if (filtering()) topics = topics.filter((tp) => tp.cities.some((c) => c.city === mine.city));
  const empty = (board.topics || []).filter((tp) => !tp.cities.length);
  let html = "";
  for (const tp of topics) {
    html += `<section class="topic-card" data-topic="${esc(tp.slug)}"><h3>${esc(tp.name)}</h3><ul class="stage-list">`;
    for (const c of tp.cities) {
      const isMine = mine && c.city === mine.city;
      html += `<li class="stage-item${isMine ? " is-mine" : ""}" data-city="${esc(c.city)}">`;
      html += `<span class="city">${esc(c.city)}</span> <span class="stage stage-${esc(c.stage)}">${esc(stageLabel(c.stage))}</span>`;
      if (c.note) html += `<span class="note">${esc(c.note)}</span>`;
      if (c.contact) html += `<span class="contact">${esc(t("contact", { name: c.contact }))}</span>`;
      html += "</li>";
    }
    html += "</ul></section>";
  }
  if (!topics.length) html += `<p class="muted">${esc(filtering() ? t("nothing_mine") : t("no_topics"))}</p>`;
  if (empty.length && !filtering()) {
    html += `<p class="topics-empty muted">${esc(t("topics_empty", { topics: empty.map((tp) => tp.name).join(", ") }))}</p>`;
  }
  setHTML(el, html);
}

let knownPairs = null; // pair keys seen before, to mark new matches
const MATCH_LIMIT = 8;
let showAllMatches = false;

function renderMatches(board) {
  const el = $("matches");
  if (!el) return;
  let matches = board.matches || [];
  if (filtering()) matches = matches.filter((m) => m.cities.includes(mine.city));
  const total = matches.length;
  if (!showAllMatches && total > MATCH_LIMIT + 2) matches = matches.slice(0, MATCH_LIMIT);
  const more = $("matches-all");
  more.hidden = matches.length === total;
  setText(more, t("show_all", { n: total }));
  const fresh = new Set(knownPairs ? matches.map((m) => pairKey(...m.cities)).filter((k) => !knownPairs.has(k)) : []);
  let html = "";
  for (const m of matches) {
    const key = pairKey(...m.cities);
    const isMine = mine && m.cities.includes(mine.city);
    html += `<li class="match${isMine ? " is-mine" : ""}${fresh.has(key) ? " is-new" : ""}" data-cities="${esc(key)}">`;
    html += `<p class="pair"><strong>${esc(m.cities[0])}</strong> <span aria-hidden="true">↔</span><span class="sr-only"> – </span> <strong>${esc(m.cities[1])}</strong>`;
    html += ` <span class="score">${esc(score(m.score))}</span></p>`;
    html += `<ul class="reasons">${reasons(m).map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`;
    html += `<p class="score-why">${esc(scoreText(m, lang))}</p></li>`;
  }
  setHTML(el, html);
  $("matches-empty").hidden = total > 0;
  setText($("matches-empty"), filtering() ? t("nothing_mine") : t("no_matches"));
}

function groupBySession(tables) {
  const groups = new Map();
  for (const table of tables) {
    if (!groups.has(table.session_id)) groups.set(table.session_id, []);
    groups.get(table.session_id).push(table);
  }
  return [...groups.values()].sort((a, b) => ms(tableStart(a[0])) - ms(tableStart(b[0])));
}

function renderTables(board) {
  const el = $("tables");
  if (!el) return;
  let tables = board.tables || [];
  if (filtering()) tables = tables.filter((tb) => tb.cities.includes(mine.city));
  let html = "";
  for (const group of groupBySession(tables)) {
    const first = group[0];
    html += `<section class="table-slot" data-session-id="${first.session_id}"><h3>${esc(t("tables_at", { session: first.session, time: fmt.time(tableStart(first)) }))}</h3><ul class="table-list">`;
    for (const tb of group.sort((a, b) => a.table - b.table)) {
      const isMine = mine && tb.cities.includes(mine.city);
      html += `<li class="table-item kind-${esc(tb.kind)}${isMine ? " is-mine" : ""}" data-table="${tb.table}">`;
      html += `<span class="table-kind">${esc(tb.kind === "meeting" ? t("meeting") : t("topic_table"))}</span> ${esc(tableLine(tb))}</li>`;
    }
    html += "</ul></section>";
  }
  if (!tables.length) html = `<p class="muted">${esc(filtering() ? t("nothing_mine") : t("no_tables"))}</p>`;
  setHTML(el, html);
}

// ---- the picture ---------------------------------------------------------------------------------

let picture = onScreen ? "map" : loadJSON("treffpunkt:board-picture") === "graph" ? "graph" : "map";

function renderPicture(board) {
  const svg = $("board-svg");
  if (!svg) return;
  const highlight = !onScreen && mine ? mine.city : null;
  if (onScreen) drawBoard(svg, board, { view: "map", t, lang, fontSize: 38, linkScale: 1.5 }); // ≥ 28 px at 1080p
  else drawBoard(svg, board, { view: picture, t, lang, highlight, fontSize: picture === "map" ? 36 : 24, width: 640 });
  for (const b of document.querySelectorAll("[data-picture]")) b.setAttribute("aria-pressed", b.dataset.picture === picture ? "true" : "false");
  const legendMap = $("legend-map");
  const legendGraph = $("legend-graph");
  if (legendMap) legendMap.hidden = picture !== "map";
  if (legendGraph) legendGraph.hidden = picture !== "graph";
  const empty = $("picture-empty");
  if (empty) empty.hidden = (board.municipalities || []).length > 0;
}

// ---- the projector -----------------------------------------------------------------------------------

const TOP_MATCHES = 10;
let announced = null;
let toastTimer = null;

/** Hide the items that do not fit into their panel; returns how many are hidden. */
function fit(panel, items, reserve) {
  for (const li of items) li.hidden = false;
  const style = getComputedStyle(panel);
  const limit = panel.getBoundingClientRect().bottom - parseFloat(style.paddingBottom) - reserve;
  let hidden = 0;
  for (const [i, li] of items.entries()) {
    if (i > 0 && (hidden || li.getBoundingClientRect().bottom > limit)) {
      li.hidden = true;
      hidden++;
    }
  }
  return hidden;
}

function renderScreenSide(board, now) {
  const all = board.matches || [];
  const top = all.slice(0, TOP_MATCHES);
  const fresh = new Set(knownPairs ? top.map((m) => pairKey(...m.cities)).filter((k) => !knownPairs.has(k)) : []);
  let html = "";
  for (const m of top) {
    const key = pairKey(...m.cities);
    html += `<li class="match${fresh.has(key) ? " is-new" : ""}" data-cities="${esc(key)}"><p class="pair"><span class="cities">${esc(m.cities[0])} ↔ ${esc(m.cities[1])}</span>`;
    html += ` <span class="score">${esc(score(m.score))}</span></p><p class="reason">${esc(reasons(m)[0] || "")}</p></li>`;
  }
  const list = $("top-matches");
  setHTML(list, html);
  const moreEl = $("more-matches");
  const lineHeight = parseFloat(getComputedStyle(moreEl).fontSize) * 1.6;
  const shown = top.length - fit(list.parentElement, [...list.children], lineHeight);
  moreEl.hidden = all.length <= shown;
  setText(moreEl, t("more_matches", { n: all.length - shown }));
  $("matches-empty").hidden = all.length > 0;

  // The tables of the networking round running now or coming next (else, after the event, the first one).
  const groups = groupBySession(board.tables || []);
  const current = groups.find((g) => sessionEnd(g[0]) > now.getTime()) || groups[0] || [];
  let tables = "";
  for (const tb of [...current].sort((a, b) => a.table - b.table)) {
    tables += `<li class="table-item kind-${esc(tb.kind)}" data-table="${tb.table}"><span class="table-no">${esc(t("table", { n: tb.table }))}</span>`;
    tables += `<span class="table-topic">${esc(tb.topic)}</span><span class="table-cities">${esc(tb.cities.join(", "))}</span></li>`;
  }
  const tableList = $("next-tables");
  setHTML(tableList, tables);
  setText($("tables-when"), current.length ? t("time_session", { session: current[0].session, time: fmt.time(tableStart(current[0])) }) : "");
  const moreTables = $("more-tables");
  const hiddenTables = fit(tableList.parentElement, [...tableList.children], lineHeight);
  moreTables.hidden = hiddenTables === 0;
  setText(moreTables, t("more_tables", { n: hiddenTables }));
  $("tables-empty").hidden = current.length > 0;
}

function toastNewLinks(board) {
  // On a change, name the newest link for a few seconds (the line itself is highlighted by board-draw.js).
  const keys = (board.matches || []).map((m) => pairKey(...m.cities));
  if (announced) {
    const added = (board.matches || []).filter((m) => !announced.has(pairKey(...m.cities)));
    const toast = $("toast");
    if (added.length && toast) {
      const more = added.length > 1 ? ` ${t("more_new", { n: added.length - 1 })}` : "";
      toast.textContent = `${t("new_link")}: ${added[0].cities.join(" ↔ ")}${more}`;
      toast.hidden = false;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => (toast.hidden = true), 12000);
    }
  }
  announced = new Set(keys);
}

function renderClock(now) {
  setText($("clock"), fmt.time(now));
}

// ---- the whole page ----------------------------------------------------------------------------------

function render() {
  if (!state || !state.board) return;
  if (fmt.timeZone !== state.event.timezone) fmt = makeFormat(state.event.timezone, lang);
  const board = state.board;
  const now = clock.now();
  renderPicture(board);
  if (onScreen) {
    renderScreenSide(board, now);
    renderClock(now);
  } else {
    renderMine(board);
    renderTopics(board);
    renderMatches(board);
    renderTables(board);
  }
  knownPairs = new Set((board.matches || []).map((m) => pairKey(...m.cities)));
  badge.render();
}

document.addEventListener("click", (e) => {
  const pic = e.target.closest("[data-picture]");
  if (pic) {
    picture = pic.dataset.picture === "graph" ? "graph" : "map";
    saveJSON("treffpunkt:board-picture", picture);
    render();
    return;
  }
  if (e.target.closest("#matches-all")) {
    showAllMatches = true;
    render();
    const next = document.querySelectorAll("#matches > li")[MATCH_LIMIT];
    if (next) {
      next.tabIndex = -1;
      next.focus({ preventScroll: true });
    }
    return;
  }
  if (e.target.closest("#mine-only") && mine) {
    mineOnly = !mineOnly;
    mine.only = mineOnly;
    saveJSON(MINE_KEY, mine);
    render();
  }
});

const live = followEvent(slug, embedded, {
  onState(next, info) {
    state = next;
    if (onScreen && state.board && info && info.kind !== "initial") toastNewLinks(state.board);
    render();
  },
  onStatus(status) {
    badge.set(status);
  },
});
clock.useServer(live.serverNow);
if (onScreen) {
  toastNewLinks(state.board || {});
  setInterval(() => renderClock(clock.now()), 1000);
  setInterval(render, 30000);
  window.addEventListener("resize", render);
  // Keep the projector awake where the browser allows it.
  const awake = { wakeLock: null };
  keepAwake(awake);
  document.addEventListener("visibilitychange", () => keepAwake(awake));
} else {
  findMine();
  installOffline();
}
render();
