// The scanner's line to the server: one JSON request with a time limit (a slow venue network counts as
// offline, and so does anything that is not the server answering), and the #net badge that shows the mode
// (online / offline / connecting / please sign in again) and how many scans wait in the queue.
// Every function takes the scanner's state object `ctx` (scanner.js makes it).
import { $ } from "./dom.js";

const REQUEST_MS = 5000; // a request that takes longer counts as "offline"

/** No answer from the server itself: the network is down, too slow, or something else answered. */
export class NetworkError extends Error {}

/** fetch(config.api + path) as JSON; resolves {status, data}, throws NetworkError when offline. */
export async function request(ctx, method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_MS);
  const headers = { Accept: "application/json" };
  if (body !== undefined) Object.assign(headers, { "Content-Type": "application/json", "X-CSRFToken": ctx.csrf });
  let response;
  try {
    response = await fetch(ctx.config.api + path, {
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

/** Rethrow anything that is not a NetworkError (a bug must not pass for "offline"). */
export function onlyNetwork(exc) {
  if (!(exc instanceof NetworkError)) throw exc;
}

export function renderNet(ctx) {
  const { net, t } = ctx;
  const el = $("net");
  el.dataset.mode = net.authProblem ? "offline" : net.mode;
  el.dataset.queue = String(net.queueCount);
  $("net-mode").textContent = net.authProblem ? t("relogin") : t(net.mode);
  $("queue-label").textContent = t("queue", { n: net.queueCount });
}

/** "online" | "offline" | "connecting"; an answer from the server also ends a sign-in problem. */
export function setMode(ctx, mode) {
  if (mode === "online") ctx.net.authProblem = false;
  ctx.net.mode = mode;
  renderNet(ctx);
}

export async function refreshQueueCount(ctx) {
  ctx.net.queueCount = (await ctx.store.all("queue", ctx.slug)).length;
  renderNet(ctx);
}
