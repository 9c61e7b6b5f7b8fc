// DOM helpers shared by every page module: reading the JSON a template embeds, escaping for innerHTML,
// updating elements only when their content changed (keeps focus), reordering children in place, and the
// screen wake lock. Nothing here runs at import time, so pure modules may sit next to it.

/** document.getElementById. */
export const $ = (id) => document.getElementById(id);

/** The language of the page (<html lang>), "de" if none. */
export const pageLang = () => document.documentElement.lang || "de";

/** The JSON in <script type="application/json" id=…>, or null when it is missing or not JSON. */
export function readJSON(id) {
  const el = document.getElementById(id);
  try {
    return el ? JSON.parse(el.textContent) : null;
  } catch {
    return null;
  }
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text made safe for innerHTML and attribute values. */
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Replace innerHTML only when it changed; keep keyboard focus on the element with the same data-focus-key. */
export function setHTML(el, html) {
  if (!el || el._html === html) return;
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.dataset.focusKey : null;
  el.innerHTML = html;
  el._html = html;
  if (key) {
    const again = el.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/** Set textContent only when it changed (no needless mutations for screen readers and layout). */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
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

/**
 * Keep the screen on while the page is visible, where the browser allows it (HTTPS, no battery saver).
 * `holder.wakeLock` is the lock while it is held (null once the browser releases it, e.g. when the page is
 * hidden): call again on "visibilitychange" to take a new one.
 */
export async function keepAwake(holder) {
  if (!("wakeLock" in navigator) || holder.wakeLock || document.visibilityState !== "visible") return;
  try {
    holder.wakeLock = await navigator.wakeLock.request("screen");
    holder.wakeLock.addEventListener("release", () => {
      holder.wakeLock = null;
    });
  } catch {
    holder.wakeLock = null; // not allowed here: the device's own screen settings apply
  }
}
