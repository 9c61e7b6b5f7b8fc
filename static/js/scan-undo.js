// Taking back the last check-in (the undo button, for config.undo_seconds after an "ok"): a scan still in
// the queue is simply dropped (the server never hears of it), a confirmed one is undone with
// POST …/checkins/<id>/undo. ctx.lastOk is set by scan-feedback.js show().
import { uuid } from "./scan-code.js";
import { show, renderUndo } from "./scan-feedback.js";
import { updateHistory } from "./scan-history.js";
import { onlyNetwork, refreshQueueCount, request, setMode } from "./scan-http.js";
import { forgetLocal, learn } from "./scan-list.js";

export async function undo(ctx) {
  const { t, store } = ctx;
  if (!ctx.lastOk) return;
  const target = ctx.lastOk;
  ctx.lastOk = null;
  renderUndo(ctx);
  if (target.queued) {
    // Not sent yet: take it out of the queue; the server never hears of it.
    const queued = await store.get("queue", target.nonce);
    if (queued) {
      await store.remove("queue", [target.nonce]);
      await forgetLocal(ctx, target.nonce);
      await refreshQueueCount(ctx);
      updateHistory(ctx, target.nonce, { result: "undone", state: "confirmed" });
      return show(ctx, { result: "undone", detail: t("undo_local", { name: target.name }) });
    }
  }
  if (!target.checkinId) return show(ctx, { result: "error", detail: t("undo_failed") });
  try {
    const { status, data } = await request(ctx, "POST", `/checkins/${target.checkinId}/undo`, { nonce: uuid() });
    if (status === 200) {
      await forgetLocal(ctx, target.nonce);
      await learn(ctx, target.code, { result: "undone" });
      updateHistory(ctx, target.nonce, { result: "undone" });
      return show(ctx, { result: "undone", guest: data.guest, detail: t("undo_done", { name: target.name }) });
    }
    if (status === 409) return show(ctx, { result: "error", detail: t("undo_late") });
    show(ctx, { result: "error", detail: (data.error && data.error.message) || t("undo_failed") });
  } catch (exc) {
    onlyNetwork(exc);
    setMode(ctx, "offline");
    show(ctx, { result: "error", detail: t("undo_failed") });
  }
}
