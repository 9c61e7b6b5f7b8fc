// The camera: getUserMedia (the back camera), ~10 frames a second decoded with the browser's BarcodeDetector
// where it reads QR codes, else with the vendored jsQR (loaded as a classic script on first use, drawn from
// a canvas at most 800 px wide). A code found is handed to `onCode(text, startedAt)`; then the camera rests
// a moment, and the same code again (or still in view) is ignored for a few seconds. Keeps the screen on
// while it runs. Where there is no live camera (no getUserMedia on plain http, none allowed or none there),
// #camera-box gets data-live="unavailable" and the photo button (scan-photo.js) comes first.
// State: ctx.camera, made by createCamera().
import { $, keepAwake } from "./dom.js";
import { loadText, saveText } from "./storage.js";

const JSQR_URL = "/static/vendor/jsqr-1.4.0/jsQR.js";
const FRAME_MS = 100; // ~10 camera frames a second
const PAUSE_MS = 1500; // after a result, the camera rests this long
const SAME_CODE_MS = 3000; // the same code again within this time (or while it stays in view) is ignored
const FORGET_MS = 60000;
const SETTING_KEY = "treffpunkt:scanner-camera"; // "on" | "off", wiped at logout (scan-store.js)

/** The camera's state; `onCode(text, startedAt)` gets every new code read. */
export function createCamera(onCode) {
  return { onCode, stream: null, detector: null, canvas: null, draw: null, timer: null, pausedUntil: 0,
           seen: new Map(), wakeLock: null };
}

/** Whether the camera should start with the page (it does unless staff turned it off on this device). */
export const cameraWanted = () => loadText(SETTING_KEY, "on") === "on";

const cameraMessage = (text) => {
  $("camera-msg").textContent = text;
};

/** "on" | "off" | "unavailable" (no live camera here: the photo button is the way to scan a QR). */
const liveState = (state) => {
  $("camera-box").dataset.live = state;
};

/** The vendored jsQR (window.jsQR), loaded once; scan-photo.js decodes photos with it too. */
export function loadJsQR() {
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

export async function startCamera(ctx) {
  const { t, camera } = ctx;
  const button = $("camera-toggle");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    cameraMessage(window.isSecureContext ? t("camera_missing") : t("camera_insecure"));
    button.hidden = true;
    liveState("unavailable");
    return;
  }
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (exc) {
    const name = exc && exc.name;
    cameraMessage(name === "NotAllowedError" ? t("camera_denied")
      : name === "NotFoundError" || name === "OverconstrainedError" ? t("camera_missing")
        : t("camera_error", { error: (exc && exc.message) || name || "?" }));
    button.textContent = t("camera_start");
    liveState("unavailable");
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
      return stopCamera(ctx);
    }
  }
  button.textContent = t("camera_stop");
  cameraMessage(t("camera_ready"));
  liveState("on");
  saveText(SETTING_KEY, "on");
  keepAwake(camera);
  // On a phone, the on-screen keyboard would cover the camera: the code field gives up the focus (a hardware
  // scanner still types into it, see the key handler in scanner.js).
  if (window.matchMedia("(pointer: coarse)").matches && document.activeElement === $("code")) $("code").blur();
  scheduleFrame(camera);
}

/** Stop the camera; `remember`: staff turned it off, so it stays off on this device. */
export function stopCamera(ctx, remember = false) {
  const { t, camera } = ctx;
  clearTimeout(camera.timer);
  if (camera.stream) for (const track of camera.stream.getTracks()) track.stop();
  camera.stream = null;
  $("video").srcObject = null;
  $("viewfinder").hidden = true;
  $("camera-toggle").textContent = t("camera_start");
  cameraMessage("");
  liveState("off");
  if (camera.wakeLock) camera.wakeLock.release().catch(() => {});
  if (remember) saveText(SETTING_KEY, "off");
}

/** The page is visible again: take the screen lock again while the camera runs. */
export function cameraVisible(ctx) {
  if (ctx.camera.stream) keepAwake(ctx.camera);
}

function scheduleFrame(camera) {
  clearTimeout(camera.timer);
  if (camera.stream) camera.timer = setTimeout(() => readFrame(camera), FRAME_MS);
}

async function decode(camera, video) {
  if (camera.detector) {
    const codes = await camera.detector.detect(video);
    return codes.length ? codes[0].rawValue : null;
  }
  const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
  const w = Math.round(video.videoWidth * scale);
  const h = Math.round(video.videoHeight * scale);
  if (!camera.canvas) {
    camera.canvas = document.createElement("canvas");
    camera.draw = camera.canvas.getContext("2d", { willReadFrequently: true });
  }
  if (camera.canvas.width !== w || camera.canvas.height !== h) {
    camera.canvas.width = w;
    camera.canvas.height = h;
  }
  camera.draw.drawImage(video, 0, 0, w, h);
  const image = camera.draw.getImageData(0, 0, w, h);
  const found = window.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
  return found ? found.data : null;
}

async function readFrame(camera) {
  const video = $("video");
  if (!camera.stream || document.visibilityState !== "visible") return scheduleFrame(camera);
  if (performance.now() < camera.pausedUntil || video.readyState < 2 || !video.videoWidth) return scheduleFrame(camera);
  const startedAt = performance.now();
  let text = null;
  try {
    text = await decode(camera, video);
  } catch {
    text = null;
  }
  if (text) {
    const now = Date.now();
    const seen = camera.seen.get(text);
    camera.seen.set(text, now); // still in view: the quiet time starts again
    for (const [key, at] of camera.seen) if (now - at > FORGET_MS) camera.seen.delete(key);
    if (!seen || now - seen > SAME_CODE_MS) {
      camera.pausedUntil = performance.now() + PAUSE_MS;
      camera.onCode(text, startedAt);
    }
  }
  scheduleFrame(camera);
}
