// What the guest at the self check-in kiosk sees after an attempt: the full-screen answer (#answer: a large
// "Willkommen, <Name>!" in green, "Schon eingecheckt" in orange, a friendly problem in red) that goes back to
// the start by itself after a few seconds; the pause of the typed forms after too many misses; and the badge,
// printed from a hidden frame when the kiosk prints badges. Every function takes the kiosk's state `ctx`.
import { $ } from "./dom.js";
import { announce } from "./scan-feedback.js";

const PROBLEM_EXTRA_MS = 4000; // a problem stays longer than a welcome: there is more to read
const TONE = { ok: "good", already: "warn", wait: "warn", ambiguous: "warn" }; // anything else: "bad"

/** Title, place line and detail of an answer {result, guest?, checked_in_at?, wait?}; `via` "name" for the
 * name form (its "not found" says so). Pure apart from ctx.t and ctx.fmtTime. */
export function answerText(ctx, answer, via) {
  const { t } = ctx;
  const guest = answer.guest || null;
  const name = guest ? guest.name : "";
  const place = guest ? [guest.city, guest.organisation].filter(Boolean).join(" · ") : "";
  switch (answer.result) {
    case "ok":
      return { title: t("ok", { name }), place, detail: answer.badge ? t("badge") : t("ok_detail") };
    case "already":
      return { title: t("already"), place: [name, place].filter(Boolean).join(" · "),
               detail: t("already_detail", { name, time: ctx.fmtTime(answer.checked_in_at) }) };
    case "unknown":
      return via === "name"
        ? { title: t("unknown_name"), place: "", detail: t("unknown_name_detail") }
        : { title: t("unknown"), place: "", detail: t("unknown_detail") };
    case "wait":
      return { title: t("wait"), place: "", detail: t("wait_detail", { n: answer.wait }) };
    case "ambiguous":
    case "offline":
    case "wrong_event":
    case "cancelled":
    case "waiting":
      return { title: t(answer.result), place: "", detail: t(`${answer.result}_detail`) };
    default:
      return { title: t("error"), place: "", detail: t("error_detail") };
  }
}

/** Show an answer on the whole screen; it goes back to the start by itself. */
export function showAnswer(ctx, answer, via) {
  const box = $("answer");
  const text = answerText(ctx, answer, via);
  box.dataset.result = answer.result;
  box.className = `kiosk-answer ${TONE[answer.result] || "bad"}`;
  $("answer-title").textContent = text.title;
  $("answer-place").textContent = text.place;
  $("answer-detail").textContent = text.detail;
  box.hidden = false;
  $("start").inert = true; // behind the answer: out of the tab order and of screen readers' view
  $("answer-close").focus({ preventScroll: true });
  announce([text.title, text.place, text.detail].filter(Boolean).join(". "));
  clearTimeout(ctx.timers.back);
  const ms = ctx.config.welcome_seconds * 1000 + (answer.result === "ok" ? 0 : PROBLEM_EXTRA_MS);
  ctx.timers.back = setTimeout(() => backToStart(ctx), ms);
  if (answer.result === "ok" || answer.result === "already") resetForms();
  if (answer.wait) pauseTyping(ctx, answer.wait);
  if (answer.badge) printBadge(ctx, answer.badge);
}

function resetForms() {
  $("code").value = "";
  $("name").value = "";
  $("place").value = "";
}

/** Back to the start: the answer goes, the code field takes the keyboard (not on touch screens, where the
 * on-screen keyboard would cover the camera). */
export function backToStart(ctx) {
  clearTimeout(ctx.timers.back);
  const box = $("answer");
  if (box.hidden) return;
  box.hidden = true;
  box.dataset.result = "";
  $("start").inert = false;
  document.body.dataset.kioskAnswers = String(Number(document.body.dataset.kioskAnswers || 0) + 1);
  if (window.matchMedia("(pointer: fine)").matches) $("code").focus({ preventScroll: true });
}

/** A message under the forms (an empty field, a pause); "" hides it. */
export function typeStatus(text) {
  const el = $("type-status");
  el.textContent = text;
  el.hidden = !text;
}

function setTypingDisabled(disabled) {
  for (const form of [$("code-form"), $("name-form")]) {
    for (const el of form.elements) el.disabled = disabled;
  }
}

/** Too many misses: the typed forms rest `seconds` (the camera keeps working), with a countdown. */
export function pauseTyping(ctx, seconds) {
  clearInterval(ctx.timers.pause);
  ctx.pausedUntil = Date.now() + seconds * 1000;
  setTypingDisabled(true);
  const countDown = () => {
    const left = Math.ceil((ctx.pausedUntil - Date.now()) / 1000);
    if (left > 0) return typeStatus(ctx.t("wait_status", { n: left }));
    clearInterval(ctx.timers.pause);
    ctx.pausedUntil = 0;
    setTypingDisabled(false);
    typeStatus("");
  };
  countDown();
  ctx.timers.pause = setInterval(countDown, 1000);
}

/** The guest's badge page in the hidden frame, printed once it has loaded (Chromium started with
 * --kiosk-printing prints at once to the default printer, without a dialog). */
export function printBadge(ctx, url) {
  const frame = $("badge-frame");
  frame.onload = () => {
    frame.onload = null;
    try {
      frame.contentWindow.print();
      ctx.printed += 1;
      document.body.dataset.kioskPrinted = String(ctx.printed);
    } catch (exc) {
      console.error(exc); // eslint-disable-line no-console
    }
  };
  frame.src = url;
}

/** Whether this tablet has been signed out (its kiosk revoked, its login ended): the kiosk's requests are then
 * sent on to the login page, which reads as "no JSON", so ask once without following redirects. */
export async function signedOut(ctx) {
  try {
    const response = await fetch(`${ctx.config.api}/places.json`, {
      redirect: "manual", credentials: "same-origin", cache: "no-store",
    });
    return response.type === "opaqueredirect";
  } catch {
    return false;
  }
}
