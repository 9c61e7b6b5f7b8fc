// The door scanner (/staff/e/<slug>/scan) for staff phones: camera, typed codes and hardware scanners (they
// type the text and Enter), search by name. This module makes the scanner's state (one object, `ctx`, that
// every part gets) and connects the parts:
//   scan-http.js     requests to the server, the online/offline badge and the queue count
//   scan-send.js     sending a scan (queued first), the offline fallback, the sync loop
//   scan-list.js     the offline guest list (salted hashes) and the guests let in offline
//   scan-camera.js   getUserMedia and decoding (BarcodeDetector or the vendored jsQR)
//   scan-photo.js    "Foto aufnehmen": a photo from the phone's camera app, decoded in the page (plain http)
//   scan-feedback.js the result panel, the last-scan line and undo countdown, tone, vibration, announcement
//   scan-history.js  this phone's recent scans
//   scan-undo.js     taking back the last check-in
//   scan-search.js   the name search
import { $, pageLang, readJSON } from "./dom.js";
import { makeT } from "./i18n.js";
import { cameraVisible, cameraWanted, createCamera, startCamera, stopCamera } from "./scan-camera.js";
import { hide, show, unlockAudio } from "./scan-feedback.js";
import { loadHistory } from "./scan-history.js";
import { refreshQueueCount, renderNet, setMode } from "./scan-http.js";
import { fetchList, listDue, renderListStatus, useList } from "./scan-list.js";
import { search } from "./scan-search.js";
import { setupPhoto } from "./scan-photo.js";
import { submitScan, sync } from "./scan-send.js";
import { openScanStore } from "./scan-store.js";
import { undo } from "./scan-undo.js";
import { clockFormat } from "./time.js";

const SYNC_MS = 15000;
const SEARCH_DELAY_MS = 350;

/** The scanner's state: the page's settings and texts, and everything that changes while it runs. */
function createState() {
  const config = readJSON("scan-config");
  const clock = clockFormat(pageLang(), config.timezone);
  const ctx = {
    config, // {slug, api, device, timezone, list_refresh, undo_seconds, login}
    slug: config.slug,
    t: makeT(readJSON("i18n")),
    fmtTime: (iso) => (iso ? clock.format(new Date(iso)) : ""),
    csrf: document.querySelector('meta[name="csrf-token"]').content,
    store: null, // scan-store.js, once open
    net: { mode: "connecting", authProblem: false, queueCount: 0 },
    list: null, // the offline guest list in use: {record, byT, byC}
    // Guests this phone let in offline, by "t:<hash>" / "c:<hash>": only the salted hash of what was scanned
    // is kept (the server's salt is stable per event), never the token or code itself.
    admitted: new Map(),
    inflight: new Set(), // nonces of scans whose own request is still running
    syncing: false,
    conflictNotes: [], // what the sync loop found, for #sync-note
    history: [],
    lastOk: null, // the last "ok", while it can be undone
    searchSeq: 0,
    audio: null,
    timers: { hide: null, undo: null, listSave: null, search: null },
    report: null,
    camera: null,
  };
  // What an unexpected error does: the console, and a red result with the message.
  ctx.report = (exc) => {
    console.error(exc); // eslint-disable-line no-console
    show(ctx, { result: "error", detail: String(exc && exc.message ? exc.message : exc) });
  };
  ctx.camera = createCamera((text, startedAt) => submitScan(ctx, text, "camera", startedAt).catch(ctx.report));
  return ctx;
}

function isTextEntry(el) {
  return el && (el.tagName === "TEXTAREA" || el.isContentEditable
    || (el.tagName === "INPUT" && !["button", "submit", "checkbox", "radio", "reset"].includes(el.type)));
}

function wire(ctx) {
  const { report } = ctx;
  const code = $("code");
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = code.value;
    code.value = "";
    submitScan(ctx, text, "typed").catch(report);
  });
  // A hardware scanner types wherever the focus is: printable keys outside a text field go to the code field.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("result").hidden) return hide(ctx);
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1 || event.key === " ") return;
    if (isTextEntry(document.activeElement)) return;
    code.focus();
  }, true);
  $("result").addEventListener("click", () => hide(ctx));
  $("result-close").addEventListener("click", (event) => {
    event.stopPropagation();
    hide(ctx);
  });
  $("undo").addEventListener("click", () => undo(ctx).catch(report));
  setupPhoto(ctx, (text, startedAt) => {
    unlockAudio(ctx);
    return submitScan(ctx, text, "photo", startedAt).catch(report);
  });
  $("camera-toggle").addEventListener("click", () => {
    unlockAudio(ctx);
    if (ctx.camera.stream) stopCamera(ctx, true);
    else startCamera(ctx).catch(report);
  });
  const q = $("q");
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(ctx.timers.search);
    search(ctx, q.value).catch(report);
  });
  q.addEventListener("input", () => {
    clearTimeout(ctx.timers.search);
    ctx.timers.search = setTimeout(() => search(ctx, q.value).catch(report), SEARCH_DELAY_MS);
  });
  $("hits").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-code]");
    if (!button || button.disabled || !button.dataset.code) return;
    button.disabled = true;
    await submitScan(ctx, button.dataset.code, "search").catch(report);
    await search(ctx, q.value).catch(report);
  });
  for (const type of ["pointerdown", "keydown", "touchstart"]) {
    document.addEventListener(type, () => unlockAudio(ctx), { passive: true });
  }
  window.addEventListener("online", () => {
    setMode(ctx, "connecting");
    sync(ctx);
    fetchList(ctx);
  });
  window.addEventListener("offline", () => setMode(ctx, "offline"));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    cameraVisible(ctx);
    sync(ctx);
    if (listDue(ctx)) fetchList(ctx);
  });
}

async function start(ctx) {
  wire(ctx);
  renderNet(ctx);
  ctx.store = await openScanStore();
  await refreshQueueCount(ctx);
  const saved = await ctx.store.get("lists", ctx.slug);
  if (saved) await useList(ctx, saved);
  else renderListStatus(ctx);
  await loadHistory(ctx);
  if (!navigator.onLine) setMode(ctx, "offline");
  await fetchList(ctx);
  sync(ctx);
  setInterval(() => fetchList(ctx), ctx.config.list_refresh * 1000);
  setInterval(() => {
    if (ctx.net.queueCount && !ctx.syncing) sync(ctx);
    renderListStatus(ctx);
  }, SYNC_MS);
  if (cameraWanted()) startCamera(ctx).catch(ctx.report);
  document.body.dataset.scannerReady = "1";
}

const ctx = createState();
start(ctx).catch(ctx.report);
