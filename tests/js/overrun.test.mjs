// A running session that overruns (issue 13): its end moves, its start stays. Now/next, one room's view and
// the words on phones and screens keep it running until its new end, so its room is never shown as free.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  describeChange, eventPhase, isRunning, nowAndNext, overrunLabel, roomView, timeLeft,
} from "../../static/js/agenda-model.js";
import { makeT } from "../../static/js/i18n.js";
import { applyChange } from "../../static/js/live-state.js";
import { makeFormat } from "../../static/js/time.js";

const at = (hhmm) => new Date(`2018-10-26T${hhmm}:00+02:00`);
const iso = (hhmm) => `2018-10-26T${hhmm}:00+02:00`;
const fmt = makeFormat("Europe/Berlin", "de");
const t = makeT({
  min: "{n} min", hmin: "{h} Std. {m} min", h: "{h} Std.", in: "in {d}", left: "noch {d}",
  until: "läuft noch bis {time}", overrun: "überzieht um {d}", early: "endet {d} früher",
  overran: "hat {d} überzogen", ended_early: "endete {d} früher",
  ch_longer: "„{title}“ dauert länger: bis {time}", ch_shorter: "„{title}“ endet früher: um {time}",
  ch_delay: "{title}: {delta}, {time}", ch_ontime: "{title}: wieder pünktlich, {time}",
});

/** A session as the API sends it: `start`/`end` are the expected times (the end with the overrun). */
function session(id, from, to, { delay = 0, overrun = 0, ...extra } = {}) {
  const shift = (hhmm, minutes) => new Date(new Date(iso(hhmm)).getTime() + minutes * 60000).toISOString();
  return {
    id, title: `S${id}`, room: "Forum", planned_room: "Forum", status: "scheduled",
    planned_start: iso(from), planned_end: iso(to), start: shift(from, delay), end: shift(to, delay + overrun),
    delay_minutes: delay, overrun_minutes: overrun, ...extra,
  };
}

// The Forum in the afternoon: the last pitch 16:15–16:35, then nothing until the outlook at 17:30.
const wlan = session(1, "16:15", "16:35");
const outlook = session(2, "17:30", "17:45");

describe("a room while its session runs over", () => {
  test("without the overrun the Forum is free at 16:38; with +10 min the pitch runs until 16:45", () => {
    assert.equal(roomView([wlan, outlook], "Forum", at("16:38")).current, null);
    const over = session(1, "16:15", "16:35", { overrun: 10 });
    for (const hhmm of ["16:15", "16:35", "16:38", "16:44"]) {
      const view = roomView([over, outlook], "Forum", at(hhmm));
      assert.equal(view.current, over, `running at ${hhmm}`);
      assert.deepEqual(view.next.map((s) => s.id), [2]);
    }
    const after = roomView([over, outlook], "Forum", at("16:45"));
    assert.equal(after.current, null, "free from its new end on");
    assert.deepEqual(after.next.map((s) => s.id), [2]);
  });

  test("a delay instead would move the start: the room would look free while the talk is on (the bug)", () => {
    const delayed = session(1, "16:15", "16:35", { delay: 10 });
    assert.equal(isRunning(delayed, at("16:20")), false);
    assert.equal(roomView([delayed, outlook], "Forum", at("16:20")).current, null);
    const over = session(1, "16:15", "16:35", { overrun: 10 });
    assert.equal(roomView([over, outlook], "Forum", at("16:20")).current, over);
  });

  test("an unshifted next session that starts before the new end runs beside it: both are 'now'", () => {
    const bus = session(3, "15:35", "15:55", { overrun: 10 });
    const park = session(4, "15:55", "16:15");
    const view = roomView([park, bus], "Forum", at("16:00"));
    assert.equal(view.current, bus, "the one that began first leads");
    assert.deepEqual(view.running.map((s) => s.id), [3, 4]);
    const { current } = nowAndNext([park, bus], at("16:00"));
    assert.deepEqual(current.map((s) => s.id), [3, 4]);
  });

  test("nowAndNext counts it as current until its new end, and the event lasts until then", () => {
    const over = session(1, "16:15", "16:35", { overrun: 15 });
    assert.deepEqual(nowAndNext([over], at("16:40")).current.map((s) => s.id), [1]);
    assert.deepEqual(nowAndNext([over], at("16:50")).current, []);
    const state = { event: { start: iso("14:00"), end: iso("16:35") }, sessions: [over] };
    assert.equal(eventPhase(state, at("16:45"), fmt), "during");
    assert.equal(eventPhase(state, at("16:50"), fmt), "after");
  });

  test("a live change with the overrun makes a screen that showed the room free show it running", () => {
    const state = { revision: 3, sessions: [session(1, "16:15", "16:35"), outlook], announcements: [] };
    assert.equal(roomView(state.sessions, "Forum", at("16:40")).current, null);
    applyChange(state, { revision: 4, kind: "session.overrun", sessions: [session(1, "16:15", "16:35", { overrun: 10 })] });
    const view = roomView(state.sessions, "Forum", at("16:40"));
    assert.equal(view.current && view.current.id, 1);
    assert.equal(view.current.start, wlan.start, "the start stayed");
  });
});

describe("the words", () => {
  test("running over: 'überzieht um 10 min', and the countdown names the new end", () => {
    const over = session(1, "16:15", "16:35", { overrun: 10 });
    assert.equal(overrunLabel(t, over, at("16:38")), "überzieht um 10 min");
    assert.equal(timeLeft(t, fmt, over, at("16:38")), "läuft noch bis 16:45");
    assert.equal(overrunLabel(t, over, at("16:50")), "hat 10 min überzogen");
    assert.equal(timeLeft(t, fmt, over, at("16:50")), "");
    assert.equal(timeLeft(t, fmt, over, at("16:10")), "in 5 min", "before its start: the usual countdown");
  });

  test("ending early, long overruns, and nothing to say", () => {
    const early = session(1, "16:15", "16:35", { overrun: -5 });
    assert.equal(overrunLabel(t, early, at("16:20")), "endet 5 min früher");
    assert.equal(overrunLabel(t, early, at("16:31")), "endete 5 min früher");
    assert.equal(overrunLabel(t, session(1, "16:15", "16:35", { overrun: 75 }), at("16:40")), "überzieht um 1 Std. 15 min");
    assert.equal(overrunLabel(t, wlan, at("16:20")), "");
    assert.equal(overrunLabel(t, session(1, "16:15", "16:35", { overrun: 10, status: "cancelled" }), at("16:20")), "");
    assert.equal(timeLeft(t, fmt, wlan, at("16:20")), "noch 15 min", "no overrun: the usual countdown");
  });

  test("the favourites banner tells a longer or a shorter run, not 'wieder pünktlich'", () => {
    const over = session(1, "16:15", "16:35", { overrun: 10 });
    assert.equal(describeChange(t, fmt, wlan, over), "„S1“ dauert länger: bis 16:45");
    const ended = session(1, "16:15", "16:35", { overrun: 3 });
    assert.equal(describeChange(t, fmt, over, ended), "„S1“ endet früher: um 16:38");
    const { overrun_minutes: _, ...older } = wlan; // a state saved before overruns existed
    assert.equal(describeChange(t, fmt, older, over), "„S1“ dauert länger: bis 16:45");
    const delayed = session(1, "16:15", "16:35", { delay: 10 });
    assert.equal(describeChange(t, fmt, wlan, delayed), "S1: +10 min, 16:25–16:45");
  });
});
