// What the person at the door sees and hears after a scan: the big result panel (#result, green / orange /
// red, closes by itself), the "last scan" line (#last) with its undo countdown, a tone, a vibration and the
// screen-reader announcement, and the link to print the guest's badge again. Remembers the last "ok" in
// ctx.lastOk for undo (scan-undo.js).
import { $, esc } from "./dom.js";
import { resultTone } from "./scan-code.js";

const SHOW_MS = { ok: 1500, undone: 1500 };
const SHOW_OTHER_MS = 2500;
const TONES = {
  ok: [[880, 0, 0.09], [1320, 0.1, 0.12]],
  warn: [[520, 0, 0.14], [520, 0.2, 0.14]],
  error: [[196, 0, 0.45]],
};
const VIBRATION = { ok: [70], warn: [90, 80, 90], error: [300, 100, 300] };

/**
 * Show a result r: {result, guest?, detail?, offline?, by?, checked_in_at?, nonce?, code?, checkin_id?,
 * login?, admit?}. `admit` (a function) adds the "let in anyway" button and keeps the panel open.
 * `startedAt` (performance.now() of the scan) goes to #result[data-ms].
 */
export function show(ctx, r, startedAt) {
  const { t, fmtTime } = ctx;
  const box = $("result");
  const title = t(r.result);
  const guest = r.guest || null;
  const tone = resultTone(r.result);
  let detail = r.detail || "";
  if (!detail && r.result === "already" && r.by) detail = t("already_detail", { time: fmtTime(r.checked_in_at), by: r.by });
  box.dataset.result = r.result;
  box.classList.toggle("good", tone === "good");
  box.classList.toggle("warn", tone === "warn");
  box.classList.toggle("bad", tone === "bad");
  box.classList.toggle("offline", !!r.offline);
  const offlineOk = r.offline && (r.result === "ok" || r.result === "already");
  $("result-title").textContent = title;
  $("result-name").textContent = guest ? guest.name : "";
  $("result-city").textContent = guest ? [guest.city, guest.organisation].filter(Boolean).join(" · ") : "";
  $("result-detail").textContent = detail;
  $("result-offline").hidden = !offlineOk;
  badgeLinks(r);
  const admit = $("result-admit");
  admit.hidden = !r.admit;
  admit.onclick = r.admit ? (event) => { event.stopPropagation(); hide(ctx); r.admit(); } : null;
  box.hidden = false;
  if (r.admit) admit.focus(); // a decision is needed; a hardware scan still goes to the code field
  const shownAt = performance.now();
  if (startedAt !== undefined) box.dataset.ms = String(Math.round(shownAt - startedAt));
  clearTimeout(ctx.timers.hide);
  if (!r.admit) ctx.timers.hide = setTimeout(() => hide(ctx), SHOW_MS[r.result] || SHOW_OTHER_MS);

  const last = $("last");
  last.hidden = false;
  last.dataset.result = r.result;
  last.className = `last ${tone}`;
  const parts = [title, guest && guest.name, guest && guest.city, detail, offlineOk ? t("offline_note") : ""].filter(Boolean);
  $("last-text").textContent = parts.join(" · ");
  if (r.login) $("last-text").insertAdjacentHTML("beforeend", ` <a href="${esc(ctx.config.login)}">${esc(t("relogin"))}</a>`);
  announce(parts.join(". "));
  signal(ctx, tone === "good" ? "ok" : tone === "warn" ? "warn" : "error");

  if (r.result === "ok" && r.nonce) {
    ctx.lastOk = { nonce: r.nonce, code: r.code, checkinId: r.offline ? null : r.checkin_id, queued: !!r.offline,
                   name: guest ? guest.name : "", until: Date.now() + ctx.config.undo_seconds * 1000 };
  } else if (r.result !== "undone") {
    ctx.lastOk = null;
  }
  renderUndo(ctx);
}

/** "Namensschild drucken" (#result-badge, #last-badge) for a guest the server let in or knew was in: the
 * badge page of that guest (the template's href names guest 0). Not for an offline result (no guest id). */
function badgeLinks(r) {
  const id = !r.offline && (r.result === "ok" || r.result === "already") && r.guest && r.guest.id;
  for (const link of [$("result-badge"), $("last-badge")]) {
    if (!link) continue;
    link.hidden = !id;
    if (id) link.href = link.dataset.href.replace(/\/0\/badge$/, `/${Number(id)}/badge`);
    else link.removeAttribute("href");
  }
}

/** Close the result panel (the focus goes back to the code field if it was in the panel). */
export function hide(ctx) {
  clearTimeout(ctx.timers.hide);
  const box = $("result");
  const hadFocus = box.contains(document.activeElement);
  box.hidden = true;
  if (hadFocus) $("code").focus();
}

/** Tell screen readers (#announce). */
export function announce(text, politeness = "assertive") {
  const el = $("announce");
  el.setAttribute("aria-live", politeness);
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 50); // a change screen readers notice, even for the same text
}

/** The undo button with its seconds left, while the last "ok" can still be taken back. */
export function renderUndo(ctx) {
  const { lastOk } = ctx;
  const button = $("undo");
  clearTimeout(ctx.timers.undo);
  const left = lastOk ? Math.ceil((lastOk.until - Date.now()) / 1000) : 0;
  const possible = lastOk && left > 0 && (lastOk.queued || lastOk.checkinId);
  button.hidden = !possible;
  if (!possible) return;
  $("undo-left").textContent = String(left);
  ctx.timers.undo = setTimeout(() => renderUndo(ctx), 1000);
}

/** Browsers start audio only after a gesture: called on the first touches and keys. */
export function unlockAudio(ctx) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!ctx.audio) ctx.audio = new Context();
    if (ctx.audio.state === "suspended") ctx.audio.resume().catch(() => {});
  } catch {
    ctx.audio = null;
  }
}

/** A tone and a vibration: "ok" | "warn" | "error". */
function signal(ctx, kind) {
  const { audio } = ctx;
  if (audio && audio.state === "running") {
    const now = audio.currentTime;
    for (const [freq, at, length] of TONES[kind]) {
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
      navigator.vibrate(VIBRATION[kind]);
    } catch {
      /* not allowed without a gesture */
    }
  }
}
