// This phone's recent scans (#history): kept in the scan store, so they survive a reload; the last 50 are
// kept, 20 are shown, each with its state (waiting in the queue, confirmed by the server, a conflict).
import { $, esc } from "./dom.js";
import { resultTone } from "./scan-code.js";

const HISTORY_MAX = 50;
const HISTORY_SHOWN = 20;

/** A scan and what was shown for it; `state` is "queued" | "confirmed" | "conflict" | "refused". */
export function addHistory(ctx, item, shown, state) {
  const entry = {
    nonce: item.nonce, slug: ctx.slug, at: item.scanned_at, result: shown.result, state,
    name: shown.guest ? shown.guest.name : "", city: shown.guest ? shown.guest.city : "",
    offline: !!shown.offline, note: null,
  };
  ctx.history = [entry, ...ctx.history.filter((h) => h.nonce !== entry.nonce)].slice(0, HISTORY_MAX);
  ctx.store.put("history", entry).catch(() => {});
  renderHistory(ctx);
}

/** Change the entry of scan `nonce` (values that are undefined or "" are left as they were). */
export function updateHistory(ctx, nonce, changes) {
  const entry = ctx.history.find((h) => h.nonce === nonce);
  if (!entry) return;
  Object.assign(entry, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined && v !== "")));
  ctx.store.put("history", entry).catch(() => {});
  renderHistory(ctx);
}

/** The stored history of this event, newest first; what is still queued from an earlier visit shows as waiting. */
export async function loadHistory(ctx) {
  const { store, slug } = ctx;
  const all = (await store.all("history", slug)).sort((a, b) => (a.at < b.at ? 1 : -1));
  const old = all.slice(HISTORY_MAX).map((h) => h.nonce);
  if (old.length) await store.remove("history", old);
  ctx.history = all.slice(0, HISTORY_MAX);
  const queued = new Set((await store.all("queue", slug)).map((q) => q.nonce));
  for (const h of ctx.history) if (queued.has(h.nonce)) h.state = "queued";
  renderHistory(ctx);
}

function renderHistory(ctx) {
  const { t, fmtTime } = ctx;
  const stateLabels = { queued: t("history_queued"), confirmed: t("history_confirmed"), conflict: t("history_conflict") };
  $("history").innerHTML = ctx.history.slice(0, HISTORY_SHOWN).map((h) => {
    const state = stateLabels[h.state] || "";
    return `<li class="${resultTone(h.result)}" data-state="${esc(h.state)}" data-nonce="${esc(h.nonce)}">`
      + `<span class="h-time">${esc(fmtTime(h.at))}</span> <span class="h-result">${esc(t(h.result))}</span>`
      + `${h.name ? ` <strong>${esc(h.name)}</strong>` : ""}${h.city ? ` <span class="h-city">(${esc(h.city)})</span>` : ""}`
      + `${state ? ` <span class="h-state">${esc(state)}</span>` : ""}`
      + `${h.note ? `<br><span class="h-note">${esc(h.note)}</span>` : ""}</li>`;
  }).join("");
}
