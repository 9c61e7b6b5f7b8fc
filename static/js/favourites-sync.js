// Favourites kept with the ticket (webapp/checkin/calendar.py): a device that knows its guest's ticket
// (treffpunkt:ticket:<slug>, written by the ticket page) sends the starred sessions there, so that a second
// phone and the guest's calendar subscription see the same ones. Without a ticket nothing leaves the device.
import { loadJSON, ticketKey } from "./storage.js";

/** PUT the ids to the ticket's favourites; the answer ({sessions, calendar: {url, webcal}}) or null. */
export async function keepWithTicket(slug, ids, ticketPath = loadJSON(ticketKey(slug))) {
  if (typeof ticketPath !== "string" || !ticketPath.startsWith("/t/")) return null;
  try {
    const response = await fetch(`${ticketPath}/favourites`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "omit",
      body: JSON.stringify({ sessions: ids.map(Number) }),
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null; // offline: the next star or the next visit of the ticket page sends them
  }
}
