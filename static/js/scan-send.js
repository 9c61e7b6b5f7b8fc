// Sending scans. Every scan is written to the phone's queue (the scan store) before it is sent, so nothing
// is lost: an answered scan leaves the queue; when the network fails, the scan is checked against the
// offline guest list (shown as "offline – not yet confirmed") and the sync loop sends the queue to
// …/checkins/batch, in scan order, once the server answers again. The nonce of a scan makes a repeat of
// it harmless: the server answers it as it answered the first time.
import { $ } from "./dom.js";
import { uuid } from "./scan-code.js";
import { announce, renderUndo, show } from "./scan-feedback.js";
import { addHistory, updateHistory } from "./scan-history.js";
import { onlyNetwork, refreshQueueCount, request, setMode } from "./scan-http.js";
import { admitLocally, forgetLocal, learn, onAuthProblem, validateLocally } from "./scan-list.js";

const BATCH = 200;
const MAX_LENGTH = 2000;

/** Check in what was scanned or typed (`source`: "camera" | "photo" | "typed" | "search"). */
export async function submitScan(ctx, text, source, startedAt = performance.now()) {
  const { store, t } = ctx;
  text = String(text || "").trim();
  if (!text) return;
  if (text.length > MAX_LENGTH) return show(ctx, { result: "invalid" }, startedAt);
  const item = { nonce: uuid(), slug: ctx.slug, code: text, scanned_at: new Date().toISOString(), source, created: Date.now() };
  await store.put("queue", item); // on the phone's disk before anything else happens
  await refreshQueueCount(ctx);
  ctx.inflight.add(item.nonce);
  let response;
  try {
    response = await request(ctx, "POST", "/checkins", { code: text, nonce: item.nonce, scanned_at: item.scanned_at });
  } catch (exc) {
    ctx.inflight.delete(item.nonce);
    onlyNetwork(exc);
    setMode(ctx, "offline");
    return offlineScan(ctx, item, startedAt);
  }
  ctx.inflight.delete(item.nonce);
  const { status, data } = response;
  if (status === 200) {
    await store.remove("queue", [item.nonce]);
    await refreshQueueCount(ctx);
    setMode(ctx, "online");
    await learn(ctx, text, data);
    const shown = { ...data, nonce: item.nonce, code: text };
    addHistory(ctx, item, shown, "confirmed");
    show(ctx, shown, startedAt);
    if (ctx.net.queueCount) sync(ctx);
    return;
  }
  await store.remove("queue", [item.nonce]);
  await refreshQueueCount(ctx);
  if (status === 401 || status === 403) {
    onAuthProblem(ctx);
    return show(ctx, { result: "unauthorized", detail: t("relogin_detail"), login: true }, startedAt);
  }
  show(ctx, { result: "invalid", detail: data && data.error ? data.error.message : "" }, startedAt);
}

/** No answer: decide with the offline list; an "ok" stays queued for the sync loop. */
async function offlineScan(ctx, item, startedAt) {
  const { store } = ctx;
  const local = await validateLocally(ctx, item.code);
  const shown = { result: local.result, guest: local.guest || null, detail: local.detail, offline: true,
                  nonce: item.nonce, code: item.code };
  if (local.result === "ok") {
    item.local = { result: "ok", name: local.guest.name, city: local.guest.city };
    await store.put("queue", item);
    await admitLocally(ctx, item, local);
    addHistory(ctx, item, shown, "queued");
  } else {
    // Refused here, or not checkable: nothing is queued unless staff decide to let the guest in anyway.
    await store.remove("queue", [item.nonce]);
    if (local.result === "unknown" || local.result === "unverified") {
      shown.admit = async () => {
        const guest = { name: item.code.slice(0, 40), city: "" };
        item.local = { result: "forced", name: "", city: "" };
        await store.put("queue", item);
        await admitLocally(ctx, item, { ...local, guest });
        await refreshQueueCount(ctx);
        addHistory(ctx, item, { result: "ok", guest, offline: true }, "queued");
        show(ctx, { result: "ok", guest: null, offline: true, detail: item.code.slice(0, 60), nonce: item.nonce,
                    code: item.code });
      };
    }
    addHistory(ctx, item, shown, "refused");
  }
  await refreshQueueCount(ctx);
  show(ctx, shown, startedAt);
}

function withSyncLock(ctx, work) {
  // Two tabs of the scanner must not send the same queue at once (it would be harmless: nonces repeat the
  // first answer; but one sender keeps the notes right).
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request(`treffpunkt-sync:${ctx.slug}`, { ifAvailable: true }, (lock) => (lock ? work() : null));
  }
  return work();
}

/** Send the queue (unless a sync runs already, the phone is signed out, or the store is not open yet). */
export async function sync(ctx) {
  if (ctx.syncing || ctx.net.authProblem || !ctx.store) return;
  ctx.syncing = true;
  try {
    await withSyncLock(ctx, () => syncNow(ctx));
  } finally {
    ctx.syncing = false;
    await refreshQueueCount(ctx);
  }
}

const byScanTime = (a, b) => (a.scanned_at < b.scanned_at ? -1 : a.scanned_at > b.scanned_at ? 1 : a.created - b.created);

async function syncNow(ctx) {
  const { store, t } = ctx;
  let size = BATCH;
  let sent = 0;
  for (let round = 0; round < 100; round++) {
    const items = (await store.all("queue", ctx.slug)).filter((i) => !ctx.inflight.has(i.nonce)).sort(byScanTime);
    if (!items.length) break;
    const chunk = items.slice(0, size);
    let response;
    try {
      response = await request(ctx, "POST", "/checkins/batch", {
        scans: chunk.map((i) => ({ code: i.code, nonce: i.nonce, scanned_at: i.scanned_at })),
      });
    } catch (exc) {
      onlyNetwork(exc);
      setMode(ctx, "offline");
      break;
    }
    if (response.status === 401 || response.status === 403) {
      onAuthProblem(ctx);
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
      updateHistory(ctx, chunk[0].nonce, { state: "refused", note: (response.data && response.data.error || {}).message });
      continue;
    }
    setMode(ctx, "online");
    const answers = response.data.answers || [];
    for (let i = 0; i < chunk.length; i++) await reconcile(ctx, chunk[i], answers[i]);
    await store.remove("queue", chunk.map((i) => i.nonce));
    sent += chunk.length;
    await refreshQueueCount(ctx);
  }
  if (sent) {
    const note = $("sync-note");
    note.hidden = false;
    note.textContent = t("synced", { n: sent }) + (ctx.conflictNotes.length ? ` ${ctx.conflictNotes.join(" ")}` : "");
    ctx.conflictNotes = [];
  }
}

/** The server's answer to a scan made offline: confirmed, or a conflict (another door was first, or the
 * server says something else than the list did). */
async function reconcile(ctx, item, answer) {
  const { t, fmtTime } = ctx;
  if (!answer) return;
  await learn(ctx, item.code, answer);
  const local = item.local || {};
  const name = (answer.guest && answer.guest.name) || local.name || item.code.slice(0, 40);
  let state = "confirmed";
  let note = null;
  if (answer.result === "already" && answer.by !== ctx.config.device) {
    state = "conflict";
    note = t("conflict", { name, time: fmtTime(answer.checked_in_at), by: answer.by });
  } else if (answer.result !== "ok" && answer.result !== "already") {
    state = "conflict";
    note = t("differs", { name, result: t(answer.result) });
  }
  if (note) {
    ctx.conflictNotes.push(note);
    announce(note, "polite");
  }
  updateHistory(ctx, item.nonce, { state, note, result: answer.result, name, city: answer.guest ? answer.guest.city : "" });
  if (ctx.lastOk && ctx.lastOk.nonce === item.nonce) {
    ctx.lastOk.queued = false;
    ctx.lastOk.checkinId = answer.result === "ok" ? answer.checkin_id : null;
    renderUndo(ctx);
  }
  if (answer.result !== "ok") await forgetLocal(ctx, item.nonce);
}
