// The agenda as data, for the phone agenda and the screens: what runs now and next, one room's view, the
// phase of the event, which announcements are active, and a session change put into words. Pure: no DOM.
import { countdown, delayLabel, durationLabel, MINUTE, ms } from "./time.js";

export const isCancelled = (s) => s.status === "cancelled";
export const isMoved = (s) => !!(s.planned_room && s.room && s.planned_room !== s.room);
export const isRunning = (s, now) => ms(s.start) <= now.getTime() && now.getTime() < ms(s.end);

/**
 * Display order: by the start as it is now (a delay moves a session), then the planned start, then id.
 * (live-state.js keeps state.sessions itself in planned order with byPlannedStart; pages that show times
 * sort with this one.)
 */
export const byExpectedStart = (a, b) => ms(a.start) - ms(b.start) || ms(a.planned_start) - ms(b.planned_start) || a.id - b.id;

/** before | during | after: is `now` on the event's day(s) and before the last session ends? */
export function eventPhase(state, now, fmt) {
  const ev = state.event;
  const today = fmt.dayKey(now);
  if (today < fmt.dayKey(ev.start)) return "before";
  const ends = state.sessions.filter((s) => !isCancelled(s)).map((s) => ms(s.end));
  const lastEnd = Math.max(ms(ev.end), ...ends);
  if (today > fmt.dayKey(ev.end) || now.getTime() >= lastEnd) return "after";
  return "during";
}

/** The sessions running now and the ones starting next (all that share the earliest coming start). */
export function nowAndNext(sessions, now) {
  const live = sessions.filter((s) => !isCancelled(s));
  const current = live.filter((s) => isRunning(s, now)).sort(byExpectedStart);
  const upcoming = live.filter((s) => ms(s.start) > now.getTime()).sort(byExpectedStart);
  const next = upcoming.length ? upcoming.filter((s) => ms(s.start) === ms(upcoming[0].start)) : [];
  return { current, next, upcoming };
}

/**
 * One room's view at `now`: the session running there, what comes next (a cancelled session or one moved
 * away is listed with its mark until the next real one), and the rest of the day.
 */
export function roomView(sessions, roomName, now) {
  const n = now.getTime();
  const here = sessions.filter((s) => s.room === roomName || (isMoved(s) && s.planned_room === roomName)).sort(byExpectedStart);
  const takesPlace = (s) => !isCancelled(s) && s.room === roomName;
  // Usually one session runs in a room; a double booking shows all of them rather than hide one.
  const running = here.filter((s) => takesPlace(s) && isRunning(s, now));
  const current = running[0] || null;
  // Nothing takes place here now, but something was planned: say it is cancelled or moved away.
  const instead = current ? null : here.find((s) => !takesPlace(s) && isRunning(s, now)) || null;
  const coming = here.filter((s) => ms(s.start) > n && s !== current);
  const next = [];
  let i = 0;
  for (; i < coming.length && next.length < 3; i++) {
    next.push(coming[i]);
    if (takesPlace(coming[i])) {
      i++;
      break;
    }
  }
  return { current, running, instead, next, later: coming.slice(i), all: here };
}

/**
 * How a session's end moved while it ran (its overrun; the start stays), in words, or "": "überzieht um
 * 10 min" / "endet 5 min früher" until its end, "hat 10 min überzogen" / "endete 5 min früher" after it.
 */
export function overrunLabel(t, s, now) {
  const n = s.overrun_minutes || 0;
  if (!n || isCancelled(s)) return "";
  const over = ms(s.end) <= now.getTime();
  const key = n > 0 ? (over ? "overran" : "overrun") : over ? "ended_early" : "early";
  return t(key, { d: durationLabel(t, Math.abs(n) * MINUTE) });
}

/** The countdown in words: "in 12 min", "noch 8 min" — and for a running session that overruns, "läuft noch
 * bis 16:05" (the new end, so nobody takes the room for free). */
export function timeLeft(t, fmt, s, now) {
  if (s.overrun_minutes && !isCancelled(s) && isRunning(s, now)) return t("until", { time: fmt.time(s.end) });
  return countdown(t, s, now);
}

/** A change of one session as the favourites banner tells it, or null if nothing a visitor cares about. */
export function describeChange(t, fmt, before, after) {
  if (!before) return null;
  const title = after.title;
  if (before.status !== after.status) return isCancelled(after) ? t("ch_cancelled", { title }) : t("ch_restored", { title });
  if (before.room !== after.room) return t("ch_moved", { title, room: after.room || "–", from: before.room || "–" });
  if ((before.overrun_minutes || 0) !== (after.overrun_minutes || 0) && before.start === after.start) {
    return t(ms(after.end) > ms(before.end) ? "ch_longer" : "ch_shorter", { title, time: fmt.time(after.end) });
  }
  if (before.start !== after.start || before.end !== after.end) {
    const time = fmt.range(after.start, after.end);
    return after.delay_minutes ? t("ch_delay", { title, delta: delayLabel(after.delay_minutes), time }) : t("ch_ontime", { title, time });
  }
  if (before.title !== after.title || before.kind !== after.kind || String(before.speakers) !== String(after.speakers)) {
    return t("ch_edited", { title });
  }
  return null;
}

/** Announcements still active at the server's `now`, urgent first, then newest first. */
export function activeAnnouncements(list, now) {
  const rank = { urgent: 0, warning: 1, info: 2 };
  return (list || [])
    .filter((a) => !a.withdrawn && (!a.expires_at || ms(a.expires_at) > now.getTime()))
    .sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || ms(b.created_at) - ms(a.created_at));
}
