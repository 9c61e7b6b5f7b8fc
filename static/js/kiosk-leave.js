// Leaving the self check-in kiosk: the small "Beenden" control opens a dialog that asks for the staff PIN;
// the server checks it (POST …/kiosk/leave with the CSRF token, attempts rate-limited there) and, when it is
// right, ends the kiosk's login and names the page to go to (the staff login). A wrong PIN keeps the kiosk.
import { $ } from "./dom.js";
import { signedOut } from "./kiosk-view.js";
import { onlyNetwork, request } from "./scan-http.js";

function say(text) {
  $("leave-msg").textContent = text;
}

async function submitLeave(ctx) {
  const { t } = ctx;
  const pin = $("pin");
  if (pin && !pin.value.trim()) {
    say(t("pin_empty"));
    return pin.focus();
  }
  const body = { pin: pin ? pin.value.trim() : "" };
  if (ctx.config.device) body.device = ctx.config.device;
  let answer;
  try {
    const { status, data } = await request(ctx, "POST", "/leave", body);
    answer = status === 200 ? data : { result: "error" };
  } catch (exc) {
    onlyNetwork(exc);
    if (await signedOut(ctx)) return window.location.reload(); // signed out already (the kiosk was revoked)
    answer = { result: "error" };
  }
  if (answer.result === "left") {
    document.body.dataset.kioskLeft = "1";
    return window.location.assign(answer.next);
  }
  if (pin) {
    pin.value = "";
    pin.setAttribute("aria-invalid", "true");
    pin.focus();
  }
  if (answer.result === "wait" || (answer.result === "wrong_pin" && answer.wait)) {
    say([answer.result === "wrong_pin" ? t("wrong_pin") : "", t("pin_wait", { n: answer.wait })].join(" ").trim());
  } else {
    say(answer.result === "wrong_pin" ? t("wrong_pin") : t("leave_error"));
  }
  return null;
}

/** The "Beenden" control and its PIN dialog. */
export function wireLeave(ctx) {
  const dialog = $("leave-dialog");
  const pin = $("pin");
  $("leave").addEventListener("click", () => {
    say("");
    if (pin) {
      pin.value = "";
      pin.removeAttribute("aria-invalid");
    }
    dialog.showModal();
    (pin || dialog.querySelector("button[type=submit]")).focus();
  });
  $("leave-cancel").addEventListener("click", () => dialog.close());
  $("leave-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitLeave(ctx).catch(ctx.report);
  });
}
