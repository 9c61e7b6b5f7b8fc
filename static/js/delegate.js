// A delegate's own page (/t/<token>/board): the municipality's consent and stage per topic (saved with
// PUT /api/v1/t/<token>/interests), suggestions with reasons and "Treffen anfragen", incoming requests to
// accept or decline, and the municipality's own plan. Input is never lost: a failed save keeps the form as
// it is and says why (role=alert), a draft survives a reload, and live refreshes leave a form being edited
// alone. The page follows /live, so the suggestions and the plan change as the board changes.
import { matchSentences, pairKey, scoreBadge, scoreText } from "./board-draw.js";
import { $, esc, pageLang, readJSON, setHTML } from "./dom.js";
import { makeNumber, makeT } from "./i18n.js";
import { followEvent } from "./live.js";
import { liveBadge } from "./page.js";
import { loadJSON, removeKey, saveJSON, ticketKey } from "./storage.js";
import { makeFormat } from "./time.js";

const root = $("delegate");
const page = readJSON("delegate-page");
const embedded = readJSON("live-state");
const t = makeT(readJSON("i18n"));
const lang = pageLang();
const slug = root.dataset.slug;
const token = page.token;
const API = `/api/v1/t/${encodeURIComponent(token)}`;
const DRAFT_KEY = `treffpunkt:board-draft:${token}`;
const number = makeNumber(lang);

let state = embedded;
let view = page.view;
// The version of the answers the form was filled from: sent with every save, so that a save over answers
// another delegate of our municipality changed meanwhile is refused (409) instead of silently winning.
let basis = view.version;
let fmt = makeFormat(state.event.timezone, lang);
const badge = liveBadge($("live-status"), t, fmt);
const form = $("interests");
const topicNames = new Map(page.topics.map((tp) => [tp.name, tp.slug]));

// So the public board on this device knows "meine Kommune" (the same key as ticket.js).
saveJSON(ticketKey(slug), root.dataset.ticket);

// ---- the form ------------------------------------------------------------------------------------

/** What the form says now, as the API body. */
function collect() {
  const interests = [];
  for (const field of form.querySelectorAll(".topic-field")) {
    const topic = field.dataset.topic;
    const checked = field.querySelector(".stage-radio:checked");
    const stage = checked ? checked.value : "";
    if (!stage) continue;
    const note = field.querySelector(".note-input").value.replace(/\s+/g, " ").trim();
    interests.push(note ? { topic, stage, note } : { topic, stage });
  }
  const contact = $("contact");
  return { consent: $("consent").checked, interests, contact: !!(contact && contact.checked && !contact.disabled) };
}

/** Put a body (saved answer or draft) into the form. */
function fillForm(body) {
  $("consent").checked = !!body.consent;
  const byTopic = new Map((body.interests || []).map((i) => [i.topic, i]));
  for (const field of form.querySelectorAll(".topic-field")) {
    const item = byTopic.get(field.dataset.topic);
    const stage = item ? item.stage : "";
    for (const radio of field.querySelectorAll(".stage-radio")) radio.checked = radio.value === stage;
    field.querySelector(".note-input").value = item && item.note ? item.note : "";
    field.dataset.stage = stage;
  }
  const contact = $("contact");
  if (contact && !contact.disabled && "contact" in body) contact.checked = !!body.contact;
}

const same = (a, b) => JSON.stringify(normal(a)) === JSON.stringify(normal(b));
function normal(body) {
  return {
    consent: !!body.consent,
    contact: !!body.contact,
    interests: [...(body.interests || [])].map((i) => ({ topic: i.topic, stage: i.stage, note: i.note || "" }))
      .sort((a, b) => (a.topic < b.topic ? -1 : 1)),
  };
}

let saved = { consent: view.consent, interests: view.interests, contact: page.contact };
let saving = false;

function status(text) {
  const el = $("save-status");
  if (el.textContent !== text) el.textContent = text;
}
function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}

function markDirty() {
  const body = collect();
  const dirty = !same(body, saved);
  form.classList.toggle("is-dirty", dirty);
  if (!saving) {
    if (dirty) status(t("dirty"));
    else if ($("save-status").textContent === t("dirty")) status("");
  }
  // Private mode: no draft, the form itself still keeps the input.
  if (dirty) saveJSON(DRAFT_KEY, body);
  else removeKey(DRAFT_KEY);
  return dirty;
}

form.addEventListener("change", (e) => {
  const radio = e.target.closest(".stage-radio");
  if (radio) radio.closest(".topic-field").dataset.stage = radio.value;
  markDirty();
});
form.addEventListener("input", markDirty);
form.addEventListener("submit", (e) => {
  e.preventDefault();
  save();
});

/** The error text of a failed API answer: the server's message if it sent one, else the status. */
async function problem(response) {
  try {
    const data = await response.json();
    if (data && data.error && data.error.message) return data.error.message;
  } catch {
    /* not JSON */
  }
  return `HTTP ${response.status}`;
}

async function call(method, path, body) {
  return fetch(`${API}${path}`, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "same-origin",
  });
}

async function save() {
  if (saving) return;
  const body = collect();
  saving = true;
  $("save").disabled = true;
  status(t("saving"));
  showError("save-error", "");
  try {
    let response;
    try {
      response = await call("PUT", "/interests", { ...body, version: basis });
    } catch {
      showError("save-error", t("offline_failed"));
      status(t("dirty"));
      return;
    }
    if (response.status === 409) {
      // Another delegate saved first: say so, show their answers behind ours, and let a second save win.
      const data = await response.clone().json().catch(() => ({}));
      showError("save-error", await problem(response));
      status(t("dirty"));
      await refresh();
      if (data.error && Number.isInteger(data.error.version)) basis = data.error.version;
      return;
    }
    if (!response.ok) {
      showError("save-error", t("save_failed", { message: await problem(response) }));
      status(t("dirty"));
      return;
    }
    view = await response.json();
    basis = view.version;
    saved = { ...body, consent: view.consent, interests: view.interests };
    const dirty = markDirty(); // the delegate may have typed on while we saved
    if (!dirty) status(t("saved"));
    renderView();
  } finally {
    saving = false;
    $("save").disabled = false;
  }
}

// ---- suggestions, requests, plan -------------------------------------------------------------------

/** The topics a suggested partner shares with us, strongest first, as [slug, name]. */
function sharedTopics(city) {
  const board = state.board || {};
  const match = (board.matches || []).find((m) => pairKey(...m.cities) === pairKey(page.municipality, city));
  const names = match ? match.topics || [] : [];
  return names.filter((n) => topicNames.has(n)).map((n) => [topicNames.get(n), n]);
}

function openRequestWith(city) {
  return (view.requests || []).find((r) => r.status !== "declined" && ((r.from === city && r.incoming) || (r.to === city && !r.incoming)));
}

function renderSuggestions() {
  const list = $("suggestions");
  const board = state.board || {};
  let html = "";
  (view.suggestions || []).forEach((s, i) => {
    const match = (board.matches || []).find((m) => pairKey(...m.cities) === pairKey(page.municipality, s.city));
    const said = match || s; // the live board's words are the newest; the view's until it has the pair
    const reasons = matchSentences(said, lang);
    const topics = sharedTopics(s.city);
    const open = openRequestWith(s.city);
    html += `<li class="suggestion" data-city="${esc(s.city)}"><p class="pair"><strong>${esc(s.city)}</strong> <span class="score">${esc(scoreBadge(t, number, said.score))}</span></p>`;
    html += `<ul class="reasons">${reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`;
    html += `<p class="score-why">${esc(scoreText(said, lang))}</p>`;
    if (open) {
      html += `<p class="request-state">${esc(t("outgoing", { city: s.city, topic: open.topic, status: t(`status_${open.status}`) }))}</p>`;
    } else if (topics.length) {
      html += '<div class="request-row">';
      if (topics.length > 1) {
        html += `<label class="sr-only" for="topic-${i}">${esc(t("topic_for", { city: s.city }))}</label>`;
        html += `<select id="topic-${i}" data-topic-for="${esc(s.city)}" data-focus-key="sel-${esc(s.city)}">${topics.map(([slug, name]) => `<option value="${esc(slug)}">${esc(name)}</option>`).join("")}</select>`;
      } else {
        html += `<span class="request-topic" data-topic-slug="${esc(topics[0][0])}">${esc(topics[0][1])}</span>`;
      }
      html += `<button type="button" class="primary" data-request="${esc(s.city)}" data-focus-key="req-${esc(s.city)}">${esc(t("request"))}</button></div>`;
    }
    html += "</li>";
  });
  setHTML(list, html); // keeps the focus on the button or select with the same data-focus-key
  const empty = $("suggestions-empty");
  empty.hidden = (view.suggestions || []).length > 0;
  empty.textContent = t("no_suggestions");
}

function renderRequests() {
  const list = $("requests");
  let html = "";
  for (const r of view.requests || []) {
    html += `<li class="request status-${esc(r.status)}${r.incoming ? " is-incoming" : ""}" data-request-id="${r.id}">`;
    if (r.incoming) {
      html += `<p>${esc(t("incoming", { city: r.from, topic: r.topic }))}</p>`;
      if (r.status === "requested") {
        html += `<p class="answer-row"><button type="button" class="primary" data-answer="${r.id}" data-accept="1" data-focus-key="acc-${r.id}">${esc(t("accept"))}</button>`;
        html += ` <button type="button" data-answer="${r.id}" data-accept="0" data-focus-key="dec-${r.id}">${esc(t("decline"))}</button></p>`;
      } else {
        html += `<p class="request-state">${esc(t(`status_${r.status}`))}</p>`;
      }
    } else {
      html += `<p>${esc(t("outgoing", { city: r.to, topic: r.topic, status: t(`status_${r.status}`) }))}</p>`;
    }
    html += "</li>";
  }
  setHTML(list, html);
  const empty = $("requests-empty");
  empty.hidden = (view.requests || []).length > 0;
  empty.textContent = t("no_requests");
}

function renderPlan() {
  const sessions = new Map((state.sessions || []).map((s) => [s.id, s]));
  const items = [...(view.plan || [])].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.table - b.table));
  let html = "";
  for (const item of items) {
    const session = sessions.get(item.session_id);
    const start = session ? session.start : item.start;
    const partners = item.cities.filter((c) => c !== page.municipality);
    html += `<li class="plan-item kind-${esc(item.kind)}"><p class="plan-when">${esc(t("plan_line", { time: fmt.time(start), n: item.table, topic: item.topic }))}</p>`;
    html += `<p class="plan-with">${esc(t("with", { cities: partners.join(", ") }))}${session && session.room ? ` · ${esc(session.room)}` : ""}</p></li>`;
  }
  setHTML($("plan"), html);
  const empty = $("plan-empty");
  empty.hidden = items.length > 0;
  empty.textContent = t("no_plan");
}

function renderView() {
  renderSuggestions();
  renderRequests();
  renderPlan();
  badge.render();
}

// ---- buttons: request a meeting, answer one ----------------------------------------------------------

document.addEventListener("click", async (e) => {
  const request = e.target.closest("[data-request]");
  if (request) {
    const city = request.dataset.request;
    const row = request.closest(".request-row");
    const select = row.querySelector("select");
    const topic = select ? select.value : row.querySelector("[data-topic-slug]").dataset.topicSlug;
    request.disabled = true;
    showError("request-error", "");
    try {
      const response = await call("POST", "/meetings", { with: city, topic });
      if (!response.ok) {
        showError("request-error", t("request_failed", { message: await problem(response) }));
        request.disabled = false;
        return;
      }
      status(t("request_sent", { city }));
      await refresh();
    } catch {
      showError("request-error", t("offline_failed"));
      request.disabled = false;
    }
    return;
  }
  const answer = e.target.closest("[data-answer]");
  if (answer) {
    const id = Number(answer.dataset.answer);
    const buttons = answer.parentElement.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    showError("answer-error", "");
    try {
      const response = await call("POST", `/meetings/${id}`, { accept: answer.dataset.accept === "1" });
      if (!response.ok) {
        showError("answer-error", t("request_failed", { message: await problem(response) }));
        buttons.forEach((b) => (b.disabled = false));
        return;
      }
      view = await response.json();
      renderView();
    } catch {
      showError("answer-error", t("offline_failed"));
      buttons.forEach((b) => (b.disabled = false));
    }
  }
});

// ---- keeping current ---------------------------------------------------------------------------------

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const response = await call("GET", "/interests");
      if (!response.ok) return;
      view = await response.json();
      saved = { ...saved, consent: view.consent, interests: view.interests };
      // Someone else from our municipality may have changed the answers: show them unless we are editing.
      if (!form.classList.contains("is-dirty") && !saving) {
        fillForm({ ...saved });
        basis = view.version;
        markDirty();
      }
      renderView();
    } catch {
      /* offline: the live badge says so; try again later */
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

const draft = loadJSON(DRAFT_KEY);
if (draft && typeof draft === "object" && Array.isArray(draft.interests) && !same(draft, saved)) {
  fillForm(draft);
  markDirty();
  status(t("draft_restored"));
}

const live = followEvent(slug, embedded, {
  onState(next, info) {
    state = next;
    if (fmt.timeZone !== state.event.timezone) fmt = makeFormat(state.event.timezone, lang);
    renderView();
    if (info && info.kind !== "initial") refreshSoon();
  },
  onStatus(next) {
    badge.set(next);
  },
});
void live;
// Meeting requests are not board revisions: look for new ones now and then, and when the page comes back.
setInterval(refresh, 60000);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
});
renderView();
