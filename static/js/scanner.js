// The door scanner (/staff/e/<slug>/scan) for staff phones: camera (BarcodeDetector or the vendored jsQR),
// typed codes and hardware scanners (they type the text and Enter), search by name. Every scan is written to
// the phone's queue (IndexedDB) before it is sent, so nothing is lost: answered scans leave the queue; when
// the network fails, the scan is checked against the offline guest list, shown as "offline – not yet
// confirmed", and the sync loop sends the queue to …/checkins/batch once the server answers again.
import { openScanStore } from "./scan-store.js";
import { sha256Hex } from "./sha256.js";

const JSQR_URL = "/static/vendor/jsqr-1.4.0/jsQR.js";
const FRAME_MS = 100; // ~10 camera frames a second
const PAUSE_MS = 1500; // after a result, the camera rests this long
const SAME_CODE_MS = 3000; // the same code again within this time (or while it stays in view) is ignored
const REQUEST_MS = 5000; // a request that takes longer counts as "offline"
const SYNC_MS = 15000;
const BATCH = 200;
const HISTORY_MAX = 50;
const SHOW_MS = { ok: 1500, undone: 1500 };
const SHOW_OTHER_MS = 2500;
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const TOKEN_IN_URL = /\/t\/([A-Za-z0-9_-]{20,64})(?:[/?#]|$)/;
const TOKEN_ALONE = /^[A-Za-z0-9_-]{40,64}$/;
const GOOD = new Set(["ok"]);
const WARN = new Set(["already", "unverified", "undone"]);

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("scan-config").textContent);
const strings = JSON.parse($("i18n").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const slug = config.slug;
const lang = document.documentElement.lang || "de";
const timeFormat = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "de-DE", {
  hour: "2-digit", minute: "2-digit", timeZone: config.timezone,
});

function t(key, vars) {
  let text = strings[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}
const fmtTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESC[c]);

/** A v4 UUID; crypto.randomUUID exists on secure origins only, getRandomValues everywhere. */
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    try {
      return crypto.randomUUID();
    } catch {
      /* not a secure context */
    }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** What a scanned text names, as the server reads it: a ticket URL's or bare token, or a typed code. */
export function parseScan(text) {
  const value = String(text || "").trim();
  const match = TOKEN_IN_URL.exec(value);
  const token = match ? match[1] : TOKEN_ALONE.test(value) ? value : null;
  if (token) return { kind: "t", value: token };
  const code = value.replace(/[\s-]/g, "").toUpperCase();
  if (code.length === 8 && [...code].every((c) => CODE_ALPHABET.includes(c))) return { kind: "c", value: code };
  return null;
}

// ---- talking to the server -----------------------------------------------------------------------

class NetworkError extends Error {}

async function request(method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_MS);
  const headers = { Accept: "application/json" };
  if (body !== undefined) Object.assign(headers, { "Content-Type": "application/json", "X-CSRFToken": csrf });
  let response;
  try {
    response = await fetch(config.api + path, {
      method, headers, credentials: "same-origin", cache: "no-store", signal: controller.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new NetworkError(String(exc));
  } finally {
    clearTimeout(timer);
  }
  // A copy the service worker kept, a proxy's error page, a captive portal: not the server answering.
  if (response.headers.get("X-Treffpunkt-Saved")) throw new NetworkError("saved copy");
  if (response.status >= 500 || response.status === 408 || response.status === 429) {
    throw new NetworkError(`HTTP ${response.status}`);
  }
  let data;
  try {
    data = await response.json();
  } catch {
    throw new NetworkError("not JSON");
  }
  return { status: response.status, data };
}

// ---- state ---------------------------------------------------------------------------------------

let store = null;
let mode = "connecting";
let authProblem = false;
let queueCount = 0;
let list = null; // {record, byT, byC}
// Guests this phone let in offline, by "t:<hash>" / "c:<hash>": only the salted hash of what was scanned is
// kept (the server's salt is stable per event), never the token or code itself.
let admittedByValue = new Map();
const SALT_KEY = `treffpunkt:scanner-salt:${slug}`; // wiped at logout with the rest (scan-store.js)
const admittedKey = async (kind, value) => `${kind}:${await hashOf(list ? list.record.salt : localStorage.getItem(SALT_KEY) || "", value)}`;
const inflight = new Set(); // nonces of scans whose own request is still running
let history = [];
let lastOk = null;

function renderNet() {
  const net = $("net");
  const shown = authProblem ? "offline" : mode;
  net.dataset.mode = shown;
  net.dataset.queue = String(queueCount);
  $("net-mode").textContent = authProblem ? t("relogin") : t(mode);
  $("queue-label").textContent = t("queue", { n: queueCount });
}

function setMode(next) {
  if (next === "online") authProblem = false;
  if (mode === next) return renderNet();
  mode = next;
  renderNet();
}

async function refreshQueueCount() {
  queueCount = (await store.all("queue", slug)).length;
  renderNet();
}

function onAuthProblem() {
  authProblem = true;
  renderNet();
  // Signed out or revoked (a lost phone): the guest list leaves the phone; the queue stays for the next
  // sign-in, so nothing scanned is lost.
  if (list && store) {
    list = null;
    store.remove("lists", [slug]).catch(() => {});
    renderListStatus();
  }
}

// ---- the offline guest list ----------------------------------------------------------------------

const hashOf = async (salt, value) => (await sha256Hex(`${salt}:${value}`)).slice(0, 32);

async function lookup(kind, value) {
  if (!list) return null;
  const hash = await hashOf(list.record.salt, value);
  return (kind === "t" ? list.byT : list.byC).get(hash) || null;
}

async function useList(record) {
  const byT = new Map();
  const byC = new Map();
  for (const g of record.guests) {
    byT.set(g.t, g);
    byC.set(g.c, g);
  }
  list = { record, byT, byC };
  // Guests this phone let in offline: find them under the new salt; drop those the server knows about.
  const queued = new Set((await store.all("queue", slug)).map((q) => q.nonce));
  const stale = [];
  admittedByValue = new Map();
  for (const rec of await store.all("admitted", slug)) {
    const entry = (rec.kind === "t" ? byT : byC).get(rec.hash) || null;
    if (entry && entry.checked_in && !queued.has(rec.nonce)) {
      stale.push(rec.nonce);
      continue;
    }
    if (entry) entry.local = rec;
    admittedByValue.set(`${rec.kind}:${rec.hash}`, rec);
  }
  await store.remove("admitted", stale);
  renderListStatus();
}

function renderListStatus() {
  const el = $("list-status");
  if (!list) {
    el.textContent = t("list_none");
    el.dataset.count = "";
    return;
  }
  const n = list.record.guests.length;
  const old = Date.now() - new Date(list.record.fetchedAt).getTime() > 3 * config.list_refresh * 1000;
  el.textContent = t(old ? "list_stale" : "list", { n, time: fmtTime(list.record.fetchedAt) });
  el.dataset.count = String(n);
  el.dataset.fetchedAt = list.record.fetchedAt;
}

let listSaveTimer = null;
function saveListSoon() {
  clearTimeout(listSaveTimer);
  listSaveTimer = setTimeout(() => {
    if (!list) return;
    const { record } = list;
    const guests = record.guests.map(({ local, ...g }) => g);
    store.put("lists", { ...record, guests }).catch(() => {});
  }, 500);
}

async function fetchList() {
  try {
    const { status, data } = await request("GET", "/checkin-list");
    if (status === 401 || status === 403) return onAuthProblem();
    if (status !== 200 || !data || !Array.isArray(data.guests)) return;
    setMode("online");
    const record = { slug, salt: data.salt, guests: data.guests, fetchedAt: new Date().toISOString() };
    try { localStorage.setItem(SALT_KEY, data.salt); } catch { /* storage off: the list in memory still works */ }
    await store.put("lists", record);
    await useList(record);
  } catch (exc) {
    if (!(exc instanceof NetworkError)) throw exc;
    setMode("offline");
  }
}

/** After the server answered a scan: keep the list's entry current, so an offline rescan is "already". */
async function learn(text, answer) {
  const parsed = parseScan(text);
  if (!parsed || !list || !answer) return;
  const entry = await lookup(parsed.kind, parsed.value);
  if (!entry) return;
  if (answer.result === "ok" || answer.result === "already") {
    entry.checked_in = true;
    entry.at = answer.checked_in_at;
    entry.by = answer.by;
  } else if (answer.result === "undone") {
    entry.checked_in = false;
    entry.local = null;
  } else if (answer.result === "cancelled") {
    entry.status = "cancelled";
  }
  saveListSoon();
}

async function validateLocally(text) {
  const parsed = parseScan(text);
  const local = parsed && admittedByValue.get(await admittedKey(parsed.kind, parsed.value));
  if (local) {
    return { result: "already", parsed, guest: { name: local.name, city: local.city },
             detail: t("already_local", { time: fmtTime(local.at) }) };
  }
  if (!list) return { result: "unverified", parsed, detail: t("no_list") };
  const entry = parsed ? await lookup(parsed.kind, parsed.value) : null;
  if (!entry) {
    return { result: "unknown", parsed, detail: t("unknown_offline", { time: fmtTime(list.record.fetchedAt) }) };
  }
  const guest = { name: entry.name, city: entry.city };
  if (entry.status === "cancelled") return { result: "cancelled", parsed, entry, guest };
  if (entry.local) {
    return { result: "already", parsed, entry, guest, detail: t("already_local", { time: fmtTime(entry.local.at) }) };
  }
  if (entry.checked_in) {
    const detail = entry.at ? t("already_detail", { time: fmtTime(entry.at), by: entry.by || "?" }) : t("already_list");
    return { result: "already", parsed, entry, guest, detail };
  }
  return { result: "ok", parsed, entry, guest };
}

async function admitLocally(item, local) {
  if (!local.parsed) return;
  const key = await admittedKey(local.parsed.kind, local.parsed.value);
  const rec = { nonce: item.nonce, slug, kind: local.parsed.kind, hash: key.slice(2),
                name: local.guest ? local.guest.name : "", city: local.guest ? local.guest.city : "",
                at: item.scanned_at };
  await store.put("admitted", rec);
  admittedByValue.set(key, rec);
  if (local.entry) local.entry.local = rec;
}

async function forgetLocal(nonce) {
  await store.remove("admitted", [nonce]);
  for (const [key, rec] of admittedByValue) {
    if (rec.nonce === nonce) admittedByValue.delete(key);
  }
  if (list) for (const g of list.record.guests) if (g.local && g.local.nonce === nonce) g.local = null;
}

// ---- scanning ------------------------------------------------------------------------------------

async function submitScan(text, source, startedAt = performance.now()) {
  text = String(text || "").trim();
  if (!text) return;
  if (text.length > 2000) return show({ result: "invalid" }, startedAt);
  const item = { nonce: uuid(), slug, code: text, scanned_at: new Date().toISOString(), source, created: Date.now() };
  await store.put("queue", item); // on the phone's disk before anything else happens
  await refreshQueueCount();
  inflight.add(item.nonce);
  let response;
  try {
    response = await request("POST", "/checkins", { code: text, nonce: item.nonce, scanned_at: item.scanned_at });
  } catch (exc) {
    inflight.delete(item.nonce);
    if (!(exc instanceof NetworkError)) throw exc;
    setMode("offline");
    return offlineScan(item, startedAt);
  }
  inflight.delete(item.nonce);
  const { status, data } = response;
  if (status === 200) {
    await store.remove("queue", [item.nonce]);
    await refreshQueueCount();
    setMode("online");
    await learn(text, data);
    const shown = { ...data, nonce: item.nonce, code: text };
    addHistory(item, shown, "confirmed");
    show(shown, startedAt);
    if (queueCount) sync();
    return;
  }
  await store.remove("queue", [item.nonce]);
  await refreshQueueCount();
  if (status === 401 || status === 403) {
    onAuthProblem();
    return show({ result: "unauthorized", detail: t("relogin_detail"), login: true }, startedAt);
  }
  show({ result: "invalid", detail: data && data.error ? data.error.message : "" }, startedAt);
}

async function offlineScan(item, startedAt) {
  const local = await validateLocally(item.code);
  const shown = { result: local.result, guest: local.guest || null, detail: local.detail, offline: true,
                  nonce: item.nonce, code: item.code };
  if (local.result === "ok") {
    item.local = { result: "ok", name: local.guest.name, city: local.guest.city };
    await store.put("queue", item);
    await admitLocally(item, local);
    addHistory(item, shown, "queued");
  } else {
    // Refused here, or not checkable: nothing is queued unless staff decide to let the guest in anyway.
    await store.remove("queue", [item.nonce]);
    if (local.result === "unknown" || local.result === "unverified") {
      shown.admit = async () => {
        item.local = { result: "forced", name: "", city: "" };
        await store.put("queue", item);
        await admitLocally(item, { ...local, guest: { name: item.code.slice(0, 40), city: "" } });
        await refreshQueueCount();
        addHistory(item, { result: "ok", guest: { name: item.code.slice(0, 40), city: "" }, offline: true }, "queued");
        show({ result: "ok", guest: null, offline: true, detail: item.code.slice(0, 60), nonce: item.nonce,
               code: item.code });
      };
    }
    addHistory(item, shown, "refused");
  }
  await refreshQueueCount();
  show(shown, startedAt);
}

// ---- the sync loop -------------------------------------------------------------------------------

let syncing = false;

function withSyncLock(work) {
  // Two tabs of the scanner must not send the same queue at once (it would be harmless: nonces repeat the
  // first answer; but one sender keeps the notes right).
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request(`treffpunkt-sync:${slug}`, { ifAvailable: true }, (lock) => (lock ? work() : null));
  }
  return work();
}

async function sync() {
  if (syncing || authProblem || !store) return;
  syncing = true;
  try {
    await withSyncLock(syncNow);
  } finally {
    syncing = false;
    await refreshQueueCount();
  }
}

async function syncNow() {
  let size = BATCH;
  let sent = 0;
  for (let round = 0; round < 100; round++) {
    const items = (await store.all("queue", slug)).filter((i) => !inflight.has(i.nonce))
      .sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : a.scanned_at > b.scanned_at ? 1 : a.created - b.created));
    if (!items.length) break;
    const chunk = items.slice(0, size);
    let response;
    try {
      response = await request("POST", "/checkins/batch", {
        scans: chunk.map((i) => ({ code: i.code, nonce: i.nonce, scanned_at: i.scanned_at })),
      });
    } catch (exc) {
      if (!(exc instanceof NetworkError)) throw exc;
      setMode("offline");
      break;
    }
    if (response.status === 401 || response.status === 403) {
      onAuthProblem();
      break;
    }
    if (response.status !== 200) {
      // The server refuses the batch as a whole: find the scan it refuses by sending one at a time, and
      // drop only that one (it could never be applied), so it cannot block the queue.
      if (size > 1) {
        size = 1;
        continue;
      }
      await store.remove("queue", chunk.map((i) => i.nonce));
      updateHistory(chunk[0].nonce, { state: "refused", note: (response.data && response.data.error || {}).message });
      continue;
    }
    setMode("online");
    const answers = response.data.answers || [];
    for (let i = 0; i < chunk.length; i++) await reconcile(chunk[i], answers[i]);
    await store.remove("queue", chunk.map((i) => i.nonce));
    sent += chunk.length;
    await refreshQueueCount();
  }
  if (sent) {
    const note = $("sync-note");
    note.hidden = false;
    note.textContent = t("synced", { n: sent }) + (conflictNotes.length ? ` ${conflictNotes.join(" ")}` : "");
    conflictNotes = [];
  }
}

let conflictNotes = [];

async function reconcile(item, answer) {
  if (!answer) return;
  await learn(item.code, answer);
  const local = item.local || {};
  const name = (answer.guest && answer.guest.name) || local.name || item.code.slice(0, 40);
  let state = "confirmed";
  let note = null;
  if (answer.result === "already" && answer.by !== config.device) {
    state = "conflict";
    note = t("conflict", { name, time: fmtTime(answer.checked_in_at), by: answer.by });
  } else if (answer.result !== "ok" && answer.result !== "already") {
    state = "conflict";
    note = t("differs", { name, result: t(answer.result) });
  }
  if (note) {
    conflictNotes.push(note);
    announce(note, "polite");
  }
  updateHistory(item.nonce, { state, note, result: answer.result, name, city: answer.guest ? answer.guest.city : "" });
  if (lastOk && lastOk.nonce === item.nonce) {
    lastOk.queued = false;
    lastOk.checkinId = answer.result === "ok" ? answer.checkin_id : null;
    renderUndo();
  }
  if (answer.result !== "ok") await forgetLocal(item.nonce);
}

// ---- history -------------------------------------------------------------------------------------

function addHistory(item, shown, state) {
  const entry = {
    nonce: item.nonce, slug, at: item.scanned_at, result: shown.result, state,
    name: shown.guest ? shown.guest.name : "", city: shown.guest ? shown.guest.city : "",
    offline: !!shown.offline, note: null,
  };
  history = [entry, ...history.filter((h) => h.nonce !== entry.nonce)].slice(0, HISTORY_MAX);
  store.put("history", entry).catch(() => {});
  renderHistory();
}

function updateHistory(nonce, changes) {
  const entry = history.find((h) => h.nonce === nonce);
  if (!entry) return;
  Object.assign(entry, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined && v !== "")));
  store.put("history", entry).catch(() => {});
  renderHistory();
}

async function loadHistory() {
  const all = (await store.all("history", slug)).sort((a, b) => (a.at < b.at ? 1 : -1));
  const old = all.slice(HISTORY_MAX).map((h) => h.nonce);
  if (old.length) await store.remove("history", old);
  history = all.slice(0, HISTORY_MAX);
  // What is still queued from an earlier visit shows as waiting.
  const queued = new Set((await store.all("queue", slug)).map((q) => q.nonce));
  for (const h of history) if (queued.has(h.nonce)) h.state = "queued";
  renderHistory();
}

function renderHistory() {
  $("history").innerHTML = history.slice(0, 20).map((h) => {
    const cls = GOOD.has(h.result) ? "good" : WARN.has(h.result) ? "warn" : "bad";
    const state = { queued: t("history_queued"), confirmed: t("history_confirmed"), conflict: t("history_conflict") }[h.state] || "";
    return `<li class="${cls}" data-state="${esc(h.state)}" data-nonce="${esc(h.nonce)}">`
      + `<span class="h-time">${esc(fmtTime(h.at))}</span> <span class="h-result">${esc(t(h.result))}</span>`
      + `${h.name ? ` <strong>${esc(h.name)}</strong>` : ""}${h.city ? ` <span class="h-city">(${esc(h.city)})</span>` : ""}`
      + `${state ? ` <span class="h-state">${esc(state)}</span>` : ""}`
      + `${h.note ? `<br><span class="h-note">${esc(h.note)}</span>` : ""}</li>`;
  }).join("");
}

// ---- showing a result: colour, text, sound, vibration, screen reader -----------------------------

let hideTimer = null;
let resultShownAt = 0;

function show(r, startedAt) {
  const box = $("result");
  const title = t(r.result);
  const guest = r.guest || null;
  let detail = r.detail || "";
  if (!detail && r.result === "already" && r.by) detail = t("already_detail", { time: fmtTime(r.checked_in_at), by: r.by });
  box.dataset.result = r.result;
  box.classList.toggle("good", GOOD.has(r.result));
  box.classList.toggle("warn", WARN.has(r.result));
  box.classList.toggle("bad", !GOOD.has(r.result) && !WARN.has(r.result));
  box.classList.toggle("offline", !!r.offline);
  $("result-title").textContent = title;
  $("result-name").textContent = guest ? guest.name : "";
  $("result-city").textContent = guest ? [guest.city, guest.organisation].filter(Boolean).join(" · ") : "";
  $("result-detail").textContent = detail;
  $("result-offline").hidden = !(r.offline && (r.result === "ok" || r.result === "already"));
  const admit = $("result-admit");
  admit.hidden = !r.admit;
  admit.onclick = r.admit ? (event) => { event.stopPropagation(); hide(); r.admit(); } : null;
  box.hidden = false;
  if (r.admit) admit.focus(); // a decision is needed; a hardware scan still goes to the code field
  resultShownAt = performance.now();
  if (startedAt !== undefined) box.dataset.ms = String(Math.round(resultShownAt - startedAt));
  clearTimeout(hideTimer);
  if (!r.admit) hideTimer = setTimeout(hide, SHOW_MS[r.result] || SHOW_OTHER_MS);

  const last = $("last");
  last.hidden = false;
  last.dataset.result = r.result;
  last.className = `last ${box.classList.contains("good") ? "good" : box.classList.contains("warn") ? "warn" : "bad"}`;
  const parts = [title, guest && guest.name, guest && guest.city, detail, r.offline && (r.result === "ok" || r.result === "already") ? t("offline_note") : ""];
  $("last-text").textContent = parts.filter(Boolean).join(" · ");
  if (r.login) $("last-text").insertAdjacentHTML("beforeend", ` <a href="${esc(config.login)}">${esc(t("relogin"))}</a>`);
  announce(parts.filter(Boolean).join(". "));
  feedback(GOOD.has(r.result) ? "ok" : WARN.has(r.result) ? "warn" : "error");

  if (r.result === "ok" && r.nonce) {
    lastOk = { nonce: r.nonce, code: r.code, checkinId: r.offline ? null : r.checkin_id, queued: !!r.offline,
               name: guest ? guest.name : "", until: Date.now() + config.undo_seconds * 1000 };
  } else if (r.result !== "undone") {
    lastOk = null;
  }
  renderUndo();
}

function hide() {
  clearTimeout(hideTimer);
  const box = $("result");
  const hadFocus = box.contains(document.activeElement);
  box.hidden = true;
  if (hadFocus) $("code").focus();
}

function announce(text, politeness = "assertive") {
  const el = $("announce");
  el.setAttribute("aria-live", politeness);
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 50); // a change screen readers notice, even for the same text
}

let audio = null;
function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

function feedback(kind) {
  const tones = {
    ok: [[880, 0, 0.09], [1320, 0.1, 0.12]],
    warn: [[520, 0, 0.14], [520, 0.2, 0.14]],
    error: [[196, 0, 0.45]],
  }[kind];
  if (audio && audio.state === "running") {
    const now = audio.currentTime;
    for (const [freq, at, length] of tones) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = kind === "error" ? "square" : "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(kind === "error" ? 0.15 : 0.3, now + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + length);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + length + 0.02);
    }
  }
  if (navigator.vibrate) {
    try {
      navigator.vibrate({ ok: [70], warn: [90, 80, 90], error: [300, 100, 300] }[kind]);
    } catch {
      /* not allowed without a gesture */
    }
  }
}

// ---- undo (30 s after an ok) ---------------------------------------------------------------------

let undoTimer = null;

function renderUndo() {
  const button = $("undo");
  clearTimeout(undoTimer);
  const left = lastOk ? Math.ceil((lastOk.until - Date.now()) / 1000) : 0;
  const possible = lastOk && left > 0 && (lastOk.queued || lastOk.checkinId);
  button.hidden = !possible;
  if (!possible) return;
  $("undo-left").textContent = String(left);
  undoTimer = setTimeout(renderUndo, 1000);
}

async function undo() {
  if (!lastOk) return;
  const target = lastOk;
  lastOk = null;
  renderUndo();
  if (target.queued) {
    // Not sent yet: take it out of the queue; the server never hears of it.
    const queued = await store.get("queue", target.nonce);
    if (queued) {
      await store.remove("queue", [target.nonce]);
      await forgetLocal(target.nonce);
      await refreshQueueCount();
      updateHistory(target.nonce, { result: "undone", state: "confirmed" });
      return show({ result: "undone", detail: t("undo_local", { name: target.name }) });
    }
  }
  if (!target.checkinId) return show({ result: "error", detail: t("undo_failed") });
  try {
    const { status, data } = await request("POST", `/checkins/${target.checkinId}/undo`, { nonce: uuid() });
    if (status === 200) {
      await forgetLocal(target.nonce);
      await learn(target.code, { result: "undone" });
      updateHistory(target.nonce, { result: "undone" });
      return show({ result: "undone", guest: data.guest, detail: t("undo_done", { name: target.name }) });
    }
    if (status === 409) return show({ result: "error", detail: t("undo_late") });
    show({ result: "error", detail: (data.error && data.error.message) || t("undo_failed") });
  } catch (exc) {
    if (!(exc instanceof NetworkError)) throw exc;
    setMode("offline");
    show({ result: "error", detail: t("undo_failed") });
  }
}

// ---- camera --------------------------------------------------------------------------------------

const camera = { stream: null, detector: null, canvas: null, ctx: null, timer: null, pausedUntil: 0, seen: new Map(),
                 wakeLock: null, wanted: false };

function cameraMessage(text) {
  $("camera-msg").textContent = text;
}

function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = JSQR_URL;
    script.onload = () => (window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR missing")));
    script.onerror = () => reject(new Error("jsQR did not load"));
    document.head.appendChild(script);
  });
}

async function makeDetector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) return new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch {
      /* fall back to jsQR */
    }
  }
  return null;
}

async function startCamera() {
  camera.wanted = true;
  const button = $("camera-toggle");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    cameraMessage(window.isSecureContext ? t("camera_missing") : t("camera_insecure"));
    button.hidden = true;
    return;
  }
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (exc) {
    camera.wanted = false;
    const name = exc && exc.name;
    cameraMessage(name === "NotAllowedError" ? t("camera_denied")
      : name === "NotFoundError" || name === "OverconstrainedError" ? t("camera_missing")
        : t("camera_error", { error: (exc && exc.message) || name || "?" }));
    button.textContent = t("camera_start");
    return;
  }
  const video = $("video");
  video.srcObject = camera.stream;
  $("viewfinder").hidden = false;
  try {
    await video.play();
  } catch {
    /* autoplay of a muted video is allowed; a refusal shows as a still frame */
  }
  camera.detector = await makeDetector();
  if (!camera.detector) {
    try {
      await loadJsQR();
    } catch (exc) {
      cameraMessage(t("camera_error", { error: exc.message }));
      return stopCamera();
    }
  }
  button.textContent = t("camera_stop");
  cameraMessage(t("camera_ready"));
  try {
    localStorage.setItem("treffpunkt:scanner-camera", "on");
  } catch {
    /* no storage */
  }
  keepAwake();
  // On a phone, the on-screen keyboard would cover the camera: the code field gives up the focus (a hardware
  // scanner still types into it, see the key handler below).
  if (window.matchMedia("(pointer: coarse)").matches && document.activeElement === $("code")) $("code").blur();
  scheduleFrame();
}

function stopCamera(remember = false) {
  camera.wanted = false;
  clearTimeout(camera.timer);
  if (camera.stream) for (const track of camera.stream.getTracks()) track.stop();
  camera.stream = null;
  $("video").srcObject = null;
  $("viewfinder").hidden = true;
  const button = $("camera-toggle");
  button.textContent = t("camera_start");
  cameraMessage("");
  if (camera.wakeLock) camera.wakeLock.release().catch(() => {});
  if (remember) {
    try {
      localStorage.setItem("treffpunkt:scanner-camera", "off");
    } catch {
      /* no storage */
    }
  }
}

function scheduleFrame() {
  clearTimeout(camera.timer);
  if (camera.stream) camera.timer = setTimeout(readFrame, FRAME_MS);
}

async function decode(video) {
  if (camera.detector) {
    const codes = await camera.detector.detect(video);
    return codes.length ? codes[0].rawValue : null;
  }
  const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
  const w = Math.round(video.videoWidth * scale);
  const h = Math.round(video.videoHeight * scale);
  if (!camera.canvas) {
    camera.canvas = document.createElement("canvas");
    camera.ctx = camera.canvas.getContext("2d", { willReadFrequently: true });
  }
  if (camera.canvas.width !== w || camera.canvas.height !== h) {
    camera.canvas.width = w;
    camera.canvas.height = h;
  }
  camera.ctx.drawImage(video, 0, 0, w, h);
  const image = camera.ctx.getImageData(0, 0, w, h);
  const found = window.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
  return found ? found.data : null;
}

async function readFrame() {
  const video = $("video");
  if (!camera.stream || document.visibilityState !== "visible") return scheduleFrame();
  if (performance.now() < camera.pausedUntil || video.readyState < 2 || !video.videoWidth) return scheduleFrame();
  const startedAt = performance.now();
  let text = null;
  try {
    text = await decode(video);
  } catch {
    text = null;
  }
  if (text) {
    const now = Date.now();
    const seen = camera.seen.get(text);
    camera.seen.set(text, now); // still in view: the quiet time starts again
    for (const [key, at] of camera.seen) if (now - at > 60000) camera.seen.delete(key);
    if (!seen || now - seen > SAME_CODE_MS) {
      camera.pausedUntil = performance.now() + PAUSE_MS;
      submitScan(text, "camera", startedAt).catch(reportError);
    }
  }
  scheduleFrame();
}

async function keepAwake() {
  if (!("wakeLock" in navigator) || camera.wakeLock || document.visibilityState !== "visible") return;
  try {
    camera.wakeLock = await navigator.wakeLock.request("screen");
    camera.wakeLock.addEventListener("release", () => { camera.wakeLock = null; });
  } catch {
    camera.wakeLock = null;
  }
}

// ---- search --------------------------------------------------------------------------------------

let searchSeq = 0;

async function search(q) {
  const status = $("search-status");
  const hits = $("hits");
  q = q.trim();
  const seq = ++searchSeq;
  if (q.length < 3) {
    hits.innerHTML = "";
    status.textContent = q ? t("search_short") : "";
    return;
  }
  let guests;
  let offline = false;
  try {
    const { status: code, data } = await request("GET", `/guests?q=${encodeURIComponent(q)}`);
    if (code === 401 || code === 403) {
      onAuthProblem();
      return;
    }
    guests = (data && data.guests) || [];
    setMode("online");
  } catch (exc) {
    if (!(exc instanceof NetworkError)) throw exc;
    setMode("offline");
    offline = true;
    const needle = q.toLowerCase();
    guests = (list ? list.record.guests : [])
      .filter((g) => g.name.toLowerCase().includes(needle) || (g.city || "").toLowerCase().includes(needle))
      .slice(0, 30)
      .map((g) => ({ name: g.name, city: g.city, status: g.status, code: null,
                     checked_in_at: g.checked_in ? g.at || "" : null, local: g.local }));
  }
  if (seq !== searchSeq) return; // a newer search is on its way
  status.textContent = offline ? `${t("search_offline")} ${t("search_hits", { n: guests.length })}`
    : guests.length ? t("search_hits", { n: guests.length }) : t("search_none");
  hits.innerHTML = guests.map((g) => {
    const done = g.checked_in_at !== null && g.checked_in_at !== undefined;
    const state = g.status === "cancelled" ? `<span class="badge cancelled">${esc(t("status_cancelled"))}</span>`
      : done || g.local ? `<span class="badge done">${esc(t("checked_in_at", { time: fmtTime(g.checked_in_at || (g.local && g.local.at)) }))}${g.checked_in_by ? ` · ${esc(g.checked_in_by)}` : ""}</span>` : "";
    // `ref` checks the guest in like their code (door accounts are not given the codes).
    const can = (g.ref || g.code) && g.status !== "cancelled";
    return `<li><div class="hit-text"><strong>${esc(g.name)}</strong><span class="muted">${esc([g.city, g.organisation].filter(Boolean).join(" · "))}</span>${state}</div>`
      + `<button type="button" class="primary" data-code="${esc(g.ref || g.code || "")}"${can ? "" : " disabled"}`
      + ` aria-label="${esc(`${t("checkin")}: ${g.name}`)}">${esc(t("checkin"))}</button></li>`;
  }).join("");
}

// ---- wiring --------------------------------------------------------------------------------------

function reportError(exc) {
  console.error(exc); // eslint-disable-line no-console
  show({ result: "error", detail: String(exc && exc.message ? exc.message : exc) });
}

function isTextEntry(el) {
  return el && (el.tagName === "TEXTAREA" || el.isContentEditable
    || (el.tagName === "INPUT" && !["button", "submit", "checkbox", "radio", "reset"].includes(el.type)));
}

function wire() {
  const code = $("code");
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = code.value;
    code.value = "";
    submitScan(text, "typed").catch(reportError);
  });
  // A hardware scanner types wherever the focus is: printable keys outside a text field go to the code field.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("result").hidden) return hide();
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1 || event.key === " ") return;
    if (isTextEntry(document.activeElement)) return;
    code.focus();
  }, true);
  $("result").addEventListener("click", () => hide());
  $("result-close").addEventListener("click", (event) => {
    event.stopPropagation();
    hide();
  });
  $("undo").addEventListener("click", () => undo().catch(reportError));
  $("camera-toggle").addEventListener("click", () => {
    unlockAudio();
    if (camera.stream) stopCamera(true);
    else startCamera().catch(reportError);
  });
  const q = $("q");
  let searchTimer = null;
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    search(q.value).catch(reportError);
  });
  q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(q.value).catch(reportError), 350);
  });
  $("hits").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-code]");
    if (!button || button.disabled || !button.dataset.code) return;
    button.disabled = true;
    await submitScan(button.dataset.code, "search").catch(reportError);
    await search(q.value).catch(reportError);
  });
  for (const type of ["pointerdown", "keydown", "touchstart"]) {
    document.addEventListener(type, unlockAudio, { passive: true });
  }
  window.addEventListener("online", () => {
    setMode("connecting");
    sync();
    fetchList();
  });
  window.addEventListener("offline", () => setMode("offline"));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    if (camera.stream) keepAwake();
    sync();
    if (!list || Date.now() - new Date(list.record.fetchedAt).getTime() > config.list_refresh * 1000) fetchList();
  });
}

async function start() {
  wire();
  renderNet();
  store = await openScanStore();
  await refreshQueueCount();
  const saved = await store.get("lists", slug);
  if (saved) await useList(saved);
  else renderListStatus();
  await loadHistory();
  if (!navigator.onLine) setMode("offline");
  await fetchList();
  sync();
  setInterval(fetchList, config.list_refresh * 1000);
  setInterval(() => {
    if (queueCount && !syncing) sync();
    renderListStatus();
  }, SYNC_MS);
  let wanted = "on";
  try {
    wanted = localStorage.getItem("treffpunkt:scanner-camera") || "on";
  } catch {
    /* no storage */
  }
  if (wanted === "on") startCamera().catch(reportError);
  document.body.dataset.scannerReady = "1";
}

start().catch(reportError);
