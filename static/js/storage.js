// What pages keep in localStorage, and the names of the keys more than one module uses. Every access is
// guarded: private mode, a full or a disabled storage must never break a page. Nothing runs at import time.

/** live.js's saved copy of an event's live state: {state, savedAt}. */
export const stateKey = (slug) => `treffpunkt:state:${slug}`;
/** The favourite sessions of the agenda (ids), read by the ticket page too. */
export const favKey = (slug) => `treffpunkt:favs:${slug}`;
/** The ticket path ("/t/<token>") this device belongs to, written by the ticket and delegate pages. */
export const ticketKey = (slug) => `treffpunkt:ticket:${slug}`;

/** The JSON value stored under `key`, or `fallback` when there is none or it cannot be read. */
export function loadJSON(key, fallback = null) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

/** Store `value` as JSON; a storage that refuses keeps the value for as long as the page lives, no longer. */
export function saveJSON(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* private mode or full */
  }
}

export function removeKey(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    /* storage disabled */
  }
}

/** A plain text value (not JSON), or `fallback` when there is none (or an empty one). */
export function loadText(key, fallback = null) {
  try {
    return localStorage.getItem(key) || fallback;
  } catch {
    return fallback;
  }
}

export function saveText(key, text) {
  try {
    localStorage.setItem(key, text);
  } catch {
    /* no storage */
  }
}

/** The saved copy of the state that live.js keeps: {state, savedAt} or null. */
export const storedCopy = (slug) => loadJSON(stateKey(slug));
