// agenda-model.js: what runs now and next, one room's view (with a running, a cancelled and a moved session),
// the event's phase, active announcements and a change put into words.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  activeAnnouncements, byExpectedStart, describeChange, eventPhase, isCancelled, isMoved, isRunning, nowAndNext, roomView,
} from "../../static/js/agenda-model.js";
import { makeT } from "../../static/js/i18n.js";
import { makeFormat } from "../../static/js/time.js";

const at = (hhmm) => new Date(`2018-10-26T${hhmm}:00+02:00`);
const iso = (hhmm) => `2018-10-26T${hhmm}:00+02:00`;

function s(id, from, to, room, extra = {}) {
  return { id, title: `S${id}`, start: iso(from), end: iso(to), planned_start: iso(from), room, planned_room: room,
           status: "scheduled", delay_minutes: 0, ...extra };
}

// The day in two rooms: Saal has a keynote, then a cancelled talk, then a workshop; Raum 2 runs in parallel;
// a panel planned for Saal was moved to Raum 2.
const keynote = s(1, "10:00", "11:00", "Saal");
const cancelled = s(2, "11:00", "12:00", "Saal", { status: "cancelled" });
const parallel = s(3, "11:00", "12:00", "Raum 2");
const workshop = s(4, "12:00", "13:00", "Saal");
const moved = s(5, "13:00", "14:00", "Raum 2", { planned_room: "Saal" });
const sessions = [workshop, moved, cancelled, keynote, parallel];

describe("session marks", () => {
  test("running: from the start (inclusive) to the end (exclusive)", () => {
    assert.equal(isRunning(keynote, at("09:59")), false);
    assert.equal(isRunning(keynote, at("10:00")), true);
    assert.equal(isRunning(keynote, at("10:59")), true);
    assert.equal(isRunning(keynote, at("11:00")), false);
  });

  test("cancelled and moved", () => {
    assert.equal(isCancelled(cancelled), true);
    assert.equal(isCancelled(keynote), false);
    assert.equal(isMoved(moved), true);
    assert.equal(isMoved(keynote), false);
  });

  test("byExpectedStart sorts by the start as it is now (a delay moves a session)", () => {
    const late = s(6, "10:30", "11:00", "Saal", { planned_start: iso("09:30") });
    const order = [workshop, late, keynote].sort(byExpectedStart).map((x) => x.id);
    assert.deepEqual(order, [1, 6, 4]);
  });
});

describe("nowAndNext", () => {
  test("during the keynote: it runs now; next is what starts next and is not cancelled", () => {
    const { current, next, upcoming } = nowAndNext(sessions, at("10:30"));
    assert.deepEqual(current.map((x) => x.id), [1]);
    assert.deepEqual(next.map((x) => x.id), [3], "the cancelled talk at 11:00 is not 'next'");
    assert.deepEqual(upcoming.map((x) => x.id), [3, 4, 5]);
  });

  test("all sessions sharing the earliest coming start are next", () => {
    const alsoAtEleven = s(7, "11:00", "11:30", "Foyer");
    const { next } = nowAndNext([...sessions, alsoAtEleven], at("10:30"));
    assert.deepEqual(next.map((x) => x.id).sort(), [3, 7]);
  });

  test("a cancelled session is never 'now'", () => {
    const { current } = nowAndNext(sessions, at("11:30"));
    assert.deepEqual(current.map((x) => x.id), [3]);
  });

  test("after the last session: nothing now or next", () => {
    const { current, next } = nowAndNext(sessions, at("15:00"));
    assert.deepEqual([current.length, next.length], [0, 0]);
  });
});

describe("roomView", () => {
  test("Saal during the keynote: it is current; the cancelled talk is listed up to the next real session", () => {
    const view = roomView(sessions, "Saal", at("10:30"));
    assert.equal(view.current, keynote);
    assert.deepEqual(view.running, [keynote]);
    assert.equal(view.instead, null);
    assert.deepEqual(view.next.map((x) => x.id), [2, 4]);
    assert.deepEqual(view.later.map((x) => x.id), [5], "the panel moved away still shows, with its mark");
  });

  test("Saal while the cancelled talk would run: nothing current, the cancelled one 'instead'", () => {
    const view = roomView(sessions, "Saal", at("11:30"));
    assert.equal(view.current, null);
    assert.equal(view.instead, cancelled);
    assert.deepEqual(view.next.map((x) => x.id), [4]);
  });

  test("Raum 2 gets the moved panel as a real session", () => {
    const view = roomView(sessions, "Raum 2", at("12:30"));
    assert.equal(view.current, null);
    assert.equal(view.instead, null);
    assert.deepEqual(view.next.map((x) => x.id), [5]);
    const during = roomView(sessions, "Raum 2", at("13:15"));
    assert.equal(during.current, moved);
  });

  test("a double booking shows every session running in the room", () => {
    const clash = s(8, "10:15", "10:45", "Saal");
    const view = roomView([...sessions, clash], "Saal", at("10:30"));
    assert.deepEqual(view.running.map((x) => x.id), [1, 8]);
    assert.equal(view.current, keynote);
  });
});

describe("eventPhase", () => {
  const fmt = makeFormat("Europe/Berlin", "de");
  const state = { event: { start: iso("09:00"), end: iso("13:30") }, sessions };
  test("before, during, after", () => {
    assert.equal(eventPhase(state, new Date("2018-10-25T12:00:00+02:00"), fmt), "before");
    assert.equal(eventPhase(state, at("08:00"), fmt), "during"); // the event's day
    assert.equal(eventPhase(state, at("13:45"), fmt), "during", "the moved panel ends at 14:00");
    assert.equal(eventPhase(state, at("14:00"), fmt), "after");
    assert.equal(eventPhase(state, new Date("2018-10-27T09:00:00+02:00"), fmt), "after");
  });
});

describe("activeAnnouncements", () => {
  test("withdrawn and expired ones drop; urgent first, then newest", () => {
    const list = [
      { id: 1, severity: "info", created_at: iso("09:00") },
      { id: 2, severity: "urgent", created_at: iso("08:00") },
      { id: 3, severity: "info", created_at: iso("09:30") },
      { id: 4, severity: "urgent", created_at: iso("09:00"), withdrawn: true },
      { id: 5, severity: "warning", created_at: iso("09:00"), expires_at: iso("10:00") },
      { id: 6, severity: "warning", created_at: iso("09:00"), expires_at: iso("11:00") },
    ];
    assert.deepEqual(activeAnnouncements(list, at("10:30")).map((a) => a.id), [2, 6, 3, 1]);
    assert.deepEqual(activeAnnouncements(null, at("10:30")), []);
  });
});

describe("describeChange", () => {
  const t = makeT({
    ch_cancelled: "{title} fällt aus", ch_restored: "{title} findet statt", ch_moved: "{title}: jetzt {room} (statt {from})",
    ch_delay: "{title}: {delta}, {time}", ch_ontime: "{title}: wieder pünktlich, {time}", ch_edited: "{title} geändert",
  });
  const fmt = makeFormat("Europe/Berlin", "de");
  test("cancelled, moved, delayed, edited, or nothing to tell", () => {
    assert.equal(describeChange(t, fmt, keynote, { ...keynote, status: "cancelled" }), "S1 fällt aus");
    assert.equal(describeChange(t, fmt, keynote, { ...keynote, room: "Raum 2" }), "S1: jetzt Raum 2 (statt Saal)");
    const late = { ...keynote, start: iso("10:10"), end: iso("11:10"), delay_minutes: 10 };
    assert.equal(describeChange(t, fmt, keynote, late), "S1: +10 min, 10:10–11:10");
    assert.equal(describeChange(t, fmt, late, keynote), "S1: wieder pünktlich, 10:00–11:00");
    assert.equal(describeChange(t, fmt, keynote, { ...keynote, title: "Neu" }), "Neu geändert");
    assert.equal(describeChange(t, fmt, keynote, { ...keynote }), null);
    assert.equal(describeChange(t, fmt, null, keynote), null);
  });
});
