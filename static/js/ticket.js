// The guest's ticket page (/t/<token>) and the printable tickets: list the favourites this device keeps for
// the event (static/js/agenda.js stores them under treffpunkt:favs:<slug>), keep the screen on while the
// ticket is shown, and the print button. No network requests: the agenda comes embedded in the page.
import { keepAwake, readJSON } from "./dom.js";
import { keepWithTicket } from "./favourites-sync.js";
import { favKey, loadJSON, saveJSON, ticketKey } from "./storage.js";

/** The device's favourites go to the ticket; a device without any (a second phone) takes the ticket's. The
 *  answer names the calendar subscription of them, shown as a link. */
async function syncFavourites(root) {
  const key = favKey(root.dataset.slug);
  const mine = loadJSON(key, null);
  const kept = readJSON("ticket-favourites") || [];
  if (mine === null && kept.length) {
    saveJSON(key, kept);
    showFavourites(root);
  }
  const answer = await keepWithTicket(root.dataset.slug, mine === null ? kept : mine, root.dataset.ticket);
  const link = document.getElementById("fav-calendar");
  if (answer && link) {
    link.querySelector("a").href = answer.calendar.webcal;
    const copy = link.querySelector("input");
    if (copy) copy.value = answer.calendar.url;
    link.hidden = false;
  }
}

function showFavourites(root) {
  const list = document.getElementById("fav-list");
  const none = document.getElementById("fav-none");
  const items = readJSON("ticket-agenda");
  if (!list || !Array.isArray(items)) return;
  const favs = new Set(loadJSON(favKey(root.dataset.slug), []).map(Number));
  const chosen = items.filter((s) => favs.has(s.id));
  list.replaceChildren();
  for (const s of chosen) {
    const li = document.createElement("li");
    if (s.cancelled) li.className = "cancelled";
    const time = document.createElement("span");
    time.className = "fav-time";
    time.textContent = s.start;
    const title = document.createElement("span");
    title.className = "fav-title";
    title.textContent = s.title;
    li.append(time, title);
    if (s.cancelled) {
      const badge = document.createElement("span");
      badge.className = "badge cancelled";
      badge.textContent = list.dataset.cancelled || "";
      li.append(badge);
    }
    if (s.room) {
      const room = document.createElement("span");
      room.className = "fav-room";
      room.textContent = s.room;
      li.append(room);
    }
    list.append(li);
  }
  list.hidden = chosen.length === 0;
  if (none) none.hidden = chosen.length > 0;
}

const root = document.getElementById("ticket");
if (root) {
  showFavourites(root);
  // So this device can find its way back to the ticket (e.g. from the agenda) — not on a staff phone that
  // opened a guest's ticket at the door: that ticket is not the phone's own.
  if (!root.dataset.staff) {
    saveJSON(ticketKey(root.dataset.slug), root.dataset.ticket);
    syncFavourites(root);
  }
  window.addEventListener("storage", (e) => {
    if (e.key === favKey(root.dataset.slug)) showFavourites(root);
  });
  if (root.querySelector("svg.qr")) {
    // Keep the screen from dimming while the guest walks up to the door (where the browser allows it; battery
    // saver or not allowed: the hint on the page has to do). The browser releases the lock when the page is
    // hidden; coming back, it is taken again.
    const awake = { wakeLock: null };
    keepAwake(awake);
    document.addEventListener("visibilitychange", () => keepAwake(awake));
  }
}

document.addEventListener("click", (e) => {
  if (e.target.closest("[data-print]")) window.print();
});

// Staff's "Einchecken" (checkin/ticket.html): one tap is one request; the nonce makes a second one harmless.
document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-door-checkin]");
  if (!form) return;
  if (form.dataset.sent) return e.preventDefault();
  form.dataset.sent = "1";
  for (const button of form.querySelectorAll("button")) button.setAttribute("aria-disabled", "true");
});
