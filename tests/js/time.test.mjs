// time.js and i18n.js: times in the event's zone, the ?at= parser and the page clock, and the labels
// ("+10 min", "in 12 min", "noch 8 min", "vor 5 min").
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { fill, localeOf, makeNumber, makeT } from "../../static/js/i18n.js";
import {
  agoLabel, clockFormat, countdown, delayLabel, durationLabel, makeClock, makeFormat, ms, parseAt,
} from "../../static/js/time.js";

const t = makeT({
  min: "{n} min", hmin: "{h} Std. {m} min", h: "{h} Std.", in: "in {d}", left: "noch {d}",
  just_now: "gerade eben", ago: "vor {d}", kinds: { talk: "Vortrag" },
});
const event = { timezone: "Europe/Berlin", start: "2018-10-26T09:00:00+02:00" };

describe("i18n", () => {
  test("placeholders are filled; unknown ones and missing keys stay as they are", () => {
    assert.equal(fill("{n} Treffer für {q}", { n: 3 }), "3 Treffer für {q}");
    assert.equal(t("in", { d: "5 min" }), "in 5 min");
    assert.equal(t("no_such_key"), "no_such_key");
    assert.equal(t.kind("talk"), "Vortrag");
    assert.equal(t.kind("panel"), "panel");
    assert.equal(makeT(null)("x", { a: 1 }), "x");
  });

  test("a [singular, plural] pair is chosen by n", () => {
    const tp = makeT({ more: ["und 1 weiterer Tisch", "und {n} weitere Tische"] });
    assert.equal(tp("more", { n: 1 }), "und 1 weiterer Tisch");
    assert.equal(tp("more", { n: 3 }), "und 3 weitere Tische");
    assert.equal(tp("more", { n: 0 }), "und 0 weitere Tische");
  });

  test("locales and numbers", () => {
    assert.equal(localeOf("en"), "en-GB");
    assert.equal(localeOf("de"), "de-DE");
    assert.equal(localeOf("fr"), "de-DE");
    assert.equal(makeNumber("de").format(1.25), "1,3");
    assert.equal(makeNumber("en").format(1.5), "1.5");
  });
});

describe("formatting in the event's zone", () => {
  test("time, range, date and day key in Europe/Berlin (summer time before 28 Oct 2018)", () => {
    const fmt = makeFormat("Europe/Berlin", "de");
    assert.equal(fmt.time("2018-10-26T13:05:00Z"), "15:05");
    assert.equal(fmt.range("2018-10-26T08:00:00Z", "2018-10-26T09:30:00Z"), "10:00–11:30");
    assert.equal(fmt.date("2018-10-26T08:00:00Z"), "Fr., 26.10.2018");
    assert.equal(fmt.dayKey("2018-10-26T22:30:00Z"), "2018-10-27", "after midnight in Berlin");
    assert.equal(makeFormat("Europe/Berlin", "de").time("2018-10-29T13:05:00Z"), "14:05", "winter time");
  });

  test("an unknown zone falls back to Europe/Berlin", () => {
    const fmt = makeFormat("Mars/Olympus", "en");
    assert.equal(fmt.timeZone, "Europe/Berlin");
    assert.equal(fmt.time("2018-10-26T13:05:00Z"), "15:05");
  });

  test("the staff pages' clock format, with and without seconds", () => {
    assert.equal(clockFormat("de", "Europe/Berlin").format(new Date("2018-10-26T13:05:09Z")), "15:05");
    assert.equal(clockFormat("de", "Europe/Berlin", { seconds: true }).format(new Date("2018-10-26T13:05:09Z")), "15:05:09");
  });
});

describe("labels", () => {
  test("delayLabel", () => {
    assert.equal(delayLabel(10), "+10 min");
    assert.equal(delayLabel(-5), "-5 min");
    assert.equal(delayLabel(0), "");
    assert.equal(delayLabel(null), "");
  });

  test("durationLabel rounds up to whole minutes", () => {
    assert.equal(durationLabel(t, 0), "0 min");
    assert.equal(durationLabel(t, 61_000), "2 min");
    assert.equal(durationLabel(t, 59 * 60_000), "59 min");
    assert.equal(durationLabel(t, 60 * 60_000), "1 Std.");
    assert.equal(durationLabel(t, 80 * 60_000), "1 Std. 20 min");
    assert.equal(durationLabel(t, -5000), "0 min");
  });

  test("countdown: before, during, after a session", () => {
    const session = { start: "2018-10-26T10:00:00+02:00", end: "2018-10-26T11:00:00+02:00" };
    assert.equal(countdown(t, session, new Date("2018-10-26T09:48:00+02:00")), "in 12 min");
    assert.equal(countdown(t, session, new Date("2018-10-26T10:52:00+02:00")), "noch 8 min");
    assert.equal(countdown(t, session, new Date("2018-10-26T10:00:00+02:00")), "noch 1 Std.");
    assert.equal(countdown(t, session, new Date("2018-10-26T11:00:00+02:00")), "");
  });

  test("agoLabel: whole minutes, 'gerade eben' under one", () => {
    assert.equal(agoLabel(t, 30_000), "gerade eben");
    assert.equal(agoLabel(t, 5 * 60_000 + 40_000), "vor 5 min");
  });
});

describe("parseAt and the page clock", () => {
  test("a full ISO time, one whose '+' became a space, a wall-clock time and just HH:MM", () => {
    const want = ms("2018-10-26T15:40:00+02:00");
    assert.equal(parseAt("2018-10-26T15:40:00+02:00", event.timezone, event.start).getTime(), want);
    assert.equal(parseAt("2018-10-26T15:40:00 02:00", event.timezone, event.start).getTime(), want);
    assert.equal(parseAt("2018-10-26T15:40", event.timezone, event.start).getTime(), want);
    assert.equal(parseAt("15:40", event.timezone, event.start).getTime(), want);
    assert.equal(parseAt("9:05", event.timezone, event.start).getTime(), ms("2018-10-26T09:05:00+02:00"));
    assert.equal(parseAt("2018-10-29T15:40", event.timezone, event.start).getTime(), ms("2018-10-29T15:40:00+01:00"));
  });

  test("nothing or garbage is null", () => {
    assert.equal(parseAt("", event.timezone, event.start), null);
    assert.equal(parseAt(null, event.timezone, event.start), null);
    assert.equal(parseAt("tomorrow", event.timezone, event.start), null);
    assert.equal(parseAt("2018-13-45T99:99+02:00", event.timezone, event.start), null);
  });

  test("?at= makes a virtual clock that runs on from that instant", () => {
    const clock = makeClock(event, "?at=15:40");
    assert.equal(clock.virtual, true);
    const drift = clock.now().getTime() - ms("2018-10-26T15:40:00+02:00");
    assert.ok(drift >= 0 && drift < 1000, `drift ${drift}`);
    clock.useServer(() => new Date("2030-01-01T00:00:00Z"));
    assert.ok(clock.now().getTime() < ms("2019-01-01T00:00:00Z"), "the server does not replace a virtual clock");
    assert.equal(clock.serverNow().toISOString(), "2030-01-01T00:00:00.000Z", "but announcements use the server's time");
  });

  test("without ?at= the clock is the server's once it is known", () => {
    const clock = makeClock(event, "?lang=en");
    assert.equal(clock.virtual, false);
    assert.ok(Math.abs(clock.now().getTime() - Date.now()) < 1000, "the device's time until then");
    clock.useServer(() => new Date("2018-10-26T12:00:00Z"));
    assert.equal(clock.now().toISOString(), "2018-10-26T12:00:00.000Z");
    assert.equal(clock.serverNow().toISOString(), "2018-10-26T12:00:00.000Z");
  });
});
