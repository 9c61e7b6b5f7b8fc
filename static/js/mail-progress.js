// The staff mail page: each mailing still under way asks the server for its figures every few seconds and
// updates its numbers and bar, until nothing is pending.
const POLL_MS = 2000;

async function follow(box) {
  let progress;
  try {
    const response = await fetch(box.dataset.mailing, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    progress = (await response.json()).mailing;
  } catch {
    setTimeout(() => follow(box), POLL_MS * 3); // the venue Wi-Fi or the server is away: try again later
    return;
  }
  for (const field of ["queued", "sent", "failed", "pending"]) {
    const cell = box.querySelector(`[data-field="${field}"]`);
    if (cell) cell.textContent = String(progress[field]);
  }
  const bar = box.querySelector("progress");
  bar.max = progress.queued;
  bar.value = progress.sent + progress.failed;
  bar.textContent = `${progress.sent} / ${progress.queued}`;
  if (progress.pending > 0) setTimeout(() => follow(box), POLL_MS);
}

for (const box of document.querySelectorAll("[data-mailing]")) {
  if (Number(box.querySelector('[data-field="pending"]').textContent) > 0) follow(box);
}
