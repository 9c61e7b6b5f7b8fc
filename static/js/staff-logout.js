// Logging out wipes what the door scanner keeps on this device (scan-store.js wipe(): the IndexedDB database
// with the offline guest list, the queue and the history, and the scanner's localStorage keys) before the
// logout form is sent, so a phone handed back or lost after the shift holds no guest data. If scans are
// still waiting to be sent, the person is asked first: cancelling keeps them (and the session) so the
// scanner page can deliver them. Loaded as a module by templates/staff/base.html.
import { wipe } from "./scan-store.js";

const WIPE_TIMEOUT_MS = 3000; // never let a stuck browser store keep someone from logging out

const script = document.querySelector("script[data-unsynced]");
const question = (script && script.dataset.unsynced) || "{n}?";

function withTimeout(promise) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), WIPE_TIMEOUT_MS))]);
}

// Every logout form: the top bar's and the scanner page's own.
for (const form of document.querySelectorAll('form[action$="/staff/logout"]')) {
  let done = false;
  form.addEventListener("submit", async (event) => {
    if (done) return;
    event.preventDefault();
    try {
      const first = await withTimeout(wipe({ keepPending: true }));
      if (first && !first.wiped) {
        if (!window.confirm(question.replace("{n}", String(first.pending)))) return;
        await withTimeout(wipe());
      }
    } catch {
      /* the wipe is best effort; logging out must still work */
    }
    done = true;
    form.submit(); // submit() does not fire "submit" again
  });
}
