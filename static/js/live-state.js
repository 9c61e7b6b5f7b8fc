// The live state as data: how one `change` message of the /live namespace updates a state object, whether a
// message is due (each change exactly once, in revision order, never across a gap), and the order live.js
// keeps the sessions in. Pure (no DOM, no socket): live.js does the transport.

/** State order of the sessions: by planned start (ISO text), then id — stable while delays come and go.
 * Pages that show times sort with agenda-model.js byExpectedStart instead. */
export function byPlannedStart(a, b) {
  return a.planned_start < b.planned_start ? -1 : a.planned_start > b.planned_start ? 1 : a.id - b.id;
}

/** Replace the items of `list` with the same id, append the new ones (in place). */
function upsert(list, items) {
  for (const item of items) {
    const i = list.findIndex((x) => x.id === item.id);
    if (i >= 0) list[i] = item;
    else list.push(item);
  }
}

/** What to do with a `change` message of revision `msg.revision` for the state held: "apply" the next one,
 * "skip" one already applied (or any, while no state is held), "resync" after a gap (a change was missed:
 * ask the server for what came after our revision; never skip over one). */
export function changeStep(state, msg) {
  if (!state || msg.revision <= state.revision) return "skip";
  if (msg.revision > state.revision + 1) return "resync";
  return "apply";
}

/** A heartbeat names the server's revision: true when the state held is behind it (resync). */
export const isBehind = (state, revision) => !!state && revision > state.revision;

/** Apply one `change` message to a state object (in place): sessions and announcements are upserted (the
 * sessions then sorted, withdrawn announcements dropped), `replace` swaps whole parts, and the state takes
 * the message's revision. Whether a change is due is changeStep's answer. */
export function applyChange(state, msg) {
  if (msg.sessions) {
    upsert(state.sessions, msg.sessions);
    state.sessions.sort(byPlannedStart);
  }
  if (msg.announcements) {
    upsert(state.announcements, msg.announcements);
    state.announcements = state.announcements.filter((a) => !a.withdrawn);
  }
  for (const [key, value] of Object.entries(msg.replace || {})) state[key] = value;
  state.revision = msg.revision;
}

/** Where a page starts from: the embedded state, or the saved copy if that is newer (the page may come
 * from the service worker's cache). Returns {state, savedAt}; savedAt is null for the embedded state. */
export function newerState(embedded, stored) {
  if (stored && stored.state && (!embedded || stored.state.revision > embedded.revision)) {
    return { state: stored.state, savedAt: stored.savedAt };
  }
  return { state: embedded, savedAt: null };
}
