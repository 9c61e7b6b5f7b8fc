// live-state.js: how a `change` of the /live namespace updates the state, when one is due, and which copy a
// page starts from (the embedded state or a newer saved one).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { applyChange, byPlannedStart, changeStep, isBehind, newerState } from "../../static/js/live-state.js";

const session = (id, plannedStart, extra = {}) => ({
  id, title: `S${id}`, planned_start: plannedStart, start: plannedStart, status: "scheduled", ...extra,
});

function makeState(revision = 5) {
  return {
    revision,
    event: { slug: "kl-2018", timezone: "Europe/Berlin" },
    sessions: [session(1, "2018-10-26T09:00:00+02:00"), session(2, "2018-10-26T10:00:00+02:00")],
    announcements: [{ id: 1, text: "Willkommen", withdrawn: false }],
    board: { matches: [] },
  };
}

/** What live.js does with each `change` message, in order; returns the steps taken. */
function feed(state, messages) {
  const steps = [];
  for (const msg of messages) {
    const step = changeStep(state, msg);
    steps.push(step);
    if (step === "apply") applyChange(state, msg);
  }
  return steps;
}

describe("applyChange", () => {
  test("an in-order change updates, adds and re-sorts sessions and takes the revision", () => {
    const state = makeState(5);
    applyChange(state, {
      revision: 6,
      sessions: [
        session(2, "2018-10-26T10:00:00+02:00", { title: "Verschoben", start: "2018-10-26T10:15:00+02:00", delay_minutes: 15 }),
        session(3, "2018-10-26T08:30:00+02:00"),
      ],
    });
    assert.equal(state.revision, 6);
    assert.deepEqual(state.sessions.map((s) => s.id), [3, 1, 2]); // by planned start
    const moved = state.sessions.find((s) => s.id === 2);
    assert.equal(moved.title, "Verschoben");
    assert.equal(moved.delay_minutes, 15);
    assert.equal(state.sessions.length, 3, "session 2 replaced, not duplicated");
  });

  test("withdrawn announcements leave, new ones arrive, `replace` swaps whole parts", () => {
    const state = makeState(5);
    applyChange(state, {
      revision: 6,
      announcements: [{ id: 1, text: "Willkommen", withdrawn: true }, { id: 2, text: "Mittag", withdrawn: false }],
      replace: { board: { matches: [{ cities: ["Trier", "Mainz"], score: 3 }] } },
    });
    assert.deepEqual(state.announcements.map((a) => a.id), [2]);
    assert.deepEqual(state.board.matches[0].cities, ["Trier", "Mainz"]);
    assert.equal(state.sessions.length, 2, "untouched parts stay");
  });
});

describe("changeStep: each change exactly once, in revision order", () => {
  test("the next revision is applied, an old or repeated one skipped", () => {
    const state = makeState(5);
    assert.equal(changeStep(state, { revision: 6 }), "apply");
    assert.equal(changeStep(state, { revision: 5 }), "skip");
    assert.equal(changeStep(state, { revision: 2 }), "skip");
  });

  test("a gap asks for a resync and is not applied", () => {
    const state = makeState(5);
    const steps = feed(state, [
      { revision: 6, sessions: [session(4, "2018-10-26T11:00:00+02:00")] },
      { revision: 8, sessions: [session(5, "2018-10-26T12:00:00+02:00")] }, // 7 went missing
      { revision: 6, sessions: [session(4, "2018-10-26T11:00:00+02:00", { title: "again" })] }, // a repeat
    ]);
    assert.deepEqual(steps, ["apply", "resync", "skip"]);
    assert.equal(state.revision, 6);
    assert.ok(!state.sessions.some((s) => s.id === 5), "the change after the gap was not applied");
    assert.equal(state.sessions.find((s) => s.id === 4).title, "S4", "the repeat changed nothing");
    // Once the missing change arrives (the resync), the later one applies in order.
    assert.deepEqual(feed(state, [{ revision: 7 }, { revision: 8, sessions: [session(5, "2018-10-26T12:00:00+02:00")] }]),
      ["apply", "apply"]);
    assert.equal(state.revision, 8);
    assert.ok(state.sessions.some((s) => s.id === 5));
  });

  test("without a state nothing is applied", () => {
    assert.equal(changeStep(null, { revision: 1 }), "skip");
  });

  test("a heartbeat ahead of the state means we are behind", () => {
    const state = makeState(5);
    assert.equal(isBehind(state, 6), true);
    assert.equal(isBehind(state, 5), false);
    assert.equal(isBehind(state, 4), false);
    assert.equal(isBehind(null, 9), false);
  });
});

describe("newerState: embedded page vs the saved copy", () => {
  const embedded = makeState(5);

  test("a saved copy older than the page is ignored", () => {
    const stored = { state: makeState(3), savedAt: "2018-10-26T08:00:00.000Z" };
    const { state, savedAt } = newerState(embedded, stored);
    assert.equal(state, embedded);
    assert.equal(savedAt, null);
  });

  test("a saved copy of the same revision is ignored too", () => {
    assert.equal(newerState(embedded, { state: makeState(5), savedAt: "x" }).state, embedded);
  });

  test("a newer saved copy wins (the page came from the service worker's cache)", () => {
    const stored = { state: makeState(9), savedAt: "2018-10-26T09:30:00.000Z" };
    const { state, savedAt } = newerState(embedded, stored);
    assert.equal(state.revision, 9);
    assert.equal(savedAt, "2018-10-26T09:30:00.000Z");
  });

  test("no saved copy, or a broken one: the embedded state", () => {
    assert.equal(newerState(embedded, null).state, embedded);
    assert.equal(newerState(embedded, { savedAt: "x" }).state, embedded);
  });
});

test("byPlannedStart orders by planned start, then id", () => {
  const list = [session(3, "2018-10-26T10:00:00+02:00"), session(1, "2018-10-26T10:00:00+02:00"), session(2, "2018-10-26T09:00:00+02:00")];
  assert.deepEqual(list.sort(byPlannedStart).map((s) => s.id), [2, 1, 3]);
});
