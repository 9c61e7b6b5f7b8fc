// The live state of one event in the browser: starts from the state embedded in the page (or a newer copy
// kept in localStorage), follows the /live namespace, applies each change exactly once in revision order,
// and asks the server to resync whenever it sees a gap. Pages render from `state`; they never fetch.
// How a change updates the state is live-state.js (pure, unit-tested); this module is the transport.
import { io } from "/static/vendor/socket.io-client-4.8.4/socket.io.esm.min.js";
import { applyChange, byPlannedStart, changeStep, isBehind, newerState } from "./live-state.js";
import { saveJSON, stateKey, storedCopy } from "./storage.js";

/**
 * Follow an event live.
 * handlers.onState(state, info)  after every snapshot or applied change (info.kind, info.change)
 * handlers.onStatus(status)      {mode: "live"|"connecting"|"offline", updatedAt: Date|null, savedAt}
 * handlers.onStats(stats)        arrival counters {registered, checked_in, by_city, registered_by_city, timeline}
 * Returns {state, socket, serverNow()}.
 */
export function followEvent(slug, embedded, handlers = {}) {
  // The page may come from the service worker's cache: take whichever copy is newer.
  const { state, savedAt } = newerState(embedded, storedCopy(slug));
  const live = { state, socket: null, clockOffset: 0, status: { mode: "connecting", updatedAt: null, savedAt } };
  const serverNow = () => new Date(Date.now() + live.clockOffset);
  live.serverNow = serverNow;

  // Storage full or disabled: live updates still work.
  const keepCopy = () => saveJSON(stateKey(slug), { state: live.state, savedAt: new Date().toISOString() });
  const setStatus = (mode) => {
    live.status = { ...live.status, mode };
    if (mode === "live") live.status.updatedAt = new Date();
    handlers.onStatus && handlers.onStatus(live.status);
  };
  const emitState = (info) => {
    keepCopy();
    live.status.updatedAt = new Date();
    handlers.onState && handlers.onState(live.state, info);
    handlers.onStatus && handlers.onStatus(live.status);
  };
  const syncClock = (iso) => {
    if (iso) live.clockOffset = new Date(iso).getTime() - Date.now();
  };

  const socket = io("/live", {
    // A function, so that every reconnect asks for what came after the revision we have *now*. A page that
    // shows no arrival counters says so: the server then sends it no `stats` during a door rush.
    auth: (cb) => cb({ event: slug, since: live.state ? live.state.revision : null, stats: Boolean(handlers.onStats) }),
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 8000,
  });
  live.socket = socket;
  let resyncing = false;
  const resync = () => {
    if (resyncing) return;
    resyncing = true;
    socket.emit("sync", { since: live.state ? live.state.revision : null }, () => (resyncing = false));
    setTimeout(() => (resyncing = false), 5000);
  };

  socket.on("snapshot", (msg) => {
    live.state = msg;
    live.state.sessions.sort(byPlannedStart);
    emitState({ kind: "snapshot" });
  });
  socket.on("change", (msg) => {
    const step = changeStep(live.state, msg);
    if (step === "skip") return; // already have it
    if (step === "resync") return resync(); // a gap: never skip a change
    applyChange(live.state, msg);
    emitState({ kind: "change", change: msg });
  });
  // Arrival counters: full totals, coalesced by the server, not part of the revisions.
  socket.on("stats", (msg) => {
    live.stats = msg;
    handlers.onStats && handlers.onStats(msg);
  });
  socket.on("synced", (msg) => {
    syncClock(msg.server_time);
    setStatus("live");
  });
  socket.on("heartbeat", (msg) => {
    syncClock(msg.server_time);
    if (isBehind(live.state, msg.revision)) resync();
    else setStatus("live");
  });
  // `synced` follows the CONNECT acknowledgement; should a server send it first, the client emits such
  // buffered events before "connect": do not fall back from "live" to "connecting" here.
  socket.on("connect", () => {
    if (live.status.mode !== "live") setStatus("connecting");
  });
  socket.on("disconnect", () => setStatus("offline"));
  socket.on("connect_error", () => setStatus("offline"));
  // Browsers throttle background tabs; coming back to the page, make sure we are current.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && socket.connected) resync();
  });
  if (live.state) handlers.onState && handlers.onState(live.state, { kind: "initial" });
  handlers.onStatus && handlers.onStatus(live.status);
  return live;
}
