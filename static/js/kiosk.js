// The self check-in kiosk (/staff/e/<slug>/kiosk): a tablet at the entrance that guests use themselves. The
// ticket QR in front of the camera, the typed 8-character code, or name plus municipality check in through
// the server (one request per attempt with its own nonce; the door's check-in function answers). This module
// makes the kiosk's state (one object, `ctx`) and connects the parts:
//   scan-camera.js  getUserMedia and decoding (BarcodeDetector or the vendored jsQR), shared with the scanner
//   scan-http.js    the JSON request with its time limit
//   kiosk-view.js   the full-screen answer, the pause after misses, badge printing
//   kiosk-leave.js  "Beenden" with the staff PIN
import { $, keepAwake, pageLang, readJSON } from "./dom.js";
import { makeT } from "./i18n.js";
import { cameraVisible, createCamera, startCamera, stopCamera } from "./scan-camera.js";
import { uuid } from "./scan-code.js";
import { onlyNetwork, request } from "./scan-http.js";
import { backToStart, showAnswer, signedOut, typeStatus } from "./kiosk-view.js";
import { wireLeave } from "./kiosk-leave.js";
import { clockFormat } from "./time.js";

function createState() {
  const config = readJSON("kiosk-config");
  const clock = clockFormat(pageLang(), config.timezone);
  const ctx = {
    config, // {slug, api, device, timezone, pin, welcome_seconds, places_refresh, code_length}
    t: makeT(readJSON("i18n")),
    fmtTime: (iso) => (iso ? clock.format(new Date(iso)) : ""),
    csrf: document.querySelector('meta[name="csrf-token"]').content,
    busy: false, // one attempt at a time
    pausedUntil: 0, // the typed forms rest until then (too many misses)
    printed: 0,
    timers: { back: null, pause: null },
    camera: null,
    wakeLock: null,
    report: null,
  };
  ctx.report = (exc) => {
    console.error(exc); // eslint-disable-line no-console
    showAnswer(ctx, { result: "error" });
  };
  ctx.camera = createCamera((text) => send(ctx, { code: text }, "camera").catch(ctx.report));
  return ctx;
}

/** One attempt: {code} or {name, place}; `via` "camera" | "code" | "name". */
async function send(ctx, body, via) {
  if (ctx.busy) return;
  ctx.busy = true;
  const payload = { ...body, nonce: uuid() };
  if (ctx.config.device) payload.device = ctx.config.device;
  let answer;
  try {
    const { status, data } = await request(ctx, "POST", "/checkin", payload);
    answer = status === 200 ? data : { result: "error" };
  } catch (exc) {
    onlyNetwork(exc);
    if (await signedOut(ctx)) return window.location.reload(); // revoked: the page shows the login
    answer = { result: "offline" };
  } finally {
    ctx.busy = false;
  }
  showAnswer(ctx, answer, via);
  return answer;
}

/** The list of municipalities and organisations, kept up to date (new guests, new towns). */
async function refreshPlaces(ctx) {
  const query = ctx.config.device ? `?device=${encodeURIComponent(ctx.config.device)}` : "";
  let places;
  try {
    const { status, data } = await request(ctx, "GET", `/places.json${query}`);
    if (status !== 200 || !Array.isArray(data.places)) return;
    places = data.places;
  } catch (exc) {
    onlyNetwork(exc);
    if (await signedOut(ctx)) window.location.reload();
    return;
  }
  const select = $("place");
  const chosen = select.value;
  const options = [select.options[0]];
  for (const place of places) {
    const option = document.createElement("option");
    option.textContent = place;
    options.push(option);
  }
  select.replaceChildren(...options);
  select.value = places.includes(chosen) ? chosen : "";
}

function wire(ctx) {
  const { report, t } = ctx;
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code");
    const text = code.value.trim();
    code.toggleAttribute("aria-invalid", !text);
    if (!text) {
      typeStatus(t("empty_code"));
      return code.focus();
    }
    typeStatus("");
    send(ctx, { code: text }, "code").catch(report);
  });
  $("name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("name").value.trim();
    const place = $("place").value;
    $("name").toggleAttribute("aria-invalid", !name);
    $("place").toggleAttribute("aria-invalid", !place);
    if (!name || !place) {
      typeStatus(t("empty_name"));
      return (name ? $("place") : $("name")).focus();
    }
    typeStatus("");
    send(ctx, { name, place }, "name").catch(report);
  });
  $("answer").addEventListener("click", () => backToStart(ctx));
  $("answer-close").addEventListener("click", (event) => {
    event.stopPropagation();
    backToStart(ctx);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("answer").hidden) backToStart(ctx);
  });
  $("camera-toggle").addEventListener("click", () => {
    if (ctx.camera.stream) stopCamera(ctx);
    else startCamera(ctx).catch(report);
  });
  document.addEventListener("contextmenu", (event) => event.preventDefault()); // no "open in…" on long press
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    cameraVisible(ctx);
    keepAwake(ctx);
  });
  wireLeave(ctx);
}

async function start(ctx) {
  wire(ctx);
  keepAwake(ctx);
  setInterval(() => refreshPlaces(ctx).catch(ctx.report), ctx.config.places_refresh * 1000);
  document.body.dataset.kioskReady = "1";
  // A kiosk always starts with its camera; if it cannot, #camera-msg says so and typing still works.
  await startCamera(ctx).catch((exc) => console.error(exc)); // eslint-disable-line no-console
}

const ctx = createState();
start(ctx).catch(ctx.report);
